"""Compose and run the Faust worker: settings, Redis store, agents, metrics endpoint."""

import asyncio
import errno
import gc
import itertools
import logging
import logging.config
from typing import Any

import faust
from mode.loop import use as use_event_loop
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

from agents.claims import DomainClaimProcessor, register_claim_agent
from agents.dead_letters import FaustDeadLetters
from agents.logins import LoginBatchProcessor, register_login_agent
from agents.metrics import WorkerMetrics
from agents.monitoring import register_durability_watch, register_monitoring
from agents.plans import PlanChangeProcessor, register_plan_agent
from insights.logs import logging_config
from streams.app import create_app, declare_topics
from streams.compiled import compiled_state
from streams.core.keys import KeyLayout
from streams.kafka_admin import ensure_topics
from streams.redis_startup import check_redis
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis
from streams.topics import TopicNames

log = logging.getLogger(__name__)


class WorkerStartError(RuntimeError):
    """The worker cannot start as configured; the message names the setting to change."""


# CPython collects its youngest generation every 700 net allocations. A login batch allocates
# about ten container objects per event that all live until its write lands, so at that pace
# each batch was promoted to the oldest generation, and full collections (which scan every
# object the worker holds) took 6.9 of ~28 CPU seconds in a 1M-event run. Every 100,000
# allocations: about 1 s, and no full collection; still ~17 young collections, each walking the
# batches in flight, 5.4% of the worker's samples on a million batched events. Every 1,000,000:
# none while they drain (worker CPU 7.1 / 7.0 / 7.2 -> 6.3 / 6.6 / 6.4 s, three alternated
# pairs). Reference counting still frees everything that is not in a cycle at once. Cyclic
# garbage is rare (a few thousand objects over such a run) but would now wait until the young
# generation grew by a million; a collection every COLLECT_EVERY_S bounds that wait in time.
YOUNG_COLLECTION_EVERY = 1_000_000
COLLECT_EVERY_S = 10.0
FULL_COLLECTION_EVERY = 60  # scheduled collections: the oldest generation too every 10 minutes


def tune_garbage_collection() -> None:
    """Collect the young generation far less often than CPython's default (see above)."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, max(middle, 20), oldest)


def register_scheduled_collection(app: faust.App) -> None:
    """Collect the young and middle generations every COLLECT_EVERY_S, and everything every
    FULL_COLLECTION_EVERY times: cyclic garbage waits seconds, not a million allocations."""
    ticks = itertools.count(1)

    async def collect_garbage() -> None:
        gc.collect(2 if next(ticks) % FULL_COLLECTION_EVERY == 0 else 1)

    app.timer(COLLECT_EVERY_S, name="insights_collect_garbage")(collect_garbage)


def worker_registry() -> CollectorRegistry:
    """The worker's metrics registry, with the process, platform and collector metrics the
    reader also exposes (CPU, memory, file descriptors, garbage collections)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def build_worker_app(settings: Settings, registry: CollectorRegistry) -> faust.App:
    """The Faust app with its three agents wired to the Redis store and dead-letter topic."""
    app = create_app(settings)
    topics = declare_topics(app, settings)
    metrics = WorkerMetrics(registry)
    store = RedisActiveUserStore(
        connect_redis(settings), KeyLayout(settings.key_prefix), settings.retention_days
    )
    dead_letters = FaustDeadLetters(topics.dead_letters, metrics)
    args: tuple[Any, ...] = (store, dead_letters, metrics, settings.retention_days)
    register_login_agent(
        app, topics.logins, LoginBatchProcessor(*args), settings.login_batches_in_flight
    )
    register_plan_agent(app, topics.plan_changes, PlanChangeProcessor(*args))
    register_claim_agent(app, topics.domain_claims, DomainClaimProcessor(*args))
    register_scheduled_collection(app)
    register_monitoring(app, metrics)
    register_durability_watch(app, store.client, metrics)
    return app


def serve_metrics(settings: Settings, registry: CollectorRegistry) -> None:
    """Serve /metrics; an address that cannot be bound is one error naming the settings, not a
    bare errno (a second worker on one host with the default port is the usual case)."""
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        message = (
            f"cannot serve /metrics on {host}:{port} (INSIGHTS_WORKER_METRICS_HOST/PORT): "
            f"{error.strerror or error}"
        )
        if error.errno == errno.EADDRINUSE:
            message += (
                "; another worker on this host? Give each its own INSIGHTS_WORKER_METRICS_PORT "
                "(0 turns /metrics off)"
            )
        raise WorkerStartError(message) from None


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Create the topics, expose /metrics on loopback, and run the worker until a signal."""
    names = TopicNames.from_settings(settings)
    # Before the worker's logging is set up: an unreachable broker is then one error line from
    # the CLI, not aiokafka's own log line as well.
    asyncio.run(ensure_topics(settings.kafka(), names.all(), settings.topic_partitions))
    # dictConfig consumes parts of its argument, so Faust gets a fresh copy below.
    logging.config.dictConfig(logging_config(loglevel.upper()))
    # After the logging set-up: an unanswered Redis is a JSON warning line with its cause.
    asyncio.run(check_redis(settings))  # a setting no retry can fix ends the worker here
    if settings.event_loop == "uvloop":
        # libuv's loop cuts Faust's per-message scheduling cost; mode installs the policy.
        use_event_loop("uvloop")
    tune_garbage_collection()
    registry = worker_registry()
    app = build_worker_app(settings, registry)
    if settings.worker_metrics_port:
        serve_metrics(settings, registry)
    log.info(
        "worker starting",
        extra={
            "group": settings.app_id,
            "topics": list(names.inputs()),
            "metrics_port": settings.worker_metrics_port,
            "hot_path": compiled_state().summary,
        },
    )
    worker = faust.Worker(
        app, loglevel=loglevel, quiet=True, logging_config=logging_config(loglevel.upper())
    )
    worker.execute_from_commandline()
