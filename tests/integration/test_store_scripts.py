"""The store's scripts on one Redis: loaded once, sent as raw EVALSHA in one pipeline per batch,
and loaded again after Redis lost them (a restart without its script cache)."""

import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from schemas.events import DomainClaim, PlanChange
from schemas.vocabulary import Plan, Product
from streams.core.attribution import BatchWrites, group_keys
from streams.core.keys import KeyLayout
from streams.core.timelines import to_millis
from streams.settings import Settings
from streams.store import (
    KEYS_PER_READ,
    RedisActiveUserStore,
    connect_redis,
    non_empty_zranges,
)

pytestmark = pytest.mark.integration

DAY = datetime.now(UTC).date() - timedelta(days=1)


def batch(layout: KeyLayout, users: set[str]) -> BatchWrites:
    """One group of users in one org's nine keys."""
    writes = BatchWrites()
    writes.add(group_keys(layout, "acme", Product.JIRA, Plan.FREE, "acme.example", DAY), users)
    return writes


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[RedisActiveUserStore]:
    """The worker's store on the test's own keys of one Redis, its client closed afterwards."""
    client = connect_redis(settings)
    try:
        yield RedisActiveUserStore(client, KeyLayout(settings.key_prefix), 30)
    finally:
        await client.aclose()


def single_redis(store: RedisActiveUserStore) -> Redis:
    """The store's client, which on one Redis is a plain `Redis`."""
    assert isinstance(store.client, Redis)
    return store.client


async def command_calls(client: Any) -> dict[str, int]:
    """Calls per command since the server started (INFO commandstats)."""
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def test_timelines_of_many_chunks_are_read_in_one_pipeline_without_script_checks(
    store: RedisActiveUserStore,
) -> None:
    client = single_redis(store)
    pairs = [(f"user-{n}", Product.JIRA) for n in range(2 * KEYS_PER_READ + 1000)]
    for user_id, product in pairs[::500]:  # every 500th user has a plan change
        key = store.layout.plan_timeline(user_id, product)
        await client.zadd(key, {f"1700000000000:{Plan.PREMIUM.value}": 1700000000000})
    await store.ensure_scripts_loaded()
    before = await command_calls(client)
    _, plans = await store.load_timelines([], pairs)
    await store.write_batch(batch(store.layout, {"a", "b"}))
    after = await command_calls(client)

    assert set(plans) == set(pairs[::500])
    assert all(timeline.plan_at(1800000000000) == Plan.PREMIUM for timeline in plans.values())
    reads = math.ceil(len(pairs) / KEYS_PER_READ)
    assert after.get("evalsha", 0) - before.get("evalsha", 0) == reads + 1  # and one write
    # redis-py's script calls on a pipeline ask SCRIPT EXISTS on every execute: not here.
    assert after.get("script", 0) == before.get("script", 0)


async def test_timelines_read_by_the_script_match_one_zrange_per_key_at_every_density(
    store: RedisActiveUserStore,
) -> None:
    """Runs of keys none, few, some, most and all of which exist (and a key asked twice), over
    chunk boundaries: the script's EXISTS halving finds every one, in place."""
    client = single_redis(store)
    rng = random.Random(7)
    keys = [store.layout.plan_timeline(f"density-{n}", Product.TRELLO) for n in range(12_000)]
    densities = (0.0, 0.001, 0.01, 0.1, 0.3, 0.9, 1.0)
    run = len(keys) // len(densities)
    async with client.pipeline(transaction=False) as pipe:
        for n, key in enumerate(keys):
            if rng.random() < densities[min(n // run, len(densities) - 1)]:
                pipe.zadd(key, {f"{n}:{Plan.PREMIUM.value}": n, f"{n + 1}:free": n + 1})
        await pipe.execute()
    keys.insert(100, keys[-1])  # the last run's keys all exist
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zrange(key, 0, -1)
        expected = await pipe.execute()
    assert 0 < sum(1 for members in expected if members) < len(keys)

    assert await store.sorted_sets(keys) == non_empty_zranges(expected)
    assert await store.sorted_sets(keys[-1:]) == {0: expected[-1]}
    assert await store.sorted_sets([]) == {}


async def test_a_batch_reads_its_domain_and_plan_timelines_in_one_call_each_in_its_place(
    store: RedisActiveUserStore,
) -> None:
    """Domain timelines come first in the read, plan timelines after: each lands on its own."""
    claimed = datetime(2026, 1, 1, tzinfo=UTC)
    await store.add_domain_claim(
        DomainClaim(
            type="domain_claim",
            org_id="acme",
            domain="acme.example",
            action="claim",
            effective_at=claimed,
        )
    )
    changed = PlanChange(
        type="plan_change",
        user_id="u-2",
        product=Product.JIRA,
        plan=Plan.PREMIUM,
        effective_at=claimed,
    )
    await store.add_plan_changes([changed])
    pairs = [(f"u-{n}", Product.JIRA) for n in range(200)]
    domains, plans = await store.load_timelines(["nobody.example", "acme.example"], pairs)

    assert list(domains) == ["acme.example"]
    assert domains["acme.example"].owner_at(to_millis(claimed)) == "acme"
    assert list(plans) == [("u-2", Product.JIRA)]
    assert plans["u-2", Product.JIRA].plan_at(to_millis(claimed)) == Plan.PREMIUM


async def test_a_redis_that_lost_its_scripts_fails_one_attempt_and_the_retry_loads_them(
    store: RedisActiveUserStore,
) -> None:
    client = store.client
    layout = store.layout
    day_key = layout.active_users("acme", Product.JIRA, Plan.FREE, DAY)
    await store.write_batch(batch(layout, {"a", "b"}))
    assert store.scripts_loaded

    await client.script_flush()
    with pytest.raises(NoScriptError):
        await store.write_batch(batch(layout, {"c"}))
    assert not store.scripts_loaded
    await store.write_batch(batch(layout, {"c"}))  # the retry of the batch
    assert await store.count_unions([[day_key]]) == [3]

    await client.script_flush()
    with pytest.raises(NoScriptError):
        await store.load_timelines([], [("a", Product.JIRA)])
    assert not store.scripts_loaded
    assert await store.load_timelines([], [("a", Product.JIRA)]) == ({}, {})
