"""Pipeline behaviours on the real stack: dead letters, claims, restarts, the December example."""

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from insights.producer import produce
from streams.core.keys import KeyLayout
from streams.core.requests import parse_series_query
from streams.report import active_users
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis
from streams.topics import TopicNames
from tests.integration.conftest import WorkerFactory
from tests.integration.kafka_reading import read_topic

pytestmark = pytest.mark.integration


def last_december() -> int:
    """The year of the latest December that is over: always inside the 400-day retention."""
    return datetime.now(UTC).date().year - 1


Y = last_december()


def no_progress(phase: str, done: int, total: int) -> None:
    """Tests do not draw progress bars."""


def line(**event: Any) -> bytes:
    """One JSONL line."""
    return orjson.dumps(event)


def login(user: str, email: str, at: str, product: str = "trello") -> bytes:
    """A login line."""
    return line(type="login", user_id=user, email=email, product=product, occurred_at=at)


def claim(org: str, domain: str, at: str, action: str = "claim") -> bytes:
    """A domain claim line."""
    return line(type="domain_claim", org_id=org, domain=domain, action=action, effective_at=at)


async def report(settings: Settings, org: str, start: str, end: str, **params: str) -> Any:
    """The API document for one query, computed from the real Redis."""
    client = connect_redis(settings)
    store = RedisActiveUserStore(client, KeyLayout(settings.key_prefix), settings.retention_days)
    today = datetime.now(UTC).date()
    query = parse_series_query(
        org, params.get("product"), start, end, params.get("interval"), today, 400
    )
    try:
        return await active_users(
            store, store.layout, query, today, retention_days=settings.retention_days
        )
    finally:
        await client.aclose()


async def send(settings: Settings, lines: list[bytes]) -> None:
    """Produce and wait until the worker group has processed everything."""
    await produce(settings, lines, None, wait=True, timeout_s=120, progress=no_progress)


async def test_december_upgrade_counts_once_per_plan_and_once_in_total(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    """DESIGN.md's example: free 1-8 December, enterprise from 9 December."""
    start_worker()
    upgrade = f"{Y}-12-09T00:00:00Z"
    lines = [
        claim("acme", "acme.com", f"{Y}-01-01T00:00:00Z"),
        line(
            type="plan_change",
            user_id="u1",
            product="trello",
            plan="enterprise",
            effective_at=upgrade,
        ),
        login("u1", "Alice@Acme.com", f"{Y}-12-03T10:00:00Z"),
        login("u1", " alice@ACME.com. ", upgrade),  # exactly at the change: the new plan
        login("u1", "alice@acme.com", f"{Y}-12-20T10:00:00+05:00"),
        login("u2", "bob@eu.acme.com", f"{Y}-12-20T10:00:00Z"),  # subdomain: not managed
    ]
    await send(settings, lines)
    month = await report(
        settings, "acme", f"{Y}-12-01", f"{Y}-12-31", product="trello", interval="month"
    )
    assert month["totals"] == {"all": 1, "free": 1, "standard": 0, "premium": 0, "enterprise": 1}
    days = await report(settings, "acme", f"{Y}-12-08", f"{Y}-12-10", product="trello")
    assert days["series"]["enterprise"] == [None, 1, None]
    assert days["missing"] == [True, False, True]


async def test_invalid_input_and_conflicting_claims_go_to_dead_letters(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    """Bad bytes and a second owner are dead-lettered with a reason; good neighbours still count."""
    start_worker()
    good = login("u1", "a@acme.com", f"{Y}-12-03T10:00:00Z")
    batched = b"[" + good + b', {"type": "login", "user_id": "u2"}]'
    lines = [
        claim("acme", "acme.com", f"{Y}-01-01T00:00:00Z"),
        claim("globex", "acme.com", f"{Y}-06-01T00:00:00Z"),
        b"not json at all",
        login("u3", "no-domain", f"{Y}-12-03T10:00:00Z"),
        login("u4", "d@acme.com", f"{Y}-12-03T10:00:00"),
        batched,
    ]
    await send(settings, lines)
    letters = await read_topic(settings.kafka(), TopicNames.from_settings(settings).dead_letters, 5)
    reasons = sorted(dict(r.headers)["insights-reason"].decode() for r in letters)
    assert reasons == [
        "domain_conflict",
        "invalid_email",
        "invalid_field",
        "invalid_json",
        "naive_timestamp",
    ]
    raw = {dict(r.headers)["insights-reason"].decode(): r.value for r in letters}
    assert raw["invalid_json"] == b"not json at all"
    day = await report(settings, "acme", f"{Y}-12-03", f"{Y}-12-03")
    assert day["totals"]["all"] == 1
    assert (await report(settings, "globex", f"{Y}-12-03", f"{Y}-12-03"))["totals"]["all"] == 0


async def test_timelines_survive_a_worker_restart(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    """Claims and plans applied by one worker are used by the next: they live in Redis."""
    from insights.embedded import stop_process

    first = start_worker()
    await send(
        settings,
        [
            claim("acme", "acme.com", f"{Y}-01-01T00:00:00Z"),
            line(
                type="plan_change",
                user_id="u1",
                product="jira",
                plan="premium",
                effective_at=f"{Y}-11-01T00:00:00Z",
            ),
        ],
    )
    stop_process(first)
    start_worker()
    await send(settings, [login("u1", "u1@acme.com", f"{Y}-12-05T09:00:00Z", product="jira")])
    document = await report(settings, "acme", f"{Y}-12-05", f"{Y}-12-05", product="jira")
    assert document["series"]["premium"] == [1]
    assert document["series"]["free"] == [0]
