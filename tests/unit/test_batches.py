"""consume_in_batches: a batch is acknowledged only once its handler succeeded, never before."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import cast

import pytest
from faust.types import TP, ConsumerT, Message
from mode import CrashingSupervisor

from agents.batches import consume_in_batches, register_batch_agent
from agents.records import SourceRecord
from streams.record_batches import RecordBatchMessage


@dataclass
class FakeMessage:
    """Faust's reference counting: the offset is acknowledged when the count reaches zero."""

    offset: int
    acked_offsets: list[int]
    value: bytes = b"{}"
    topic: str = "logins"
    partition: int = 0
    refcount: int = 1

    def incref(self) -> None:
        self.refcount += 1


@dataclass
class FakeHeldMessage(FakeMessage):
    """A RecordBatchMessage: born with the processing hold, plus the conductor's reference."""

    HELD_UNTIL_PROCESSED = True
    refcount: int = 2


@dataclass
class FakeEvent:
    message: FakeMessage

    def ack(self) -> None:
        self.message.refcount -= 1
        if self.message.refcount == 0:
            self.message.acked_offsets.append(self.message.offset)


@dataclass
class FakeStream:
    """take_events(1): one event per batch, acked by the stream when the loop moves on."""

    offsets: Sequence[int]
    acked: list[int] = field(default_factory=list)
    then_idle: bool = False  # after the last record, wait for more like a live topic
    held: bool = False  # messages carry their own processing hold, as RecordBatchMessage does

    def message(self, offset: int) -> FakeMessage:
        kind = FakeHeldMessage if self.held else FakeMessage
        return kind(offset, self.acked)

    async def take_events(self, size: int, within: float) -> AsyncIterator[list[FakeEvent]]:
        for offset in self.offsets:
            event = FakeEvent(self.message(offset))
            try:
                yield [event]
            finally:
                await self.ack(event)
        if self.then_idle:
            await asyncio.Event().wait()

    async def ack(self, event: FakeEvent) -> None:
        event.ack()


@pytest.mark.parametrize("held", [False, True])
async def test_a_slow_batch_is_not_acknowledged_before_its_write_lands(held: bool) -> None:
    """With two batches in flight the second may finish first; the first stays open until done."""
    stream = FakeStream([0, 1], held=held)
    first_may_finish = asyncio.Event()
    acked_when_second_finished: list[int] = []

    async def handle(records: Sequence[SourceRecord]) -> None:
        if records[0].offset == 0:
            await first_may_finish.wait()
        else:
            acked_when_second_finished.extend(stream.acked)
            asyncio.get_running_loop().call_later(0.01, first_may_finish.set)

    await consume_in_batches(stream, handle, in_flight=2)
    assert acked_when_second_finished == []
    assert sorted(stream.acked) == [0, 1]


async def test_the_last_batch_is_acknowledged_without_waiting_for_more_records() -> None:
    """A done batch is released at once, not when the next record happens to arrive; cancelling
    the agent then (a worker stopping, a rebalance) propagates as a cancellation, not a failure."""
    stream = FakeStream([0], then_idle=True)

    async def handle(records: Sequence[SourceRecord]) -> None:
        await asyncio.sleep(0.01)

    agent = asyncio.ensure_future(consume_in_batches(stream, handle, in_flight=2))
    async with asyncio.timeout(5):
        while stream.acked != [0]:  # noqa: ASYNC110 - polls a plain list
            await asyncio.sleep(0.01)
    agent.cancel()
    with pytest.raises(asyncio.CancelledError):
        await agent


@pytest.mark.parametrize("held", [False, True])
async def test_a_failed_batch_stays_unacknowledged_and_stops_the_agent(held: bool) -> None:
    """The failure propagates and the offset is never acknowledged, so it is redelivered."""
    stream = FakeStream([0, 1, 2], held=held)

    async def handle(records: Sequence[SourceRecord]) -> None:
        if records[0].offset == 1:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await consume_in_batches(stream, handle, in_flight=1)
    assert stream.acked == [0]


@pytest.mark.parametrize("finish_order", [(2, 1, 0), (1, 2, 0), (0, 2, 1), (2, 0, 1)])
async def test_batches_are_acknowledged_in_fetch_order_whatever_order_they_finish_in(
    finish_order: tuple[int, int, int],
) -> None:
    """Faust commits the first run of acked offsets even past an unacked earlier one: a later
    batch must never be acknowledged while an earlier batch is still being written."""
    stream = FakeStream([0, 1, 2])
    may_finish = {offset: asyncio.Event() for offset in (0, 1, 2)}
    finished: list[int] = []
    acked_at_finish: dict[int, list[int]] = {}

    async def handle(records: Sequence[SourceRecord]) -> None:
        offset = records[0].offset
        await may_finish[offset].wait()
        finished.append(offset)
        acked_at_finish[offset] = list(stream.acked)

    async def finish_in_order() -> None:
        for offset in finish_order:
            await asyncio.sleep(0.01)
            may_finish[offset].set()

    releaser = asyncio.ensure_future(finish_in_order())
    await consume_in_batches(stream, handle, in_flight=3)
    await releaser
    assert finished == list(finish_order)
    assert stream.acked == [0, 1, 2]
    for offset, acked in acked_at_finish.items():
        # Nothing later than a batch still being written was acknowledged meanwhile.
        unfinished = {o for o in (0, 1, 2) if o not in finished[: finished.index(offset)]}
        assert all(o < min(unfinished) for o in acked)


