"""The worker's Prometheus metrics, registered on a registry passed in (never the global one)."""

from prometheus_client import CollectorRegistry, Counter


class WorkerMetrics:
    """Counters of what the agents did; labels are bounded sets, never ids or emails."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create the counters on `registry`."""
        self.events = Counter(
            "insights_events_consumed",
            "Events consumed, by topic and outcome (counted, unmanaged, heartbeat, invalid...).",
            ["topic", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "insights_dead_letters_written",
            "Records written to the dead-letter topic, by machine-readable reason.",
            ["reason"],
            registry=registry,
        )
        self.late_control_events = Counter(
            "insights_late_control_events",
            "Plan changes and domain claims effective on or before a day whose logins were "
            "already processed: those logins kept the attribution known at the time.",
            ["topic"],
            registry=registry,
        )
        self.redis_retries = Counter(
            "insights_redis_retries",
            "Redis operations retried after an error (the batch is held, not acked).",
            ["operation"],
            registry=registry,
        )
