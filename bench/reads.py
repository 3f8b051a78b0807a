"""Reader latency for 7, 30, 90 and 365-day ranges (product=all, by plan, daily buckets):
p50/p99 with 1 client and with 50 concurrent clients, over real HTTP against `insights reader`.

Run: `.venv/bin/python -m bench.reads` (writes bench/results/reads-<date>-<commit>.json).
"""

import argparse
import asyncio
import random
import re
import shutil
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from insights.embedded import embedded_stack, free_port, stop_process
from insights.processes import start_insights
from schemas.vocabulary import PLANS, PRODUCTS
from streams.core.attribution import BatchWrites
from streams.core.days import month_last_day
from streams.core.keys import ALL, KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis
from streams.tokens import RedisTokenStore

RANGES = (7, 30, 90, 365)
ORG = "bench"


def series_writes(active: Iterable[str], key: Callable[[str, str], str], last: date) -> BatchWrites:
    """Each user added to the four series keys the worker writes for their product and plan
    (per plan and all plans, per product and all products); `key` names one from its parts."""
    by_product_plan: dict[tuple[str, str], set[str]] = defaultdict(set)
    for user in active:
        number = int(user[-8:], 16)  # stable across runs, unlike hash()
        by_product_plan[(PRODUCTS[number % 4], PLANS[(number // 4) % 4])].add(user)
    writes = BatchWrites()
    for (product, plan), users in by_product_plan.items():
        names = (
            key(product_part, plan_part)
            for product_part in (product, ALL)
            for plan_part in (plan, ALL)
        )
        writes.add(tuple((name, last) for name in names), users)
    return writes


def day_writes(layout: KeyLayout, day: date, active: list[str]) -> BatchWrites:
    """The day keys and coverage the worker would write for one day of logins by `active`."""
    writes = series_writes(
        active, lambda product, plan: layout.active_users(ORG, product, plan, day), day
    )
    writes.covered.update((product, day) for product in PRODUCTS)
    return writes


def month_writes(layout: KeyLayout, month: date, active: Iterable[str]) -> BatchWrites:
    """The month rollup keys of everyone active in the month: what the worker's daily additions
    to them add up to (PFADD and SADD of a member already there change nothing)."""
    return series_writes(
        active,
        lambda product, plan: layout.monthly_active_users(ORG, product, plan, month),
        month_last_day(month),
    )


async def fill(settings: Settings, users: int, daily: int, days: int) -> str:
    """A year of one org's traffic straight into Redis; returns a reader token. Month keys are
    written once per month, not once per day: the same keys and members, in half the time."""
    client = connect_redis(settings)
    store = RedisActiveUserStore(client, KeyLayout(), settings.retention_days)
    rng = random.Random(7)
    population = [f"557058:{n:08x}" for n in range(users)]
    today = datetime.now(UTC).date()
    month_users: dict[date, set[str]] = defaultdict(set)
    for offset in range(1, days + 1):
        day = today - timedelta(days=offset)
        active = rng.sample(population, daily)
        await store.write_batch(day_writes(store.layout, day, active))
        month_users[day.replace(day=1)].update(active)
    for month, active_in_month in month_users.items():
        await store.write_batch(month_writes(store.layout, month, sorted(active_in_month)))
    token, _ = await RedisTokenStore(client, KeyLayout()).create(ORG, "bench")
    await client.aclose()
    return token


async def measure(
    base: str, token: str, days: int, clients: int, requests: int
) -> dict[str, float]:
    """p50/p99 latency (ms) of `requests` requests spread over `clients` concurrent clients."""
    today = datetime.now(UTC).date()
    params = {
        "start": (today - timedelta(days=days)).isoformat(),
        "end": (today - timedelta(days=1)).isoformat(),
    }
    latencies: list[float] = []

    async def client_loop(http: httpx.AsyncClient, count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            response = await http.get(f"/api/v1/orgs/{ORG}/active-users", params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        # Warm-up at the same concurrency: connection pools (HTTP and Redis) are filled before
        # timing, so the figures are steady state, not connection setup.
        await asyncio.gather(*(client_loop(http, 2) for _ in range(clients)))
        latencies.clear()
        await asyncio.gather(*(client_loop(http, requests // clients) for _ in range(clients)))
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "requests": len(latencies),
    }


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_latency(
    base: str, token: str, days: int, clients: int, seconds: int = 8
) -> dict[str, float]:
    """p50/p99 from `wrk --latency` (a C load generator: the client's own CPU stays out of the
    figures, unlike a Python client sharing this 2-core machine with the reader)."""
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=days), today - timedelta(days=1)
    url = f"{base}/api/v1/orgs/{ORG}/active-users?start={start}&end={end}"
    command = [
        "wrk",
        "-t1",
        f"-c{clients}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    found = {pct: float(value) * WRK_UNITS[unit] for pct, value, unit in rows}
    requests = re.search(r"(\d+) requests in", output)
    return {
        "p50_ms": round(found["50"], 2),
        "p99_ms": round(found["99"], 2),
        "requests": int(requests.group(1)) if requests else 0,
    }


def wait_ready(base: str, timeout_s: float = 30) -> None:
    """Wait for the reader's /readyz."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the reader did not become ready")


def main() -> None:
    """Fill, serve, measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--daily", type=int, default=3_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--cache-s",
        type=float,
        default=0.0,
        help="INSIGHTS_READER_CACHE_S for the reader (0: every request merges; default 0)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "users": args.users,
        "daily_active": args.daily,
        "reader_cache_s": args.cache_s,
        "ranges": {},
    }
    with embedded_stack() as stack:
        settings = Settings(redis_url=stack.redis_url)
        token = asyncio.run(fill(settings, args.users, args.daily, max(RANGES)))
        port = free_port()
        env = {
            "INSIGHTS_REDIS_URL": stack.redis_url,
            "INSIGHTS_READER_CACHE_S": str(args.cache_s),
        }
        reader = start_insights(["reader", "--port", str(port)], env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base)
            for days in RANGES:
                single = asyncio.run(measure(base, token, days, 1, min(args.requests, 100)))
                loaded = (
                    wrk_latency(base, token, days, 50)
                    if shutil.which("wrk")
                    else asyncio.run(measure(base, token, days, 50, args.requests))
                )
                results["ranges"][f"{days}d"] = {"1_client": single, "50_clients": loaded}
                print(
                    f"{days:>4} days  1 client p50 {single['p50_ms']:>7} ms "
                    f"p99 {single['p99_ms']:>7} ms   50 clients p50 {loaded['p50_ms']:>7} ms "
                    f"p99 {loaded['p99_ms']:>7} ms",
                    flush=True,
                )
        finally:
            stop_process(reader)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    name = f"reads-cache{args.cache_s:g}-{datetime.now(UTC).date()}-{commit or 'nogit'}.json"
    out = args.out or Path("bench/results") / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(f"read_p99_ms_365d={results['ranges']['365d']['50_clients']['p99_ms']} written to {out}")


if __name__ == "__main__":
    main()
