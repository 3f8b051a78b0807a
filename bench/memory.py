"""Redis memory: bytes per key at realistic cardinalities, and per org over the retention window.

Run: `.venv/bin/python -m bench.memory` (writes bench/results/memory-<date>-<sha>.json).

Everything goes through the real write path (`RedisActiveUserStore.write_batch`, so each HLL gets
its exact companion set and expiry) into a fresh redis-server, and is measured with
`MEMORY USAGE <key> SAMPLES 0` and with the server's `used_memory` before and after. The org
figures replay one simulated calendar month of a single org (last month, so the month rollups are
complete) and extrapolate to the retention window: 400 days of day keys plus the 14 month keys
alive at any time.
"""

import argparse
import asyncio
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from insights.embedded import free_port, start_redis, stop_process, wait_for_redis
from insights.redis_cluster import local_redis_cluster
from insights.simulation import SimulationSpec, simulate
from schemas.decode import TimeBounds, decode_record
from schemas.events import DomainClaim, Heartbeat, Login, PlanChange
from streams.core.attribution import BatchWrites, observed
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, RedisClient, connect_redis

CARDINALITIES = (1, 10, 64, 65, 100, 1_000, 10_000, 100_000)
RETENTION_DAYS = 400
MONTH_KEYS_ALIVE = 14  # a month key expires 400 days after its month's last day
NODE_BYTES = 16 * 2**30
USABLE = 0.75  # headroom: fragmentation, copy-on-write during AOF rewrite, client buffers
BATCH = 2000


def user_ids(count: int, salt: int = 0) -> list[str]:
    """Atlassian-style account ids (31 characters), as the simulation and production use."""
    return [f"557058:{salt:08x}{n:016x}" for n in range(count)]


@asynccontextmanager
async def fresh_redis(
    cluster: bool, sparse_max_bytes: int | None = None
) -> AsyncIterator[tuple[RedisClient, list[str]]]:
    """A new redis-server (or 3-master cluster): a client and the nodes' plain URLs; with
    `sparse_max_bytes`, every node's `hll-sparse-max-bytes` set to it first."""
    with tempfile.TemporaryDirectory(prefix="insights-memory-") as tmp:
        if cluster:
            with local_redis_cluster(Path(tmp)) as nodes:
                await configure(nodes.node_urls(), sparse_max_bytes)
                client = connect_redis(Settings(redis_url=nodes.url, redis_cluster=True))
                try:
                    yield client, nodes.node_urls()
                finally:
                    await client.aclose()
            return
        port = free_port()
        server = start_redis(port, Path(tmp))
        try:
            url = f"redis://127.0.0.1:{port}/0"
            wait_for_redis(url, 30, process=server)
            await configure([url], sparse_max_bytes)
            client = connect_redis(Settings(redis_url=url))
            try:
                yield client, [url]
            finally:
                await client.aclose()
        finally:
            stop_process(server)


async def configure(urls: list[str], sparse_max_bytes: int | None) -> None:
    """Redis's own memory-for-CPU trade: a sparse HyperLogLog's insert is linear in its size."""
    if sparse_max_bytes is None:
        return
    for url in urls:
        async with Redis.from_url(url) as node:
            await node.config_set("hll-sparse-max-bytes", sparse_max_bytes)


async def used_memory(urls: list[str]) -> int:
    """The sum of `used_memory` over the nodes."""
    total = 0
    for url in urls:
        client = connect_redis(Settings(redis_url=url))
        try:
            total += int((await client.info("memory"))["used_memory"])
        finally:
            await client.aclose()
    return total


async def usage(client: RedisClient, key: str) -> int:
    """MEMORY USAGE with every element counted (SAMPLES 0)."""
    return int(await client.memory_usage(key, samples=0) or 0)


async def key_sizes(sparse_max_bytes: int | None = None) -> list[dict[str, Any]]:
    """One org/product/plan/day HLL and its companion set at each cardinality."""
    rows = []
    async with fresh_redis(False, sparse_max_bytes) as (client, _):
        store = RedisActiveUserStore(client, KeyLayout("m"), RETENTION_DAYS)
        day = datetime.now(UTC).date()
        for count in CARDINALITIES:
            key = store.layout.active_users(f"org{count}", "jira", "standard", day)
            ids = user_ids(count)
            for start in range(0, count, BATCH):
                writes = BatchWrites()
                writes.add(((key, day),), set(ids[start : start + BATCH]))
                await store.write_batch(writes)
            raw: Any = await client.get(key)
            companion = store.layout.exact_companion(key)
            rows.append(
                {
                    "distinct_users": count,
                    "hll_encoding": "dense" if raw[4] == 0 else "sparse",
                    "hll_value_bytes": len(raw),
                    "hll_bytes": await usage(client, key),
                    "companion_members": await client.scard(companion),
                    "companion_bytes": await usage(client, companion),
                }
            )
    return rows


