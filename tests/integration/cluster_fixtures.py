"""Helpers for the scaling tests: worker pools and their readiness, a paced feed, Redis state."""

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from insights.embedded import EMBEDDED_GROUP_TIMING, free_port, stop_process
from insights.processes import start_insights
from insights.producer import ProduceReport, kafka_producer, route, send_all
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.scraping import scrape

REGISTERS = 16384  # Redis HyperLogLogs have 2^14 six-bit registers
HLL_HEADER = 16  # "HYLL", encoding byte, 3 unused bytes, 8-byte cached cardinality
DENSE = 0
POLL_S = 0.1
FEED_TIMEOUT_S = 120.0
RedisValue = bytes | frozenset[bytes] | tuple[tuple[bytes, float], ...] | dict[bytes, bytes]


def pipeline_env(
    kafka_bootstrap: str, redis_url: str, *, cluster: bool, partitions: int
) -> dict[str, str]:
    """One pipeline's own topics, group and key prefix, against the given Redis (or cluster)."""
    unique = uuid.uuid4().hex[:10]
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "INSIGHTS_REDIS_URL": redis_url,
        "INSIGHTS_REDIS_CLUSTER": "true" if cluster else "false",
        "INSIGHTS_TOPIC_PREFIX": f"c{unique}",
        "INSIGHTS_TOPIC_PARTITIONS": str(partitions),
        "INSIGHTS_APP_ID": f"insights-cluster-{unique}",
        "INSIGHTS_KEY_PREFIX": f"c{unique}",
        **EMBEDDED_GROUP_TIMING,
    }


@dataclass
class Worker:
    """One `insights worker` process, its log and its own /metrics endpoint."""

    process: subprocess.Popen[bytes]
    log: Path
    metrics_url: str

    def ready_partitions(self) -> list[int]:
        """Partitions held after each completed rebalance, from the worker's JSON log."""
        found = []
        for line in self.log.read_bytes().splitlines():
            if b'"worker ready"' in line:
                found.append(int(orjson.loads(line).get("partitions", 0)))
        return found

    async def counted(self) -> float:
        """Logins this worker counted, from its /metrics."""
        return (await scrape(self.metrics_url)).total(
            "insights_events_consumed_total", outcome="counted"
        )


@dataclass
class WorkerPool:
    """Starts workers with a pipeline's environment; stops every one it started."""

    workdir: Path
    workers: list[Worker] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> Worker:
        """A new worker with its own metrics port, in its own session."""
        port = free_port()
        log = self.workdir / f"worker-{len(self.workers)}-{port}.log"
        process = start_insights(
            ["worker"], {**env, "INSIGHTS_WORKER_METRICS_PORT": str(port)}, log
        )
        self.workers.append(Worker(process, log, f"http://127.0.0.1:{port}/metrics"))
        return self.workers[-1]

    def stop_all(self) -> None:
        """SIGTERM, then SIGKILL after the grace period, every worker still running."""
        for worker in self.workers:
            stop_process(worker.process)


