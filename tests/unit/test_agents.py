"""The agents in memory, through Faust's `test_context()`: batches, dead letters, retries."""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import faust
import orjson
import pytest
from prometheus_client import CollectorRegistry

from agents.claims import DomainClaimProcessor, register_claim_agent
from agents.logins import LoginBatchProcessor, register_login_agent
from agents.metrics import WorkerMetrics
from agents.plans import PlanChangeProcessor, register_plan_agent
from agents.records import DeadLetter
from schemas.vocabulary import Product
from tests.unit.memory_store import MemoryActiveUserStore

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = (NOW - timedelta(days=2)).date()


class CollectedDeadLetters:
    """A dead-letter sink that remembers what it was given."""

    def __init__(self) -> None:
        """Nothing collected yet."""
        self.letters: list[DeadLetter] = []

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        """Collect."""
        self.letters.extend(letters)


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until the agent has processed what was put (agents run concurrently)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the agent did not get there"
        await asyncio.sleep(0.01)


def at(hours: float) -> str:
    """An RFC 3339 instant `hours` after the start of DAY (UTC)."""
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    return (start + timedelta(hours=hours)).isoformat()


def event(**fields: Any) -> bytes:
    """One JSON record."""
    return orjson.dumps(fields)


@pytest.fixture
async def app() -> AsyncIterator[faust.App]:
    """A Faust app that never connects (agents run in test_context()), on the test's own loop."""
    loop = asyncio.get_running_loop()
    app = faust.App("unit-tests", broker="kafka://127.0.0.1:9", value_serializer="raw", loop=loop)
    yield app
    # Faust's stream iterator builds a consumer whose thread gets its own event loop even in
    # test_context(), where that thread never starts: close the loop so it does not leak.
    consumer = getattr(app, "_consumer", None)
    if consumer is not None:
        consumer._thread.thread_loop.close()


@pytest.fixture
def parts() -> tuple[MemoryActiveUserStore, CollectedDeadLetters, WorkerMetrics]:
    """A fresh store, dead-letter sink and metrics registry per test."""
    return MemoryActiveUserStore(), CollectedDeadLetters(), WorkerMetrics(CollectorRegistry())


class Agents(NamedTuple):
    """The worker's three agents, on topics `claims`, `plans` and `logins`."""

    claims: Any
    plans: Any
    logins: Any


def register_agents(
    app: faust.App,
    store: MemoryActiveUserStore,
    letters: CollectedDeadLetters,
    metrics: WorkerMetrics,
    login_batches_in_flight: int = 1,
) -> Agents:
    """Wire the three agents to one store, sink and metrics, as the worker does (400 days)."""
    return Agents(
        register_claim_agent(
            app, app.topic("claims"), DomainClaimProcessor(store, letters, metrics, 400)
        ),
        register_plan_agent(
            app, app.topic("plans"), PlanChangeProcessor(store, letters, metrics, 400)
        ),
        register_login_agent(
            app,
            app.topic("logins"),
            LoginBatchProcessor(store, letters, metrics, 400),
            login_batches_in_flight,
        ),
    )


async def test_logins_are_counted_per_org_plan_and_day_and_bad_records_dead_lettered(
    app: faust.App, parts: tuple[MemoryActiveUserStore, CollectedDeadLetters, WorkerMetrics]
) -> None:
    """A claim, a plan change, then logins: managed ones counted, the rest dropped or rejected."""
    store, letters, metrics = parts
    claims, plans, logins = register_agents(app, store, letters, metrics, 2)
    async with claims.test_context() as agent:
        await agent.put(
            event(
                type="domain_claim",
                org_id="acme",
                domain="Acme.com.",
                action="claim",
                effective_at=at(-240),
            )
        )
    async with plans.test_context() as agent:
        await agent.put(
            event(
                type="plan_change",
                user_id="u1",
                product="jira",
                plan="premium",
                effective_at=at(12),
            )
        )
    async with logins.test_context() as agent:
        await agent.put(
            event(
                type="login", user_id="u1", email="A@ACME.com", product="jira", occurred_at=at(11)
            )
        )
        await agent.put(
            event(
                type="login", user_id="u1", email="a@acme.com", product="jira", occurred_at=at(12)
            )
        )
        await agent.put(
            event(
                type="login",
                user_id="u2",
                email="b@eu.acme.com",
                product="jira",
                occurred_at=at(12),
            )
        )
        await agent.put(b"{not json")
        await agent.put(event(type="heartbeat", product="trello", occurred_at=at(1)))
        await eventually(lambda: (Product.TRELLO, DAY) in store.coverage)
    layout = store.layout
    assert store.sets[layout.active_users("acme", "jira", "free", DAY)] == {"u1"}
    assert store.sets[layout.active_users("acme", "jira", "premium", DAY)] == {"u1"}
    assert store.sets[layout.active_users("acme", "all", "all", DAY)] == {"u1"}
    assert (Product.TRELLO, DAY) in store.coverage
    assert [letter.rejection.reason.value for letter in letters.letters] == ["invalid_json"]
    # Lag and the newest event per product, from each valid event's occurred_at.
    (lag,) = metrics.event_lag.collect()
    assert [s.value for s in lag.samples if s.name.endswith("_count")] == [4]
    (last_event,) = metrics.product_last_event.collect()
    newest = {s.labels["product"]: s.value for s in last_event.samples}
    assert newest == {
        "jira": datetime.fromisoformat(at(12)).timestamp(),
        "trello": datetime.fromisoformat(at(1)).timestamp(),
    }


