"""The dead-letter sink: original bytes plus machine-readable reason headers."""

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from agents.metrics import WorkerMetrics
from agents.records import DeadLetter


class DeadLetterSink(Protocol):
    """Where rejected records go."""

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        """Publish the letters and return once the broker has them."""
        ...


def letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """Kafka headers that say why and where from; never the record's content."""
    rejection, source = letter.rejection, letter.source
    headers = [
        ("insights-reason", rejection.reason.value.encode()),
        ("insights-detail", rejection.detail.encode()),
        ("insights-source", f"{source.topic}/{source.partition}/{source.offset}".encode()),
    ]
    if rejection.index is not None:
        headers.append(("insights-index", str(rejection.index).encode()))
    if rejection.field is not None:
        headers.append(("insights-field", rejection.field.encode()))
    return headers


# Kafka accepts records up to ~1 MB by default (the producer's max_request_size is 1,000,000),
# and a dead letter is the rejected bytes plus headers: a record rejected as too_large near
# that limit would not fit back. Beyond 900 KiB keep a prefix and say how long the original was.
DEAD_LETTER_MAX_BYTES = 900 * 1024


def letter_value(letter: DeadLetter) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The bytes to publish and their headers; oversized originals are cut to a prefix."""
    raw, headers = letter.rejection.raw, letter_headers(letter)
    if len(raw) > DEAD_LETTER_MAX_BYTES:
        headers.append(("insights-original-bytes", str(len(raw)).encode()))
        raw = raw[:DEAD_LETTER_MAX_BYTES]
    return raw, headers


class FaustDeadLetters:
    """Sends dead letters through the Faust app's producer and waits for delivery."""

    def __init__(self, topic: Any, metrics: WorkerMetrics) -> None:
        """Wrap the dead-letter `faust.Topic`."""
        self.topic = topic
        self.metrics = metrics

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        """Publish all letters, then wait for every delivery before the batch is acked."""
        if not letters:
            return
        pending = []
        for letter in letters:
            value, headers = letter_value(letter)
            pending.append(await self.topic.send(value=value, headers=headers))
        await asyncio.gather(*pending)
        for letter in letters:
            self.metrics.dead_letters.labels(letter.rejection.reason.value).inc()
