"""Suite 3, rebalances: workers join and leave (gracefully) while traffic keeps arriving.

After each change every live worker must log "worker ready" with the partitions it holds, the
holdings must cover every input partition (none idle), within the session timeout plus 30 s;
and every partition must commit again. At the end the state must equal the reference.
"""

import asyncio
import random
import time
from dataclasses import dataclass

import pytest

from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import SESSION_TIMEOUT_S, Harness
from tests.reliability.replay import ReplaySpec, build_replay
from tests.reliability.workers import Worker

SUITE = "3. rebalances (workers join and leave)"
REBALANCE_LIMIT_S = SESSION_TIMEOUT_S + 30.0
PROGRESS_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RebalanceScale:
    """Replay size and pace, and how many membership changes happen during it."""

    spec: ReplaySpec
    rate: float
    changes: int
    most_workers: int = 3
    seed: int = 3


CI = RebalanceScale(
    ReplaySpec(logins=40_000, org_sizes=(3000, 800, 60, 40, 20), seed=41), rate=800.0, changes=3
)
FULL = RebalanceScale(
    ReplaySpec(logins=1_000_000, org_sizes=(20000, 8000, 3000, 60, 40, 20), seed=4),
    rate=4000.0,
    changes=10,
)


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (240, 900)))
async def test_rebalances_finish_in_time_and_leave_nothing_idle(
    harness: Harness, scale: RebalanceScale, figures: Figures
) -> None:
    """Add or remove a worker `changes` times; each rebalance must settle and make progress."""
    replay = build_replay(scale.spec, harness.layout)
    partitions = len(harness.feed.names.inputs()) * harness.settings.topic_partitions
    for _ in range(2):
        harness.pool.start()
    await settled(harness, {}, partitions, time.monotonic())
    await harness.deliver(replay.control)
    figures.notes.append(
        f"{replay.describe()}; sent at {scale.rate:,.0f} events/s; 2 workers at first, then "
        f"1 to {scale.most_workers}: SIGTERM to a random one, or a new one, every 2-5 s once "
        f"the group settled; {partitions} input partitions"
    )
    feeding = asyncio.create_task(harness.feed.pace(replay.traffic, scale.rate))
    try:
        await change_membership(harness, scale, partitions, feeding, figures)
        await feeding
    finally:
        feeding.cancel()
    figures.catch_up_s = await harness.watch.reach(harness.targets, timeout_s=120)
    await harness.pool.scrape_all()
    diff = await harness.compare(replay.expected)
    counted = harness.pool.total("counted")
    figures.fault, figures.faults, figures.events = (
        "worker join/leave",
        scale.changes,
        replay.events,
    )
    figures.lost, figures.double_counted = diff.lost, diff.inflated
    figures.redelivered = int(counted - replay.expected.counted)
    assert diff.exact, diff.examples
    assert counted >= replay.expected.counted
    assert max(figures.recovery_s) <= REBALANCE_LIMIT_S


async def change_membership(
    harness: Harness,
    scale: RebalanceScale,
    partitions: int,
    feeding: asyncio.Task[None],
    figures: Figures,
) -> None:
    """Each change: add a worker or stop one, wait for the group to settle, check progress."""
    rng = random.Random(scale.seed)
    for _ in range(scale.changes):
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        assert not feeding.done(), "the replay ended before the changes: lower the rate"
        live = harness.pool.live()
        positions = {worker.name: worker.log_size() for worker in live}
        began = time.monotonic()
        if len(live) == 1 or (len(live) < scale.most_workers and rng.random() < 0.5):
            harness.pool.start()
            action = "join"
        else:
            await harness.pool.leave(rng.choice(live))
            action = "leave"
        took = await settled(harness, positions, partitions, began)
        await harness.progress_after(await harness.committed(), PROGRESS_TIMEOUT_S)
        figures.recovery_s.append(round(took, 2))
        live_now = len(harness.pool.live())
        figures.notes.append(f"a worker {action}s ({live_now} live): settled in {took:.1f} s")


async def settled(
    harness: Harness, positions: dict[str, int], partitions: int, began: float
) -> float:
    """Seconds from `began` until every live worker's last word since its position is
    "worker ready" and their partitions add up to all input partitions."""
    while True:
        live = harness.pool.live()
        holdings = [ready_partitions(worker, positions.get(worker.name, 0)) for worker in live]
        if all(h is not None for h in holdings) and sum(h or 0 for h in holdings) == partitions:
            return time.monotonic() - began
        if time.monotonic() - began > REBALANCE_LIMIT_S + 30:
            raise AssertionError(f"group not settled: {[w.name for w in live]} hold {holdings}")
        await asyncio.sleep(0.2)


def ready_partitions(worker: Worker, position: int) -> int | None:
    """Partitions the worker holds if its last rebalance since `position` completed, else None."""
    last = None
    for record in worker.records(position):
        if record.get("message") in ("rebalance started", "worker ready"):
            last = record
    if last is None or last["message"] != "worker ready":
        return None
    return int(last["partitions"])
