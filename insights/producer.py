"""`insights produce`: publish JSONL lines routed by event type, optionally wait for the worker."""

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from streams.kafka_admin import KafkaUnavailableError, committed_offsets, ensure_topics
from streams.settings import Settings
from streams.topics import TopicNames

CONTROL_TYPES = frozenset({"domain_claim", "plan_change"})
Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ProduceTimeoutError(RuntimeError):
    """The worker group did not process everything before the timeout."""


@dataclass(frozen=True, slots=True)
class Routed:
    """One line with the topic and key it goes to."""

    topic: str
    key: bytes | None
    value: bytes
    control: bool


@dataclass(slots=True)
class ProduceReport:
    """What was sent, and the offsets the worker group must reach."""

    sent: int = 0
    targets: dict[TopicPartition, int] = field(default_factory=dict)


def route(line: bytes, names: TopicNames, forced_topic: str | None) -> Routed:
    """Route by `type` with DESIGN.md's keys; junk goes to logins, to be dead-lettered."""
    if forced_topic:
        return Routed(forced_topic, None, line, control=False)
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Routed(names.logins, None, line, control=False)
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict):
        return Routed(names.logins, None, line, control=False)
    kind = first.get("type")
    topic = names.for_event_type(kind) if isinstance(kind, str) else None
    key_field = {"heartbeat": "product", "domain_claim": "domain"}.get(str(kind), "user_id")
    key = first.get(key_field)
    return Routed(
        topic or names.logins,
        str(key).encode() if isinstance(key, str) else None,
        line,
        control=kind in CONTROL_TYPES,
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
    partitioned like Kafka's default partitioner so a key keeps its partition and its order."""
    partitioner = DefaultPartitioner()
    partitions: dict[str, list[int]] = {}
    by_partition: dict[TopicPartition, list[Routed]] = defaultdict(list)
    for number, record in enumerate(records):
        if record.topic not in partitions:
            partitions[record.topic] = sorted(await producer.partitions_for(record.topic))
        choices = partitions[record.topic]
        chosen = (
            partitioner(record.key, choices, choices)
            if record.key
            else choices[number % len(choices)]
        )
        by_partition[TopicPartition(record.topic, chosen)].append(record)
    pending: list[tuple[asyncio.Future[Any], int]] = []
    for tp, routed in by_partition.items():
        batch = producer.create_batch()
        for record in routed:
            if batch.append(key=record.key, value=record.value, timestamp=None) is None:
                pending.append(
                    (
                        await producer.send_batch(batch, tp.topic, partition=tp.partition),
                        batch.record_count(),
                    )
                )
                batch = producer.create_batch()
                batch.append(key=record.key, value=record.value, timestamp=None)
        pending.append(
            (
                await producer.send_batch(batch, tp.topic, partition=tp.partition),
                batch.record_count(),
            )
        )
    for future, count in pending:
        metadata = await future
        tp = TopicPartition(metadata.topic, metadata.partition)
        # A batch's metadata carries its base offset: the partition's end is base + count.
        report.targets[tp] = max(report.targets.get(tp, 0), metadata.offset + count)
        report.sent += count
        progress("sending", report.sent, -1)


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
    routed = [route(line, names, forced_topic) for line in lines]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka(), acks="all", linger_ms=5, max_batch_size=262_144
    )
    try:
        await producer.start()
    except KafkaError as error:
        raise KafkaUnavailableError(f"cannot reach Kafka at {settings.kafka()}: {error}") from error
    report = ProduceReport()
    try:
        # Replayed history must not race: logins are attributed with the timelines known when
        # they are processed, so the claims and plan changes go (and, with wait, land) first.
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