async def sparse_to_dense(sparse_max_bytes: int | None = None) -> dict[str, int]:
    """The distinct count at which an HLL leaves the sparse encoding (hll-sparse-max-bytes)."""
    async with fresh_redis(False, sparse_max_bytes) as (client, _):
        limit: Any = await client.config_get("hll-sparse-max-bytes")
        ids, added = user_ids(20_000, salt=7), 0
        while added < len(ids):
            await client.pfadd("probe", *ids[added : added + 10])
            added += 10
            raw: Any = await client.get("probe")
            if raw[4] == 0:
                break
        last_sparse = await client.pfcount("probe")
        return {
            "hll_sparse_max_bytes": int(limit["hll-sparse-max-bytes"]),
            "dense_after": added,
            "pfcount_at_switch": last_sparse,
        }


def last_full_month() -> tuple[date, int]:
    """The last day of the previous calendar month and that month's length."""
    end = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    return end, end.day


async def load_org(store: RedisActiveUserStore, users: int) -> dict[str, Any]:
    """One org's simulated month through attribution and the batch writes, as the agents do."""
    end, days = last_full_month()
    dataset = simulate(SimulationSpec(orgs=1, users=users, days=days, seed=5, end_day=end))
    bounds = TimeBounds.around(datetime.now(UTC), RETENTION_DAYS)
    events = [
        item for line in dataset.lines for item in decode_record(line, bounds)
        if isinstance(item, Login | Heartbeat | DomainClaim | PlanChange)
    ]  # fmt: skip
    for claim in (e for e in events if isinstance(e, DomainClaim)):
        await store.add_domain_claim(claim)
    await store.add_plan_changes(e for e in events if isinstance(e, PlanChange))
    traffic = [e for e in events if isinstance(e, Login | Heartbeat)]
    for start in range(0, len(traffic), BATCH):
        batch = observed(traffic[start : start + BATCH])
        timelines = await store.load_timelines(batch.domains, batch.user_products)
        await store.write_batch(batch.attribute(*timelines, store.layout))
    truth = dataset.truth["answers"]
    daily = [
        v for a in truth if a["product"] == "all" and a["interval"] == "day"
        for v in a["series"]["all"] if v
    ]  # fmt: skip
    return {
        "days": days,
        "month": end.strftime("%Y-%m"),
        "mean_daily_active": round(sum(daily) / len(daily)),
    }


def key_class(name: str) -> str:
    """Which part of the layout a key belongs to, from its name."""
    kind = "hll" if ":hll:" in name else "set" if ":set:" in name else ""
    if kind:
        scope = (
            "domain_day"
            if ":domain=" in name
            else "month"
            if len(name.rsplit(":", 1)[1]) == 7
            else "day"
        )
        return f"{scope}_{kind}"
    for part in ("plan", "domain", "coverage", "tokens", "domains"):
        if f":{part}:" in name or name.endswith(f":{part}"):
            return f"{part}_timeline" if part in ("plan", "domain") else part
    return "other"


DAILY = ("day_hll", "day_set", "domain_day_hll", "domain_day_set")
MONTHLY = ("month_hll", "month_set")


