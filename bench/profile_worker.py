"""Profile workers draining pre-produced logins: rate, CPU per process, py-spy stacks.

Run: `.venv/bin/python -m bench.profile_worker --per-record 50 --events 400000 --out prof.txt`.
The events are `bench.throughput`'s; py-spy records the (first) worker for `--seconds` once every
worker has its partitions and one has written a batch, in py-spy's raw (collapsed stacks) format
(`--seconds 0`: no py-spy, for rates: it slows the worker by about an eighth). It prints the drain
rate, the CPU seconds the workers, broker and Redis used meanwhile, Redis's busiest commands (`INFO
commandstats`) and the workers' batch metrics. `--workers 2` shows where a second worker's time
goes: the CPU per login of each process with one worker and with two.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx
import psutil
from redis.asyncio import Redis

from bench.memory import configure
from bench.throughput import (
    PARTITIONS,
    all_ready,
    apply_claims,
    consumed,
    login_lines,
    processes,
    run_env,
    settings_of,
    worker_metrics,
)
from bench.workers import quiet
from insights.embedded import StackEndpoints, embedded_stack, free_port
from insights.producer import produce
from streams.compiled import compiled_state
from streams.kafka_admin import ensure_topics
from streams.topics import TopicNames

PROCESSES = {
    "worker": "insights worker",  # every worker process together
    "broker": "tansu",
    "redis": "redis-server",
    "harness": "bench.profile_worker",  # this process: its metrics polls share the cores too
}
BUSIEST_COMMANDS = 6
METRICS = (
    "insights_batch_size_records_count",
    "insights_batch_size_records_sum",
    "insights_batch_processing_seconds_sum",
    "insights_redis_operation_seconds_sum",
    "insights_redis_operation_seconds_count",
    "python_gc_collections_total",  # since the worker started, like the next one
    "python_gc_objects_collected_total",
)


def cpu_seconds(pattern: str) -> float:
    """User plus system CPU seconds of every process whose command line contains `pattern`."""
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        if pattern in " ".join(process.info["cmdline"] or []):
            times = process.cpu_times()
            total += times.user + times.system
    return total


async def profile(
    stack: StackEndpoints,
    per_record: int,
    events: int,
    out: Path,
    seconds: int,
    *,
    gil_only: bool = False,
    hll_sparse_max_bytes: int | None = None,
    appendfsync: str | None = None,
    workers: int = 1,
) -> None:
    """Fill the topic, start the workers, record them, report."""
    claims, lines = login_lines(events, per_record)
    env = run_env(stack)
    settings = settings_of(env)
    await ensure_topics(settings.kafka(), TopicNames.from_settings(settings).all(), PARTITIONS)
    await apply_claims(env, claims)
    await produce(settings, lines, None, wait=False, timeout_s=600, progress=quiet)
    ports = [free_port() for _ in range(workers)]
    py_spy = str(Path(sys.executable).parent / "py-spy")
    topic = TopicNames.from_settings(settings).logins
    await configure([stack.redis_url], hll_sparse_max_bytes)
    redis = Redis.from_url(stack.redis_url)
    if appendfsync is not None:  # the embedded Redis keeps no AOF; production does
        await redis.config_set("appendonly", "yes")
        await redis.config_set("appendfsync", appendfsync)
    with processes(env, *(["worker"] for _ in ports), metrics_ports=ports) as started_workers:
        async with httpx.AsyncClient() as http:
            # From the first batch written once every worker has its partitions, not the first
            # commit: commits come a second apart, and everything written before the first one
            # was left out of the time but not the count. What a first worker drains while a
            # second one joins is left out of both.
            done = 0.0
            texts = None
            while not (all_ready(texts) and done > 0):
                texts = await worker_metrics(http, ports)
                done = consumed(texts, topic)
                await asyncio.sleep(0.05)
            started, done_at_start = time.monotonic(), done
            cpu_before = {name: cpu_seconds(pattern) for name, pattern in PROCESSES.items()}
            await redis.config_resetstat()
            spy = None
            if seconds > 0:
                spy = await asyncio.create_subprocess_exec(
                    *(py_spy, "record", "--pid", str(started_workers[0].pid), "--rate", "200"),
                    *("--format", "raw", "--output", str(out), "--duration", str(seconds)),
                    *(["--gil"] if gil_only else []),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            rss = [psutil.Process(worker.pid) for worker in started_workers]
            peak_rss = [process.memory_info().rss for process in rss]
            while done < events:
                done = consumed(await worker_metrics(http, ports), topic)
                peak_rss = [
                    max(peak, process.memory_info().rss)
                    for peak, process in zip(peak_rss, rss, strict=True)
                ]
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started
            cpu = {
                name: cpu_seconds(pattern) - cpu_before[name] for name, pattern in PROCESSES.items()
            }
            commands = await redis.info("commandstats")
            if spy is not None:
                await spy.wait()
            metrics = "\n".join(await worker_metrics(http, ports) or [])
    await redis.aclose()
    rate = (events - done_at_start) / elapsed
    print(
        f"{workers} worker(s) drained {rate:,.0f} events/s ({per_record} per record; "
        f"{compiled_state().summary})"
    )
    # CPU per login shows what a second worker costs; cores busy, whether the machine was full.
    measured = events - done_at_start
    for name, used in cpu.items():
        print(
            f"{name} CPU {used:.1f} s over {elapsed:.1f} s "
            f"({used / measured * 1e6:.2f} µs per event, {used / elapsed:.2f} cores)"
        )
    print(f"all together {sum(cpu.values()) / elapsed:.2f} cores busy")
    print(
        "worker peak memory "
        + " / ".join(f"{peak / 2**20:,.0f}" for peak in peak_rss)
        + " MiB (RSS, sampled every 0.1 s)"
    )
    # Commands a script runs are counted on their own too: EVALSHA's time includes its PFADDs.
    for name, stats in sorted(commands.items(), key=lambda item: -item[1]["usec"])[
        :BUSIEST_COMMANDS
    ]:
        print(
            f"redis {name.removeprefix('cmdstat_')}: {stats['calls']:,} calls, "
            f"{stats['usec'] / 1e6:.2f} s, {stats['usec'] / measured:.2f} µs per event"
        )
    print("\n".join(line for line in metrics.splitlines() if line.startswith(METRICS)))
    print(f"py-spy stacks: {out}" if seconds > 0 else "py-spy not run (--seconds 0)")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-record", type=int, default=50, help="events per Kafka record")
    parser.add_argument("--events", type=int, default=400_000)
    # py-spy stops the worker for each sample: measured 2026-12-03, 1M batched events drained at
    # 74-75k events/s while it recorded and 85-87k with --seconds 1, so time rates with 0.
    parser.add_argument(
        "--seconds", type=int, default=12, help="how long py-spy records (0: no py-spy)"
    )
    parser.add_argument("--out", type=Path, default=Path("worker-profile.txt"))
    parser.add_argument("--workers", type=int, default=1, help="worker processes in one group")
    # Wall-clock samples blame whatever a thread was doing while it waited for the GIL (the
    # consumer thread and the agents share one); --gil counts only the thread holding it.
    parser.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    # Redis's own trade of memory for CPU: a sparse HyperLogLog's insert is linear in its size.
    parser.add_argument("--hll-sparse-max-bytes", type=int, default=None, help="CONFIG SET first")
    # What production's persistence costs: the embedded Redis runs without an AOF.
    parser.add_argument(
        "--appendfsync", choices=("everysec", "always"), default=None, help="AOF on, this policy"
    )
    args = parser.parse_args()
    with embedded_stack() as stack:
        asyncio.run(
            profile(
                stack,
                *(args.per_record, args.events, args.out, args.seconds),
                gil_only=args.gil,
                hll_sparse_max_bytes=args.hll_sparse_max_bytes,
                appendfsync=args.appendfsync,
                workers=args.workers,
            )
        )


if __name__ == "__main__":
    main()
