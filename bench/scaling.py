"""Replay throughput with 1, 2 and 3 workers in one consumer group, on one Redis and on a cluster.

Run: `.venv/bin/python -m bench.scaling --runs 3` (writes bench/results/scaling-<date>-<sha>.json).

Each run gets fresh topics (6 partitions, so 1, 2 and 3 workers split them evenly), group and keys.
The workers join first and apply the control events; then the traffic is produced, and the rate is
taken from the moment the producer is done (it no longer competes for the CPU) until the group has
committed every record. Per-process CPU over that window shows what saturates this 2-core machine.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.workers import fresh_env, quiet
from insights.embedded import (
    BROKER_LOG,
    free_port,
    start_broker,
    start_redis,
    stop_process,
    wait_for_kafka,
    wait_for_redis,
)
from insights.processes import start_insights
from insights.producer import produce, route, wait_for_group
from insights.redis_cluster import local_redis_cluster
from insights.simulation import SimulationSpec, simulate
from streams.kafka_admin import committed_offsets
from streams.settings import Settings
from streams.topics import TopicNames

PARTITIONS = 6
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Services:
    """The broker, a single redis-server and a 3-master cluster, with their pids."""

    kafka_bootstrap: str
    redis_url: str
    cluster_url: str
    pids: dict[str, tuple[int, ...]]


@contextmanager
def services(workdir: Path) -> Iterator[Services]:
    """Start everything on free loopback ports; always stop it."""
    with ExitStack() as cleanup:
        kafka_port, redis_port = free_port(), free_port()
        broker = start_broker(kafka_port, workdir)
        cleanup.callback(stop_process, broker)
        server = start_redis(redis_port, workdir)
        cleanup.callback(stop_process, server)
        bootstrap, redis_url = f"127.0.0.1:{kafka_port}", f"redis://127.0.0.1:{redis_port}/0"
        wait_for_kafka(bootstrap, 30, process=broker, log=workdir / BROKER_LOG)
        wait_for_redis(redis_url, 30, process=server)
        cluster = cleanup.enter_context(local_redis_cluster(workdir / "cluster"))
        pids = {"broker": (broker.pid,), "redis": (server.pid,), "cluster": cluster.pids}
        yield Services(bootstrap, redis_url, cluster.url, pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """Busy and total jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


def env_for(stack: Services, cluster: bool) -> dict[str, str]:
    """Fresh topics, group and keys, on one Redis or the cluster."""
    redis_url = stack.cluster_url if cluster else stack.redis_url
    return fresh_env(
        stack.kafka_bootstrap,
        redis_url,
        "s",
        INSIGHTS_REDIS_CLUSTER="true" if cluster else "false",
        INSIGHTS_TOPIC_PARTITIONS=str(PARTITIONS),
    )


async def wait_joined(workers: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Until every worker has logged a completed rebalance (it is a member of the group)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not all(b'"worker ready"' in log.read_bytes() for log in logs):
        if any(worker.poll() is not None for worker in workers) or time.monotonic() > deadline:
            raise RuntimeError(f"workers did not join; see {logs}")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Dataset:
    """Control lines, traffic lines, and the events the traffic carries per Kafka record."""

    control: list[bytes]
    traffic: list[bytes]
    events_per_record: float


def load_dataset(users: int) -> Dataset:
    """The README's bench simulation: 3 orgs x `users` users x 30 days, ending yesterday."""
    end = datetime.now(UTC).date() - timedelta(days=1)
    lines = simulate(SimulationSpec(orgs=3, users=users, days=30, seed=7, end_day=end)).lines
    names = TopicNames.from_prefix("any")
    control = [line for line in lines if route(line, names, None).control]
    traffic = [line for line in lines if not route(line, names, None).control]
    return Dataset(control, traffic, sum(map(events_in, traffic)) / len(traffic))


def events_in(line: bytes) -> int:
    """Events in one record: the length of a batched array, else one."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return 1
    return len(parsed) if isinstance(parsed, list) and parsed else 1


async def one_run(
    stack: Services, data: Dataset, workers: int, cluster: bool, workdir: Path
) -> dict[str, Any]:
    """Events/s of `workers` workers once the traffic is in the broker, and who used the CPU."""
    env = env_for(stack, cluster)
    settings = Settings.model_validate(
        {k.removeprefix("INSIGHTS_").lower(): v for k, v in env.items()}
    )
    logs = [workdir / f"{env['INSIGHTS_APP_ID']}-{i}.log" for i in range(workers)]
    processes = [start_insights(["worker"], env, log) for log in logs]
    try:
        await wait_joined(processes, logs)
        await produce(settings, data.control, None, True, 300, quiet)
        report = await produce(settings, data.traffic, None, False, 300, quiet, offsets=True)
        before = await committed_offsets(settings.kafka(), settings.app_id, report.targets)
        pids = {
            "workers": tuple(p.pid for p in processes),
            "broker": stack.pids["broker"],
            "redis": stack.pids["cluster" if cluster else "redis"],
        }
        cpu_before, busy_before, began = _cpu(pids), machine_busy(), time.monotonic()
        await wait_for_group(settings, report.targets, time.monotonic() + 900, quiet)
        seconds = time.monotonic() - began
        cpu_after, busy_after = _cpu(pids), machine_busy()
    finally:
        for process in processes:
            stop_process(process)
    records = sum(end - max(before[tp], 0) for tp, end in report.targets.items())
    cores = os.cpu_count() or 1
    ours = {name: round(100 * (cpu_after[name] - cpu_before[name]) / seconds) for name in pids}
    busy = round(100 * cores * (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]))
    return {
        "workers": workers,
        "redis": "cluster-3" if cluster else "single",
        "events_per_s": round(records * data.events_per_record / seconds),
        "seconds": round(seconds, 1),
        "cpu_percent": ours,
        "machine_busy_percent": busy,
        # Anything else on the machine (this script, other jobs): a high figure spoils the run.
        "others_percent": busy - sum(ours.values()),
    }


def _cpu(pids: dict[str, tuple[int, ...]]) -> dict[str, float]:
    """CPU seconds used so far, summed per role."""
    return {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()}


def main() -> None:
    """Measure every (backend, worker count), print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="runs per configuration (median)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = load_dataset(args.users)
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="insights-scaling-") as tmp,
        services(Path(tmp)) as stack,
    ):
        for cluster in (False, True):
            for workers in (int(n) for n in args.workers.split(",")):
                runs = [
                    asyncio.run(one_run(stack, data, workers, cluster, Path(tmp)))
                    for _ in range(args.runs)
                ]
                best = sorted(runs, key=lambda run: run["events_per_s"])[len(runs) // 2]
                best["runs_events_per_s"] = [run["events_per_s"] for run in runs]
                rows.append(best)
                print(orjson.dumps(best).decode(), flush=True)
    write_results(rows, args, len(data.traffic), data.events_per_record)


def write_results(
    rows: list[dict[str, Any]], args: argparse.Namespace, records: int, epr: float
) -> None:
    """bench/results/scaling-<date>-<commit>.json, and a one-line summary per configuration."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    out = (
        args.out
        or Path("bench/results") / f"scaling-{datetime.now(UTC).date()}-{commit or 'nogit'}.json"
    )
    results = {
        "cores": os.cpu_count(),
        "partitions": PARTITIONS,
        "traffic_records": records,
        "events_per_record": round(epr, 3),
        "runs": rows,
    }
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    for row in rows:
        median = statistics.median(row["runs_events_per_s"])
        print(f"{row['redis']:>9} {row['workers']} worker(s): {median:,.0f} events/s")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
