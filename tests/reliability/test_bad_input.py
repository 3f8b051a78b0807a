"""Suite 5, bad input: a labelled corpus and a hypothesis fuzz on every topic, between canaries.

Random bytes, truncated JSON, deep nesting, huge strings, wrong types, NaN, invalid UTF-8,
timestamps out of range, unknown enums, records over 64 KiB, tombstones, events on the wrong
topic, conflicting claims; alone and inside batched records. Passing means the worker never
stops, every rejected record or element lands in the dead-letter topic once with its reason
(header `insights-reason`) and its source, and every valid canary sent between them counts.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from agents.dead_letters import DEAD_LETTER_MAX_BYTES
from schemas.decode import TimeBounds
from schemas.vocabulary import Plan, Product
from streams.core.keys import KeyLayout
from streams.core.timelines import claim_member, plan_member, to_millis
from tests.reliability.corpus import (
    CLAIM_VERDICTS,
    KINDS,
    BadInput,
    Letter,
    corpus,
    generated,
    oracle,
    stamp,
)
from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import Harness
from tests.reliability.replay import Cells, Expected

SUITE = "5. bad input (corpus and hypothesis fuzz)"
ORG, HOME = "fuzzok", "fuzzok.example"
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
PRODUCTS = ("trello", "jira", "confluence", "jsm")
Source = tuple[str, int, int]  # topic, partition, offset


@dataclass(frozen=True)
class FuzzScale:
    """Generated records per topic (the corpus is always sent whole)."""

    generated: int
    seed: int = 5


CI = FuzzScale(generated=150)
FULL = FuzzScale(generated=3000, seed=6)


@dataclass
class Planned:
    """A record we send and the letters the dead-letter topic must then hold for it."""

    kind: str
    raw: bytes | None
    letters: list[Letter]
    verdicts: bool = False  # valid claims inside may also be refused by the claims agent
    label: str = "generated"


@dataclass
class Canaries:
    """Valid events between the bad ones, and the exact state they leave."""

    layout: KeyLayout
    day: date
    cells: Cells = field(default_factory=dict)
    expected: Expected = field(default_factory=Expected)
    logins: int = 0
    sent: int = 0

    def event(self, kind: str) -> dict[str, object]:
        """The next canary for a topic."""
        self.sent += 1
        n = self.sent
        if kind == "logins":
            return self.login(n)
        if kind == "plan_changes":
            return self.plan_change(n)
        return self.claim(f"canary-{n}.example")

    def login(self, n: int) -> dict[str, object]:
        """A managed login, counted under its day, product and plan free."""
        user, product = f"canary-l-{n}", PRODUCTS[n % len(PRODUCTS)]
        occurred = datetime.combine(self.day, datetime.min.time(), UTC) + timedelta(seconds=n)
        cell = (ORG, product, "free", 0, HOME)
        self.cells.setdefault(cell, set()).add(user)
        self.logins += 1
        return {
            "type": "login",
            "user_id": user,
            "email": f"{user}@{HOME}",
            "product": product,
            "occurred_at": stamp(occurred),
        }

    def plan_change(self, n: int) -> dict[str, object]:
        """A plan change: one member of the user's timeline."""
        user, effective = f"canary-p-{n}", SINCE + timedelta(seconds=n)
        key = self.layout.plan_timeline(user, Product.JIRA)
        self.expected.zsets[key][plan_member(effective, Plan.PREMIUM)] = to_millis(effective)
        return {
            "type": "plan_change",
            "user_id": user,
            "product": "jira",
            "plan": "premium",
            "effective_at": stamp(effective),
        }

    def claim(self, domain: str) -> dict[str, object]:
        """A claim by the canary org: one timeline member, one more domain of the org."""
        member = claim_member(SINCE, "claim", ORG)
        self.expected.zsets[self.layout.domain_timeline(domain)][member] = to_millis(SINCE)
        self.expected.sets.setdefault(self.layout.org_domains(ORG), set()).add(domain)
        return {
            "type": "domain_claim",
            "org_id": ORG,
            "domain": domain,
            "action": "claim",
            "effective_at": stamp(SINCE),
        }

    def finish(self) -> Expected:
        """The canaries' keys."""
        self.expected.add_cells(self.cells, self.day, self.layout)
        return self.expected


