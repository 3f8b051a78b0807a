"""Run a Faust stream in batches, acking a batch only after its processing succeeded."""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agents.records import SourceRecord

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[SourceRecord]], Awaitable[None]]


def source_records(event: Any) -> list[SourceRecord]:
    """The raw bytes and positions an event stands for: a fetched batch, or one record."""
    message = event.message
    records = getattr(message, "records", None)  # a RecordBatchMessage (streams.record_batches)
    if records is None:
        records = (message,)
    return [
        SourceRecord(record.value or b"", record.topic, record.partition, record.offset)
        for record in records
    ]


async def consume_in_batches(stream: Any, handle: BatchHandler, in_flight: int = 1) -> None:
    """Feed `handle` each fetched batch; ack a batch only once its handler succeeded.

    With `RecordBatchApp` one event is one partition's records from one fetch (at most
    INSIGHTS_FETCH_MAX_RECORDS), so a batch is one event: waiting for more only adds latency.

    take_events() acks a batch as soon as the loop moves on, even when the batch ended by an
    exception or by cancellation. One extra reference per message ("held") keeps that ack from
    reaching zero; the reference is dropped only when the handler succeeded, so an interrupted or
    failed batch is never committed and is redelivered to whichever worker owns it next.

    `in_flight` > 1 lets the next batch start (decode, attribute) while earlier ones are still
    being written, so the worker's CPU and Redis work overlap. Each batch is released as its write
    lands, and Faust commits only runs of consecutive acked offsets, so a commit never passes a
    batch that is still being written.
    """
    running: deque[asyncio.Future[None]] = deque()
    try:
        async for events in stream.take_events(1, within=1.0):
            for event in events:
                event.message.incref()
            records = [record for event in events for record in source_records(event)]
            task: asyncio.Future[None] = asyncio.ensure_future(handle(records))
            task.add_done_callback(release_when_written(list(events)))
            running.append(task)
            while running and (len(running) >= in_flight or running[0].done()):
                await running.popleft()  # a failure propagates, its batch still held
        while running:
            await running.popleft()
    except BaseException:
        for task in running:
            task.cancel()
        if running:
            log.warning("%d fetched batches interrupted before they were written", len(running))
        raise


def release_when_written(events: list[Any]) -> Callable[[asyncio.Future[None]], None]:
    """A done-callback dropping the held reference of a batch whose handler succeeded.

    It runs as soon as the write lands, even if no further records arrive to move the loop on.
    """

    def release(task: asyncio.Future[None]) -> None:
        if task.cancelled() or task.exception() is not None:
            return  # held for good: never committed, redelivered after the restart
        for event in events:
            event.ack()

    return release


def register_batch_agent(
    app: Any, topic: Any, name: str, handle: BatchHandler, in_flight: int = 1
) -> Any:
    """Attach a batch agent; concurrency 1 (one stream), so acks and commits stay in order."""

    async def agent(stream: Any) -> None:
        await consume_in_batches(stream, handle, in_flight)

    return app.agent(topic, name=name, concurrency=1)(agent)
