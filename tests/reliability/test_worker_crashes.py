"""Suite 1, worker crashes: SIGKILL a worker at random moments of a paced replay, restart it.

Like Kafka Streams' EOS system test: processors die without warning, and the run passes only if
every record is delivered. Passing means every key's HyperLogLog registers and exact sets equal
the reference's (no loss, nothing counted that was not sent), and the group's committed offsets
reach the end of what we produced within 60 s of the last event.
"""

import asyncio
import random
import time
from dataclasses import dataclass

import pytest

from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import Harness
from tests.reliability.replay import ReplaySpec, build_replay

SUITE = "1. worker crashes (SIGKILL + restart)"
CATCH_UP_LIMIT_S = 60.0
RECOVERY_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class CrashScale:
    """Replay size and pace, and how many workers die during it."""

    spec: ReplaySpec
    rate: float  # events per second sent
    kills: int
    workers: int = 2
    seed: int = 1


CI = CrashScale(
    ReplaySpec(logins=40_000, org_sizes=(3000, 800, 60, 40, 20), seed=21), rate=700.0, kills=2
)
FULL = CrashScale(
    ReplaySpec(logins=1_000_000, org_sizes=(20000, 8000, 3000, 60, 40, 20), seed=1),
    rate=5000.0,
    kills=5,
)


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (240, 900)))
async def test_killed_workers_lose_and_double_count_nothing(
    harness: Harness, scale: CrashScale, figures: Figures
) -> None:
    """Kill, restart, and at the end compare every key with the reference."""
    replay = build_replay(scale.spec, harness.layout)
    for _ in range(scale.workers):
        harness.pool.start()
    await harness.deliver(replay.control)
    figures.notes.append(
        f"{replay.describe()}; {scale.workers} workers; sent at {scale.rate:,.0f} events/s; "
        "each SIGKILL at a random moment of the first 60% of the replay, a new worker started "
        "right after it"
    )
    feeding = asyncio.create_task(harness.feed.pace(replay.traffic, scale.rate))
    try:
        await kill_during(harness, scale, feeding, replay.events / scale.rate, figures)
        await feeding
    finally:
        feeding.cancel()
    figures.catch_up_s = await harness.watch.reach(harness.targets, CATCH_UP_LIMIT_S + 60)
    await harness.pool.scrape_all()
    diff = await harness.compare(replay.expected)
    counted = harness.pool.total("counted")
    figures.fault, figures.faults, figures.events = "SIGKILL worker", scale.kills, replay.events
    figures.lost, figures.double_counted = diff.lost, diff.inflated
    figures.redelivered = int(counted - replay.expected.counted)
    figures.notes.append(f"{diff.keys_compared:,} keys, {diff.members_compared:,} members compared")
    assert diff.exact, diff.examples
    assert counted >= replay.expected.counted, "the metric missed events no worker redelivered"
    assert figures.catch_up_s <= CATCH_UP_LIMIT_S


async def kill_during(
    harness: Harness,
    scale: CrashScale,
    feeding: asyncio.Task[None],
    duration: float,
    figures: Figures,
) -> None:
    """Kill a random worker at random moments in the first 60% of the replay (the next kill
    waits for the group to recover from the last one)."""
    rng = random.Random(scale.seed)
    moments = sorted(rng.uniform(0.05, 0.6) * duration for _ in range(scale.kills))
    started = time.monotonic()
    for moment in moments:
        await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
        assert not feeding.done(), "the replay ended before the kills: lower the rate"
        victim = rng.choice(harness.pool.live())
        await harness.pool.scrape(victim)  # its last counters: the metric dies with it
        harness.pool.kill(victim)
        killed = time.monotonic()
        since = await harness.committed()  # nothing the victim did can move these any more
        harness.pool.start()
        await harness.progress_after(since, RECOVERY_TIMEOUT_S)
        figures.recovery_s.append(round(time.monotonic() - killed, 2))
