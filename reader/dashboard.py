"""The dashboard: one HTML page and its static assets, public because the data behind it is not."""

from pathlib import Path

from fastapi import APIRouter, Request, Response
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
INDEX = STATIC_DIR / "index.html"
# index.html names the days the reader keeps in a meta tag (the CSP forbids inline scripts), so
# the page's presets and date bounds never ask for a range the API would refuse.
RETENTION_PLACEHOLDER = "{{retention_days}}"

# The page loads nothing from other hosts and talks only to this reader; the policy makes
# the browser enforce that, so a stray CDN link or injected script fails loudly, not silently.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",  # revalidate, so a new release's page is seen at once
}


def page_html(retention_days: int, template: Path = INDEX) -> bytes:
    """The page with the retention filled in; a template without its one placeholder is a bug."""
    text = template.read_text(encoding="utf-8")
    if text.count(RETENTION_PLACEHOLDER) != 1:
        raise RuntimeError(f"{template} must hold {RETENTION_PLACEHOLDER} exactly once")
    return text.replace(RETENTION_PLACEHOLDER, str(retention_days)).encode()


def dashboard_router(retention_days: int) -> APIRouter:
    """`GET /` (the page) and `/static/*` (its CSS, JS and vendored Chart.js); no auth."""
    router = APIRouter(include_in_schema=False)
    assets = StaticFiles(directory=STATIC_DIR)
    page = page_html(retention_days)  # once, when the app is built

    @router.get("/")
    async def dashboard() -> Response:
        """The dashboard page; it asks for the org and token and calls the API itself."""
        return Response(page, media_type="text/html", headers=PAGE_HEADERS)

    # A route rather than a Mount: FastAPI records its template in the scope, so the request
    # metrics label assets `/static/{path:path}` instead of "unmatched".
    @router.get("/static/{path:path}")
    async def asset(path: str, request: Request) -> Response:
        """A file under reader/static (StaticFiles refuses paths that leave it; 404 otherwise)."""
        return await assets.get_response(path, request.scope)

    return router
