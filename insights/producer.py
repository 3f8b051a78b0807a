"""`insights produce`: publish JSONL lines routed by event type, optionally wait for the worker."""

import asyncio
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple, cast

import msgspec
import orjson
from aiokafka.structs import TopicPartition
from confluent_kafka import KafkaError, Message, Producer

from insights.collector import collector_paused
from schemas.domain_names import InvalidDomainError, normalise_domain
from streams.kafka_admin import KafkaUnavailableError, committed_offsets, ensure_topics
from streams.settings import Settings
from streams.topics import TopicNames

CONTROL_TYPES = frozenset({"domain_claim", "plan_change"})
Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ProduceTimeoutError(RuntimeError):
    """The worker group did not process everything before the timeout."""


class Routed(NamedTuple):
    """One line with the topic and key it goes to (a tuple: built once per line, cheaply)."""

    topic: str
    key: bytes | None
    value: bytes
    control: bool


@dataclass(slots=True)
class ProduceReport:
    """What was sent, and the offsets the worker group must reach (each partition's end, from
    the acknowledgements; empty when the send did not ask for them)."""

    sent: int = 0
    targets: dict[TopicPartition, int] = field(default_factory=dict)


class RoutingFields(msgspec.Struct):
    """The only fields routing reads. Decoding just these into a struct (skipping the rest) is
    about 4x cheaper than orjson's full dict, and routing is most of `insights produce`'s CPU."""

    type: str | None = None
    user_id: str | None = None
    product: str | None = None
    domain: str | None = None


_ROUTING_FIELDS = msgspec.json.Decoder(RoutingFields)
# DESIGN.md's Kafka keys: `user_id` unless the type says otherwise.
_KEY_FIELDS = {"heartbeat": "product", "domain_claim": "domain"}


def route(line: bytes, names: TopicNames, forced_topic: str | None) -> Routed:
    """Route by `type` with DESIGN.md's keys; junk goes to logins, to be dead-lettered."""
    if forced_topic:
        return Routed(forced_topic, None, line, False)
    try:
        fields = _ROUTING_FIELDS.decode(line)
    except msgspec.DecodeError:
        # A batch array, a non-string field, or not JSON at all: the general path below.
        return route_parsed(line, names)
    kind = fields.type
    key = getattr(fields, _KEY_FIELDS.get(kind, "user_id")) if kind is not None else fields.user_id
    topic = names.for_event_type(kind) if kind is not None else None
    return Routed(
        topic or names.logins,
        kafka_key(kind, key).encode() if key is not None else None,
        line,
        kind in CONTROL_TYPES,
    )


def kafka_key(kind: str | None, key: str) -> str:
    """A claim's key is its domain as the worker judges it (normalised): `Acme.com.` and
    `acme.com` must share a partition, which orders a domain's claims. A domain that does not
    normalise keeps its raw key; the worker dead-letters that claim anyway."""
    if kind != "domain_claim":
        return key
    try:
        return normalise_domain(key)
    except InvalidDomainError:
        return key


def route_parsed(line: bytes, names: TopicNames) -> Routed:
    """Route any line by its parsed JSON: a batch goes where its first event goes (a batch
    holding claims or plan changes was split by topic first, see `route_split`)."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Routed(names.logins, None, line, False)
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict):
        return Routed(names.logins, None, line, False)
    kind = first.get("type")
    if not isinstance(kind, str):
        kind = None  # e.g. a list: unhashable, and no type anyway
    topic = names.for_event_type(kind) if kind is not None else None
    key = first.get(_KEY_FIELDS.get(kind, "user_id") if kind is not None else "user_id")
    return Routed(
        topic or names.logins,
        kafka_key(kind, key).encode() if isinstance(key, str) else None,
        line,
        kind in CONTROL_TYPES,
    )


# Only a line holding a control type's name (or any JSON escape, which could spell one) can be a
# control event. None of these holds a newline, so a match never spans two joined lines.
MAYBE_CONTROL = (b"domain_claim", b"plan_change", b"\\")
# Lines searched at once: `bytes.find` over them joined costs a third of searching each line
# (100,000 login lines: ~55 against ~170 ms), and a bounded chunk keeps the joined copy small.
SEARCH_CHUNK = 10_000


def control_first(
    lines: Sequence[bytes],
    names: TopicNames,
    forced_topic: str | None,
    chunk: int = SEARCH_CHUNK,
) -> tuple[list[Routed], Iterator[Routed]]:
    """The claims and plan changes, routed; and everything else, routed lazily, in order.

    A byte search finds the few lines worth routing up front (see MAYBE_CONTROL)."""
    if forced_topic:
        return [], (Routed(forced_topic, None, line, False) for line in lines)
    control: list[Routed] = []
    later: dict[int, list[Routed]] = {}  # what a line holding control events leaves for later
    for first in range(0, len(lines), chunk):
        for index in sorted(maybe_control(lines[first : first + chunk])):
            parts = route_split(lines[first + index], names)
            if any(part.control for part in parts):
                control.extend(part for part in parts if part.control)
                later[first + index] = [part for part in parts if not part.control]
    return control, route_rest(lines, names, later)


def route_rest(
    lines: Sequence[bytes], names: TopicNames, later: dict[int, list[Routed]]
) -> Iterator[Routed]:
    """Every line not sent with the control events, routed, and the parts left of those that
    were, each in its line's place."""
    for index, line in enumerate(lines):
        if index in later:
            yield from later[index]
        else:
            yield route(line, names, None)


