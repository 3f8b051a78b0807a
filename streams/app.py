"""The Faust app factory: consumer-group timing, raw topics, no web server, at-least-once."""

from dataclasses import dataclass
from typing import Any

import faust

from streams.record_batches import RecordBatchApp
from streams.settings import Settings
from streams.startup import TablelessStartManager
from streams.topics import TopicNames


@dataclass(frozen=True)
class PipelineTopics:
    """The Faust topic objects the agents consume and produce."""

    logins: Any
    plan_changes: Any
    domain_claims: Any
    dead_letters: Any


# Fetched batches an agent's stream may hold before Faust stops fetching its partition (at 4/5
# of this) until it drains to 2/5. Faust's default, 4096, counts messages; here a message is a
# whole fetch of up to INSIGHTS_FETCH_MAX_RECORDS records (streams/record_batches.py), so a
# worker that fell behind kept buffering: 4.1 GB for two workers in the 20-minute soak. Twelve
# fetches keep the four batches in flight fed.
STREAM_BUFFER_BATCHES = 16
FAUST_REQUEST_TIMEOUT_S = 90.0  # faust's broker_request_timeout default


def broker_url(bootstrap: str) -> str:
    """Faust's broker URL for `host:port[,host:port]`."""
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def create_app(settings: Settings) -> faust.App:
    """Build the Faust app; nothing connects until a worker starts it."""
    return RecordBatchApp(
        settings.app_id,
        broker=broker_url(settings.kafka()),
        # Exactly-once would turn on the idempotent producer, which the embedded broker rejects;
        # at-least-once is enough because PFADD and ZADD make every redelivery harmless.
        processing_guarantee="at_least_once",
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        # Faust refuses a session timeout above its request timeout (90 s by default).
        broker_request_timeout=max(FAUST_REQUEST_TIMEOUT_S, settings.session_timeout_s),
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        broker_max_poll_records=settings.fetch_max_records,
        consumer_max_fetch_size=4 * 1024**2,
        key_serializer="raw",
        value_serializer="raw",
        TableManager=TablelessStartManager,
        fetch_max_wait_ms=round(settings.fetch_max_wait_s * 1000),
        # A batch not written within the Redis timeout is held by an outage: a stop or a
        # rebalance waits no longer for it (it stays uncommitted, see RecordBatchConsumer).
        batch_wait_s=settings.redis_timeout_s,
        stream_buffer_maxsize=STREAM_BUFFER_BATCHES,
    )


def declare_topics(app: faust.App, settings: Settings) -> PipelineTopics:
    """Declare the topics on the app as raw bytes: decoding is ours, so bad input never crashes."""
    names = TopicNames.from_settings(settings)

    def topic(name: str) -> Any:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
        )

    return PipelineTopics(
        topic(names.logins),
        topic(names.plan_changes),
        topic(names.domain_claims),
        topic(names.dead_letters),
    )
