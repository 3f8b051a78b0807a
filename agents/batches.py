"""Run a Faust stream in batches, acking a batch only after its processing succeeded."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agents.records import SourceRecord

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[SourceRecord]], Awaitable[None]]


def source_record(event: Any) -> SourceRecord:
    """The raw bytes and position of a Faust event."""
    message = event.message
    return SourceRecord(message.value or b"", message.topic, message.partition, message.offset)


async def consume_in_batches(stream: Any, handle: BatchHandler, size: int, within: float) -> None:
    """Feed `handle` batches of raw records; on any interruption keep the batch's offsets open."""
    async for events in stream.take_events(size, within=within):
        try:
            await handle([source_record(event) for event in events])
        except BaseException:
            # take_events() acks the whole batch when the batch ends, even when it ends by an
            # exception or by cancellation at shutdown. One extra reference per message keeps
            # those acks from reaching zero, so the offsets are never committed and the records
            # are redelivered to whichever worker owns the partition next.
            for event in events:
                event.message.incref()
            log.warning("batch of %d records interrupted before it was written", len(events))
            raise


def register_batch_agent(
    app: Any, topic: Any, name: str, handle: BatchHandler, size: int, within: float
) -> Any:
    """Attach a batch agent; concurrency 1 so commits never pass work still in flight."""

    async def agent(stream: Any) -> None:
        await consume_in_batches(stream, handle, size, within)

    return app.agent(topic, name=name, concurrency=1)(agent)
