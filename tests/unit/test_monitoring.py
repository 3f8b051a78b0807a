"""Readiness and the partitions a worker holds, driven through Faust's rebalance signals."""

import asyncio
from typing import NamedTuple

import faust
import pytest
from faust.types import TP
from prometheus_client import CollectorRegistry

from agents.logins import LoginBatchProcessor, register_login_agent
from agents.metrics import WorkerMetrics
from agents.monitoring import register_monitoring
from agents.plans import PlanChangeProcessor, register_plan_agent
from tests.unit.memory_store import MemoryActiveUserStore
from tests.unit.test_agents import CollectedDeadLetters

LOGINS, PLANS = "m.logins", "m.plan-changes"


class Worker(NamedTuple):
    """A Faust app with monitoring registered, and its metrics."""

    app: faust.App
    metrics: WorkerMetrics


@pytest.fixture
async def worker() -> Worker:
    """A Faust app that never connects, with agents on two topics and monitoring registered."""
    loop = asyncio.get_running_loop()
    app = faust.App("monitoring-tests", broker="kafka://127.0.0.1:9", loop=loop)
    metrics = WorkerMetrics(CollectorRegistry())
    parts = (MemoryActiveUserStore(), CollectedDeadLetters(), metrics, 9)
    register_login_agent(app, app.topic(LOGINS), LoginBatchProcessor(*parts), 1)
    register_plan_agent(app, app.topic(PLANS), PlanChangeProcessor(*parts))
    register_monitoring(app, metrics)
    return Worker(app, metrics)


def state(worker: Worker) -> tuple[float, dict[str, float]]:
    """insights_worker_ready and insights_worker_assigned_partitions per topic."""
    (ready,) = worker.metrics.ready.collect()
    (assigned,) = worker.metrics.assigned_partitions.collect()
    held = {sample.labels["topic"]: sample.value for sample in assigned.samples}
    return ready.samples[0].value, held


async def rebalance(worker: Worker, revoked: set[TP], assigned: set[TP]) -> None:
    """What Faust signals in one rebalance: revoked, then the whole new assignment, then done."""
    await worker.app.on_partitions_revoked.send(revoked)
    await worker.app.on_partitions_assigned.send(assigned)
    await worker.app.on_rebalance_complete.send()


async def test_a_worker_exports_zero_partitions_and_not_ready_before_it_joins(
    worker: Worker,
) -> None:
    """Every consumed topic has a series from the start, so a standby is visible as 0."""
    assert state(worker) == (0, {LOGINS: 0, PLANS: 0})


async def test_a_standby_is_ready_and_holds_no_partitions(worker: Worker) -> None:
    """Joined with an empty assignment (more workers than partitions): healthy, holding none."""
    await rebalance(worker, set(), set())
    assert state(worker) == (1, {LOGINS: 0, PLANS: 0})


async def test_the_assigned_gauge_follows_every_assignment_and_revocation(worker: Worker) -> None:
    """Partitions per topic after each step; not ready from revocation to completion."""
    first = {TP(LOGINS, 0), TP(LOGINS, 1), TP(PLANS, 0)}
    await rebalance(worker, set(), first)
    assert state(worker) == (1, {LOGINS: 2, PLANS: 1})
    await worker.app.on_partitions_revoked.send(first)
    assert state(worker) == (0, {LOGINS: 0, PLANS: 0})
    await worker.app.on_partitions_assigned.send({TP(LOGINS, 1)})
    assert state(worker) == (0, {LOGINS: 1, PLANS: 0})
    await worker.app.on_rebalance_complete.send()
    assert state(worker) == (1, {LOGINS: 1, PLANS: 0})
