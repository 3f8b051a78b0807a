"""What every benchmark needs around the service: a fresh environment and `insights` children."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

# The embedded broker holds the first JoinGroup for about half the session timeout.
EMBEDDED_GROUP_TIMING = {"INSIGHTS_SESSION_TIMEOUT_S": "6", "INSIGHTS_HEARTBEAT_INTERVAL_S": "0.5"}


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


def start_insights(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`insights <args>` in its own process group, output to `log` (or discarded)."""
    command = [sys.executable, "-m", "insights", *args]
    environment = {**os.environ, **env}
    if log is None:
        return subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
