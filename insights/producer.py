"""`insights produce`: publish JSONL lines routed by event type, optionally wait for the worker."""

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import TopicPartition

from insights.collector import collector_paused
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
    """What was sent, and the offsets the worker group must reach."""

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
        key.encode() if key is not None else None,
        line,
        kind in CONTROL_TYPES,
    )


def route_parsed(line: bytes, names: TopicNames) -> Routed:
    """Route any line by its parsed JSON: a batch goes where its first event goes."""
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
        key.encode() if isinstance(key, str) else None,
        line,
        kind in CONTROL_TYPES,
    )


def read_lines(paths: Sequence[Path]) -> list[bytes]:
    """Every non-blank line of the files, in order; a missing file is a clear error."""
    lines: list[bytes] = []
    for path in paths:
        try:
            lines.extend(line for line in path.read_bytes().splitlines() if line.strip())
        except OSError as error:
            raise FileNotFoundError(f"cannot read {path}: {error.strerror}") from error
    return lines


async def send_all(
    producer: AIOKafkaProducer, records: Iterable[Routed], report: ProduceReport, progress: Progress
) -> None:
    """Send with aiokafka's batch API (several times faster than one send() per record),
    partitioned like Kafka's default partitioner so a key keeps its partition and its order.

    Each full batch is handed to aiokafka's sender at once, so the broker stores one batch
    while this loop fills the next."""
    partitions: dict[str, list[int]] = {}
    # Users log in again and again: remember each key's partition instead of hashing it anew.
    chosen_for: dict[tuple[str, bytes], int] = {}
    filling: dict[tuple[str, int], BatchBuilder] = {}
    pending: list[tuple[asyncio.Future[Any], int]] = []

    async def ship(topic: str, partition: int, batch: BatchBuilder) -> None:
        sent = await producer.send_batch(batch, topic, partition=partition)
        pending.append((sent, batch.record_count()))
        await asyncio.sleep(0)  # let the sender task write it out now

    for number, (topic, key, value, _) in enumerate(records):
        if topic not in partitions:
            partitions[topic] = sorted(await producer.partitions_for(topic))
        choices = partitions[topic]
        if not key:
            chosen = choices[number % len(choices)]
        elif (chosen := chosen_for.get((topic, key), -1)) < 0:
            chosen = chosen_for[topic, key] = default_partition(key, choices)
        batch = filling.get((topic, chosen))
        if batch is None:
            batch = filling[topic, chosen] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            await ship(topic, chosen, batch)
            batch = filling[topic, chosen] = producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)
    for (topic, partition), batch in filling.items():
        await ship(topic, partition, batch)
    for future, count in pending:
        metadata = await future
        tp = TopicPartition(metadata.topic, metadata.partition)
        # A batch's metadata carries its base offset: the partition's end is base + count.
        report.targets[tp] = max(report.targets.get(tp, 0), metadata.offset + count)
        report.sent += count
        progress("sending", report.sent, -1)


def default_partition(key: bytes, partitions: Sequence[int]) -> int:
    """Kafka's default partitioner (the Java client's and aiokafka's): murmur2 of the key."""
    hashed: int = murmur2(key)
    return partitions[(hashed & 0x7FFFFFFF) % len(partitions)]


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
                f"timed out: {behind} records not yet processed by worker group "
                f"{settings.app_id!r} (is `insights worker` running against this broker?)"
            )
        await asyncio.sleep(0.25)


async def produce(
    settings: Settings,
    lines: Sequence[bytes],
    forced_topic: str | None,
    wait: bool,
    timeout_s: float,
    progress: Progress,
) -> ProduceReport:
    """Publish control events first (and, with wait, let the worker apply them), then the rest."""
    names = TopicNames.from_settings(settings)
    deadline = time.monotonic() + timeout_s
    await ensure_topics(
        settings.kafka(), [forced_topic] if forced_topic else names.all(), settings.topic_partitions
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka(), acks="all", linger_ms=5, max_batch_size=262_144
    )
    try:
        await producer.start()
    except KafkaError as error:
        raise KafkaUnavailableError(f"cannot reach Kafka at {settings.kafka()}: {error}") from error
    report = ProduceReport()
    try:
        with collector_paused():  # every line stays alive until sent: nothing for it to free
            # Replayed history must not race: logins are attributed with the timelines known
            # when they are processed, so the claims and plan changes go (and, with wait, land)
            # first.
            routed = [route(line, names, forced_topic) for line in lines]
            await send_all(producer, (r for r in routed if r.control), report, progress)
            if wait and report.targets:
                await producer.flush()
                await wait_for_group(settings, dict(report.targets), deadline, progress)
            await send_all(producer, (r for r in routed if not r.control), report, progress)
            await producer.flush()
    finally:
        await producer.stop()
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