async def org_footprint(
    users: int, cluster: bool, sparse_max_bytes: int | None = None
) -> dict[str, Any]:
    """Bytes of one org's month by key class, per day, and extrapolated over the retention."""
    async with fresh_redis(cluster, sparse_max_bytes) as (client, urls):
        store = RedisActiveUserStore(client, KeyLayout("m"), RETENTION_DAYS)
        before = await used_memory(urls)
        loaded = await load_org(store, users)
        after = await used_memory(urls)
        classes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        async for key in client.scan_iter(match="m:*", count=1000):
            name = key.decode() if isinstance(key, bytes) else str(key)
            entry = classes[key_class(name)]
            entry[0] += 1
            entry[1] += await usage(client, name)
    days = loaded["days"]

    def total(names: tuple[str, ...], column: int) -> int:
        return sum(classes[name][column] for name in names)

    fixed = tuple(name for name in classes if name not in DAILY + MONTHLY)
    keys = sum(k for k, _ in classes.values())
    usage_sum = sum(b for _, b in classes.values())
    # What MEMORY USAGE leaves out: the expires entry, hash-table buckets and, on a cluster,
    # the slot-to-key index; spread over the keys.
    overhead = (after - before - usage_sum) / keys
    retained_keys = (
        total(DAILY, 0) / days * RETENTION_DAYS
        + total(MONTHLY, 0) * MONTH_KEYS_ALIVE
        + total(fixed, 0)
    )
    retained = (
        total(DAILY, 1) / days * RETENTION_DAYS
        + total(MONTHLY, 1) * MONTH_KEYS_ALIVE
        + total(fixed, 1)
        + retained_keys * overhead
    )
    return {
        "users": users,
        "redis": "cluster-3" if cluster else "single",
        **loaded,
        "by_class": {name: {"keys": k, "bytes": b} for name, (k, b) in sorted(classes.items())},
        "used_memory_delta": after - before,
        "memory_usage_sum": usage_sum,
        "overhead_bytes_per_key": round(overhead),
        "day_keys_per_day": round(total(DAILY, 0) / days, 1),
        "bytes_per_day": round(total(DAILY, 1) / days),
        "hll_bytes_per_day": round(total(("day_hll", "domain_day_hll"), 1) / days),
        "companion_bytes_per_day": round(total(("day_set", "domain_day_set"), 1) / days),
        "bytes_per_month_rollups": total(MONTHLY, 1),
        "bytes_timelines_and_registry": total(fixed, 1),
        "retained_keys": round(retained_keys),
        "bytes_per_org_retained": round(retained),
        "orgs_per_16gb_node": int(NODE_BYTES * USABLE // retained),
    }


async def measure(
    org_sizes: list[int],
    clusters: tuple[bool, ...] = (False, True),
    sparse_max_bytes: int | None = None,
) -> dict[str, Any]:
    """Every figure, in order; each org size on a single Redis and/or a 3-master cluster."""
    results: dict[str, Any] = {
        "keys": await key_sizes(sparse_max_bytes),
        "sparse_to_dense": await sparse_to_dense(sparse_max_bytes),
    }
    results["orgs"] = [
        await org_footprint(users, cluster, sparse_max_bytes)
        for users in org_sizes
        for cluster in clusters
    ]
    return results


HEADLINE_CARDINALITIES = (1, 1_000, 100_000)


def headline(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Table rows for the performance harness: a key's bytes at a few sizes, an org's per day."""
    per_key = {
        row["distinct_users"]: row["hll_bytes"] + row["companion_bytes"] for row in results["keys"]
    }
    sizes = [n for n in HEADLINE_CARDINALITIES if n in per_key]
    rows = [
        (
            "Redis bytes per key (HLL + exact set), "
            + " / ".join(f"{n:,}" for n in sizes)
            + " users",
            " / ".join(f"{per_key[n]:,}" for n in sizes) + " B",
        )
    ]
    for org in results["orgs"]:
        if org["redis"] == "single":
            rows.append(
                (
                    f"Redis bytes per org per day, {org['users']:,} users",
                    f"{org['bytes_per_day']:,} B ({org['bytes_per_org_retained'] / 2**20:,.1f} MiB "
                    f"over {RETENTION_DAYS} days)",
                )
            )
    return rows


def main() -> None:
    """Measure, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="1000,10000", help="org sizes to replay")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--hll-sparse-max-bytes", type=int, default=None, help="Redis setting (default: Redis's)"
    )
    parser.add_argument("--single-only", action="store_true", help="no 3-master cluster")
    args = parser.parse_args()
    clusters = (False,) if args.single_only else (False, True)
    results = asyncio.run(
        measure([int(n) for n in args.users.split(",")], clusters, args.hll_sparse_max_bytes)
    )
    for row in results["keys"]:
        print(orjson.dumps(row).decode())
    print(orjson.dumps(results["sparse_to_dense"]).decode())
    for org in results["orgs"]:
        print(orjson.dumps(org).decode())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    name = f"memory-{datetime.now(UTC).date()}-{commit or 'nogit'}.json"
    out = args.out or Path("bench/results") / name
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
