"""A deterministic login replay in batched records, with the exact Redis state it must leave.

Built independently of the service's attribution code: plain Python sets of the user ids every
key must hold, from a world whose claims and plan histories the generator chose itself.
"""

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from schemas.vocabulary import Plan, Product
from streams.core.keys import ALL, EXACT_LIMIT, OVERFLOWED, KeyLayout
from streams.core.timelines import claim_member, plan_member, to_millis

PRODUCT_NAMES = tuple(p.value for p in Product)
PAID_PLANS = ("standard", "premium", "enterprise")
UNMANAGED_DOMAIN = "unclaimed.example"
DAY_SECONDS = 86_400
# (org, product, plan, day index, email domain): the users seen in each cell give every key's
# members; a user logging in many times a day counts once, so the truth stays small.
Cell = tuple[str, str, str, int, str]
Cells = dict[Cell, set[str]]


@dataclass(frozen=True)
class ReplaySpec:
    """Logins over orgs of the given sizes, on `days` days ending yesterday (UTC)."""

    logins: int
    org_sizes: tuple[int, ...]
    days: int = 30
    per_record: int = 50  # events per batched Kafka record (DESIGN: a record may be an array)
    seed: int = 1
    unmanaged_share: float = 0.05  # users whose email domain nobody claimed
    upgrade_share: float = 0.10  # (user, product) pairs whose plan changes inside the range
    track_records: bool = False  # keep each record's cells (to check a committed prefix)

    @property
    def end_day(self) -> date:
        """Yesterday (UTC): inside retention, never in the future."""
        return datetime.now(UTC).date() - timedelta(days=1)


@dataclass
class Expected:
    """What a correct worker leaves in Redis, and the outcome counts its metrics must show."""

    hll: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    sets: dict[str, set[str]] = field(default_factory=dict)
    zsets: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    counted: int = 0  # managed logins
    unmanaged: int = 0
    heartbeats: int = 0

    def add_cells(self, cells: Cells, first_day: date, layout: KeyLayout) -> None:
        """The day, month and domain keys of each cell, with rollups over plans and products."""
        hll = self.hll
        for (org, product, plan, index, domain), users in cells.items():
            day = first_day + timedelta(days=index)
            for product_part in (product, ALL):
                for plan_part in (plan, ALL):
                    hll[layout.active_users(org, product_part, plan_part, day)] |= users
                    hll[layout.monthly_active_users(org, product_part, plan_part, day)] |= users
            hll[layout.domain_users(org, domain, day)] |= users
        for key, members in hll.items():
            exact = members if len(members) <= EXACT_LIMIT else {OVERFLOWED}
            self.sets[layout.exact_companion(key)] = set(exact)


@dataclass(frozen=True)
class Replay:
    """Control lines (claims, plan changes), traffic lines (batched logins, heartbeats), truth."""

    control: list[bytes]
    traffic: list[bytes]
    events: int  # logins and heartbeats in the traffic lines
    expected: Expected
    record_cells: list[Cells]  # per traffic line, with track_records (else empty)
    first_day: date
    spec: ReplaySpec

    def describe(self) -> str:
        """The input in one line, for reports."""
        spec = self.spec
        return (
            f"{spec.logins:,} logins and {self.expected.heartbeats} heartbeats in "
            f"{len(self.traffic):,} records (up to {spec.per_record} logins per batched record) "
            f"by {sum(spec.org_sizes):,} users of {len(spec.org_sizes)} orgs over {spec.days} "
            f"days, after {len(self.control):,} records of claims and plan changes"
        )

    def prefix_expected(self, written: list[bool], layout: KeyLayout) -> Expected:
        """The HLL keys and exact sets that the traffic lines flagged `written` must have left."""
        cells: Cells = defaultdict(set)
        for line_cells, done in zip(self.record_cells, written, strict=True):
            if done:
                for cell, users in line_cells.items():
                    cells[cell] |= users
        expected = Expected()
        expected.add_cells(cells, self.first_day, layout)
        return expected


@dataclass(frozen=True, slots=True)
class User:
    """A user: id, org (None when the email domain is unclaimed), products, plan histories."""

    user_id: str
    org: str | None
    email: str
    products: tuple[str, ...]
    plans: dict[str, tuple[tuple[int, str], ...]]  # product -> sorted (effective epoch s, plan)

    def plan_at(self, product: str, epoch: int) -> str:
        """The latest plan effective at or before `epoch`; free when none is known."""
        plan = "free"
        for effective, name in self.plans.get(product, ()):
            if effective <= epoch:
                plan = name
        return plan


