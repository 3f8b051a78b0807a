"""Plan-timeline reads per key: one redis-server against a 3-master cluster.

Run: `.venv/bin/python -m bench.timeline_reads` (prints µs per key; nothing is written).

A login batch reads the plan timeline of every (user, product) it holds before it attributes
anything (`RedisActiveUserStore.sorted_sets`). On one node that is one Lua call per 5,000 keys; on a
cluster the keys spread over every slot, so it is one call per node and 5,000 of its keys (until
`ef7cfff` it was one pipelined ZRANGE per key through redis-py's cluster pipeline, ~49 µs per key).
This measures both backends on the same keys (half of them holding a two-entry timeline, half
missing, as for users seen for the first time) on fresh servers.
"""

import argparse
import asyncio
import statistics
import time

from bench.memory import fresh_redis
from schemas.vocabulary import Product
from streams.core.keys import KeyLayout
from streams.store import RedisActiveUserStore, RedisClient

RETENTION_DAYS = 400


async def microseconds_per_key(client: RedisClient, keys: list[str], rounds: int) -> list[float]:
    """Fill the timelines, read them once to warm up, then time `rounds` reads of every key."""
    async with client.pipeline(transaction=False) as pipe:
        for index, key in enumerate(keys[::2]):
            pipe.zadd(key, {f"free:{index}": index, f"standard:{index}": index + 1})
        await pipe.execute()
    store = RedisActiveUserStore(client, KeyLayout(), RETENTION_DAYS)
    await store.sorted_sets(keys)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await store.sorted_sets(keys)
        timings.append((time.perf_counter() - started) * 1e6 / len(keys))
    return timings


async def measure(keys: int, rounds: int) -> None:
    """Print each backend's per-key read time, every round and the median."""
    layout = KeyLayout()
    names = [layout.plan_timeline(f"user-{n}", Product.JIRA) for n in range(keys)]
    for cluster in (False, True):
        async with fresh_redis(cluster) as (client, _):
            timings = await microseconds_per_key(client, names, rounds)
        label = "3-master cluster" if cluster else "one redis-server"
        rounds_text = " / ".join(f"{t:.1f}" for t in timings)
        print(f"{label:>17}: {statistics.median(timings):5.1f} µs per key ({rounds_text})")


def main() -> None:
    """Parse the options and run both backends."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=5_000, help="timelines read per batch")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.keys, args.rounds))


if __name__ == "__main__":
    main()
