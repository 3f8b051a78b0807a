"""Suite 0, the control: an uninterrupted run leaves exactly the reference state, and the checker
sees a planted loss, a planted extra member and a missing key.

The fault suites compare with a reference built by PFADDing the expected members into scratch
keys; this run shows that reference equals what an uninterrupted worker writes, byte for byte.
"""

from dataclasses import dataclass

import pytest

from streams.core.keys import OVERFLOWED
from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import Harness
from tests.reliability.replay import Expected, ReplaySpec, build_replay

SUITE = "0. control: uninterrupted run"


@dataclass(frozen=True)
class BaselineScale:
    """How much to replay."""

    spec: ReplaySpec
    workers: int = 2


CI = BaselineScale(ReplaySpec(logins=30_000, org_sizes=(3000, 800, 60, 40, 20), seed=11))
# The same input as the full worker-crash suite.
FULL = BaselineScale(
    ReplaySpec(logins=1_000_000, org_sizes=(20000, 8000, 3000, 60, 40, 20), seed=1)
)


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (240, 900)))
async def test_uninterrupted_run_equals_the_reference(
    harness: Harness, scale: BaselineScale, figures: Figures
) -> None:
    """Byte-equal HLLs, equal exact sets and timelines; the metric counts each login once."""
    replay = build_replay(scale.spec, harness.layout)
    for _ in range(scale.workers):
        harness.pool.start()
    await harness.deliver(replay.control)
    figures.notes.append(f"{replay.describe()}; {scale.workers} workers; sent at once")
    await harness.feed.send(replay.traffic)
    await harness.watch.reach(harness.targets, timeout_s=600)
    await harness.pool.scrape_all()
    diff = await harness.compare(replay.expected)
    counted = harness.pool.total("counted")
    figures.events, figures.lost, figures.double_counted = replay.events, diff.lost, diff.inflated
    figures.redelivered = int(counted - replay.expected.counted)
    figures.fault = "none"
    figures.notes.append(f"{diff.keys_compared:,} keys, {diff.members_compared:,} members compared")
    assert diff.exact, diff.examples
    assert counted == replay.expected.counted
    await planted_faults_are_seen(harness, replay.expected)


async def planted_faults_are_seen(harness: Harness, expected: Expected) -> None:
    """Damage the worker's state three ways; the checker must report each."""
    big = next(key for key, members in expected.hll.items() if len(members) > 1000)
    # Most new members leave a big HLL's registers alone; find one that raises a register.
    probe = f"{harness.checker.scratch}:ghost"
    await harness.redis.pfmerge(probe, big)
    ghost = 0
    while not await harness.redis.pfadd(probe, f"ghost-{ghost}"):
        ghost += 1
    await harness.redis.delete(probe)
    await harness.redis.pfadd(big, f"ghost-{ghost}")  # an event nobody sent
    small = next(
        key for key, members in expected.sets.items() if OVERFLOWED not in members and members
    )
    await harness.redis.srem(small, next(iter(expected.sets[small])))  # a lost member
    gone = next(iter(expected.zsets))
    await harness.redis.delete(gone)  # a lost key
    diff = await harness.compare(expected)
    assert diff.inflated_hlls == [big]
    assert small in " ".join(diff.examples)
    assert gone in diff.missing_keys
    assert diff.lost >= 2
