"""Turn a batch of logins and heartbeats into HyperLogLog additions and coverage marks."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from schemas.events import Heartbeat, Login
from schemas.vocabulary import Product
from streams.core.days import month_last_day, utc_day
from streams.core.keys import ALL, KeyLayout
from streams.core.timelines import DomainTimeline, PlanTimeline, to_millis

UserProduct = tuple[str, Product]


@dataclass(slots=True)
class BatchWrites:
    """Everything one batch writes: members per key, each key's last day (its expiry counts
    from there), and the covered (product, day) cells."""

    additions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    key_days: dict[str, date] = field(default_factory=dict)
    covered: set[tuple[Product, date]] = field(default_factory=set)
    counted: int = 0
    unmanaged: int = 0
    heartbeats: int = 0


def lookups(events: Iterable[Login | Heartbeat]) -> tuple[set[str], set[UserProduct]]:
    """The domain and plan timelines a batch needs, fetched in one round trip before attributing."""
    domains: set[str] = set()
    user_products: set[UserProduct] = set()
    for event in events:
        if isinstance(event, Login):
            domains.add(event.domain)
            user_products.add((event.user_id, event.product))
    return domains, user_products


def attribute(
    events: Iterable[Login | Heartbeat],
    domains: Mapping[str, DomainTimeline],
    plans: Mapping[UserProduct, PlanTimeline],
    layout: KeyLayout,
) -> BatchWrites:
    """Attribute each managed login to its org and plan at event time, with the rollup keys."""
    writes = BatchWrites()
    empty_plan = PlanTimeline()
    for event in events:
        day = utc_day(event.occurred_at)
        writes.covered.add((event.product, day))
        if isinstance(event, Heartbeat):
            writes.heartbeats += 1
            continue
        millis = to_millis(event.occurred_at)
        timeline = domains.get(event.domain)
        org_id = timeline.owner_at(millis) if timeline else None
        if org_id is None:
            writes.unmanaged += 1
            continue
        plan = plans.get((event.user_id, event.product), empty_plan).plan_at(millis)
        writes.counted += 1
        # Write-time rollups: all plans, all products and both, per day and per month, so a
        # value is always a union of few keys. The month key expires with its last day.
        month_end = month_last_day(day)
        for product_part in (event.product, ALL):
            for plan_part in (plan, ALL):
                key = layout.active_users(org_id, product_part, plan_part, day)
                writes.additions[key].add(event.user_id)
                writes.key_days[key] = day
                key = layout.monthly_active_users(org_id, product_part, plan_part, day)
                writes.additions[key].add(event.user_id)
                writes.key_days[key] = month_end
        # Per claimed domain, so an admin can see which of their domains is silent.
        key = layout.domain_users(org_id, event.domain, day)
        writes.additions[key].add(event.user_id)
        writes.key_days[key] = day
    return writes
