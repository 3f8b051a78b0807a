"""The worker's metrics: every agent's batches measured, counters of a known label set born at 0."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest
from prometheus_client import CollectorRegistry

from agents.claims import DomainClaimProcessor, register_claim_agent
from agents.metrics import REDIS_WRITES, WorkerMetrics
from agents.plans import PlanChangeProcessor, register_plan_agent
from schemas.decode import RejectionReason
from schemas.vocabulary import Product
from tests.unit.memory_store import MemoryActiveUserStore
from tests.unit.test_agents import (
    DAY,
    CollectedDeadLetters,
    at,
    event,
    eventually,
    register_agents,
)

AGENTS = ("logins", "plan_changes", "domain_claims")


class FlakyClaimsStore(MemoryActiveUserStore):
    """The in-memory store, whose claim reads fail too while `failures_left` lasts."""

    async def latest_logins(self) -> dict[Product, Any]:
        """Fail like the other calls, then answer."""
        self._maybe_fail()
        return await super().latest_logins()


@pytest.fixture
async def app() -> AsyncIterator[faust.App]:
    """A Faust app that never connects (agents run in test_context()), on the test's own loop."""
    loop = asyncio.get_running_loop()
    app = faust.App(
        "metrics-tests", broker="kafka://127.0.0.1:9", value_serializer="raw", loop=loop
    )
    yield app
    consumer = getattr(app, "_consumer", None)
    if consumer is not None:  # its thread's own loop never started here: do not leak it
        consumer._thread.thread_loop.close()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One sample's value, None when the series does not exist."""
    return registry.get_sample_value(name, labels)


def label_values(registry: CollectorRegistry, name: str, label: str) -> set[str]:
    """Every value `label` takes in the samples of `name`."""
    return {
        found.labels[label]
        for family in registry.collect()
        for found in family.samples
        if found.name == name
    }


def test_redis_errors_and_retries_of_every_write_exist_at_zero_before_any_error() -> None:
    """rate() and increase() need a 0 before the first error, or a short outage never alerts."""
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    for operation in REDIS_WRITES:
        assert sample(registry, "insights_redis_errors_total", operation=operation) == 0
        assert sample(registry, "insights_redis_retries_in_progress", operation=operation) == 0


def test_dead_letters_of_every_reason_exist_at_zero_before_the_first() -> None:
    """The InsightsDeadLettersRising rate sees the first dead letter of a reason."""
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    for reason in RejectionReason:
        assert sample(registry, "insights_dead_letters_written_total", reason=reason.value) == 0


async def test_late_control_events_of_both_control_topics_exist_at_zero(app: faust.App) -> None:
    """Registering the plan and claim agents starts their topics' late-event counters at 0."""
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    store, letters = MemoryActiveUserStore(), CollectedDeadLetters()
    register_plan_agent(app, app.topic("p.plans"), PlanChangeProcessor(store, letters, metrics, 9))
    claims = DomainClaimProcessor(store, letters, metrics, 9)
    register_claim_agent(app, app.topic("p.claims"), claims)
    name = "insights_late_control_events_total"
    assert label_values(registry, name, "topic") == {"p.plans", "p.claims"}
    assert sample(registry, name, topic="p.plans") == sample(registry, name, topic="p.claims") == 0


async def test_every_agent_measures_its_batches_and_retries_only_preinitialised_writes(
    app: faust.App,
) -> None:
    """Plan changes and claims are timed and sized like logins; an outage of each agent's write
    is counted under an operation that existed at 0 (no series is born by the first error)."""
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    store, letters = FlakyClaimsStore(), CollectedDeadLetters()
    claims, plans, logins = register_agents(app, store, letters, metrics)
    store.failures_left = 1
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
        await eventually(lambda: bool(store.claims))
    store.failures_left = 1
    async with plans.test_context() as agent:
        await agent.put(
            event(
                type="plan_change", user_id="u", product="jira", plan="premium", effective_at=at(0)
            )
        )
        await eventually(lambda: bool(store.plans))
    store.failures_left = 1
    async with logins.test_context() as agent:
        await agent.put(event(type="heartbeat", product="jsm", occurred_at=at(3)))
        await eventually(lambda: (Product.JSM, DAY) in store.coverage)

    for agent_name in AGENTS:
        size = sample(registry, "insights_batch_size_records_sum", agent=agent_name)
        timed = sample(registry, "insights_batch_processing_seconds_count", agent=agent_name)
        assert (agent_name, size, timed) == (agent_name, 1, 1)
    for operation in ("plan_changes", "domain_claims"):  # failed attempt, then the one that landed
        assert sample(registry, "insights_redis_operation_seconds_count", operation=operation) == 2
    errors = "insights_redis_errors_total"
    assert label_values(registry, errors, "operation") == set(REDIS_WRITES)
    assert all(sample(registry, errors, operation=name) == 1 for name in REDIS_WRITES)


async def test_late_means_effective_over_a_minute_before_the_latest_login_processed(
    app: faust.App,
) -> None:
    """Logins up to 10:00 processed: a plan change or claim effective over a minute before may
    have re-attributed some (late); one effective 09:59:30 or 11:00 the same day is not late
    (by day, every real-time control event was late once that day's logins had been processed).
    Heartbeats re-attribute nothing: one at noon moves nothing."""
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    store, letters = MemoryActiveUserStore(), CollectedDeadLetters()
    claims, plans, logins = register_agents(app, store, letters, metrics)
    login = {"type": "login", "user_id": "u", "email": "u@elsewhere.com", "product": "jira"}
    async with logins.test_context() as agent:
        for hour in (8, 10):
            await agent.put(event(**login, occurred_at=at(hour)))
        await agent.put(event(type="heartbeat", product="jira", occurred_at=at(12)))
        await eventually(lambda: (Product.JIRA, DAY) in store.coverage and len(store.latest) == 1)
    change = {"type": "plan_change", "product": "jira", "plan": "premium"}
    async with plans.test_context() as agent:
        for user, when in (("early", 9.0), ("in-grace", 10 - 0.5 / 60), ("later", 11.0)):
            await agent.put(event(**change, user_id=user, effective_at=at(when)))
        await eventually(lambda: len(store.plans) == 3)
    claim = {"type": "domain_claim", "org_id": "acme", "action": "claim"}
    async with claims.test_context() as agent:
        for domain, hour in (("early.com", 5), ("later.com", 11)):
            await agent.put(event(**claim, domain=domain, effective_at=at(hour)))
        await eventually(lambda: len(store.claims) == 2)
    late = "insights_late_control_events_total"
    assert sample(registry, late, topic="plans") == 1
    assert sample(registry, late, topic="claims") == 1
