"""consume_in_batches: a batch is acknowledged only once its handler succeeded, never before."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from agents.batches import consume_in_batches
from agents.records import SourceRecord


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

    async def take_events(self, size: int, within: float) -> AsyncIterator[list[FakeEvent]]:
        for offset in self.offsets:
            event = FakeEvent(FakeMessage(offset, self.acked))
            try:
                yield [event]
            finally:
                await self.ack(event)
        if self.then_idle:
            await asyncio.Event().wait()

    async def ack(self, event: FakeEvent) -> None:
        event.ack()


async def test_a_slow_batch_is_not_acknowledged_before_its_write_lands() -> None:
    """With two batches in flight the second may finish first; the first stays open until done."""
    stream = FakeStream([0, 1])
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
    """A done batch is released at once, not when the next record happens to arrive."""
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


async def test_a_failed_batch_stays_unacknowledged_and_stops_the_agent() -> None:
    """The failure propagates and the offset is never acknowledged, so it is redelivered."""
    stream = FakeStream([0, 1, 2])

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


async def test_a_failed_batch_holds_every_later_batch_too() -> None:
    """Later batches that were written are redelivered with the failed one, never committed."""
    stream = FakeStream([0, 1, 2])
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
