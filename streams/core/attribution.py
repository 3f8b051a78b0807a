"""Turn a batch of logins and heartbeats into HyperLogLog additions and coverage marks."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from schemas.events import Heartbeat, Login
from schemas.vocabulary import Plan, Product
from streams.core.days import month_last_day, utc_day
from streams.core.keys import ALL, KeyLayout
from streams.core.timelines import DomainTimeline, PlanTimeline

UserProduct = tuple[str, Product]
SECONDS_PER_DAY = 86_400
# Keys that receive the same members, each with its last day (its expiry counts from there).
KeyGroup = tuple[tuple[str, date], ...]


@dataclass(slots=True)
class BatchWrites:
    """Everything one batch writes: members per group of keys, and the covered (product, day)
    cells.

    A login lands in nine keys, and the logins of one org, product, plan, domain and day all land
    in the same nine: kept as one group with one member set, each user id travels to Redis once
    per group instead of once per key. Packing nine copies of every id was a tenth of the
    worker's samples; sent once, worker and Redis CPU per login fell by about a fifth.
    """

    key_groups: list[tuple[KeyGroup, set[str]]] = field(default_factory=list)
    covered: set[tuple[Product, date]] = field(default_factory=set)
    # Each event's `occurred_at` as epoch seconds, in the batch's order (heartbeats included),
    # for the worker's lag metrics: worked out here once per event, not again.
    occurred_s: list[float] = field(default_factory=list)
    # Per product, the batch's latest login `occurred_at` (epoch seconds): what a plan change or
    # claim is compared with to tell whether it came late.
    latest_login_s: dict[Product, float] = field(default_factory=dict)
    counted: int = 0
    unmanaged: int = 0
    heartbeats: int = 0

    def add(self, keys: KeyGroup, members: set[str]) -> None:
        """Add `members` to every key of `keys`."""
        self.key_groups.append((keys, members))

    @property
    def additions(self) -> dict[str, set[str]]:
        """The members each key receives, all groups together."""
        per_key: dict[str, set[str]] = defaultdict(set)
        for keys, members in self.key_groups:
            for key, _ in keys:
                per_key[key] |= members
        return dict(per_key)

    @property
    def key_days(self) -> dict[str, date]:
        """The last day of each key written."""
        return {key: day for keys, _ in self.key_groups for key, day in keys}


# A login between its decoding and its batch's timeline read: user id, product, domain, UTC day
# and event time in epoch millis. The worker keeps these instead of the Login models, so a slice's
# models are freed while they are still in the CPU's caches: freeing a batch's models after its
# Redis round trip, when other batches had evicted them, was most of the fifth of the worker's
# samples spent in Py_DECREF.
PendingLogin = tuple[str, Product, str, date, int]


@dataclass(slots=True)
class ObservedBatch:
    """A batch's events reduced, slice by slice as they are decoded, to what its timeline read and
    its attribution need: the domains and (user, product) pairs to look up, each login's
    `PendingLogin`, and what needs no timeline (covered cells, event times, heartbeats)."""

    pending: list[PendingLogin] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    user_products: set[UserProduct] = field(default_factory=set)
    covered: set[tuple[Product, date]] = field(default_factory=set)
    # Each event's `occurred_at` as epoch seconds, in the batch's order (heartbeats included).
    occurred_s: list[float] = field(default_factory=list)
    # Per product, the batch's latest login and latest heartbeat: one comparison per event.
    latest_login_s: dict[Product, float] = field(default_factory=dict)
    latest_heartbeat_s: dict[Product, float] = field(default_factory=dict)
    heartbeats: int = 0
    # One timestamp() per event gives its millis and its UTC day (a batch spans a few days, so
    # the day is looked up by epoch day): 0.9 µs a login as three conversions, 0.4 as one.
    days: dict[float, date] = field(default_factory=dict)

    def observe(self, events: Iterable[Login | Heartbeat]) -> None:
        """Take in decoded events (names bound to locals: this loop runs once per event)."""
        pending, domains, user_products = self.pending, self.domains, self.user_products
        covered, occurred_s, latest_login_s, latest_heartbeat_s, days = (
            self.covered,
            self.occurred_s,
            self.latest_login_s,
            self.latest_heartbeat_s,
            self.days,
        )
        heartbeats = 0
        for event in events:
            occurred_at = event.occurred_at
            seconds = occurred_at.timestamp()
            occurred_s.append(seconds)
            product = event.product
            day = days.get(epoch_day := seconds // SECONDS_PER_DAY)
            if day is None:
                day = days[epoch_day] = utc_day(occurred_at)
            covered.add((product, day))
            if isinstance(event, Heartbeat):
                heartbeats += 1
                if seconds > latest_heartbeat_s.get(product, 0.0):
                    latest_heartbeat_s[product] = seconds
                continue
            if seconds > latest_login_s.get(product, 0.0):
                latest_login_s[product] = seconds
            domain, user_id = event.domain, event.user_id
            domains.add(domain)
            user_products.add((user_id, product))
            pending.append((user_id, product, domain, day, int(seconds * 1000)))
        self.heartbeats += heartbeats

    @property
    def latest_s(self) -> dict[Product, float]:
        """Per product, the batch's latest event of either kind (the last-event gauge's value),
        worked out once per batch from the two kinds."""
        latest = dict(self.latest_login_s)
        for product, seconds in self.latest_heartbeat_s.items():
            if seconds > latest.get(product, 0.0):
                latest[product] = seconds
        return latest

    def attribute(
        self,
        domains: Mapping[str, DomainTimeline],
        plans: Mapping[UserProduct, PlanTimeline],
        layout: KeyLayout,
    ) -> BatchWrites:
        """Attribute each managed login to its org and plan at event time, with the rollup keys.

        Builds new writes on every call: a batch whose write failed is attributed again."""
        writes = BatchWrites(
            covered=self.covered,
            occurred_s=self.occurred_s,
            latest_login_s=self.latest_login_s,
            heartbeats=self.heartbeats,
        )
        free = Plan.FREE
        # Users per (org, product, plan, domain, day) first: key names are built once per group,
        # not once per login, which matters on the hot path (nine keys per login).
        groups: dict[tuple[str, Product, Plan, str, date], set[str]] = defaultdict(set)
        counted = unmanaged = 0
        for user_id, product, domain, day, millis in self.pending:
            timeline = domains.get(domain)
            org_id = timeline.owner_at(millis) if timeline else None
            if org_id is None:
                unmanaged += 1
                continue
            # Only users with plan changes have a timeline; everyone else is on `free`.
            plan_timeline = plans.get((user_id, product))
            plan = free if plan_timeline is None else plan_timeline.plan_at(millis)
            counted += 1
            groups[(org_id, product, plan, domain, day)].add(user_id)
        writes.counted, writes.unmanaged = counted, unmanaged
        for group, users in groups.items():
            writes.add(group_keys(layout, *group), users)
        return writes


def observed(events: Iterable[Login | Heartbeat]) -> ObservedBatch:
    """All of a batch's events observed at once."""
    batch = ObservedBatch()
    batch.observe(events)
    return batch


