"""A HyperLogLog whose exact set went missing is counted from its registers, not as empty."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.vocabulary import Plan, Product
from streams.core.attribution import BatchWrites, group_keys
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis

pytestmark = pytest.mark.integration

RETENTION_DAYS = 30
DAY = datetime.now(UTC).date() - timedelta(days=2)


def batch(layout: KeyLayout, users: list[str]) -> BatchWrites:
    """One group's writes: `users` in the nine keys of org `acme`, Jira, Standard, DAY."""
    writes = BatchWrites()
    writes.add(
        group_keys(layout, "acme", Product.JIRA, Plan.STANDARD, "acme.example", DAY), set(users)
    )
    return writes


def users(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


@pytest.fixture
async def store(settings: Settings) -> RedisActiveUserStore:
    layout = KeyLayout(settings.key_prefix)
    return RedisActiveUserStore(connect_redis(settings), layout, RETENTION_DAYS)


async def test_a_key_whose_exact_set_went_missing_is_counted_from_its_hyperloglog(
    store: RedisActiveUserStore,
) -> None:
    writes = batch(store.layout, users("a", 4))
    await store.write_batch(writes)
    day_key, month_key = sorted(writes.key_days)[:2]
    await store.client.delete(store.layout.exact_companion(day_key))
    # Before, a missing set read as an empty day: 0 users, beside a HyperLogLog holding four.
    assert await store.count_unions([[day_key], [day_key, month_key]]) == [4, 4]
    await store.client.aclose()