async def test_a_redis_outage_holds_the_batch_until_the_write_lands(
    app: faust.App, parts: tuple[MemoryActiveUserStore, CollectedDeadLetters, WorkerMetrics]
) -> None:
    """Writes that fail are retried inside the batch; nothing is lost, the retries are counted."""
    store, letters, metrics = parts
    store.failures_left = 2
    logins = register_login_agent(
        app, app.topic("logins"), LoginBatchProcessor(store, letters, metrics, 400), 2
    )
    async with logins.test_context() as agent:
        await agent.put(event(type="heartbeat", product="jsm", occurred_at=at(3)))
        await eventually(lambda: (Product.JSM, DAY) in store.coverage)
    retries = metrics.redis_errors.labels("login_batch")._value.get()
    assert retries == 2


async def test_a_conflicting_claim_is_dead_lettered_with_its_reason(
    app: faust.App, parts: tuple[MemoryActiveUserStore, CollectedDeadLetters, WorkerMetrics]
) -> None:
    """A domain belongs to one org at a time."""
    store, letters, metrics = parts
    claims = register_claim_agent(
        app, app.topic("claims"), DomainClaimProcessor(store, letters, metrics, 400)
    )
    async with claims.test_context() as agent:
        await agent.put(
            event(
                type="domain_claim",
                org_id="acme",
                domain="acme.com",
                action="claim",
                effective_at=at(0),
            )
        )
        await agent.put(
            event(
                type="domain_claim",
                org_id="globex",
                domain="acme.com",
                action="claim",
                effective_at=at(5),
            )
        )
        await agent.put(
            event(type="login", user_id="u", email="u@acme.com", product="jira", occurred_at=at(5))
        )
        await eventually(lambda: len(letters.letters) == 2)
    reasons = sorted(letter.rejection.reason.value for letter in letters.letters)
    assert reasons == ["domain_conflict", "wrong_topic"]
    assert (await store.domain_timeline("acme.com")).owner_at(10**13) == "acme"


async def test_a_conflicting_claim_in_a_batch_is_dead_lettered_as_its_own_element(
    app: faust.App, parts: tuple[MemoryActiveUserStore, CollectedDeadLetters, WorkerMetrics]
) -> None:
    """Re-publishing the dead letter must not resend the batch's accepted claims."""
    store, letters, metrics = parts
    claims = register_claim_agent(
        app, app.topic("claims"), DomainClaimProcessor(store, letters, metrics, 400)
    )
    accepted = {
        "type": "domain_claim",
        "org_id": "acme",
        "domain": "acme.com",
        "action": "claim",
        "effective_at": at(0),
    }
    conflicting = {**accepted, "org_id": "globex", "effective_at": at(5)}
    async with claims.test_context() as agent:
        await agent.put(orjson.dumps([accepted, conflicting]))
        await eventually(lambda: len(letters.letters) == 1)
    (letter,) = letters.letters
    assert letter.rejection.reason.value == "domain_conflict"
    assert letter.rejection.index == 1
    assert orjson.loads(letter.rejection.raw) == conflicting
    assert (await store.domain_timeline("acme.com")).owner_at(10**13) == "acme"


def test_an_oversized_dead_letter_keeps_a_prefix_and_its_original_size() -> None:
    """A ~1 MB rejected record must still fit in a Kafka record on the dead-letter topic."""
    from agents.dead_letters import DEAD_LETTER_MAX_BYTES, letter_value
    from agents.records import SourceRecord
    from schemas.decode import Rejection, RejectionReason

    raw = b"z" * 999_800
    rejection = Rejection(RejectionReason.TOO_LARGE, "record is too large", raw, None, None)
    value, headers = letter_value(DeadLetter(rejection, SourceRecord(raw, "t", 0, 7)))
    assert value == raw[:DEAD_LETTER_MAX_BYTES]
    assert ("insights-original-bytes", b"999800") in headers
    assert ("insights-reason", b"too_large") in headers
