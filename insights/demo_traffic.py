"""Live demo traffic: 90 days of simulated history at once, then today's events as they happen."""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import orjson
from aiokafka import AIOKafkaProducer

from insights.producer import produce, route
from insights.simulation import SimulationSpec, simulate
from streams.settings import Settings
from streams.topics import TopicNames

log = logging.getLogger(__name__)
HISTORY_DAYS = 90
ORGS, USERS_PER_ORG, SEED = 3, 400, 42
# A whole day on which no bus delivered anything (three weeks ago), so even the all-products
# chart shows a missing period as a dotted segment, not as a drop to zero.
OUTAGE_DAYS_AGO = 21


def event_instant(line: bytes) -> datetime | None:
    """When a line's (first) event happens; None for lines that are not events at all."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict):
        return None
    stamp = first.get("occurred_at") or first.get("effective_at")
    try:
        instant = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo else None


def day_lines(end_day: date) -> list[tuple[datetime | None, bytes]]:
    """The simulation ending on `end_day`, each line with its instant (same seed: same people)."""
    spec = SimulationSpec(ORGS, USERS_PER_ORG, HISTORY_DAYS, SEED, end_day)
    outage = datetime.now(UTC).date() - timedelta(days=OUTAGE_DAYS_AGO)
    kept = (without_day(line, outage) for line in simulate(spec).lines)
    return [(event_instant(line), line) for line in kept if line is not None]


def without_day(line: bytes, day: date) -> bytes | None:
    """The line minus every event that happens on `day` (inside batched records too)."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    elements = parsed if isinstance(parsed, list) else [parsed]
    kept = [e for e in elements if not isinstance(e, dict) or on_day(e) != day]
    if len(kept) == len(elements):
        return line
    if not kept:
        return None
    return orjson.dumps(kept if isinstance(parsed, list) else kept[0])


def on_day(event: dict[str, object]) -> date | None:
    """The UTC day of an event dict's own instant, if it has a readable one."""
    instant = event_instant(orjson.dumps(event))
    return instant.astimezone(UTC).date() if instant else None


async def send_when_due(settings: Settings, lines: Sequence[tuple[datetime, bytes]]) -> None:
    """Publish each line once its instant has come, a second's worth at a time."""
    names = TopicNames.from_settings(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka(), linger_ms=20)
    await producer.start()
    try:
        for instant, line in sorted(lines, key=lambda pair: pair[0]):
            delay = (instant - datetime.now(UTC)).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            routed = route(line, names, None)
            await producer.send(routed.topic, routed.value, key=routed.key)
    finally:
        await producer.stop()


async def run_traffic(settings: Settings) -> None:
    """History first (control events before logins), then live events day after day."""
    today = datetime.now(UTC).date()
    lines = day_lines(today)
    now = datetime.now(UTC)
    history = [line for instant, line in lines if instant is None or instant <= now]
    log.warning("demo traffic: sending %d lines of history", len(history))
    # wait: the claims and plan changes must be applied before the history's logins are sent.
    # Without it they raced: a demo whose worker took its first logins batch before the claims
    # counted every login of the history as unmanaged (0 counted, seen from a fresh clone).
    await produce(settings, history, None, wait=True, timeout_s=600, progress=lambda *_: None)
    while True:
        upcoming = [(i, line) for i, line in lines if i is not None and i > now]
        log.warning("demo traffic: %d live lines until the end of %s", len(upcoming), today)
        await send_when_due(settings, upcoming)
        today += timedelta(days=1)
        lines, now = day_lines(today), datetime.combine(today, datetime.min.time(), UTC)