def planned(
    kind: str, canaries: Canaries, bad: list[BadInput], fuzz: list[bytes], bounds: TimeBounds
) -> list[Planned]:
    """Every bad record for a topic, each followed by a canary; then mixed batches."""
    plan: list[Planned] = []
    for item in bad:
        plan.append(Planned(kind, item.raw, [(item.index, item.reason)], label=item.name))
    for raw in fuzz:
        letters, verdicts = oracle(kind, raw, bounds)
        plan.append(Planned(kind, raw, letters, verdicts))
    for item in [i for i in bad if i.event is not None][:10]:
        batch = [canaries.event(kind), item.event, canaries.event(kind)]
        plan.append(Planned(kind, orjson.dumps(batch), [(1, item.reason)], label="mixed batch"))
    with_canaries = []
    for entry in plan:
        with_canaries.append(entry)
        with_canaries.append(Planned(kind, orjson.dumps(canaries.event(kind)), [], label="canary"))
    return with_canaries


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (240, 900)))
async def test_bad_records_are_dead_lettered_and_never_stop_the_worker(
    harness: Harness, scale: FuzzScale, figures: Figures
) -> None:
    """Every letter where it belongs, with its reason; the canaries all counted."""
    now = datetime.now(UTC)
    canaries = Canaries(harness.layout, now.date() - timedelta(days=1))
    worker = harness.pool.start()
    await harness.deliver([orjson.dumps(canaries.claim(HOME))])
    plan = build_plan(harness, canaries, scale, now)
    sources = await send_plan(harness, plan)
    await harness.watch.reach(harness.targets, timeout_s=180)
    letters = await read_letters(harness, sum(len(p.letters) for p in plan))
    problems = match_letters(plan, sources, letters)
    await harness.pool.scrape(worker)
    scope = f"{harness.settings.key_prefix}:{{{ORG}}}"  # the canary org's keys, and timelines
    diff = await harness.checker.compare(scope, canaries.finish())
    crashes = [r for r in worker.records() if r.get("level") in ("ERROR", "CRITICAL")]
    record(figures, plan, letters, canaries, problems)
    figures.lost, figures.double_counted = diff.lost + len(problems), diff.inflated
    assert problems == [], problems[:10]
    assert diff.exact, diff.examples
    assert harness.pool.total("counted") == canaries.logins
    assert worker.alive, "the worker stopped"
    assert crashes == [], [r.get("message", "")[:300] for r in crashes[:3]]


def build_plan(
    harness: Harness, canaries: Canaries, scale: FuzzScale, now: datetime
) -> list[Planned]:
    """The corpus and the generated records of every topic, with canaries between them."""
    bounds = TimeBounds.around(now, harness.settings.retention_days)
    plan = []
    for kind in KINDS:
        bad = [item for item in corpus(now, HOME) if kind in item.kinds]
        fuzz = generated(kind, now, scale.generated, scale.seed)
        plan.extend(planned(kind, canaries, bad, fuzz, bounds))
    return plan


def record(
    figures: Figures,
    plan: list[Planned],
    letters: list[ConsumerRecord[bytes, bytes]],
    canaries: Canaries,
    problems: list[str],
) -> None:
    """What was sent and what came out."""
    figures.fault, figures.faults = "bad records", sum(1 for p in plan if p.letters)
    figures.events = len(plan)
    labels = Counter(p.label for p in plan if p.letters)
    figures.notes.append(
        f"{figures.faults:,} bad records ({labels['generated']:,} generated by hypothesis, "
        f"{labels['mixed batch']} batches mixing bad and valid events, the rest from the "
        f"labelled corpus) on 3 topics, between {canaries.sent:,} valid canary events"
    )
    reasons = Counter(dict(r.headers)["insights-reason"].decode() for r in letters)
    by_reason = ", ".join(f"{reason} {count:,}" for reason, count in sorted(reasons.items()))
    figures.notes.append(
        f"{len(letters):,} dead letters, {len(problems)} not as expected: {by_reason}"
    )


async def send_plan(harness: Harness, plan: list[Planned]) -> list[Source]:
    """Send each record to its kind's topic, in order; where each one landed."""
    names = harness.feed.names
    topics = {
        "logins": names.logins,
        "plan_changes": names.plan_changes,
        "domain_claims": names.domain_claims,
    }
    sources: list[Source] = []
    for start in range(0, len(plan), 500):
        chunk = [(topics[entry.kind], entry.raw) for entry in plan[start : start + 500]]
        for tp, offset in await harness.feed.send_values(chunk):
            sources.append((tp.topic, tp.partition, offset))
    return sources


