"""Request metrics on a registry passed in: counts by route template and status, latency."""

from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Match, Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"  # requests no route matched: their raw path would be unbounded
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ReaderMetrics:
    """The reader's collectors, registered on the given registry (never the global one)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create and register the collectors."""
        self.requests = Counter(
            "insights_reader_requests",
            "HTTP requests served, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "insights_reader_request_duration_seconds",
            "Time to serve a request, by route template.",
            ["route"],
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        method = method if method in KNOWN_METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route).observe(seconds)


def route_template(scope: Scope, router: Router) -> str:
    """The matched route's template (`/api/v1/orgs/{org_id}/…`): org ids never become labels."""
    route = scope.get("route")
    if route is None:
        # FastAPI records only its own APIRoutes in the scope; plain Starlette routes such
        # as /openapi.json are matched again here (a few regexes, after the response).
        plain = (r for r in router.routes if isinstance(r, Route | Mount))
        route = next((r for r in plain if r.matches(scope)[0] is not Match.NONE), None)
    return str(getattr(route, "path", UNMATCHED))


class MetricsMiddleware:
    """Pure ASGI middleware: it reads the route the router wrote into the shared scope."""

    def __init__(self, app: ASGIApp, metrics: ReaderMetrics, router: Router) -> None:
        """Wrap the app; `router` is the app's, to name routes FastAPI leaves unnamed."""
        self.app = app
        self.metrics = metrics
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record its status (500 if the app raised before answering)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = route_template(scope, self.router)
            self.metrics.observe(route, scope["method"], status, perf_counter() - started)
