"""`insights demo`: the embedded stack plus a worker on loopback, stopped cleanly on a signal."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from insights.embedded import StackEndpoints, embedded_stack, free_port, stop_process
from streams.kafka_admin import ensure_topics
from streams.topics import TopicNames

DEMO_PREFIX = "insights"
# The embedded broker holds the first JoinGroup for about half the session timeout; 6 s / 0.5 s
# gives a worker that is consuming within ~5 s and survives consumer-thread stalls under load.
EMBEDDED_GROUP_TIMING = {"INSIGHTS_SESSION_TIMEOUT_S": "6", "INSIGHTS_HEARTBEAT_INTERVAL_S": "0.5"}


def stack_environment(endpoints: StackEndpoints, metrics_port: int) -> dict[str, str]:
    """The settings other commands need to use this stack, as environment variables."""
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "INSIGHTS_REDIS_URL": endpoints.redis_url,
        "INSIGHTS_TOPIC_PREFIX": DEMO_PREFIX,
        "INSIGHTS_WORKER_METRICS_PORT": str(metrics_port),
        "INSIGHTS_WORKER_METRICS_URL": f"http://127.0.0.1:{metrics_port}/metrics",
        **EMBEDDED_GROUP_TIMING,
    }


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Run `insights worker` as a child process in its own process group."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "insights", "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_signal(worker: subprocess.Popen[bytes]) -> None:
    """Block until SIGINT/SIGTERM, or until the worker dies (then fail with its exit code)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with status {worker.returncode}; see its log")


def run_demo(port: int, traffic: bool, env_file: Path | None) -> None:
    """Start everything, print the settings as KEY=VALUE lines, and stop it all on a signal."""
    print("starting the embedded broker and redis-server...", file=sys.stderr, flush=True)
    with embedded_stack() as endpoints:
        env = stack_environment(endpoints, free_port())
        topics = TopicNames.from_prefix(DEMO_PREFIX)
        asyncio.run(ensure_topics(endpoints.kafka_bootstrap, topics.all(), 4))
        log_path = (
            Path(os.environ.get("TMPDIR", "/tmp")) / f"insights-demo-worker-{os.getpid()}.log"
        )
        worker = start_worker(env, log_path)
        try:
            lines = [f"{key}={value}" for key, value in env.items()]
            print("\n".join(lines), flush=True)
            if env_file is not None:
                env_file.write_text("\n".join(lines) + "\n")
            print(f"worker log: {log_path}", file=sys.stderr)
            print("demo running; Ctrl-C stops everything", file=sys.stderr, flush=True)
            wait_for_signal(worker)
        finally:
            stop_process(worker)