async def read_letters(harness: Harness, at_least: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The whole dead-letter topic: until `at_least` letters came and then 3 s of silence."""
    consumer = AIOKafkaConsumer(
        harness.feed.names.dead_letters,
        bootstrap_servers=harness.settings.kafka(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    letters: list[ConsumerRecord[bytes, bytes]] = []
    quiet_since, deadline = time.monotonic(), time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            fresh = [record for batch in batches.values() for record in batch]
            letters.extend(fresh)
            if fresh:
                quiet_since = time.monotonic()
            elif len(letters) >= at_least and time.monotonic() - quiet_since > 3:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return letters


@dataclass(frozen=True)
class Received:
    """A dead letter as read back: what it says, its bytes, the original size if it was cut."""

    letter: Letter
    value: bytes
    original_bytes: int | None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> tuple[Source, "Received"]:
        """Where the rejected record came from, and the letter."""
        headers = {key: value.decode() for key, value in record.headers}
        topic, partition, offset = headers["insights-source"].rsplit("/", 2)
        index = int(headers["insights-index"]) if "insights-index" in headers else None
        original = headers.get("insights-original-bytes")
        size = None if original is None else int(original)
        letter = cls((index, headers["insights-reason"]), record.value or b"", size)
        return (topic, int(partition), int(offset)), letter


def match_letters(
    plan: list[Planned], sources: list[Source], letters: list[ConsumerRecord[bytes, bytes]]
) -> list[str]:
    """Each record's letters, by their source header, against what the plan says."""
    found: dict[Source, list[Received]] = {}
    for record in letters:
        source, received = Received.of(record)
        found.setdefault(source, []).append(received)
    problems = [f"letter for a record we never sent: {s}" for s in set(found) - set(sources)]
    for entry, source in zip(plan, sources, strict=True):
        problems.extend(judge(entry, found.get(source, [])))
    return problems


def judge(entry: Planned, got: list[Received]) -> list[str]:
    """Problems with one record's letters: which, why, and (for a whole record) its bytes."""
    letters = [received.letter for received in got]
    extra = Counter(letters) - Counter(entry.letters)
    if entry.verdicts:
        extra = Counter({k: v for k, v in extra.items() if k[1] not in CLAIM_VERDICTS})
    missing = Counter(entry.letters) - Counter(letters)
    problems = []
    if missing or extra:
        problems.append(
            f"{entry.label} on {entry.kind}: missing {dict(missing)}, extra {dict(extra)}"
        )
    whole = [received for received in got if received.letter[0] is None]
    if entry.label not in ("generated", "mixed batch") and whole:
        problems.extend(original_bytes(entry, whole))
    return problems


def original_bytes(entry: Planned, whole: list[Received]) -> list[str]:
    """A whole-record letter carries the original bytes, or a prefix and the original size."""
    raw = entry.raw or b""
    cut = len(raw) > DEAD_LETTER_MAX_BYTES
    wanted = Received(whole[0].letter, raw[:DEAD_LETTER_MAX_BYTES], len(raw) if cut else None)
    if whole != [wanted]:
        return [f"{entry.label} on {entry.kind}: dead letter is not the original bytes"]
    return []


@pytest.mark.integration
@pytest.mark.reliability
@pytest.mark.timeout(120)
async def test_a_record_near_the_kafka_size_limit_is_dead_lettered(
    harness: Harness, figures: Figures
) -> None:
    """999,800 bytes: within Kafka's default limits (1 MiB), far over our 64 KiB."""
    figures.suite = "5b. one record near Kafka's size limit"
    figures.fault, figures.faults, figures.events = "999,800-byte record", 1, 2
    figures.notes.append(
        "fixed: dead letters over 900 KiB keep a prefix and an original-size header"
    )
    worker = harness.pool.start()
    names = harness.feed.names
    big = b'"' + b"z" * 999_798 + b'"'
    await harness.feed.send_values([(names.logins, big)])
    # A valid event after it, on whichever partition: it must still be processed.
    heartbeat = {"type": "heartbeat", "product": "jira", "occurred_at": stamp(datetime.now(UTC))}
    await harness.feed.send([orjson.dumps(heartbeat)])
    try:
        await harness.watch.reach(harness.targets, timeout_s=20)
    finally:
        harness.pool.kill(worker)  # a worker with a crashed agent hangs in its graceful stop
    [(_, letter)] = [Received.of(record) for record in await read_letters(harness, 1)]
    assert letter.letter == (None, "too_large")
    assert letter.original_bytes == len(big)
    assert big.startswith(letter.value)
