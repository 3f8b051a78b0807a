"""Worker ready time and end-to-end replay rate on the embedded stack (median of N runs).

Run: `.venv/bin/python -m bench.pipeline --runs 3` (prints each run and the medians).
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bench.workers import fresh_env, quiet
from insights.embedded import StackEndpoints, embedded_stack, stop_process
from insights.processes import start_insights
from insights.producer import produce
from insights.simulation import SimulationSpec, simulate
from streams.settings import Settings


async def one_run(stack: StackEndpoints, lines: list[bytes], workdir: Path) -> tuple[float, float]:
    """Seconds from worker start to its first processed event; events/s of the replay."""
    env = fresh_env(stack.kafka_bootstrap, stack.redis_url, "b")
    settings = Settings.model_validate(
        {k.removeprefix("INSIGHTS_").lower(): v for k, v in env.items()}
    )
    probe = orjson.dumps(
        {"type": "heartbeat", "product": "jira", "occurred_at": datetime.now(UTC).isoformat()}
    )
    worker = start_insights(["worker"], env, workdir / f"{env['INSIGHTS_APP_ID']}.log")
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
