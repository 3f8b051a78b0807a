"""Compare the worker's Redis state with the exact expected state, key by key.

HyperLogLog registers depend only on the member set, so PFADDing the expected members into
scratch keys gives the bytes an uninterrupted run must produce. Both sides are PFMERGEd with an
all-zero dense HLL into fresh keys first: that fixes the encoding (sparse or dense) and the
cached cardinality, which depend on history, leaving only the registers to compare.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from streams.core.keys import OVERFLOWED
from tests.reliability.replay import Expected

HLL_REGISTER_BYTES = 16384 * 6 // 8
ZERO_DENSE_HLL = b"HYLL" + bytes(4) + bytes(8) + bytes(HLL_REGISTER_BYTES)
MEMBERS_PER_CALL = 5000
PAIRS_PER_CALL = 100
# KEYS: zero dense HLL, three scratch keys, then (actual, reference) pairs. Per pair: bit 1 when
# the reference has registers the actual key lacks (lost), bit 2 when the actual key has
# registers beyond the reference (unexpected members).
COMPARE_HLLS = """
local out = {}
for i = 5, #KEYS, 2 do
  redis.call('PFMERGE', KEYS[2], KEYS[i], KEYS[1])
  redis.call('PFMERGE', KEYS[3], KEYS[i + 1], KEYS[1])
  redis.call('PFMERGE', KEYS[4], KEYS[i], KEYS[i + 1], KEYS[1])
  local actual, reference, union = redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]),
    redis.call('GET', KEYS[4])
  local code = 0
  if union ~= actual then code = code + 1 end
  if union ~= reference then code = code + 2 end
  out[#out + 1] = code
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
end
return out
"""
# KEYS: the HLL, a scratch key. ARGV: members. How many would still change a copy of the HLL:
# each is certainly missing (an added member can never raise a register again). A lower bound.
PROBE_MISSING = """
redis.call('PFMERGE', KEYS[2], KEYS[1])
local missing = 0
for i = 1, #ARGV do
  missing = missing + redis.call('PFADD', KEYS[2], ARGV[i])
end
redis.call('DEL', KEYS[2])
return missing
"""


@dataclass
class StateDiff:
    """What differs between the worker's keys and the expected state."""

    keys_compared: int = 0
    members_compared: int = 0
    missing_keys: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    lost_hlls: list[str] = field(default_factory=list)  # registers below the reference
    inflated_hlls: list[str] = field(default_factory=list)  # registers above the reference
    members_lost: int = 0  # exact sets, sorted sets, and certainly-missing HLL members
    members_unexpected: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Expected facts the state does not hold: missing keys count as their members."""
        return self.members_lost

    @property
    def inflated(self) -> int:
        """Facts the state holds that nothing produced."""
        return self.members_unexpected + len(self.unexpected_keys) + len(self.inflated_hlls)

    @property
    def exact(self) -> bool:
        """Byte-equal HLLs, equal sets and sorted sets, same key set."""
        return not (
            self.missing_keys
            or self.unexpected_keys
            or self.lost_hlls
            or self.inflated_hlls
            or self.members_lost
            or self.members_unexpected
        )

    def note(self, text: str) -> None:
        """Keep a few examples for the failure message."""
        if len(self.examples) < 10:
            self.examples.append(text)


def text(value: bytes | str) -> str:
    """Redis replies are bytes."""
    return value.decode() if isinstance(value, bytes) else value


async def scan_keys(client: Redis, prefix: str) -> set[str]:
    """Every key under `prefix:`."""
    return {text(key) async for key in client.scan_iter(match=f"{prefix}:*", count=2000)}


class StateChecker:
    """Compares one key prefix of a Redis with an `Expected`, building references in scratch."""

    def __init__(self, client: Redis) -> None:
        """Use `client` for the worker's keys and the scratch keys alike."""
        self.client = client
        self.scratch = f"relref-{uuid.uuid4().hex[:8]}"
        self.compare_hlls = client.register_script(COMPARE_HLLS)
        self.probe_missing = client.register_script(PROBE_MISSING)

    async def compare(self, prefix: str, expected: Expected) -> StateDiff:
        """Diff every key under `prefix` with the expected state, key for key (expected keys
        outside `prefix` are compared too, but no unexpected key is looked for there)."""
        diff = StateDiff()
        wanted = set(expected.hll) | set(expected.sets) | set(expected.zsets)
        outside = sorted(key for key in wanted if not key.startswith(f"{prefix}:"))
        present = await self.client.exists(*outside) if outside else 0
        actual = await scan_keys(self.client, prefix)
        if present:
            pipe = self.client.pipeline(transaction=False)
            for key in outside:
                pipe.exists(key)
            actual |= {
                key for key, there in zip(outside, await pipe.execute(), strict=True) if there
            }
        diff.missing_keys = sorted(wanted - actual)
        diff.unexpected_keys = sorted(actual - wanted)
        for key in diff.unexpected_keys[:5]:
            diff.note(f"unexpected key {key}")
        await self.compare_hll_keys(expected, diff)
        await self.compare_sets(expected.sets, diff)
        await self.compare_zsets(expected.zsets, diff)
        diff.keys_compared = len(wanted)
        return diff

    async def holds(self, expected: Expected) -> StateDiff:
        """What of `expected` the state lacks (it may hold more: a prefix of a run was written)."""
        diff = StateDiff()
        await self.compare_hll_keys(expected, diff)
        diff.inflated_hlls.clear()  # more registers than a prefix of the input: later records
        await self.compare_sets(expected.sets, diff, subset=True)
        diff.members_unexpected = 0
        diff.keys_compared = len(expected.hll) + len(expected.sets)
        return diff

    async def compare_hll_keys(self, expected: Expected, diff: StateDiff) -> None:
        """Reference HLLs from the expected members, then a byte comparison per pair."""
        keys = sorted(expected.hll)
        references = await self.build_references(keys, expected)
        scratch = [f"{self.scratch}:{name}" for name in ("zero", "a", "b", "u")]
        await self.client.set(scratch[0], ZERO_DENSE_HLL)
        try:
            for start in range(0, len(keys), PAIRS_PER_CALL):
                chunk = keys[start : start + PAIRS_PER_CALL]
                pairs = [k for key in chunk for k in (key, references[key])]
                codes = await self.compare_hlls(keys=[*scratch, *pairs])
                for key, code in zip(chunk, codes, strict=True):
                    await self.judge_hll(key, int(code), expected.hll[key], diff)
        finally:
            await self.client.delete(*scratch, *references.values())
        diff.members_compared += sum(len(members) for members in expected.hll.values())

    async def judge_hll(self, key: str, code: int, members: set[str], diff: StateDiff) -> None:
        """Record a lost or inflated HLL; for a lost one, count members certainly missing."""
        if code & 1:
            diff.lost_hlls.append(key)
            missing = await self.probe(key, sorted(members))
            diff.members_lost += max(1, missing)
            diff.note(f"{key}: registers below the reference ({missing} members certainly missing)")
        if code & 2:
            diff.inflated_hlls.append(key)
            diff.note(f"{key}: registers above the reference (members nobody sent)")

    async def probe(self, key: str, members: Sequence[str]) -> int:
        """Members of `members` that a copy of `key` certainly lacks."""
        missing = 0
        for start in range(0, len(members), MEMBERS_PER_CALL):
            chunk = list(members[start : start + MEMBERS_PER_CALL])
            missing += int(
                await self.probe_missing(keys=[key, f"{self.scratch}:probe"], args=chunk)
            )
        return missing

    async def build_references(self, keys: Sequence[str], expected: Expected) -> dict[str, str]:
        """PFADD each key's expected members into a fresh scratch key."""
        references = {key: f"{self.scratch}:ref:{index}" for index, key in enumerate(keys)}
        pipe = self.client.pipeline(transaction=False)
        queued = 0
        for key in keys:
            members = sorted(expected.hll[key])
            for start in range(0, len(members), MEMBERS_PER_CALL):
                pipe.pfadd(references[key], *members[start : start + MEMBERS_PER_CALL])
                queued += 1
            if queued >= 200:
                await pipe.execute()
                queued = 0
        await pipe.execute()
        return references

    async def compare_sets(
        self, sets: dict[str, set[str]], diff: StateDiff, subset: bool = False
    ) -> None:
        """SMEMBERS of every expected set against its exact members (with `subset`, an
        overflowed set holds only the sentinel: its HLL is what counts)."""
        keys = sorted(sets)
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                pipe.smembers(key)
            for key, members in zip(chunk, await pipe.execute(), strict=True):
                actual = {text(m) for m in members}
                if not (subset and OVERFLOWED in actual):
                    self.judge_members(key, actual, sets[key], diff)

    async def compare_zsets(self, zsets: dict[str, dict[str, float]], diff: StateDiff) -> None:
        """ZRANGE WITHSCORES of every expected sorted set against its members and scores."""
        keys = sorted(zsets)
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                pipe.zrange(key, 0, -1, withscores=True)
            for key, pairs in zip(chunk, await pipe.execute(), strict=True):
                actual = {f"{text(m)}={s:g}" for m, s in pairs}
                wanted = {f"{m}={s:g}" for m, s in zsets[key].items()}
                self.judge_members(key, actual, wanted, diff)

    @staticmethod
    def judge_members(key: str, actual: set[str], wanted: set[str], diff: StateDiff) -> None:
        """Count members lost and members nobody produced."""
        lost, extra = wanted - actual, actual - wanted
        diff.members_compared += len(wanted)
        diff.members_lost += len(lost)
        diff.members_unexpected += len(extra)
        if lost:
            diff.note(f"{key}: lost {sorted(lost)[:3]}")
        if extra:
            diff.note(f"{key}: unexpected {sorted(extra)[:3]}")