def route_split(line: bytes, names: TopicNames) -> list[Routed]:
    """A line's records: a batch whose events belong on different topics becomes one batch per
    topic, in the batch's order (routed whole by its first event, a claim in a batch of logins
    reached the logins topic and was dead-lettered there as wrong_topic). Such parts are
    re-encoded; a batch for one topic goes as it was written."""
    routed = route(line, names, None)
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return [routed]
    if not isinstance(parsed, list):
        return [routed]
    by_topic: dict[str, list[object]] = {}
    for event in parsed:
        kind = event.get("type") if isinstance(event, dict) else None
        topic = names.for_event_type(kind) if isinstance(kind, str) else None
        by_topic.setdefault(topic or names.logins, []).append(event)
    if len(by_topic) < 2:
        return [routed]
    return [route(orjson.dumps(events), names, None) for events in by_topic.values()]


def maybe_control(block: Sequence[bytes]) -> set[int]:
    """The indexes of the lines holding one of MAYBE_CONTROL."""
    joined = b"\n".join(block)
    found: set[int] = set()
    starts: list[int] = []  # each line's offset in `joined`, worked out at the first match
    for pattern in MAYBE_CONTROL:
        at = joined.find(pattern)
        while at != -1:
            starts = starts or list(accumulate((len(line) + 1 for line in block), initial=0))
            index = bisect_right(starts, at) - 1
            found.add(index)
            at = joined.find(pattern, starts[index + 1])  # one match per line is enough
    return found


# librdkafka refuses a record over its `message.max.bytes` (1,000,000) with MSG_SIZE_TOO_LARGE,
# which failed the whole command naming neither file nor line. Anything over 64 KiB is
# dead-lettered as too_large by the worker; only lines no Kafka record can hold are refused here.
MAX_LINE_BYTES = 1_000_000 - 1_024  # room for the key and the record's framing


def read_lines(paths: Sequence[Path]) -> list[bytes]:
    """Every non-blank line of the files, in order; a missing file, or a line too big for one
    Kafka record, is a clear error before anything is sent."""
    lines: list[bytes] = []
    for path in paths:
        try:
            read = [line for line in path.read_bytes().splitlines() if line.strip()]
        except OSError as error:
            raise FileNotFoundError(f"cannot read {path}: {error.strerror}") from error
        if max(map(len, read), default=0) > MAX_LINE_BYTES:
            refuse_oversized(path)
        lines.extend(read)
    return lines


def refuse_oversized(path: Path) -> None:
    """Name the first line of `path` too big for a Kafka record (blank lines counted)."""
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(
                f"{path} line {number} is {len(line):,} bytes, more than a Kafka record holds "
                f"({MAX_LINE_BYTES:,}); nothing was sent"
            )


# librdkafka (confluent-kafka): the baseline, aiokafka's batch API, costs ~5 µs of Python
# per record; aiokafka's murmur2 alone took ~3 µs per new key here. librdkafka partitions,
# batches and sends in C, so what is left in Python is routing and one call per record.
PRODUCER_CONFIG: dict[str, str | int | bool] = {
    "acks": "all",
    "linger.ms": 5,
    "batch.size": 262_144,
    # Kafka's default partitioner (the Java client's): a key keeps its partition, and so its
    # order, whichever client produced it. Records without a key spread at random.
    "partitioner": "murmur2_random",
    # The embedded broker rejects the idempotent producer; PFADD makes redelivery harmless.
    "enable.idempotence": False,
    "queue.buffering.max.messages": 1_000_000,
    # A broker that stops answering fails the command within this, not after 5 minutes.
    "message.timeout.ms": 30_000,
}
PROGRESS_EVERY = 10_000
FLUSH_TIMEOUT_S = 60.0


def kafka_producer(settings: Settings, *, acknowledgements: bool = True) -> Producer:
    """A librdkafka producer for the settings' cluster; it connects on the first record.

    With `acknowledgements` off, librdkafka reports only the records it failed to deliver: the
    Python callback per record collects offsets that only waiting for the worker group needs,
    and without it 100,000 lines went out 10-14% faster (medians of four alternated rounds)."""
    return Producer(
        {
            "bootstrap.servers": settings.kafka(),
            **PRODUCER_CONFIG,
            "delivery.report.only.error": not acknowledgements,
        }
    )