def stamp(at: datetime) -> str:
    """RFC 3339 in UTC with a Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def at_epoch(epoch: int) -> datetime:
    """The aware UTC instant of epoch seconds."""
    return datetime.fromtimestamp(epoch, UTC)


def org_domain(org: str) -> str:
    """The one domain each org claims."""
    return f"{org}.example"


class ReplayWorld:
    """Seeded orgs and users; writes control lines, traffic lines and their truth."""

    def __init__(self, spec: ReplaySpec, layout: KeyLayout) -> None:
        """Draw the world from the spec's seed."""
        self.spec = spec
        self.layout = layout
        self.rng = random.Random(spec.seed)
        self.first_day = spec.end_day - timedelta(days=spec.days - 1)
        self.start = datetime.combine(self.first_day, datetime.min.time(), UTC)
        self.start_epoch = int(self.start.timestamp())
        self.day_prefixes = [
            (self.first_day + timedelta(days=d)).isoformat() for d in range(spec.days)
        ]
        self.orgs = [f"org{index:03d}" for index in range(len(spec.org_sizes))]
        self.record_cells: list[Cells] = []
        self.users = [
            self.user(org, index)
            for org, size in zip(self.orgs, spec.org_sizes, strict=True)
            for index in range(size)
        ]

    def user(self, org: str, index: int) -> User:
        """One user: a claimed or unclaimed domain, one to three products, maybe plan changes."""
        rng, start = self.rng, self.start_epoch
        products = tuple(sorted(rng.sample(PRODUCT_NAMES, rng.randint(1, 3))))
        plans: dict[str, tuple[tuple[int, str], ...]] = {}
        for product in products:
            history = []
            if rng.random() < 0.6:
                before = start - rng.randint(1, 30) * DAY_SECONDS
                history.append((before, rng.choice(PAID_PLANS)))
            if rng.random() < self.spec.upgrade_share:
                inside = start + rng.randrange(self.spec.days * DAY_SECONDS)
                history.append((inside, rng.choice(PAID_PLANS)))
            if history:
                plans[product] = tuple(sorted(history))
        user_id = f"{org}-u{index:05d}"
        if rng.random() < self.spec.unmanaged_share:
            return User(user_id, None, f"{user_id}@{UNMANAGED_DOMAIN}", products, plans)
        return User(user_id, org, f"{user_id}@{org_domain(org)}", products, plans)

    def control(self, expected: Expected) -> list[bytes]:
        """One claim per org a week before the range, then every plan change, batched."""
        claimed = self.start - timedelta(days=7)
        lines = []
        for org in self.orgs:
            claim = {"type": "domain_claim", "org_id": org, "domain": org_domain(org)}
            lines.append(orjson.dumps({**claim, "action": "claim", "effective_at": stamp(claimed)}))
            timeline = expected.zsets[self.layout.domain_timeline(org_domain(org))]
            timeline[claim_member(claimed, "claim", org)] = to_millis(claimed)
            expected.sets[self.layout.org_domains(org)] = {org_domain(org)}
        changes = [change for user in self.users for change in self.plan_changes(user, expected)]
        per = self.spec.per_record
        lines.extend(orjson.dumps(changes[i : i + per]) for i in range(0, len(changes), per))
        return lines

    def plan_changes(self, user: User, expected: Expected) -> Iterator[dict[str, Any]]:
        """The user's plan changes as events, recorded in the expected plan timelines."""
        for product, history in user.plans.items():
            key = self.layout.plan_timeline(user.user_id, Product(product))
            for epoch, plan in history:
                at = at_epoch(epoch)
                expected.zsets[key][plan_member(at, Plan(plan))] = to_millis(at)
                yield {
                    "type": "plan_change",
                    "user_id": user.user_id,
                    "product": product,
                    "plan": plan,
                    "effective_at": stamp(at),
                }

    def traffic(self, expected: Expected) -> list[bytes]:
        """Batched login records, with one heartbeat per product and day spread among them."""
        cells: Cells = defaultdict(set)
        per, logins = self.spec.per_record, self.spec.logins
        records = [
            self.login_record(min(per, logins - i), cells, expected) for i in range(0, logins, per)
        ]
        heartbeats = self.heartbeat_records(expected)
        step = max(1, len(records) // max(1, len(heartbeats)))
        for position, heartbeat in enumerate(heartbeats):
            where = min(len(records), position * (step + 1))
            records.insert(where, heartbeat)
            if self.spec.track_records:
                self.record_cells.insert(where, {})
        expected.add_cells(cells, self.first_day, self.layout)
        return records

    def login_record(self, size: int, cells: Cells, expected: Expected) -> bytes:
        """One batched record of `size` logins by random users on random days."""
        rng, users, days, prefixes = self.rng, self.users, self.spec.days, self.day_prefixes
        events = []
        own: Cells = defaultdict(set)
        marks = expected.zsets[self.layout.latest_logins()]  # per product, latest login's millis
        for _ in range(size):
            user = users[int(rng.random() * len(users))]
            product = user.products[int(rng.random() * len(user.products))]
            day, second = int(rng.random() * days), int(rng.random() * DAY_SECONDS)
            hour, rest = divmod(second, 3600)
            at = f"{prefixes[day]}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"
            events.append(
                {"type": "login", "user_id": user.user_id, "email": user.email,
                 "product": product, "occurred_at": at}
            )  # fmt: skip
            millis = (self.start_epoch + day * DAY_SECONDS + second) * 1000
            if millis > marks.get(product, 0):
                marks[product] = millis
            if user.org is None:
                expected.unmanaged += 1
                continue
            expected.counted += 1
            plan = user.plan_at(product, self.start_epoch + day * DAY_SECONDS + second)
            cell = (user.org, product, plan, day, org_domain(user.org))
            cells[cell].add(user.user_id)
            own[cell].add(user.user_id)
        if self.spec.track_records:
            self.record_cells.append(own)
        return orjson.dumps(events)

    def heartbeat_records(self, expected: Expected) -> list[bytes]:
        """A heartbeat per product and day: every (product, day) is covered."""
        records = []
        for offset in range(self.spec.days):
            day = (self.start + timedelta(days=offset)).date()
            for product in PRODUCT_NAMES:
                at = self.start + timedelta(days=offset, hours=12)
                records.append(
                    orjson.dumps(
                        {"type": "heartbeat", "product": product, "occurred_at": stamp(at)}
                    )
                )
                expected.zsets[self.layout.coverage(Product(product))][day.isoformat()] = (
                    day.toordinal()
                )
                expected.heartbeats += 1
        return records


def build_replay(spec: ReplaySpec, layout: KeyLayout) -> Replay:
    """The replay and the exact state it must leave under `layout`'s prefix."""
    world = ReplayWorld(spec, layout)
    expected = Expected()
    control = world.control(expected)
    traffic = world.traffic(expected)
    events = spec.logins + expected.heartbeats
    return Replay(control, traffic, events, expected, world.record_cells, world.first_day, spec)
