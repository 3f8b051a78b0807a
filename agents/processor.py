"""What every batch processor shares: its wiring, how it rejects records, and for the control
agents what makes a plan change or claim late."""

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from agents.dead_letters import DeadLetterSink
from agents.metrics import WorkerMetrics
from agents.records import DeadLetter
from schemas.vocabulary import Product
from streams.storage import ActiveUserStore

# A control event is late when its product's logins had been processed more than this past its
# effective instant: some were attributed without it. Without a grace, a change effective "now"
# would count as late whenever another user's login of the same moment came first, which live
# traffic does all the time, and the metric could not point at a bus that delivers late.
LATE_GRACE = timedelta(minutes=1)


class BatchProcessor:
    """A store, a dead-letter sink, metrics and the retention window, wired once."""

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

    async def reject(self, topic: str, letters: Sequence[DeadLetter]) -> None:
        """Publish the dead letters, then count each as its topic's `invalid_<reason>` outcome."""
        await self.dead_letters.send(letters)
        for letter in letters:
            self.metrics.events.labels(topic, f"invalid_{letter.rejection.reason.value}").inc()

    def observe_batch(self, agent: str, records: int, started: float) -> None:
        """A control batch's size and its time since `started` (`time.perf_counter()`)."""
        self.metrics.batch_size.labels(agent).observe(records)
        self.metrics.batch_seconds.labels(agent).observe(time.perf_counter() - started)


def is_late(effective_at: datetime, latest_login: datetime | None) -> bool:
    """Effective more than LATE_GRACE before the latest login processed (None: no login yet)."""
    return latest_login is not None and effective_at <= latest_login - LATE_GRACE


def latest_of_any(latest_logins: Mapping[Product, datetime]) -> datetime | None:
    """A claim concerns every product: the latest login of any."""
    return max(latest_logins.values(), default=None)
