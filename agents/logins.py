"""The logins agent: count managed logins per org, product, plan and day; mark coverage."""

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from agents.batches import register_batch_agent
from agents.dead_letters import DeadLetterSink
from agents.metrics import WorkerMetrics
from agents.persistence import until_written
from agents.processor import BatchProcessor
from agents.records import DeadLetter, SourceRecord, decode_batch
from schemas.events import Heartbeat, Login
from streams.core.attribution import BatchWrites, ObservedBatch
from streams.storage import ActiveUserStore


class LoginBatchProcessor(BatchProcessor):
    """Decode, attribute and write one batch; returns only once Redis and dead letters have it."""

    def __init__(
        self,
        store: ActiveUserStore,
        dead_letters: DeadLetterSink,
        metrics: WorkerMetrics,
        retention_days: int,
    ) -> None:
        """The shared wiring, plus the latest event time seen per product."""
        super().__init__(store, dead_letters, metrics, retention_days)
        self.latest_event: dict[str, float] = {}  # per product, never moves backwards

    async def __call__(self, records: Sequence[SourceRecord]) -> None:
        """Process one batch: one read pipeline (timelines), one write pipeline (PFADD)."""
        started = time.perf_counter()
        batch, rejected = await observe_in_slices(records, self.retention_days)
        redis_seconds = self.metrics.redis_seconds

        async def write() -> BatchWrites:
            with redis_seconds.labels("read_timelines").time():
                timelines = await self.store.load_timelines(batch.domains, batch.user_products)
            writes = batch.attribute(*timelines, self.store.layout)
            with redis_seconds.labels("write_batch").time():
                await self.store.write_batch(writes)
            return writes

        writes = await until_written(write, "login_batch", self.metrics)
        topic = records[0].topic if records else "logins"
        await self.reject(topic, rejected)
        self.count(topic, len(records), batch, writes)
        self.metrics.batch_seconds.labels("logins").observe(time.perf_counter() - started)

    def count(self, topic: str, records: int, batch: ObservedBatch, writes: BatchWrites) -> None:
        """Outcome counters of the valid events (exact: one outcome each) and lag, per batch."""
        outcomes = self.metrics.events
        outcomes.labels(topic, "counted").inc(writes.counted)
        outcomes.labels(topic, "unmanaged_domain").inc(writes.unmanaged)
        outcomes.labels(topic, "heartbeat").inc(writes.heartbeats)
        self.metrics.batch_size.labels("logins").observe(records)
        now = time.time()
        occurred = writes.occurred_s  # each event's occurred_at, as epoch seconds
        self.metrics.event_lag.observe_many(topic, [now - when for when in occurred])
        latest = self.latest_event
        for product, when in batch.latest_s.items():
            if when > latest.get(product, 0.0):
                latest[product] = when
                self.metrics.product_last_event.labels(product).set(when)


# Decoding a fetched batch (~30,000 logins, 100-250 ms) in one go kept the event loop from
# reading Redis's replies and sending the other batches' work meanwhile, and Redis, the busier
# of the two, sat idle: a log of each batch's steps showed both at ~70% of a core. Between
# slices of about this many record bytes (~2,000 logins) the loop does that.
DECODE_SLICE_BYTES = 256 * 1024


async def observe_in_slices(
    records: Sequence[SourceRecord], retention_days: int
) -> tuple[ObservedBatch, list[DeadLetter]]:
    """Decode the records slice by slice into an ObservedBatch (each slice's models are dropped
    at once, while still in the CPU's caches), letting the event loop run between slices."""
    now = datetime.now(UTC)  # one retention window for the whole batch
    batch = ObservedBatch()
    rejected: list[DeadLetter] = []
    start = size = 0
    for end, record in enumerate(records, 1):
        size += len(record.value)
        if size < DECODE_SLICE_BYTES and end < len(records):
            continue
        decoded, dead = decode_batch(records[start:end], (Login, Heartbeat), retention_days, now)
        # Only the accepted types come back (mypy cannot infer a union from a tuple of types).
        batch.observe(cast(list[Login | Heartbeat], decoded))
        rejected.extend(dead)
        start, size = end, 0
        await asyncio.sleep(0)
    return batch, rejected


def register_login_agent(
    app: Any, topic: Any, process: LoginBatchProcessor, batches_in_flight: int
) -> Any:
    """Attach the logins agent; login batches only add to HyperLogLogs and sets, so their writes
    commute and several can be in flight (INSIGHTS_LOGIN_BATCHES_IN_FLIGHT)."""
    return register_batch_agent(app, topic, "count_logins", process, batches_in_flight)
