"""Worker ready time and end-to-end replay rate on the embedded stack (median of N runs).

Run: `.venv/bin/python -m bench.pipeline --runs 3` (prints each run and the medians).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from insights.embedded import StackEndpoints, embedded_stack, stop_process
from insights.producer import produce
from insights.simulation import SimulationSpec, simulate
from streams.settings import Settings


def quiet(phase: str, done: int, total: int) -> None:
    """No progress output inside a benchmark."""


def run_settings(stack: StackEndpoints) -> dict[str, str]:
    """Fresh topics, group and keys for one run, with the embedded group timing."""
    unique = uuid.uuid4().hex[:8]
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "INSIGHTS_REDIS_URL": stack.redis_url,
        "INSIGHTS_TOPIC_PREFIX": f"b{unique}",
        "INSIGHTS_APP_ID": f"bench-{unique}",
        "INSIGHTS_KEY_PREFIX": f"b{unique}",
        "INSIGHTS_WORKER_METRICS_PORT": "0",
        "INSIGHTS_SESSION_TIMEOUT_S": "6",
        "INSIGHTS_HEARTBEAT_INTERVAL_S": "0.5",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`insights worker` in its own process group."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "insights", "worker"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def one_run(stack: StackEndpoints, lines: list[bytes], workdir: Path) -> tuple[float, float]:
    """Seconds from worker start to its first processed event; events/s of the replay."""
    env = run_settings(stack)
    settings = Settings.model_validate(
        {k.removeprefix("INSIGHTS_").lower(): v for k, v in env.items()}
    )
    probe = orjson.dumps(
        {"type": "heartbeat", "product": "jira", "occurred_at": datetime.now(UTC).isoformat()}
    )
    worker = start_worker(env, workdir / f"{env['INSIGHTS_APP_ID']}.log")
    started = time.monotonic()
    try:
        await produce(settings, [probe], None, wait=True, timeout_s=120, progress=quiet)
        ready = time.monotonic() - started
        began = time.monotonic()
        await produce(settings, lines, None, wait=True, timeout_s=900, progress=quiet)
        rate = len(lines) / (time.monotonic() - began)
    finally:
        stop_process(worker)
    return ready, rate


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=2000)
    args = parser.parse_args()
    end = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=3, users=args.users, days=30, seed=7, end_day=end))
    lines = dataset.lines
    stats = dataset.truth["stats"]
    events_per_line = (stats["events_valid"] + stats["events_invalid"]) / len(lines)
    results = []
    with embedded_stack() as stack:
        workdir = Path(os.environ.get("TMPDIR", "/tmp"))
        for _ in range(args.runs):
            results.append(asyncio.run(one_run(stack, lines, workdir)))
            ready, rate = results[-1]
            print(f"ready {ready:.2f} s, replay {rate * events_per_line:,.0f} events/s", flush=True)
    ready = statistics.median(r[0] for r in results)
    rate = statistics.median(r[1] for r in results) * events_per_line
    print(
        f"median of {args.runs}: worker_ready_s={ready:.2f} replay_events_per_s={rate:.0f} "
        f"({len(lines)} lines, {len(lines) * events_per_line:.0f} events)"
    )


if __name__ == "__main__":
    main()
