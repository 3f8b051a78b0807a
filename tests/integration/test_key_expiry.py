"""Every key the worker writes expires at its day's end plus retention, however it was written."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.vocabulary import Plan, Product
from streams.core.attribution import BatchWrites, group_keys
from streams.core.days import day_end
from streams.core.keys import EXACT_LIMIT, KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis

pytestmark = pytest.mark.integration

RETENTION_DAYS = 30


def batch(layout: KeyLayout, day: date, users: list[str]) -> BatchWrites:
    """One group's writes: `users` in the nine keys of org `acme`, Jira, Standard, `day`."""
    writes = BatchWrites()
    writes.add(
        group_keys(layout, "acme", Product.JIRA, Plan.STANDARD, "acme.example", day), set(users)
    )
    return writes


def expected_expiry(key_day: date) -> int:
    return int((day_end(key_day) + timedelta(days=RETENTION_DAYS)).timestamp())


@pytest.mark.parametrize(
    "rounds",
    [
        pytest.param([["u1", "u2"]], id="new keys"),
        pytest.param([["u1", "u2"], ["u1", "u2"]], id="repeat visitors"),
        pytest.param([[f"u{n}" for n in range(EXACT_LIMIT + 5)]], id="overflowed at once"),
        pytest.param(
            [[f"u{n}" for n in range(EXACT_LIMIT)], [f"v{n}" for n in range(8)], ["v1"]],
            id="overflowed later, then unchanged",
        ),
    ],
)
async def test_hyperloglogs_and_exact_sets_expire_at_day_end_plus_retention(
    settings: Settings, rounds: list[list[str]]
) -> None:
    client = connect_redis(settings)
    layout = KeyLayout(settings.key_prefix)
    store = RedisActiveUserStore(client, layout, RETENTION_DAYS)
    day = datetime.now(UTC).date() - timedelta(days=3)
    try:
        for users in rounds:
            await store.write_batch(batch(layout, day, users))
        writes = batch(layout, day, [])
        assert len(writes.key_days) == 9
        for key, key_day in writes.key_days.items():
            for written in (key, layout.exact_companion(key)):
                assert await client.exists(written), written
                # TTL, not EXPIRETIME: the embedded redis-server is 6.2.
                remaining = expected_expiry(key_day) - time.time()
                assert abs(await client.ttl(written) - remaining) <= 2, written
    finally:
        await client.aclose()
