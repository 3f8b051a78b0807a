"""The HTTP reader on uvicorn against the real worker and Redis: answers, auth, outages, schema."""

import asyncio
import csv
import io
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from insights.embedded import free_port, start_redis, stop_process, wait_for_redis
from insights.producer import produce
from insights.simulation import SimulationSpec, simulate
from reader.app import create_reader_app
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import connect_redis
from streams.tokens import RedisTokenStore
from tests.integration.conftest import WorkerFactory
from tests.integration.truth import Comparison

pytestmark = pytest.mark.integration

Y = datetime.now(UTC).date().year - 1  # the latest December that is over: inside retention
SERIES = ("all", "free", "standard", "premium", "enterprise")


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run the app on uvicorn in a thread on a free loopback port; yield its base URL."""
    port = free_port()
    # ws="none": the reader has no websockets, and importing a websockets backend can warn.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"reader-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn exited during startup"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True  # runs the lifespan's shutdown, which closes the Redis client
        thread.join(timeout=10)


@asynccontextmanager
async def reader_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A reader built from settings alone (its own Redis client), served over real HTTP."""
    app = create_reader_app(settings, registry=CollectorRegistry())
    with serving(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            yield http


async def create_tokens(settings: Settings, *orgs: str) -> dict[str, dict[str, str]]:
    """A bearer header per org, from the real token store."""
    client = connect_redis(settings, fail_fast_s=2.0)
    try:
        store = RedisTokenStore(client, KeyLayout(settings.key_prefix))
        return {org: bearer((await store.create(org, "test"))[0]) for org in orgs}
    finally:
        await client.aclose()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def no_progress(phase: str, done: int, total: int) -> None:
    """Tests do not draw progress bars."""


async def send(settings: Settings, lines: list[bytes]) -> None:
    """Produce and wait until the worker group has processed everything."""
    await produce(settings, lines, None, wait=True, timeout_s=120, progress=no_progress)


def line(**event: Any) -> bytes:
    """One JSONL line."""
    return orjson.dumps(event)


def login(user: str, email: str, at: str, product: str = "trello") -> bytes:
    """A login line."""
    return line(type="login", user_id=user, email=email, product=product, occurred_at=at)


def claim(org: str, domain: str) -> bytes:
    """A claim since 1 January of Y."""
    at = f"{Y}-01-01T00:00:00Z"
    return line(type="domain_claim", org_id=org, domain=domain, action="claim", effective_at=at)


def csv_matches(text: str, document: dict[str, Any]) -> bool:
    """Whether the CSV has exactly one row per period and series with the JSON's values."""
    expected = [["period", "plan", "active_users", "missing", "partial"]]
    for i, period in enumerate(document["periods"]):
        flags = [str(document["missing"][i]).lower(), str(document["partial"][i]).lower()]
        for name in SERIES:
            value = document["series"][name][i]
            expected.append([period, name, "" if value is None else str(value), *flags])
    return list(csv.reader(io.StringIO(text))) == expected


async def test_the_december_example_through_worker_redis_and_http(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    """DESIGN.md's 9 December upgrade, produced to Kafka and read back over HTTP."""
    start_worker()
    upgrade = f"{Y}-12-09T00:00:00Z"
    await send(
        settings,
        [
            claim("acme", "acme.com"),
            claim("globex", "globex.com"),
            line(
                type="plan_change",
                user_id="u1",
                product="trello",
                plan="enterprise",
                effective_at=upgrade,
            ),
            login("u1", "Alice@Acme.com", f"{Y}-12-03T10:00:00Z"),
            login("u1", "alice@acme.com", upgrade),
            login("u1", "alice@acme.com", f"{Y}-12-20T10:00:00+05:00"),
            login("g1", "gina@globex.com", f"{Y}-12-20T10:00:00Z"),
        ],
    )
    tokens = await create_tokens(settings, "acme")
    path = "/api/v1/orgs/acme/active-users"
    month = {"product": "trello", "start": f"{Y}-12-01", "end": f"{Y}-12-31", "interval": "month"}
    days = {"product": "trello", "start": f"{Y}-12-08", "end": f"{Y}-12-10"}
    async with reader_client(settings) as http:
        document = (await http.get(path, params=month, headers=tokens["acme"])).json()
        assert document["totals"] == {
            "all": 1, "free": 1, "standard": 0, "premium": 0, "enterprise": 1,
        }  # fmt: skip
        by_day = (await http.get(path, params=days, headers=tokens["acme"])).json()
        assert by_day["series"]["enterprise"] == [None, 1, None]
        assert by_day["missing"] == [True, False, True]
        exported = await http.get(path + ".csv", params=days, headers=tokens["acme"])
        assert csv_matches(exported.text, by_day)


async def test_tokens_from_redis_isolate_tenants(settings: Settings) -> None:
    """A token reads its own org only; unknown tokens are 401, revoked ones within the cache TTL."""
    settings = settings.model_copy(update={"reader_cache_s": 0.5})
    tokens = await create_tokens(settings, "acme", "globex")
    acme, globex = "/api/v1/orgs/acme/active-users", "/api/v1/orgs/globex/active-users"
    async with reader_client(settings) as http:
        assert (await http.get(acme, headers=tokens["acme"])).status_code == 200
        assert (await http.get(globex, headers=tokens["globex"])).status_code == 200
        assert (await http.get(globex, headers=tokens["acme"])).status_code == 403
        assert (await http.get(acme + ".csv", headers=tokens["globex"])).status_code == 403
        assert (await http.get(acme, headers=bearer("oit_forged"))).status_code == 401
        refused = await http.get(acme)
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")

        client = connect_redis(settings, fail_fast_s=2.0)
        try:
            store = RedisTokenStore(client, KeyLayout(settings.key_prefix))
            (info,) = await store.list("acme")
            assert await store.revoke("acme", info.token_id)
        finally:
            await client.aclose()
        revoked_at = time.monotonic()
        while (await http.get(acme, headers=tokens["acme"])).status_code != 401:
            assert time.monotonic() - revoked_at < 1.0, "a revoked token outlived the cache TTL"
            await asyncio.sleep(0.05)
        metrics = (await http.get("/metrics")).text
        assert 'route="/api/v1/orgs/{org_id}/active-users"' in metrics
        assert "acme" not in metrics
        assert "globex" not in metrics


async def test_a_redis_outage_is_a_503_and_the_reader_recovers_by_itself(tmp_path: Path) -> None:
    """Our own redis-server: hang it, stop it (503, readyz 503), start it again (200)."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    # No cache: a report or token remembered from before the outage would still answer 200.
    settings = Settings(redis_url=url, key_prefix="outage", reader_cache_s=0)
    server = start_redis(port, tmp_path)
    try:
        wait_for_redis(url, 10, process=server)
        tokens = await create_tokens(settings, "acme")
        path = "/api/v1/orgs/acme/active-users"
        async with reader_client(settings) as http:
            assert (await http.get(path, headers=tokens["acme"])).status_code == 200
            assert (await http.get("/readyz")).status_code == 200

            # A hung Redis (stopped, sockets open): one 2 s socket timeout, no retries.
            os.kill(server.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                hung = await http.get(path, headers=tokens["acme"])
                assert hung.status_code == 503
                assert time.monotonic() - started < 4
            finally:
                os.kill(server.pid, signal.SIGCONT)
            assert (await http.get(path, headers=tokens["acme"])).status_code == 200

            stop_process(server)
            started = time.monotonic()
            down = await http.get(path, headers=tokens["acme"])
            assert (down.status_code, down.json()["error"]) == (503, "redis_unavailable")
            assert (await http.get("/readyz")).status_code == 503
            assert (await http.get("/healthz")).status_code == 200
            assert time.monotonic() - started < 5  # short timeouts, no retry backoff

            server = start_redis(port, tmp_path)
            wait_for_redis(url, 10, process=server)
            tokens = await create_tokens(settings, "acme")  # nothing persisted: a new token
            assert (await http.get("/readyz")).json() == {"status": "ready"}
            assert (await http.get(path, headers=tokens["acme"])).status_code == 200
    finally:
        stop_process(server)


async def test_http_answers_match_a_simulations_truth(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    """Every truth answer of a small simulated month, asked over HTTP, within HLL tolerance."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=2, users=300, days=30, seed=3, end_day=yesterday))
    start_worker()
    await send(settings, dataset.lines)
    tokens = await create_tokens(settings, *dataset.orgs)
    comparison = Comparison()

    async def ask(expected: dict[str, Any], suffix: str = "") -> httpx.Response:
        params = {key: expected[key] for key in ("product", "start", "end", "interval")}
        path = f"/api/v1/orgs/{expected['org_id']}/active-users{suffix}"
        return await http.get(path, params=params, headers=tokens[expected["org_id"]])

    async with reader_client(settings) as http:
        documents = []
        for expected in dataset.truth["answers"]:
            response = await ask(expected)
            assert response.status_code == 200, response.text
            documents.append(response.json())
            comparison.document(documents[-1], expected)
        # One CSV export (all products, weekly) row for row against its JSON.
        index, weekly = next(
            (i, answer)
            for i, answer in enumerate(dataset.truth["answers"])
            if (answer["product"], answer["interval"]) == ("all", "week")
        )
        assert csv_matches((await ask(weekly, ".csv")).text, documents[index])
    assert comparison.mismatches == []
    assert comparison.values_compared >= 1000
