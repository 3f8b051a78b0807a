"""Worker health for Prometheus and the logs: lag, commits, readiness, the partitions held,
rebalances, and whether Redis keeps what it acknowledged."""

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from agents.metrics import WorkerMetrics
from streams.redis_durability import DurabilityWatch

log = logging.getLogger(__name__)
LAG_INTERVAL_S = 5.0
# Persistence settings change only by CONFIG SET or a restart: a minute's delay is plenty.
DURABILITY_INTERVAL_S = 60.0


def observe_partitions(consumer: Any, metrics: WorkerMetrics) -> None:
    """Set lag and committed offset per assigned partition.

    The high-water mark comes from Fetch responses (what aiokafka tracks), not from ListOffsets,
    which undercounts multi-record batches on the embedded broker.
    """
    committed_offsets = getattr(consumer, "_committed_offset", {})
    for tp in consumer.assignment():
        labels = (tp.topic, str(tp.partition))
        committed = committed_offsets.get(tp)
        highwater = consumer.highwater(tp)
        if committed is not None:
            metrics.committed_offset.labels(*labels).set(committed)
        if committed is not None and highwater is not None:
            metrics.consumer_lag.labels(*labels).set(max(0, highwater - committed))


def consumed_topics(app: Any) -> set[str]:
    """The topics the app's agents consume."""
    return {name for agent in app.agents.values() for name in agent.get_topic_names()}


class HeldPartitions:
    """The partitions this worker holds, exported per topic: 0 for a topic it holds none of."""

    def __init__(self, app: Any, metrics: WorkerMetrics) -> None:
        """Nothing held yet; every topic the app's agents consume is exported at 0."""
        self.app = app
        self.metrics = metrics
        self.partitions: set[Any] = set()
        self.topics: set[str] = set()  # every topic exported so far: each keeps a value
        self.publish()

    def replace(self, assigned: Iterable[Any]) -> None:
        """Faust signals the whole new assignment, not an increment."""
        self.partitions = set(assigned)
        self.publish()

    def revoke(self, revoked: Iterable[Any]) -> None:
        """Drop the revoked partitions."""
        self.partitions.difference_update(revoked)
        self.publish()

    def publish(self) -> None:
        """Set the gauge of every consumed or held topic."""
        counts = Counter(tp.topic for tp in self.partitions)
        self.topics |= consumed_topics(self.app) | counts.keys()
        for topic in self.topics:
            self.metrics.assigned_partitions.labels(topic).set(counts[topic])


def register_monitoring(app: Any, metrics: WorkerMetrics) -> None:
    """Track rebalances and the assignment through Faust's signals and sample lag on a timer.

    Ready means joined and consuming, partitions or none: with more workers than partitions the
    spare ones are healthy standbys, and `insights_worker_assigned_partitions` tells them apart.
    """
    held = HeldPartitions(app, metrics)

    async def on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        metrics.rebalancing.set(1)
        metrics.ready.set(0)
        held.revoke(revoked)
        for tp in revoked:  # another worker owns them now: stop exporting stale figures
            for gauge in (metrics.consumer_lag, metrics.committed_offset):
                with suppress(KeyError):
                    gauge.remove(tp.topic, str(tp.partition))
        log.info("rebalance started", extra={"revoked_partitions": len(revoked)})

    async def on_assigned(sender: Any, assigned: Any, **_: Any) -> None:
        held.replace(assigned)
        log.info("partitions assigned", extra={"assigned_partitions": len(assigned)})

    async def on_complete(sender: Any, **_: Any) -> None:
        metrics.rebalancing.set(0)
        metrics.ready.set(1)
        log.info("worker ready", extra={"partitions": len(held.partitions)})

    app.on_partitions_revoked.connect(on_revoked)
    app.on_partitions_assigned.connect(on_assigned)
    app.on_rebalance_complete.connect(on_complete)

    async def sample_lag() -> None:
        observe_partitions(app.consumer, metrics)

    app.timer(LAG_INTERVAL_S, name="insights_sample_lag")(sample_lag)


def register_durability_watch(app: Any, redis_client: Any, metrics: WorkerMetrics) -> None:
    """Check Redis's persistence settings at start and every DURABILITY_INTERVAL_S: the worker
    trusts Redis's acknowledgement before committing offsets (streams.redis_durability)."""
    watch = DurabilityWatch(redis_client)

    async def watch_durability() -> None:
        while True:
            state = await watch.check()
            if state is not None:
                metrics.redis_crash_safe.set(state)
            await asyncio.sleep(DURABILITY_INTERVAL_S)

    app.task(watch_durability)
