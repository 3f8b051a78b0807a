"""The logins agent: count managed logins per org, product, plan and day; mark coverage."""

import time
from collections.abc import Sequence
from typing import Any

from agents.batches import consume_in_batches
from agents.dead_letters import DeadLetterSink
from agents.metrics import WorkerMetrics
from agents.persistence import until_written
from agents.records import DeadLetter, SourceRecord, decode_batch
from schemas.events import Heartbeat, Login
from streams.core.attribution import BatchWrites, attribute, lookups
from streams.storage import ActiveUserStore


class LoginBatchProcessor:
    """Decode, attribute and write one batch; returns only once Redis and dead letters have it."""

    def __init__(
        self,
        store: ActiveUserStore,
        dead_letters: DeadLetterSink,
        metrics: WorkerMetrics,
        retention_days: int,
    ) -> None:
        """Wire the processor to its store, dead-letter sink and metrics."""
        self.store = store
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.retention_days = retention_days
        self.latest_event: dict[str, float] = {}  # per product, never moves backwards

    async def __call__(self, records: Sequence[SourceRecord]) -> None:
        """Process one batch: one read pipeline (timelines), one write pipeline (PFADD)."""
        started = time.perf_counter()
        decoded, rejected = decode_batch(records, (Login, Heartbeat), self.retention_days)
        events = [event for event in decoded if isinstance(event, Login | Heartbeat)]
        domains, user_products = lookups(events)
        redis_seconds = self.metrics.redis_seconds

        async def write() -> BatchWrites:
            with redis_seconds.labels("read_timelines").time():
                timelines = await self.store.load_timelines(domains, user_products)
            writes = attribute(events, *timelines, self.store.layout)
            with redis_seconds.labels("write_batch").time():
                await self.store.write_batch(writes)
            return writes

        writes = await until_written(write, "login_batch", self.metrics)
        await self.dead_letters.send(rejected)
        self.count(records, events, writes, rejected)
        self.metrics.batch_seconds.labels("logins").observe(time.perf_counter() - started)

    def count(
        self,
        records: Sequence[SourceRecord],
        events: Sequence[Login | Heartbeat],
        writes: BatchWrites,
        rejected: Sequence[DeadLetter],
    ) -> None:
        """Outcome counters (exact: one outcome per event) and lag, once per batch."""
        topic = records[0].topic if records else "logins"
        outcomes = self.metrics.events
        outcomes.labels(topic, "counted").inc(writes.counted)
        outcomes.labels(topic, "unmanaged_domain").inc(writes.unmanaged)
        outcomes.labels(topic, "heartbeat").inc(writes.heartbeats)
        for letter in rejected:
            outcomes.labels(topic, f"invalid_{letter.rejection.reason.value}").inc()
        self.metrics.batch_size.labels("logins").observe(len(records))
        now = time.time()
        lag = self.metrics.event_lag.labels(topic)
        latest = self.latest_event
        for event in events:
            occurred = event.occurred_at.timestamp()
            lag.observe(now - occurred)
            if occurred > latest.get(event.product, 0.0):
                latest[event.product] = occurred
                self.metrics.product_last_event.labels(event.product).set(occurred)


def register_login_agent(
    app: Any, topic: Any, process: LoginBatchProcessor, size: int, within: float
) -> Any:
    """Attach the logins agent; concurrency 1 so commits never pass work still in flight."""

    async def count_logins(stream: Any) -> None:
        await consume_in_batches(stream, process, size, within)

    return app.agent(topic, name="count_logins", concurrency=1)(count_logins)
