"""Observability test helpers: the reader as a real process, HTTP waits, /metrics parsing."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from insights.embedded import free_port, stop_process

INSIGHTS = [sys.executable, "-m", "insights"]
START_TIMEOUT_S = 30.0
POLL_S = 0.1


@dataclass(frozen=True)
class Scrape:
    """One /metrics answer: the raw text and its samples."""

    text: str
    samples: list[tuple[str, dict[str, str], float]]

    def total(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels` (0 when there are none)."""
        return sum(
            value
            for sample, found, value in self.samples
            if sample == name and labels.items() <= found.items()
        )

    def by(self, name: str, label: str) -> dict[str, float]:
        """`name` summed per value of one label."""
        sums: dict[str, float] = {}
        for sample, found, value in self.samples:
            if sample == name:
                sums[found[label]] = sums.get(found[label], 0.0) + value
        return sums

    def label_values(self) -> set[str]:
        """Every label value of every sample."""
        return {value for _, labels, _ in self.samples for value in labels.values()}


async def scrape(url: str) -> Scrape:
    """GET a /metrics endpoint and parse it with client_python's own parser."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    response.raise_for_status()
    samples = [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]
    return Scrape(response.text, samples)


async def wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers 200; fail with the log if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2) as client:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(POLL_S)
    output = await asyncio.to_thread(log.read_text)
    state = "exited" if process.poll() is not None else "did not answer in time"
    raise AssertionError(f"{url}: the process {state}; its log:\n{output}")


def spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a command in its own session (so stop_process reaches it all), output to `log`."""
    with log.open("wb") as output:
        return subprocess.Popen(
            args,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@asynccontextmanager
async def running_reader(env: Mapping[str, str], log: Path) -> AsyncIterator[str]:
    """`insights reader --port N` on loopback with `env`; yields its base URL, always stops it."""
    port = free_port()
    process = spawn([*INSIGHTS, "reader", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_for_http(f"{base}/healthz", process, log)
        yield base
    finally:
        stop_process(process)


def create_token(env: Mapping[str, str], org: str) -> str:
    """`insights token create --org ORG`: the token is the last line of stdout."""
    done = subprocess.run(
        [*INSIGHTS, "token", "create", "--org", org],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]
