"""The plan-changes agent: record each user's plan timeline per product in Redis."""

import time
from collections.abc import Sequence
from typing import Any

from agents.batches import register_batch_agent
from agents.persistence import until_written
from agents.processor import BatchProcessor, is_late
from agents.records import SourceRecord, decode_batch
from schemas.events import PlanChange


class PlanChangeProcessor(BatchProcessor):
    """Store plan changes; count those that arrive after logins they would have re-attributed."""

    async def __call__(self, records: Sequence[SourceRecord]) -> None:
        """Write the batch's plan changes in one pipeline, then dead-letter the rest."""
        started = time.perf_counter()
        changes, rejected = decode_batch(records, PlanChange, self.retention_days)
        redis_seconds = self.metrics.redis_seconds.labels("plan_changes")

        async def write() -> int:
            with redis_seconds.time():
                await self.store.add_plan_changes(changes)
                latest = await self.store.latest_logins()
            # Logins after it may have been processed already, with the plan known then.
            return sum(
                is_late(change.effective_at, latest.get(change.product)) for change in changes
            )

        late = await until_written(write, "plan_changes", self.metrics) if changes else 0
        topic = records[0].topic if records else "plan-changes"
        await self.reject(topic, rejected)
        self.metrics.events.labels(topic, "recorded").inc(len(changes))
        self.metrics.late_control_events.labels(topic).inc(late)
        self.observe_batch("plan_changes", len(records), started)


def register_plan_agent(app: Any, topic: Any, process: PlanChangeProcessor) -> Any:
    """Attach the plan-changes agent to the Faust app; its late events are counted from 0, so
    the first one shows in rate()."""
    process.metrics.late_control_events.labels(topic.get_topic_name())
    return register_batch_agent(app, topic, "record_plan_changes", process)
