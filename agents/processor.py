"""What every batch processor shares: its wiring, and how it rejects records."""

from collections.abc import Sequence

from agents.dead_letters import DeadLetterSink
from agents.metrics import WorkerMetrics
from agents.records import DeadLetter
from streams.storage import ActiveUserStore


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
