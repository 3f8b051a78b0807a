"""Run a Faust stream in batches, acking a batch only after its processing succeeded."""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mode import CrashingSupervisor

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
    `RecordBatchMessage` takes that reference when it is fetched (`HELD_UNTIL_PROCESSED`), since
    Faust acks messages that never reach this loop too: after the loop has stopped, the stream's
    background drainer goes on acking whatever is still queued. Other messages are held here.

    `in_flight` > 1 lets the next batch start (decode, attribute) while earlier ones are still
    being written, so the worker's CPU and Redis work overlap. Batches are released in the order
    they were fetched (`InOrderRelease`): Faust commits the first run of consecutive acked offsets
    even when it does not start at the committed offset (always on a partition without one), so
    a later batch of a partition acked before an earlier one would let a commit pass a batch
    still being written, and a crash then would lose it.
    """
    running: deque[asyncio.Future[None]] = deque()
    release = InOrderRelease()
    failure = FirstFailure(asyncio.current_task())
    try:
        async for events in stream.take_events(1, within=1.0):
            for event in events:
                if not getattr(event.message, "HELD_UNTIL_PROCESSED", False):
                    event.message.incref()
            records = [record for event in events for record in source_records(event)]
            task: asyncio.Future[None] = asyncio.ensure_future(handle(records))
            release.track(task, list(events))
            task.add_done_callback(failure.note)
            running.append(task)
            while running and (len(running) >= in_flight or running[0].done()):
                await running.popleft()  # a failure propagates, its batch still held
        while running:
            await running.popleft()
    except BaseException as interrupted:
        unfinished = [task for task in running if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            log.warning("%d fetched batches interrupted before they were written", len(unfinished))
        if failure.error is not None and isinstance(interrupted, asyncio.CancelledError):
            failure.withdraw_cancel()
            raise failure.error from None
        raise


class FirstFailure:
    """Stops the consuming task as soon as a batch's handler fails, with that failure.

    Without it a failure surfaced only when the loop next awaited that batch, i.e. when more
    records arrived: on a quiet topic the worker sat on a failed batch, committing nothing and
    saying nothing. The agent then crashes, and with `CrashingSupervisor` the worker exits, so
    its partitions and the failed batch go to a worker that can process them.
    """

    def __init__(self, consumer: asyncio.Task[Any] | None) -> None:
        """Watch for the first failed handler of `consumer`'s batches."""
        self.consumer = consumer
        self.error: BaseException | None = None

    def note(self, task: asyncio.Future[None]) -> None:
        """Done-callback of each batch: remember the first failure and interrupt the consumer."""
        if task.cancelled() or task.exception() is None or self.error is not None:
            return
        self.error = task.exception()
        if self.consumer is not None:
            self.consumer.cancel()

    def withdraw_cancel(self) -> None:
        """Take back the cancellation `note` requested: the failure replaces it."""
        if self.consumer is not None:
            self.consumer.uncancel()


class InOrderRelease:
    """Drops the held references of fetched batches in fetch order, each once its handler and
    every earlier batch's handler succeeded.

    It runs from the handlers' done-callbacks, so a batch is released as soon as its write and
    the earlier ones landed, even if no further records arrive to move the loop on. A failed or
    interrupted batch is held for good, and so is every batch after it: none of them is
    committed, all are redelivered after the restart (their writes are idempotent).
    """

    def __init__(self) -> None:
        """No batch tracked yet."""
        self.pending: deque[tuple[asyncio.Future[None], list[Any]]] = deque()

    def track(self, task: asyncio.Future[None], events: list[Any]) -> None:
        """Hold `events` until `task` and every task tracked before it succeeded."""
        self.pending.append((task, events))
        task.add_done_callback(self.release_ready)

    def release_ready(self, _: asyncio.Future[None]) -> None:
        """Ack the leading run of batches whose handlers succeeded."""
        pending = self.pending
        while pending:
            task, events = pending[0]
            if not task.done() or task.cancelled() or task.exception() is not None:
                return
            pending.popleft()
            for event in events:
                event.ack()


def register_batch_agent(
    app: Any, topic: Any, name: str, handle: BatchHandler, in_flight: int = 1
) -> Any:
    """Attach a batch agent; concurrency 1 (one stream), so acks and commits stay in order.

    A failure the handler does not retry (a bug, a dead letter the broker refused) crashes the
    agent, and `CrashingSupervisor` makes that crash the worker's: it exits with status 1. Faust's
    default supervisor restarts the agent in place instead: measured with a handler failing its
    first batch, the restarted agent went on with the next batches and Faust committed past the
    failed one, whose logins were never counted. Exiting leaves the failed batch uncommitted and
    hands it, with the worker's partitions, to whichever worker owns them next (the other
    workers, or this one restarted by its supervisor).
    """

    async def agent(stream: Any) -> None:
        await consume_in_batches(stream, handle, in_flight)

    return app.agent(topic, name=name, concurrency=1, supervisor_strategy=CrashingSupervisor)(agent)