@pytest.mark.parametrize("held", [False, True])
async def test_a_failed_batch_holds_every_later_batch_too(held: bool) -> None:
    """Later batches that were written are redelivered with the failed one, never committed."""
    stream = FakeStream([0, 1, 2], held=held)
    first_may_fail = asyncio.Event()

    async def handle(records: Sequence[SourceRecord]) -> None:
        if records[0].offset == 0:
            await first_may_fail.wait()
            raise RuntimeError("boom")
        if records[0].offset == 2:
            asyncio.get_running_loop().call_later(0.01, first_may_fail.set)

    with pytest.raises(RuntimeError, match="boom"):
        await consume_in_batches(stream, handle, in_flight=3)
    assert stream.acked == []


@pytest.mark.parametrize("held", [False, True])
async def test_a_failed_batch_stops_the_agent_even_when_no_more_records_arrive(held: bool) -> None:
    """The failure surfaces at once, not when a next batch happens to be fetched: on a quiet
    topic the agent would otherwise sit on it, committing nothing and saying nothing."""
    stream = FakeStream([0], then_idle=True, held=held)

    async def handle(records: Sequence[SourceRecord]) -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("boom")

    async with asyncio.timeout(5):  # a hang guard: without the fix the agent waits forever
        with pytest.raises(RuntimeError, match="boom"):
            await consume_in_batches(stream, handle, in_flight=4)
    assert stream.acked == []


async def test_a_failure_interrupts_the_later_batches_still_being_written() -> None:
    """The batches after a failed one are cancelled and stay unacknowledged with it."""
    stream = FakeStream([0, 1], then_idle=True)
    second_cancelled = asyncio.Event()

    async def handle(records: Sequence[SourceRecord]) -> None:
        if records[0].offset == 0:
            await asyncio.sleep(0.01)
            raise RuntimeError("boom")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            second_cancelled.set()
            raise

    async with asyncio.timeout(5):
        with pytest.raises(RuntimeError, match="boom"):
            await consume_in_batches(stream, handle, in_flight=4)
        await second_cancelled.wait()  # delivered the next time the loop runs that batch
    assert stream.acked == []


def test_agents_crash_the_worker_instead_of_restarting_in_place() -> None:
    """Faust's default supervisor restarts a crashed agent, which then commits past the failed
    batch; every batch agent is registered with the supervisor that crashes the worker."""
    registered: dict[str, object] = {}

    class RecordingApp:
        def agent(self, topic: object, **options: object) -> object:
            registered.update(options)
            return lambda function: function

    register_batch_agent(RecordingApp(), "logins", "count_logins", _never_called)
    assert registered["supervisor_strategy"] is CrashingSupervisor
    assert registered["concurrency"] == 1


async def _never_called(records: Sequence[SourceRecord]) -> None:
    raise AssertionError("not called")


async def test_batches_queued_behind_a_failed_one_stay_unacknowledged_when_faust_drains_them() -> (
    None
):
    """After the agent stopped, Faust's stream keeps draining its queue and acks what it takes:
    a batch never handed to the handler must not reach zero references, or Faust commits it."""
    stream = FakeStream([0], then_idle=True, held=True)
    queued = [FakeEvent(stream.message(offset)) for offset in (1, 2)]

    async def handle(records: Sequence[SourceRecord]) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await consume_in_batches(stream, handle, in_flight=4)
    for event in queued:  # the background drainer's ack
        event.ack()
    assert stream.acked == []


def test_a_fetched_batch_message_is_born_holding_one_reference() -> None:
    """Faust's own ack arithmetic: the conductor's reference and the stream's ack leave the
    hold, so only the agent's release acknowledges the batch's offsets to the consumer."""
    acked: list[int] = []

    class Consumer:
        def ack(self, message: Message) -> bool:
            acked.append(message.offset)
            return True

    records = [FakeRecord(offset) for offset in (5, 6, 7)]
    message = RecordBatchMessage(TP("logins", 0), records, generation_id=1)
    assert (message.first_offset, message.offset, message.refcount) == (5, 7, 1)
    message.incref()  # the conductor, delivering it to the agent's one channel
    consumer = cast(ConsumerT, Consumer())
    message.ack(consumer)  # the stream moving on, or draining it after the agent stopped
    assert acked == []
    message.ack(consumer)  # the agent's release, once the batch is written
    assert acked == [7]


@dataclass
class FakeRecord:
    """What aiokafka's fetcher hands Faust per record."""

    offset: int
    topic: str = "logins"
    partition: int = 0
    timestamp: int = 1_700_000_000_000
    timestamp_type: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()
    key: bytes | None = None
    value: bytes = b"{}"
    checksum: int | None = None
    serialized_key_size: int = 0
    serialized_value_size: int = 2
