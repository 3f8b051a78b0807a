"""The plan-changes agent: record each user's plan timeline per product in Redis."""

import logging
from collections.abc import Sequence
from typing import Any

from agents.batches import consume_in_batches
from agents.dead_letters import DeadLetterSink
from agents.metrics import WorkerMetrics
from agents.persistence import until_written
from agents.records import SourceRecord, decode_batch
from schemas.events import PlanChange
from streams.core.days import utc_day
from streams.storage import ActiveUserStore

log = logging.getLogger(__name__)


class PlanChangeProcessor:
    """Store plan changes; count those that arrive after logins they would have re-attributed."""

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

    async def __call__(self, records: Sequence[SourceRecord]) -> None:
        """Write the batch's plan changes in one pipeline, then dead-letter the rest."""
        changes, rejected = decode_batch(records, PlanChange, self.retention_days)

        async def write() -> int:
            await self.store.add_plan_changes(changes)
            marks = await self.store.watermarks()
            # Logins already processed for that day or later kept the plan known then.
            return sum(
                1
                for change in changes
                if change.product in marks and utc_day(change.effective_at) <= marks[change.product]
            )

        late = await until_written(write, "plan_changes", self.metrics) if changes else 0
        await self.dead_letters.send(rejected)
        topic = records[0].topic if records else "plan-changes"
        self.metrics.events.labels(topic, "recorded").inc(len(changes))
        self.metrics.late_control_events.labels(topic).inc(late)
        for letter in rejected:
            self.metrics.events.labels(topic, f"invalid_{letter.rejection.reason.value}").inc()


def register_plan_agent(app: Any, topic: Any, process: PlanChangeProcessor) -> Any:
    """Attach the plan-changes agent to the Faust app."""

    async def record_plan_changes(stream: Any) -> None:
        await consume_in_batches(stream, process, 500, 0.2)

    return app.agent(topic, name="record_plan_changes", concurrency=1)(record_plan_changes)
