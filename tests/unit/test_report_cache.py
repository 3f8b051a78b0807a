"""The reader's caches: reports (single flight, TTL, stale-while-refresh, bounded) and tokens."""

import asyncio

import pytest

from reader.auth import RecentTokens
from reader.report_cache import ReportCache


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


async def test_concurrent_identical_requests_compute_once() -> None:
    cache: ReportCache = ReportCache(ttl_s=0)
    calls = 0
    release = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    waiting = [asyncio.create_task(cache.get("k", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42] * 5
    assert calls == 1
    assert await cache.get("k", compute) == 42
    assert calls == 2  # ttl 0: nothing kept once the flight landed


async def test_documents_live_for_the_ttl_only() -> None:
    clock = Clock()
    cache: ReportCache = ReportCache(ttl_s=5, clock=clock)
    values = iter([1, 2])

    async def compute() -> int:
        return next(values)

    assert await cache.get("k", compute) == 1
    clock.now = 4.9
    assert await cache.get("k", compute) == 1
    clock.now = 10.0
    assert await cache.get("k", compute) == 2


async def test_a_stale_document_is_answered_while_one_refresh_runs() -> None:
    """Between one and two TTLs: the old document at once, one background refresh, then new."""
    clock = Clock()
    cache: ReportCache = ReportCache(ttl_s=5, clock=clock)
    values = iter([1, 2])
    calls = 0
    release = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()
        return next(values)

    assert await cache.get("k", compute) == 1
    clock.now = 6.0
    assert [await cache.get("k", compute) for _ in range(3)] == [1, 1, 1]
    await asyncio.sleep(0)
    assert calls == 2  # one refresh for the three stale answers
    release.set()
    await asyncio.gather(*cache.refreshes)
    assert await cache.get("k", compute) == 2


async def test_a_failed_refresh_keeps_the_stale_document_until_it_ages_out() -> None:
    clock = Clock()
    cache: ReportCache = ReportCache(ttl_s=5, clock=clock)
    outcomes: list[int | Exception] = [1, RuntimeError("redis down"), 3]

    async def compute() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await cache.get("k", compute) == 1
    clock.now = 6.0
    assert await cache.get("k", compute) == 1
    await asyncio.gather(*cache.refreshes, return_exceptions=True)
    clock.now = 10.0
    assert await cache.get("k", compute) == 3


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    cache: ReportCache = ReportCache(ttl_s=60)
    attempts = 0

    async def compute() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        if attempts == 1:
            raise ConnectionError("redis down")
        return 7

    results = await asyncio.gather(
        cache.get("k", compute), cache.get("k", compute), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await cache.get("k", compute) == 7


@pytest.mark.parametrize("size", [1, 3])
async def test_the_oldest_entries_are_evicted(size: int) -> None:
    cache: ReportCache = ReportCache(ttl_s=60, max_entries=size)

    async def compute() -> int:
        return 1

    for key in range(size + 2):
        await cache.get(key, compute)
    assert list(cache.done) == list(range(2, size + 2))


class CountingTokens:
    """A token store that counts lookups; `owners` can change under it (revocation)."""

    def __init__(self) -> None:
        """One known token."""
        self.owners: dict[str, str] = {"oit_a": "acme"}
        self.lookups = 0

    async def resolve(self, token: str) -> str | None:
        """The owner, counting the call."""
        self.lookups += 1
        return self.owners.get(token)


async def test_token_lookups_are_remembered_for_the_ttl_and_unknown_ones_never() -> None:
    clock = Clock()
    store = CountingTokens()
    tokens = RecentTokens(store, ttl_s=5, clock=clock)  # type: ignore[arg-type]
    assert [await tokens.resolve("oit_a") for _ in range(3)] == ["acme"] * 3
    assert store.lookups == 1
    assert await tokens.resolve("oit_guess") is None
    assert await tokens.resolve("oit_guess") is None
    assert store.lookups == 3  # unknown tokens always ask the store
    del store.owners["oit_a"]  # revoked
    clock.now = 4.9
    assert await tokens.resolve("oit_a") == "acme"
    clock.now = 5.0
    assert await tokens.resolve("oit_a") is None
