"""Our own producer: paced sends, and every offset the broker gave back for our records."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition

from insights.producer import route
from streams.kafka_admin import ensure_topics
from streams.settings import Settings
from streams.topics import TopicNames

TICK_S = 0.05


def events_in(line: bytes) -> int:
    """Events in a record: a batched record counts each element (every element has a type)."""
    return max(1, line.count(b'"type"'))


@dataclass
class Sent:
    """What we sent: per partition the offset after our last record, and the events in all."""

    targets: dict[TopicPartition, int] = field(default_factory=dict)
    events: int = 0


class Feed:
    """Sends lines routed as `insights produce` routes them (or to a forced topic)."""

    def __init__(self, settings: Settings) -> None:
        """Nothing connects before `start`."""
        self.settings = settings
        self.names = TopicNames.from_settings(settings)
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka(),
            acks="all",
            linger_ms=5,
            max_batch_size=262_144,
            max_request_size=4 * 1024 * 1024,
        )
        self.sent = Sent()

    async def start(self) -> None:
        """Create the topics and connect."""
        await ensure_topics(self.settings.kafka(), self.names.all(), self.settings.topic_partitions)
        await self.producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self.producer.stop()

    async def send(
        self, lines: Sequence[bytes], topic: str | None = None
    ) -> list[tuple[TopicPartition, int]]:
        """Send lines, wait for every acknowledgement; where each one landed, in order."""
        futures = []
        for line in lines:
            routed = route(line, self.names, topic)
            futures.append(await self.producer.send(routed.topic, routed.value, key=routed.key))
        positions = await self.landed(futures)
        self.sent.events += sum(events_in(line) for line in lines)
        return positions

    async def send_values(
        self, records: Sequence[tuple[str, bytes | None]]
    ) -> list[tuple[TopicPartition, int]]:
        """Send (topic, value) records as they are, a None value as a keyed tombstone; where
        each one landed, in order."""
        futures = [
            await self.producer.send(topic, value, key=None if value is not None else b"tombstone")
            for topic, value in records
        ]
        positions = await self.landed(futures)
        self.sent.events += len(records)
        return positions

    async def landed(self, futures: Sequence[Any]) -> list[tuple[TopicPartition, int]]:
        """Await the sends; record each partition's end as a target; where each one landed."""
        positions = []
        for metadata in await asyncio.gather(*futures):
            tp = TopicPartition(metadata.topic, metadata.partition)
            self.sent.targets[tp] = max(self.sent.targets.get(tp, 0), metadata.offset + 1)
            positions.append((tp, metadata.offset))
        return positions

    async def pace(
        self,
        lines: Sequence[bytes],
        rate: float,
        positions: list[tuple[TopicPartition, int]] | None = None,
    ) -> None:
        """Send lines at `rate` events per second, as a live bus does (not a bulk load);
        where each landed goes to `positions`, in order."""
        started, index, paced = time.monotonic(), 0, 0
        while index < len(lines):
            due = rate * (time.monotonic() - started)
            first = index
            while index < len(lines) and paced <= due:
                paced += events_in(lines[index])
                index += 1
            if index > first:
                landed = await self.send(lines[first:index])
                if positions is not None:
                    positions.extend(landed)
            await asyncio.sleep(TICK_S)
