"""The worker's Prometheus metrics, registered on a registry passed in (never the global one)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from agents.batch_histogram import BatchHistogram
from schemas.decode import RejectionReason

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 40000)
# The `operation` each agent gives agents.persistence.until_written: its errors and retries are
# exported at 0 from the start, so rate() and increase() see the first error of a short outage.
REDIS_WRITES = ("login_batch", "plan_changes", "domain_claims")


class WorkerMetrics:
    """What the agents did; every label is a bounded set (topics, outcomes, reasons, operations),
    never a user id, an email or an org id."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create every metric on `registry`."""
        self.events = Counter(
            "insights_events_consumed",
            "Events consumed, by topic and outcome (counted, unmanaged_domain, heartbeat, "
            "recorded, invalid_<reason>); after a replay they add up to the events produced.",
            ["topic", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "insights_dead_letters_written",
            "Records written to the dead-letter topic, by machine-readable reason.",
            ["reason"],
            registry=registry,
        )
        for reason in RejectionReason:
            self.dead_letters.labels(reason.value)
        self.late_control_events = Counter(
            "insights_late_control_events",
            "Plan changes and domain claims effective more than a minute before the latest login "
            "already processed: logins they could have re-attributed kept the attribution known "
            "at the time.",
            ["topic"],
            registry=registry,
        )
        self.event_lag = BatchHistogram(
            "insights_event_lag_seconds",
            "Processing time minus occurred_at of logins and heartbeats.",
            "topic",
            LAG_BUCKETS,
            registry,
        )
        self.batch_seconds = Histogram(
            "insights_batch_processing_seconds",
            "Time to decode, attribute and write one batch (retries included).",
            ["agent"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "insights_batch_size_records",
            "Kafka records per processed batch.",
            ["agent"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.redis_seconds = Histogram(
            "insights_redis_operation_seconds",
            "Latency of one attempt of the worker's Redis work, by operation: the plan_changes and "
            "domain_claims writes, and the read_timelines and write_batch steps of a login batch.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.redis_errors = Counter(
            "insights_redis_errors",
            "Redis operations that failed and were retried (the batch is held, not acked).",
            ["operation"],
            registry=registry,
        )
        self.redis_retrying = Gauge(
            "insights_redis_retries_in_progress",
            "Operations currently waiting for Redis to come back.",
            ["operation"],
            registry=registry,
        )
        for operation in REDIS_WRITES:
            self.redis_errors.labels(operation)
            self.redis_retrying.labels(operation)
        self.redis_crash_safe = Gauge(
            "insights_redis_crash_safe",
            "1 when every Redis primary runs with appendonly yes and appendfsync always, so a "
            "crash loses no write whose offsets were committed; 0 when one does not; -1 when "
            "CONFIG GET is refused (managed Redis) or before the first reading.",
            registry=registry,
        )
        self.redis_crash_safe.set(-1)
        self.consumer_lag = Gauge(
            "insights_consumer_lag_records",
            "High-water mark minus committed offset, per assigned topic partition.",
            ["topic", "partition"],
            registry=registry,
        )
        self.committed_offset = Gauge(
            "insights_committed_offset",
            "Last committed offset, per assigned topic partition.",
            ["topic", "partition"],
            registry=registry,
        )
        self.product_last_event = Gauge(
            "insights_product_last_event_timestamp_seconds",
            "Latest occurred_at (unix seconds) of any valid login or heartbeat, per product: "
            "a product whose bus went silent stops advancing.",
            ["product"],
            registry=registry,
        )
        self.ready = Gauge(
            "insights_worker_ready",
            "1 once the worker has joined its consumer group and consumes its assignment, even "
            "an empty one (a standby: see insights_worker_assigned_partitions); 0 before the "
            "first join and during a rebalance.",
            registry=registry,
        )
        self.assigned_partitions = Gauge(
            "insights_worker_assigned_partitions",
            "Partitions of each consumed topic this worker holds; 0 on a standby, which takes "
            "over partitions at the next rebalance.",
            ["topic"],
            registry=registry,
        )
        self.rebalancing = Gauge(
            "insights_worker_rebalancing",
            "1 while a consumer-group rebalance is in progress.",
            registry=registry,
        )
