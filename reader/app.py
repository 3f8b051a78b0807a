"""The reader app factory: wires store, tokens, metrics and routes; nothing connects at import."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from reader.api import SeriesEndpoint, api_router
from reader.context import ReaderContext, ReaderStore, utc_today
from reader.dashboard import dashboard_router
from reader.errors import install_error_handlers
from reader.fast_path import SeriesFastPath
from reader.head_requests import HeadAsGet
from reader.metrics import MetricsMiddleware, ReaderMetrics
from reader.openapi import document_openapi
from reader.probes import probe_router
from reader.report_cache import ReportCache
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, RedisClient, connect_redis
from streams.tokens import RedisTokenStore, TokenStore

# A dead Redis must give a quick 503, not a request hanging in retries.
REDIS_TIMEOUT_S = 2.0

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def closing(client: RedisClient | None) -> Lifespan:
    """A lifespan that closes the Redis client the app created (not one it was given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if client is not None:
            await client.aclose()

    return lifespan


def create_reader_app(
    settings: Settings,
    *,
    store: ReaderStore | None = None,
    tokens: TokenStore | None = None,
    registry: CollectorRegistry | None = None,
    today: Callable[[], date] | None = None,
    fast_path: bool = True,
) -> FastAPI:
    """The reader; without a store or tokens it builds Redis ones from settings (lazily).

    `fast_path=False` leaves every request to FastAPI (the tests compare both)."""
    client: RedisClient | None = None
    if store is None or tokens is None:
        client = connect_redis(settings, fail_fast_s=REDIS_TIMEOUT_S)
        layout = KeyLayout(settings.key_prefix)
        if store is None:
            store = RedisActiveUserStore(client, layout, settings.retention_days)
        if tokens is None:
            tokens = RedisTokenStore(client, layout)
    reports = ReportCache(ttl_s=settings.reader_cache_s)
    context = ReaderContext(store, tokens, settings.retention_days, today or utc_today, reports)
    registry = registry if registry is not None else CollectorRegistry()
    app = FastAPI(
        title="Organization Insights reader",
        version="1",
        description="Distinct active users per organization, product, plan and period.",
        lifespan=closing(client),
        docs_url=None,  # Swagger UI and ReDoc load assets from CDNs; /openapi.json is enough
        redoc_url=None,
        # The reader exports Prometheus metrics of its own; FastAPI's OpenTelemetry hooks would
        # otherwise look up the global providers on every request (3% of the reader's CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    document_openapi(app)
    series = SeriesEndpoint(context)
    app.add_middleware(HeadAsGet)  # innermost: the fast path answers GET only
    if fast_path:
        app.add_middleware(SeriesFastPath, series=series)  # inside the request metrics
    app.add_middleware(MetricsMiddleware, metrics=ReaderMetrics(registry), router=app.router)
    app.include_router(api_router(context, series))
    app.include_router(probe_router(store, registry))
    # Public: the page holds no data (only the retention), the API checks tokens.
    app.include_router(dashboard_router(context.retention_days))
    return app