def send_all(
    producer: Producer, records: Iterable[Routed], report: ProduceReport, progress: Progress
) -> None:
    """Send every record and wait until the broker acknowledged each one (blocking: run it off
    the event loop). Each partition's end offset comes from the acknowledgements themselves."""
    failures: list[KafkaError] = []
    # The highest acknowledged offset per (topic, partition): the callback runs once per record,
    # so plain tuples here, TopicPartitions once at the end.
    last: dict[tuple[str | None, int | None], int] = {}

    def acknowledged(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failures.append(error)
            return
        where, offset = (message.topic(), message.partition()), cast(int, message.offset())
        if offset > last.get(where, -1):
            last[where] = offset

    produce = producer.produce
    number = 0
    for number, (topic, key, value, _) in enumerate(records, start=1):
        while True:
            try:
                produce(topic, value, key, on_delivery=acknowledged)
                break
            except BufferError:  # librdkafka's queue is full: serve acknowledgements, retry
                producer.poll(0.05)
        if number % PROGRESS_EVERY == 0:
            producer.poll(0)
            progress("sending", report.sent + number - len(producer), -1)
    unsent = producer.flush(FLUSH_TIMEOUT_S)
    for (acked_topic, partition), offset in last.items():  # both set once acknowledged
        tp = TopicPartition(cast(str, acked_topic), cast(int, partition))
        report.targets[tp] = max(report.targets.get(tp, 0), offset + 1)
    report.sent += number - unsent - len(failures)
    progress("sending", report.sent, -1)
    if failures or unsent:
        first = failures[0].str() if failures else f"{unsent} records still queued"
        raise KafkaUnavailableError(
            f"{len(failures) + unsent} records were not acknowledged by Kafka: {first}"
        )


async def wait_for_group(
    settings: Settings, targets: dict[TopicPartition, int], deadline: float, progress: Progress
) -> None:
    """Poll the worker group's commits until they reach the offsets our own sends returned."""
    # End offsets from ListOffsets undercount on the embedded broker, so we trust our own offsets.
    total = sum(targets.values())
    while True:
        committed = await committed_offsets(settings.kafka(), settings.app_id, targets)
        behind = sum(max(0, target - max(committed[tp], 0)) for tp, target in targets.items())
        progress("waiting for the worker", total - behind, total)
        if behind == 0:
            return
        if time.monotonic() > deadline:
            raise ProduceTimeoutError(
                f"timed out: worker group {settings.app_id!r} has {behind} records left to "
                "process on the partitions this command wrote to (is `insights worker` running "
                "against this broker?)"
            )
        await asyncio.sleep(0.25)


async def produce(
    settings: Settings,
    lines: Sequence[bytes],
    forced_topic: str | None,
    wait: bool,
    timeout_s: float,
    progress: Progress,
    *,
    offsets: bool = False,
) -> ProduceReport:
    """Publish control events first (and, with wait, let the worker apply them), then the rest.

    The report holds each partition's end offset with `wait` or `offsets`, and none otherwise."""
    names = TopicNames.from_settings(settings)
    deadline = time.monotonic() + timeout_s
    elsewhere = forced_topic if forced_topic not in names.all() else None
    await ensure_topics(
        settings.kafka(), names.all(), settings.topic_partitions, elsewhere=elsewhere
    )
    producer = kafka_producer(settings, acknowledgements=wait or offsets)
    report = ProduceReport()
    with collector_paused():  # every line stays alive until sent: nothing for it to free
        # Replayed history must not race: logins are attributed with the timelines known when
        # they are processed, so the claims and plan changes go (and, with wait, land) first.
        control, rest = control_first(lines, names, forced_topic)
        await asyncio.to_thread(send_all, producer, control, report, progress)
        if wait and report.targets:
            try:
                await wait_for_group(settings, dict(report.targets), deadline, progress)
            except ProduceTimeoutError as error:
                raise ProduceTimeoutError(
                    f"{error}; only the {report.sent} claims and plan changes were sent, the "
                    f"other {len(lines) - len(control)} lines were not (they go once the worker "
                    "has applied these): run the command again when it runs"
                ) from None
        # Routed while librdkafka's threads send what came before: routing is most of the
        # Python work, and it no longer waits for the network, nor the network for it.
        await asyncio.to_thread(send_all, producer, rest, report, progress)
    if wait:
        await wait_for_group(settings, report.targets, deadline, progress)
    return report


def read_and_produce(
    settings: Settings,
    paths: Sequence[Path],
    forced_topic: str | None,
    wait: bool,
    timeout_s: float,
    progress: Progress,
) -> ProduceReport:
    """Synchronous entry point for the CLI."""
    return asyncio.run(
        produce(settings, read_lines(paths), forced_topic, wait, timeout_s, progress)
    )
