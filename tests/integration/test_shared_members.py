"""Groups of one batch that share rollup keys add up to unions there, in one script call."""

from datetime import UTC, datetime, timedelta

import pytest

from schemas.vocabulary import Plan, Product
from streams.core.attribution import BatchWrites, group_keys
from streams.core.keys import ALL, EXACT_LIMIT, OVERFLOWED, KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis

pytestmark = pytest.mark.integration

DAY = datetime.now(UTC).date() - timedelta(days=2)


def two_products(layout: KeyLayout, jira: set[str], trello: set[str]) -> BatchWrites:
    """One batch: `jira` users in Jira's nine keys, `trello` users in Trello's; both groups
    share the all-products keys."""
    writes = BatchWrites()
    for product, users in ((Product.JIRA, jira), (Product.TRELLO, trello)):
        writes.add(group_keys(layout, "acme", product, Plan.FREE, "acme.example", DAY), users)
    return writes


@pytest.mark.parametrize(
    ("jira", "trello"),
    [
        pytest.param({"a", "b", "c"}, {"c", "d"}, id="overlapping, exact"),
        pytest.param(
            {f"j{n}" for n in range(40)}, {f"t{n}" for n in range(40)}, id="union overflows"
        ),
    ],
)
async def test_a_key_shared_by_two_groups_counts_their_union(
    settings: Settings, jira: set[str], trello: set[str]
) -> None:
    client = connect_redis(settings)
    layout = KeyLayout(settings.key_prefix)
    store = RedisActiveUserStore(client, layout, 30)
    try:
        writes = two_products(layout, jira, trello)
        calls = store.add_members_calls(writes)
        assert len(calls) == 1  # one org: one hash slot, one script call
        await store.write_batch(writes)
        all_products = layout.active_users("acme", ALL, ALL, DAY)
        jira_key = layout.active_users("acme", Product.JIRA, ALL, DAY)
        counts = await store.count_unions([[all_products], [jira_key]])
        union = jira | trello
        companion = {
            member.decode() if isinstance(member, bytes) else member
            for member in await client.smembers(layout.exact_companion(all_products))
        }
        if len(union) <= EXACT_LIMIT:
            assert counts == [len(union), len(jira)]
            assert companion == union
        else:
            assert companion == {OVERFLOWED}
            assert abs(counts[0] - len(union)) <= 2  # the HyperLogLog's count of 80 ids
            assert counts[1] == len(jira)
    finally:
        await client.aclose()
