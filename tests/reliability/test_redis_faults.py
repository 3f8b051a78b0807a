"""Suite 2, Redis faults: stop, crash or pause Redis while the worker holds a batch.

Traffic arrives at a steady pace, so at any moment the worker holds a batch it has taken but not
yet written: a fault of a few seconds always lands on one.

Redis runs with the production persistence (AOF, `appendfsync always`). At the end of each outage,
while nothing can be written, we copy Redis's data and read the group's committed offsets: every
record below those offsets must already be in that copy (no offset committed past an unwritten
batch). Afterwards the state must equal the reference, and the worker, never restarted, must
have logged each outage it saw and counted every event exactly once.
"""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition
from redis.asyncio import Redis

from insights.embedded import StackEndpoints
from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import Harness
from tests.reliability.redis_server import PersistentRedis, persistent_redis
from tests.reliability.replay import Replay, ReplaySpec, build_replay
from tests.reliability.state import StateChecker
from tests.reliability.workers import Worker

SUITE = "2. Redis faults (stop, crash, pause)"
REDIS_TIMEOUT_S = 1.0
OUTAGE_LOGGED = "redis unavailable, holding the batch"
RECOVERY_LOGGED = "redis recovered"
RECOVERY_TIMEOUT_S = 60.0
Position = tuple[TopicPartition, int]


@dataclass(frozen=True)
class RedisFaultScale:
    """Replay size and pace, and the faults, in order."""

    spec: ReplaySpec
    rate: float  # events per second: the replay must outlast the faults (about 15 s each)
    faults: tuple[str, ...]  # "restart" (SIGTERM), "crash" (SIGKILL), "pause" (SIGSTOP)
    seed: int = 2


CI = RedisFaultScale(
    ReplaySpec(logins=40_000, org_sizes=(3000, 800, 60, 40, 20), seed=31, track_records=True),
    rate=800.0,
    faults=("restart", "crash", "pause"),
)
FULL = RedisFaultScale(
    ReplaySpec(
        logins=300_000, org_sizes=(20000, 8000, 3000, 60, 40, 20), seed=3, track_records=True
    ),
    rate=2500.0,
    faults=("restart", "crash", "pause", "restart", "crash"),
)


@dataclass
class Outage:
    """One fault: what it was, the frozen copy of Redis, and the commits made while it lasted."""

    kind: str
    snapshot: Path
    committed: dict[TopicPartition, int]
    seconds: float
    logged: bool
    recovery_s: float = 0.0
    checked: int = 0  # committed records whose facts were looked up in the snapshot
    missing: int = 0  # of their facts, those the snapshot lacked


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[PersistentRedis]:
    """This run's own persistent Redis (restarts must not disturb other runs)."""
    with persistent_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def fault_harness(
    reliability_stack: StackEndpoints, redis_server: PersistentRedis, tmp_path: Path
) -> AsyncIterator[Harness]:
    """A run on the session's broker and this run's persistent Redis."""
    run = Harness(reliability_stack.kafka_bootstrap, redis_server.url, tmp_path)
    # Faults last 2-5 s: at the 5-s default a pause could end before a command timed out, and
    # the worker would wait it out without logging the outage. Only this suite shortens it: on
    # two busy cores a 1-s stall elsewhere would be retried as an outage.
    run.env["INSIGHTS_REDIS_TIMEOUT_S"] = str(REDIS_TIMEOUT_S)
    await run.start()
    try:
        yield run
    finally:
        await run.close()


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (240, 900)))
async def test_redis_outages_never_commit_unwritten_batches(
    fault_harness: Harness,
    redis_server: PersistentRedis,
    scale: RedisFaultScale,
    figures: Figures,
    tmp_path: Path,
) -> None:
    """Faults while traffic flows; commits made during each outage are covered by what Redis
    had; in the end, the reference state, each event counted once, the same worker."""
    harness = fault_harness
    replay = build_replay(scale.spec, harness.layout)
    worker = harness.pool.start()
    await harness.deliver(replay.control)
    figures.notes.append(
        f"{replay.describe()}; 1 worker; sent at {scale.rate:,.0f} events/s; Redis with AOF, "
        "appendfsync always; each fault after 1-3 s of health, lasting 2-5 s"
    )
    positions: list[Position] = []
    feeding = asyncio.create_task(harness.feed.pace(replay.traffic, scale.rate, positions))
    try:
        outages = await inject(harness, redis_server, worker, scale, feeding, tmp_path)
        await feeding
    finally:
        feeding.cancel()
    await harness.watch.reach(harness.targets, timeout_s=300)
    await harness.pool.scrape_all()
    diff = await harness.compare(replay.expected)
    premature = [await unwritten(o, replay, positions, harness) for o in outages]
    # The check has teeth: claiming every record was committed during the first outage must
    # show facts that copy of Redis could not have had.
    everything = Outage("control", outages[0].snapshot, harness.targets, 0.0, True)
    assert await unwritten(everything, replay, positions, harness) > 0
    counted = harness.pool.total("counted")
    figures.fault, figures.faults = "Redis " + "/".join(scale.faults), len(outages)
    figures.events, figures.redelivered = replay.events, int(counted - replay.expected.counted)
    figures.lost, figures.double_counted = diff.lost + sum(premature), diff.inflated
    figures.recovery_s = [round(o.recovery_s, 2) for o in outages]
    figures.notes.extend(outage_notes(outages))
    assert sum(premature) == 0, "offsets were committed past batches Redis did not have"
    assert diff.exact, diff.examples
    assert counted == replay.expected.counted
    assert harness.pool.workers == [worker], "the worker had to be restarted"
    assert worker.alive, "the worker stopped"
    assert all(o.logged for o in outages), "an outage went unlogged"


