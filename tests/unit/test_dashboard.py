"""The dashboard's page and assets: served without auth, complete, and free of other hosts."""

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from reader.app import create_reader_app
from reader.dashboard import RETENTION_PLACEHOLDER, STATIC_DIR, page_html
from streams.settings import Settings
from tests.unit.test_reader import MemoryTokenStore, ReaderMemoryStore

VENDOR = STATIC_DIR / "vendor"
CHART_JS = VENDOR / "chart.umd.min.js"
TEXT_SUFFIXES = {".html", ".js", ".css", ".md"}
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://|(?:src|href)\s*=\s*[\"']?//", re.IGNORECASE)
# Licence banners (`/*! ... */`) credit their authors with a link; they are comments, never
# fetched, and the licence asks to keep them. Everything else may not name another host.
BANNER = re.compile(r"/\*!.*?\*/", re.DOTALL)
ASSET_REFERENCE = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")
MODULE_IMPORT = re.compile(r"""^import [^;]* from "(\./[^"]+)";$""", re.MULTILINE)
STYLESHEET = STATIC_DIR / "dashboard.css"
CSS_VARIABLE = re.compile(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;")
OUTLINE = re.compile(r"outline(?:-color)?:\s*([^;]+);")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A reader over empty in-memory stores: the dashboard needs no data to be served."""
    app = create_reader_app(
        Settings(key_prefix="mem"),
        store=ReaderMemoryStore(),
        tokens=MemoryTokenStore(),
        registry=CollectorRegistry(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reader") as client:
        yield client


def static_files() -> list[Path]:
    """Every text file the dashboard ships."""
    return sorted(p for p in STATIC_DIR.rglob("*") if p.suffix in TEXT_SUFFIXES)


async def test_the_page_is_served_without_a_token(http: httpx.AsyncClient) -> None:
    """`GET /` is the HTML page, with a policy that keeps the browser on this host."""
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<canvas id="chart"' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_asset_the_page_names_is_served(http: httpx.AsyncClient) -> None:
    """Scripts and styles from index.html, and each module's imports, answer 200."""
    page = (await http.get("/")).text
    assets = ASSET_REFERENCE.findall(page)
    assert "/static/vendor/chart.umd.min.js" in assets
    assert "/static/js/main.js" in assets
    for module in (STATIC_DIR / "js").glob("*.js"):
        assets += [f"/static/js/{name[2:]}" for name in MODULE_IMPORT.findall(module.read_text())]
    types = {".js": "text/javascript", ".css": "text/css"}
    for asset in sorted(set(assets)):
        response = await http.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(types[Path(asset).suffix]), asset


@pytest.mark.parametrize(
    "path", ["/static/nope.js", "/static/", "/static/js", "/static/..%2fdashboard.py"]
)
async def test_unknown_or_escaping_asset_paths_are_404(http: httpx.AsyncClient, path: str) -> None:
    """Nothing outside reader/static is reachable, and a miss has the API's error body."""
    response = await http.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_the_dashboard_stays_out_of_the_api_document(http: httpx.AsyncClient) -> None:
    """`/` and `/static/...` are not API operations."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert "/api/v1/orgs/{org_id}/active-users" in paths
    assert [path for path in paths if path == "/" or path.startswith("/static")] == []


@pytest.mark.parametrize("path", static_files(), ids=lambda p: str(p.relative_to(STATIC_DIR)))
def test_no_file_names_another_host(path: Path) -> None:
    """No http(s) or protocol-relative URL anywhere, licence banners of vendored files aside."""
    text = path.read_text(encoding="utf-8")
    if path.is_relative_to(VENDOR) and path.suffix == ".js":
        text = BANNER.sub("", text)
    assert URL.findall(text) == [], f"{path.name} refers to another host"


def test_the_url_check_can_fail() -> None:
    """The pattern catches what a CDN link looks like."""
    for reference in ('<script src="https://cdn.example/x.js">', "<link href=//cdn.example/a>"):
        assert URL.search(reference), reference


def test_the_vendored_chart_js_is_the_one_the_readme_names() -> None:
    """The README's version and sha256 describe the file actually shipped."""
    readme = (VENDOR / "README.md").read_text()
    digest = hashlib.sha256(CHART_JS.read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in readme
    version = re.search(r"Chart\.js v(\d+\.\d+\.\d+)", CHART_JS.read_text()[:200])
    assert version is not None
    assert f"Chart.js {version.group(1)}" in readme
    assert (VENDOR / "chart.js-LICENSE.md").read_text().startswith("The MIT License")


async def test_the_page_names_the_retention_of_its_reader() -> None:
    """The reader fills its INSIGHTS_RETENTION_DAYS into the page, for the presets and dates."""
    app = create_reader_app(
        Settings(key_prefix="mem", retention_days=60),
        store=ReaderMemoryStore(),
        tokens=MemoryTokenStore(),
        registry=CollectorRegistry(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reader") as client:
        page = (await client.get("/")).text
    assert '<meta name="insights-retention-days" content="60">' in page
    assert RETENTION_PLACEHOLDER not in page


def test_a_page_without_the_placeholder_fails_at_start(tmp_path: Path) -> None:
    """A template that lost its placeholder stops the reader instead of serving a wrong page."""
    template = tmp_path / "index.html"
    template.write_text("<html></html>")
    with pytest.raises(RuntimeError, match="exactly once"):
        page_html(60, template)


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_function_can_fail() -> None:
    """The old ring, #f0b400 on white, is the 1.87:1 a review measured."""
    assert round(contrast("#f0b400", "#ffffff"), 2) == 1.87


@pytest.mark.parametrize(
    ("ring", "surface"),
    [
        ("--focus", "--paper"),  # the page, around the dashboard's heading
        ("--focus", "--card"),  # cards, inputs, buttons, the skip link's own box
        ("--focus-on-dark", "--topbar"),  # the top bar sets --focus to --focus-on-dark
        ("--accent-ink", "--accent"),  # the checked interval's label
    ],
)
def test_focus_rings_stand_out_from_what_surrounds_them(ring: str, surface: str) -> None:
    """WCAG 1.4.11: a focus indicator needs 3:1 against its adjacent colours."""
    colours = dict(CSS_VARIABLE.findall(STYLESHEET.read_text()))
    assert contrast(colours[ring], colours[surface]) >= 3, (ring, surface)


def test_every_focus_ring_uses_a_checked_colour() -> None:
    """No outline names a colour of its own, so the table above covers every ring."""
    css = STYLESHEET.read_text()
    for value in OUTLINE.findall(css):
        assert re.search(r"var\(--(focus|accent-ink)\)", value), value
    assert re.search(r"\.topbar \{[^}]*--focus: var\(--focus-on-dark\);", css)