def attribute(
    events: Iterable[Login | Heartbeat],
    domains: Mapping[str, DomainTimeline],
    plans: Mapping[UserProduct, PlanTimeline],
    layout: KeyLayout,
) -> BatchWrites:
    """Attribute each managed login to its org and plan at event time, with the rollup keys."""
    return observed(events).attribute(domains, plans, layout)


# Distinct groups a worker keeps meeting (orgs x products x plans x domains x recent days); each
# entry holds nine key names, about 1 KiB.
GROUP_KEYS_REMEMBERED = 8192


@lru_cache(maxsize=GROUP_KEYS_REMEMBERED)
def group_keys(
    layout: KeyLayout, org_id: str, product: Product, plan: Plan, domain: str, day: date
) -> KeyGroup:
    """The keys one group of users lands in, each with the day its expiry counts from: the
    write-time rollups (all plans, all products, both; per day and per month, so a value is a
    union of few keys) and the domain's key. Remembered: every batch meets the same groups, and
    building nine names per group was a fifth of attributing a batch."""
    month_end = month_last_day(day)  # a month key expires with its last day
    keys: list[tuple[str, date]] = []
    for product_part in (product, ALL):
        for plan_part in (plan, ALL):
            keys.append((layout.active_users(org_id, product_part, plan_part, day), day))
            keys.append(
                (layout.monthly_active_users(org_id, product_part, plan_part, day), month_end)
            )
    # Per claimed domain, so an admin can see which of their domains is silent.
    keys.append((layout.domain_users(org_id, domain, day), day))
    return tuple(keys)
