"""What every benchmark needs around the service: a fresh environment and quiet progress."""

import uuid

from insights.embedded import EMBEDDED_GROUP_TIMING


def quiet(phase: str, done: int, total: int) -> None:
    """No progress bars inside a benchmark."""


def fresh_env(kafka_bootstrap: str, redis_url: str, tag: str, **extra: str) -> dict[str, str]:
    """Settings with topics, group and keys of their own, and the embedded group timing."""
    unique = uuid.uuid4().hex[:8]
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "INSIGHTS_REDIS_URL": redis_url,
        "INSIGHTS_TOPIC_PREFIX": f"{tag}{unique}",
        "INSIGHTS_APP_ID": f"{tag}-{unique}",
        "INSIGHTS_KEY_PREFIX": f"{tag}{unique}",
        "INSIGHTS_WORKER_METRICS_PORT": "0",
        **EMBEDDED_GROUP_TIMING,
        **extra,
    }