async def inject(
    harness: Harness,
    server: PersistentRedis,
    worker: Worker,
    scale: RedisFaultScale,
    feeding: asyncio.Task[None],
    workdir: Path,
) -> list[Outage]:
    """Each fault after a healthy spell, while traffic keeps arriving."""
    rng, outages = random.Random(scale.seed), []
    for index, kind in enumerate(scale.faults):
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        assert not feeding.done(), "the replay ended before the faults: lower the rate"
        position, began = worker.log_size(), time.monotonic()
        {"restart": server.stop, "crash": server.crash, "pause": server.pause}[kind]()
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        snapshot = server.snapshot(workdir / f"snapshot-{index}")
        committed = await harness.committed()  # whatever was committed while Redis was away
        if kind == "pause":
            server.resume()
        else:
            server.start()
        restored, seconds = time.monotonic(), time.monotonic() - began
        await harness.progress_after(committed, RECOVERY_TIMEOUT_S)
        recovery = time.monotonic() - restored
        messages = {record.get("message") for record in worker.records(position)}
        logged = {OUTAGE_LOGGED, RECOVERY_LOGGED} <= messages
        outages.append(Outage(kind, snapshot, committed, seconds, logged, recovery))
    return outages


async def unwritten(
    outage: Outage, replay: Replay, positions: list[Position], harness: Harness
) -> int:
    """Facts of committed records missing from the copy of Redis taken during the outage."""
    written = [offset < outage.committed.get(tp, -1) for tp, offset in positions]
    outage.checked = sum(written)
    expected = replay.prefix_expected(written, harness.layout)
    with persistent_redis(outage.snapshot) as copy:
        client = Redis.from_url(copy.url)
        try:
            diff = await StateChecker(client).holds(expected)
        finally:
            await client.aclose()
    outage.missing = diff.lost
    return diff.lost


def outage_notes(outages: list[Outage]) -> list[str]:
    """One line per outage for the report."""
    return [
        f"{o.kind}: down {o.seconds:.1f} s, committing again {o.recovery_s:.1f} s after, "
        f"{'outage and recovery logged' if o.logged else 'NOT logged'}, "
        f"{o.checked:,} committed records, "
        + ("all in" if o.missing == 0 else f"{o.missing:,} of their facts missing from")
        + " the copy of Redis taken during the outage"
        for o in outages
    ]
