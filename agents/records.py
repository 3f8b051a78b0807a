"""Raw Kafka records as the agents see them, and decoding them into events or rejections."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

import orjson

from schemas.decode import Rejection, RejectionReason, TimeBounds, decode_record
from schemas.events import AnyEvent

E = TypeVar("E", bound=AnyEvent)


class SourceRecord(NamedTuple):
    """One Kafka record: its bytes and where it came from (for dead-letter headers).

    A tuple, not a frozen dataclass: one is built per fetched record, and a frozen dataclass's
    __init__ cost three times as much (6% of the worker's time with one event per record)."""

    value: bytes
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected record or batch element, with its source."""

    rejection: Rejection
    source: SourceRecord


def decode_batch(
    records: Sequence[SourceRecord],
    accepted: type[E] | tuple[type[E], ...],
    retention_days: int,
    now: datetime | None = None,
    positions: list[int] | None = None,
) -> tuple[list[E], list[DeadLetter]]:
    """Decode every record; events of other types than `accepted` are dead letters (wrong topic).

    `positions`, if given, receives each event's index in its record (0 for a single event), for
    an agent that may dead-letter a valid event later and must name its element of a batch."""
    bounds = TimeBounds.around(now or datetime.now(UTC), retention_days)
    events: list[E] = []
    dead: list[DeadLetter] = []
    for record in records:
        for index, item in enumerate(decode_record(record.value, bounds)):
            if isinstance(item, Rejection):
                dead.append(DeadLetter(item, record))
            elif isinstance(item, accepted):
                events.append(item)
                if positions is not None:
                    positions.append(index)
            else:
                dead.append(DeadLetter(wrong_topic(record, item, index), record))
    return events, dead


def wrong_topic(record: SourceRecord, event: AnyEvent, index: int) -> Rejection:
    """A valid event on the wrong topic: its own bytes, and its index only if it was batched."""
    payload, position = element_source(record, index)
    return Rejection(
        RejectionReason.WRONG_TOPIC,
        f"{event.type} events do not belong on {record.topic}",
        payload,
        position,
        "type",
    )


def element_source(record: SourceRecord, index: int) -> tuple[bytes, int | None]:
    """The bytes of one event of `record` and its index in it: the element re-encoded and its
    index if the record is a batch (a JSON array), else the record as it came and None."""
    parsed = orjson.loads(record.value)
    if isinstance(parsed, list):
        return orjson.dumps(parsed[index]), index
    return record.value, None
