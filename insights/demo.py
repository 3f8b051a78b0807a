"""`insights demo`: embedded stack, worker and reader on loopback, stopped cleanly on a signal."""

import asyncio
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from insights.embedded import (
    EMBEDDED_GROUP_TIMING,
    StackEndpoints,
    StackProcess,
    embedded_stack,
    free_port,
    stop_process,
)
from insights.processes import start_insights
from reader.listening import listen
from streams.core.keys import KeyLayout
from streams.kafka_admin import ensure_topics
from streams.settings import Settings
from streams.store import connect_redis
from streams.tokens import RedisTokenStore
from streams.topics import TopicNames

DEMO_PREFIX = "insights"
DEMO_ORG = "acme"


def stack_environment(endpoints: StackEndpoints, reader_port: int) -> dict[str, str]:
    """The settings other commands need to use this stack, as environment variables."""
    metrics_port = free_port()
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "INSIGHTS_REDIS_URL": endpoints.redis_url,
        "INSIGHTS_TOPIC_PREFIX": DEMO_PREFIX,
        "INSIGHTS_READER_URL": f"http://127.0.0.1:{reader_port}",
        "INSIGHTS_WORKER_METRICS_PORT": str(metrics_port),
        "INSIGHTS_WORKER_METRICS_URL": f"http://127.0.0.1:{metrics_port}/metrics",
        **EMBEDDED_GROUP_TIMING,
    }


@contextmanager
def child(
    args: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `insights <args>` in its own process group; always stopped on exit."""
    process = start_insights(args, env, log_path)
    try:
        yield process
    finally:
        stop_process(process)


def wait_for_http(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 30.0
) -> None:
    """Wait until the URL answers 200, failing fast if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the reader exited with status {process.returncode}; see {log_path}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the reader did not answer {url} within {timeout_s:.0f} s")


def create_demo_token(redis_url: str) -> str:
    """A reader token for the demo org."""

    async def create() -> str:
        client = connect_redis(Settings(redis_url=redis_url))
        try:
            token, _ = await RedisTokenStore(client, KeyLayout()).create(DEMO_ORG, "demo")
            return token
        finally:
            await client.aclose()

    return asyncio.run(create())


def wait_for_signal(watched: list[StackProcess]) -> None:
    """Block until SIGINT/SIGTERM, or until a process of the stack dies: then fail naming it and
    its log, so the stack is stopped instead of a demo that serves errors while it says running."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        for one in watched:
            if one.process.poll() is not None:
                raise RuntimeError(
                    f"{one.name} exited with status {one.process.returncode}; see {one.log}"
                )


def exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM's default kills the demo at once, leaving the children it started in sessions of
    their own running; exiting instead unwinds the stack below, which stops every one of them."""
    raise SystemExit(128 + signum)


def run_demo(port: int, traffic: bool, env_file: Path | None) -> None:
    """Start everything, print the URL, org, token and settings, and stop it all on a signal."""
    signal.signal(signal.SIGTERM, exit_on_sigterm)  # SIGINT already raises KeyboardInterrupt
    if port:  # a taken port fails before anything starts, not after the URL was announced
        listen("127.0.0.1", port, options="--port").close()
    logs = Path(tempfile.mkdtemp(prefix="insights-demo-"))
    print(f"starting the embedded broker and redis-server (logs: {logs})...", file=sys.stderr)
    with ExitStack() as stack:
        endpoints = stack.enter_context(embedded_stack(logs))
        reader_port = port or free_port()
        env = stack_environment(endpoints, reader_port)
        topics = TopicNames.from_prefix(DEMO_PREFIX)
        asyncio.run(ensure_topics(endpoints.kafka_bootstrap, topics.all(), 4))
        worker = stack.enter_context(child(["worker"], env, logs / "worker.log"))
        reader = stack.enter_context(
            child(["reader", "--port", str(reader_port)], env, logs / "reader.log")
        )
        wait_for_http(f"{env['INSIGHTS_READER_URL']}/healthz", reader, logs / "reader.log")
        token = create_demo_token(endpoints.redis_url)
        lines = [f"{key}={value}" for key, value in env.items()]
        if env_file is not None:
            env_file.write_text("\n".join(lines) + "\n")
        print(
            f"dashboard: {env['INSIGHTS_READER_URL']}/",
            f"org: {DEMO_ORG}",
            f"token: {token}",
            *lines,
            sep="\n",
            flush=True,
        )
        print(f"logs: {logs}", file=sys.stderr)
        watched = [
            *endpoints.processes,
            StackProcess("insights worker", worker, logs / "worker.log"),
            StackProcess("insights reader", reader, logs / "reader.log"),
        ]
        if traffic:
            traffic_log = logs / "traffic.log"
            traffic_process = stack.enter_context(child(["demo-traffic"], env, traffic_log))
            watched.append(StackProcess("the demo traffic", traffic_process, traffic_log))
        print("demo running; Ctrl-C stops everything", file=sys.stderr, flush=True)
        wait_for_signal(watched)
