"""`insights worker` subprocesses we can start, kill, stop, scrape and read the logs of."""

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from insights.embedded import free_port, stop_process
from insights.processes import start_insights

STOP_GRACE_S = 15.0
SCRAPE_WHILE_STOPPING_S = 0.05


@dataclass
class Worker:
    """One worker process: its log, metrics port and the last counters scraped from it."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    metrics_port: int
    counters: dict[tuple[str, str], float] = field(default_factory=dict)  # (topic, outcome)
    late: dict[str, float] = field(default_factory=dict)  # topic -> late control events
    redis_errors: float = 0.0  # Redis operations that failed and were retried

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def records(self, start: int = 0) -> list[dict[str, Any]]:
        """The JSON log records from byte `start` of the log (non-JSON lines are skipped)."""
        return list(json_records(self.log, start))

    def log_size(self) -> int:
        """Bytes logged so far (a position for `records`)."""
        return self.log.stat().st_size if self.log.exists() else 0


def json_records(log: Path, start: int = 0) -> Iterator[dict[str, Any]]:
    """Parse the JSON lines of a log from a byte offset."""
    with log.open("rb") as handle:
        handle.seek(start)
        for line in handle:
            if line.startswith(b"{"):
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a line cut by a kill


class WorkerPool:
    """Workers of one consumer group, each with its own log and /metrics port."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        """Workers get `env` on top of ours; logs go under `workdir`."""
        self.env = env
        self.workdir = workdir
        self.workers: list[Worker] = []
        self.client = httpx.AsyncClient(timeout=2.0)

    def start(self) -> Worker:
        """Spawn a worker in its own process group (killpg reaches all of it)."""
        name = f"worker-{len(self.workers)}"
        port = free_port()
        log = self.workdir / f"{name}.log"
        env = {**self.env, "INSIGHTS_WORKER_METRICS_PORT": str(port)}
        process = start_insights(["worker"], env, log)
        worker = Worker(name, process, log, port)
        self.workers.append(worker)
        return worker

    def live(self) -> list[Worker]:
        """The workers still running."""
        return [worker for worker in self.workers if worker.alive]

    def kill(self, worker: Worker) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no commit, no LeaveGroup."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)

    def stop(self, worker: Worker) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after a grace period)."""
        stop_process(worker.process, grace_s=STOP_GRACE_S)

    async def leave(self, worker: Worker) -> None:
        """Graceful stop, scraping until the process is gone: a stopping worker finishes and
        commits the batch in hand, and those counts must not be missed."""
        os.killpg(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while worker.alive and time.monotonic() < deadline:
            await self.scrape(worker)
            await asyncio.sleep(SCRAPE_WHILE_STOPPING_S)
        self.stop(worker)  # reaps it, or kills it after the grace period

    async def scrape(self, worker: Worker) -> bool:
        """Refresh the worker's counters from its /metrics; False when it does not answer."""
        try:
            response = await self.client.get(f"http://127.0.0.1:{worker.metrics_port}/metrics")
        except httpx.HTTPError:
            return False
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == "insights_events_consumed_total":
                    labels = (sample.labels["topic"], sample.labels["outcome"])
                    worker.counters[labels] = sample.value
                elif sample.name == "insights_late_control_events_total":
                    worker.late[sample.labels["topic"]] = sample.value
            if family.name == "insights_redis_errors":
                worker.redis_errors = sum(
                    sample.value for sample in family.samples if sample.name.endswith("_total")
                )
        return True

    async def scrape_all(self) -> None:
        """Refresh every live worker's counters."""
        for worker in self.live():
            await self.scrape(worker)

    def total(self, outcome: str, topic: str | None = None) -> float:
        """An outcome summed over every worker's last scrape (killed workers: their last one)."""
        return sum(
            value
            for worker in self.workers
            for (seen_topic, seen_outcome), value in worker.counters.items()
            if seen_outcome == outcome and topic in (None, seen_topic)
        )

    def redis_errors(self) -> float:
        """Redis operations retried, summed over every worker's last scrape."""
        return sum(worker.redis_errors for worker in self.workers)

    async def close(self) -> None:
        """Stop every worker still running and the scrape client."""
        for worker in self.live():
            self.stop(worker)
        await self.client.aclose()
