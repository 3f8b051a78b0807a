"""Operational routes: liveness, readiness (Redis answers PING) and Prometheus metrics."""

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from reader.context import ReaderStore
from reader.errors import ERROR_RESPONSES
from reader.models import Health
from streams.store import RedisUnavailableError


class PrometheusResponse(Response):
    """The Prometheus text exposition format."""

    media_type = "text/plain"


def probe_router(store: ReaderStore, registry: CollectorRegistry) -> APIRouter:
    """/healthz, /readyz and /metrics for this app's store and registry."""
    router = APIRouter()

    @router.get("/healthz", response_model=Health)
    async def healthz() -> dict[str, Any]:
        """The process is up; deliberately touches nothing else, so Redis cannot fail it."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=Health, responses={503: ERROR_RESPONSES[503]})
    async def readyz() -> dict[str, Any]:
        """Ready when Redis answers PING; 503 otherwise (raised errors map to 503 too)."""
        if not await store.ping():
            raise RedisUnavailableError("Redis did not answer PING")
        return {"status": "ready"}

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> PrometheusResponse:
        """Request counts and latencies in the Prometheus text format."""
        return PrometheusResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
