"""A login batch is decoded in slices, with the event loop free to run between them."""

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from agents.logins import DECODE_SLICE_BYTES, decode_in_slices
from agents.records import SourceRecord, decode_batch
from schemas.events import Heartbeat, Login

RETENTION_DAYS = 400


def records(count: int) -> list[SourceRecord]:
    """Batched records of logins, with a heartbeat, a bad element and a bad record among them."""
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    out = []
    for n in range(count):
        events: list[object] = [
            {
                "type": "login",
                "user_id": f"u{n}-{i}",
                "email": f"u{i}@acme.example",
                "product": "jira",
                "occurred_at": at,
            }
            for i in range(50)
        ]
        events[7] = {"type": "heartbeat", "product": "jira", "occurred_at": at}
        events[9] = {"type": "login", "user_id": "", "email": "x", "product": "jira"}
        value = b"not json" if n % 97 == 5 else orjson.dumps(events)
        out.append(SourceRecord(value, "logins", n % 4, n))
    return out


async def test_slices_decode_to_exactly_what_one_pass_does_in_order() -> None:
    batch = records(300)
    assert sum(len(record.value) for record in batch) > 3 * DECODE_SLICE_BYTES

    events, rejected = await decode_in_slices(batch, RETENTION_DAYS)

    whole_events, whole_rejected = decode_batch(batch, (Login, Heartbeat), RETENTION_DAYS)
    assert events == whole_events
    assert [(letter.rejection, letter.source) for letter in rejected] == [
        (letter.rejection, letter.source) for letter in whole_rejected
    ]
    assert await decode_in_slices([], RETENTION_DAYS) == ([], [])


async def test_other_tasks_run_while_a_large_batch_is_decoded() -> None:
    batch = records(300)
    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    started = ticks
    await decode_in_slices(batch, RETENTION_DAYS)
    task.cancel()
    slices = sum(len(record.value) for record in batch) // DECODE_SLICE_BYTES
    assert ticks - started >= slices
