"""A login batch is decoded and observed in slices, with the event loop free between them."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import orjson

from agents.logins import DECODE_SLICE_BYTES, observe_in_slices
from agents.records import SourceRecord, decode_batch
from schemas.events import Heartbeat, Login
from streams.core.attribution import observed

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


async def test_slices_observe_exactly_what_one_pass_does_in_order() -> None:
    batch = records(300)
    assert sum(len(record.value) for record in batch) > 3 * DECODE_SLICE_BYTES

    sliced, rejected = await observe_in_slices(batch, RETENTION_DAYS)

    whole_events, whole_rejected = decode_batch(batch, (Login, Heartbeat), RETENTION_DAYS)
    whole = observed(cast(list[Login | Heartbeat], whole_events))
    assert sliced.pending == whole.pending
    assert sliced.occurred_s == whole.occurred_s
    assert (sliced.covered, sliced.latest_s, sliced.heartbeats) == (
        whole.covered,
        whole.latest_s,
        whole.heartbeats,
    )
    assert (sliced.domains, sliced.user_products) == (whole.domains, whole.user_products)
    assert len(sliced.pending) + sliced.heartbeats == len(whole_events) > 0
    assert [(letter.rejection, letter.source) for letter in rejected] == [
        (letter.rejection, letter.source) for letter in whole_rejected
    ]
    empty, none = await observe_in_slices([], RETENTION_DAYS)
    assert (empty.pending, empty.occurred_s, none) == ([], [], [])


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
    await observe_in_slices(batch, RETENTION_DAYS)
    task.cancel()
    slices = sum(len(record.value) for record in batch) // DECODE_SLICE_BYTES
    assert ticks - started >= slices