async def wait_until(condition: Callable[[], bool], what: str, timeout_s: float) -> None:
    """Poll `condition` until true, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        await asyncio.sleep(POLL_S)


async def wait_ready(workers: Iterable[Worker], timeout_s: float = 60.0) -> None:
    """Until every worker has completed a rebalance holding partitions (it is in the group)."""
    members = list(workers)
    for worker in members:
        assert worker.process.poll() is None, f"worker exited early; see {worker.log}"

    def joined() -> bool:
        return all(any(worker.ready_partitions()) for worker in members)

    await wait_until(joined, f"{len(members)} workers to hold partitions", timeout_s)


def hll_registers(raw: bytes) -> bytes:
    """The 16384 register values of a Redis HyperLogLog, whichever encoding it is stored in."""
    assert raw[:4] == b"HYLL", "not a HyperLogLog"
    body = raw[HLL_HEADER:]
    if raw[4] == DENSE:  # 6-bit registers packed little-endian: every 3 bytes hold 4
        out = bytearray()
        for at in range(0, REGISTERS * 6 // 8, 3):
            word = body[at] | body[at + 1] << 8 | body[at + 2] << 16
            out.extend((word & 0x3F, word >> 6 & 0x3F, word >> 12 & 0x3F, word >> 18 & 0x3F))
        return bytes(out)
    out, i = bytearray(), 0
    while i < len(body):
        op = body[i]
        if op & 0xC0 == 0x00:  # ZERO: 1-64 zero registers
            out.extend(bytes((op & 0x3F) + 1))
        elif op & 0xC0 == 0x40:  # XZERO: 1-16384 zero registers, two bytes
            i += 1
            out.extend(bytes((((op & 0x3F) << 8) | body[i]) + 1))
        else:  # VAL: 1-4 registers of value 1-32
            out.extend(bytes([((op >> 2) & 0x1F) + 1]) * ((op & 0x03) + 1))
        i += 1
    assert len(out) == REGISTERS, f"sparse HyperLogLog decoded to {len(out)} registers"
    return bytes(out)


async def redis_state(client: Any, prefix: str) -> dict[str, RedisValue]:
    """Every key under `prefix`, renamed without it, with a value independent of its encoding."""
    keys = sorted([key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)])
    types = await _pipelined(client, keys, lambda pipe, key: pipe.type(key))
    readers: dict[bytes, Callable[[Any, bytes], Any]] = {
        b"string": lambda pipe, key: pipe.get(key),
        b"set": lambda pipe, key: pipe.smembers(key),
        b"zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
        b"hash": lambda pipe, key: pipe.hgetall(key),
    }
    pairs = list(zip(keys, types, strict=True))
    values = await _pipelined(client, pairs, lambda pipe, pair: readers[pair[1]](pipe, pair[0]))
    state: dict[str, RedisValue] = {}
    for (key, kind), value in zip(pairs, values, strict=True):
        name = key.decode().removeprefix(prefix)
        state[name] = _canonical(kind, value)
    return state


def _canonical(kind: bytes, value: Any) -> RedisValue:
    """HyperLogLogs as registers (sparse and dense compare equal), sets as frozensets."""
    if kind == b"string":
        return hll_registers(value) if value.startswith(b"HYLL") else bytes(value)
    if kind == b"set":
        return frozenset(value)
    if kind == b"zset":
        return tuple((member, float(score)) for member, score in value)
    return dict(value)


async def _pipelined(
    client: Any, items: list[Any], queue: Callable[[Any, Any], Awaitable[Any] | Any]
) -> list[Any]:
    """Run one command per item in pipelines of 2,000 (split across nodes on a cluster)."""
    results: list[Any] = []
    for start in range(0, len(items), 2000):
        pipe = client.pipeline(transaction=False)
        for item in items[start : start + 2000]:
            queue(pipe, item)
        results.extend(await pipe.execute())
    return results


class Feed:
    """Sends the traffic in small chunks at a steady pace, pausing at marks until released."""

    def __init__(self, settings: Settings, lines: list[bytes], marks: list[int]) -> None:
        """Route the lines as `insights produce` does; nothing is sent yet."""
        names = TopicNames.from_settings(settings)
        self.settings = settings
        self.records = [route(line, names, None) for line in lines]
        self.marks = marks
        self.report = ProduceReport()
        self.released = asyncio.Event()
        self.paused = asyncio.Event()

    async def run(self, chunk: int = 100, pace_s: float = 0.1) -> None:
        """Send every record; at each mark, wait until `release()` lets it go on."""
        producer = kafka_producer(self.settings)
        for start in range(0, len(self.records), chunk):
            if self.marks and start >= self.marks[0]:
                self.marks.pop(0)
                self.paused.set()
                await self.released.wait()
                self.released.clear()
            records = self.records[start : start + chunk]
            await asyncio.to_thread(send_all, producer, records, self.report, quiet)
            await asyncio.sleep(pace_s)

    async def release(self) -> None:
        """Wait until the feed reaches its next mark, then let it flow on."""
        await asyncio.wait_for(self.paused.wait(), FEED_TIMEOUT_S)
        self.paused.clear()
        self.released.set()


def quiet(phase: str, done: int, total: int) -> None:
    """No progress bars in tests."""
