"""The active-users report over an exact in-memory reader: unions, coverage, the 9 December example.

`SetActiveUserReader` gives PFCOUNT-of-several-keys its exact meaning (the size of the union of
the sets) and refuses a group whose keys span two hash tags, as Redis Cluster would (CROSSSLOT).
Events go through the real schema models, `judge_claim`, plan timelines and `attribute()`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import DomainClaim, Heartbeat, Login, PlanChange
from schemas.vocabulary import PLANS, PRODUCTS, Plan, Product
from streams.core.attribution import BatchWrites, UserProduct, observed
from streams.core.claims import ClaimVerdict, judge_claim
from streams.core.days import Interval
from streams.core.keys import KeyLayout
from streams.core.series import SERIES_NAMES, Coverage, SeriesQuery
from streams.core.timelines import DomainTimeline, PlanTimeline, claim_member, plan_member
from streams.report import ActiveUserReader, active_users

LAYOUT = KeyLayout(prefix="t")


def _hash_tag(key: str) -> str:
    start = key.index("{") + 1
    return key[start : key.index("}", start)]


@dataclass
class SetActiveUserReader:
    """An ActiveUserReader over Python sets, with Redis Cluster's one-slot rule for unions."""

    sets: dict[str, set[str]] = field(default_factory=dict)
    covered: Coverage = field(default_factory=set)
    round_trips: int = 0

    def write(self, writes: BatchWrites) -> None:
        """Apply a batch as the store's pipeline would (PFADD is a set union)."""
        for key, members in writes.additions.items():
            self.sets.setdefault(key, set()).update(members)
        self.covered |= writes.covered

    async def covered_days(self, products: tuple[Product, ...], start: date, end: date) -> Coverage:
        """The covered cells of these products in [start, end]."""
        return {(p, d) for p, d in self.covered if p in products and start <= d <= end}

    async def count_unions(self, key_groups: list[list[str]]) -> list[int]:
        """Exactly what multi-key PFCOUNT estimates: the size of the union."""
        self.round_trips += 1
        for group in key_groups:
            assert group, "PFCOUNT needs at least one key"
            assert len({_hash_tag(key) for key in group}) == 1, f"CROSSSLOT: {group}"
        return [len(set().union(*(self.sets.get(key, set()) for key in g))) for g in key_groups]


def _conforms(reader: SetActiveUserReader) -> ActiveUserReader:
    return reader  # mypy checks the fake against the Protocol here


# --- events -------------------------------------------------------------------------------------

Inbound = Login | Heartbeat | PlanChange | DomainClaim


def login(user_id: str, at: str, product: str = "trello", email: str = "") -> Login:
    return Login.model_validate(
        {
            "type": "login",
            "user_id": user_id,
            "email": email or f"{user_id}@acme.com",
            "product": product,
            "occurred_at": at,
        }
    )


def heartbeat(product: str, at: str) -> Heartbeat:
    return Heartbeat.model_validate({"type": "heartbeat", "product": product, "occurred_at": at})


def plan_change(user_id: str, product: str, plan: str, at: str) -> PlanChange:
    return PlanChange.model_validate(
        {
            "type": "plan_change",
            "user_id": user_id,
            "product": product,
            "plan": plan,
            "effective_at": at,
        }
    )


def claim(org_id: str, domain: str, at: str, action: str = "claim") -> DomainClaim:
    return DomainClaim.model_validate(
        {
            "type": "domain_claim",
            "org_id": org_id,
            "domain": domain,
            "action": action,
            "effective_at": at,
        }
    )


ACME_SINCE_2020 = claim("acme", "acme.com", "2020-01-01T00:00:00Z")


def ingest(events: Iterable[Inbound]) -> SetActiveUserReader:
    """Control events first (as if they arrived before the logins), then one batch of logins."""
    claims: dict[str, list[str]] = {}
    plans: dict[UserProduct, list[str]] = {}
    observations: list[Login | Heartbeat] = []
    for event in events:
        if isinstance(event, DomainClaim):
            timeline = DomainTimeline.decode(claims.get(event.domain, []))
            if judge_claim(timeline, event).verdict is ClaimVerdict.ACCEPT:
                member = claim_member(event.effective_at, event.action, event.org_id)
                claims.setdefault(event.domain, []).append(member)
        elif isinstance(event, PlanChange):
            member = plan_member(event.effective_at, event.plan)
            plans.setdefault((event.user_id, event.product), []).append(member)
        else:
            observations.append(event)
    batch = observed(observations)
    domain_timelines = {d: DomainTimeline.decode(claims[d]) for d in batch.domains if d in claims}
    plan_timelines = {p: PlanTimeline.decode(plans[p]) for p in batch.user_products if p in plans}
    reader = SetActiveUserReader()
    reader.write(batch.attribute(domain_timelines, plan_timelines, LAYOUT))
    return reader


async def report(
    reader: SetActiveUserReader,
    start: str,
    end: str,
    interval: Interval = Interval.DAY,
    product: Product | None = None,
    today: str = "2027-06-01",
    org_id: str = "acme",
    retention_days: int = 400,
) -> dict[str, Any]:
    query = SeriesQuery(
        org_id, product, date.fromisoformat(start), date.fromisoformat(end), interval
    )
    return await active_users(
        _conforms(reader), LAYOUT, query, date.fromisoformat(today), retention_days=retention_days
    )


def _heartbeats_every_day(
    first: str, last: str, products: Sequence[Product] = PRODUCTS
) -> list[Inbound]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    beats: list[Inbound] = []
    while day <= end:
        beats.extend(heartbeat(p.value, f"{day.isoformat()}T12:00:00Z") for p in products)
        day += timedelta(days=1)
    return beats


def _zeros(**values: int | None) -> dict[str, int | None]:
    return {name: values.get(name, 0) for name in SERIES_NAMES}


# --- the 9 December example ---------------------------------------------------------------------

UPGRADE = plan_change("u1", "trello", "enterprise", "2026-12-09T00:00:00Z")
DECEMBER = [
    ACME_SINCE_2020,
    UPGRADE,
    *_heartbeats_every_day("2026-12-01", "2026-12-31"),
    login("u1", "2026-12-03T10:00:00Z"),
    login("u1", "2026-12-08T23:59:59Z"),  # the last free instant
    login("u1", "2026-12-09T00:00:00Z"),  # the upgrade instant: enterprise
    login("u1", "2026-12-20T10:00:00+05:00"),
]


@pytest.mark.parametrize("product", [Product.TRELLO, None])
async def test_the_9_december_upgrade_counts_once_per_plan_and_once_in_total(
    product: Product | None,
) -> None:
    document = await report(ingest(DECEMBER), "2026-12-01", "2026-12-31", Interval.MONTH, product)
    assert document["periods"] == ["2026-12-01"]
    expected = _zeros(all=1, free=1, enterprise=1)
    assert {name: values[0] for name, values in document["series"].items()} == expected
    assert document["totals"] == expected
    assert (document["missing"], document["partial"]) == ([False], [False])


async def test_the_9_december_upgrade_day_by_day() -> None:
    document = await report(ingest(DECEMBER), "2026-12-01", "2026-12-31")
    series = document["series"]
    by_day = {
        day: {n: series[n][i] for n in SERIES_NAMES} for i, day in enumerate(document["periods"])
    }
    assert by_day["2026-12-03"] == _zeros(all=1, free=1)
    assert by_day["2026-12-08"] == _zeros(all=1, free=1)
    assert by_day["2026-12-09"] == _zeros(all=1, enterprise=1)
    assert by_day["2026-12-20"] == _zeros(all=1, enterprise=1)
    assert by_day["2026-12-04"] == _zeros()  # covered, nobody logged in: 0, not null
    assert document["missing"] == [False] * 31


async def test_the_9_december_upgrade_week_by_week() -> None:
    document = await report(ingest(DECEMBER), "2026-12-01", "2026-12-31", Interval.WEEK)
    assert document["periods"] == [
        "2026-12-01",
        "2026-12-07",
        "2026-12-14",
        "2026-12-21",
        "2026-12-28",
    ]
    assert document["series"]["free"] == [1, 1, 0, 0, 0]
    assert document["series"]["enterprise"] == [0, 1, 1, 0, 0]
    assert document["series"]["all"] == [1, 1, 1, 0, 0]  # the week of 7 Dec: one user, two plans


# --- missing, zero, partial ---------------------------------------------------------------------

COVERAGE_WEEK = [
    ACME_SINCE_2020,
    heartbeat("trello", "2026-12-01T09:00:00Z"),  # covered, nobody logged in
    login("u1", "2026-12-02T09:00:00Z"),
    # 3 December: nothing at all
    login("u1", "2026-12-04T09:00:00Z", product="jira"),  # trello not covered that day
    *_heartbeats_every_day("2026-12-05", "2026-12-05"),
    login("u2", "2026-12-05T09:00:00Z"),
    login("u3", "2026-12-06T09:00:00Z"),  # today
    login("u4", "2026-12-06T09:00:00Z", email="u4@unclaimed.org", product="jsm"),  # covers jsm
]
N = None


@pytest.mark.parametrize(
    ("product", "interval", "start", "end", "values", "missing", "partial", "total"),
    [
        pytest.param(
            Product.TRELLO,
            Interval.DAY,
            "2026-12-01",
            "2026-12-07",
            [0, 1, N, N, 1, 1, N],
            [False, False, True, True, False, False, True],
            [False, False, False, False, False, True, True],  # 7 December is not over: no data yet
            3,
            id="trello by day",
        ),
        pytest.param(
            None,
            Interval.DAY,
            "2026-12-01",
            "2026-12-07",
            [0, 1, N, 1, 1, 1, N],
            [False, False, True, False, False, False, True],
            [True, True, False, True, False, True, True],
            3,
            id="all products by day",
        ),
        pytest.param(
            Product.JIRA,
            Interval.DAY,
            "2026-12-01",
            "2026-12-06",
            [N, N, N, 1, 0, N],
            [True, True, True, False, False, True],
            [False] * 5 + [True],  # today: missing so far, and not over
            1,
            id="jira by day",
        ),
        pytest.param(
            Product.CONFLUENCE,
            Interval.DAY,
            "2026-12-04",
            "2026-12-06",
            [N, 0, N],
            [True, False, True],
            [False, False, True],
            0,  # a covered range with no logins totals 0, not null
            id="confluence: zero, not null",
        ),
        pytest.param(
            Product.TRELLO,
            Interval.WEEK,
            "2026-12-01",
            "2026-12-07",
            [3, N],
            [False, True],
            [True, True],
            3,
            id="trello by week",
        ),
        pytest.param(
            Product.TRELLO,
            Interval.DAY,
            "2026-12-02",
            "2026-12-02",
            [1],
            [False],
            [False],
            1,
            id="one past day",
        ),
        pytest.param(
            Product.JSM,
            Interval.WEEK,
            "2026-11-23",
            "2026-12-04",
            [N, N],
            [True, True],
            [False, False],
            N,  # the whole range is missing: totals are null
            id="jsm: wholly missing",
        ),
        pytest.param(
            None,
            Interval.MONTH,
            "2026-11-20",
            "2026-12-31",
            [N, 3],
            [True, False],
            [False, True],
            3,
            id="all products by month",
        ),
    ],
)
async def test_missing_zero_and_partial(
    product: Product | None,
    interval: Interval,
    start: str,
    end: str,
    values: list[int | None],
    missing: list[bool],
    partial: list[bool],
    total: int | None,
) -> None:
    document = await report(
        ingest(COVERAGE_WEEK), start, end, interval, product, today="2026-12-06"
    )
    assert document["series"]["all"] == values
    assert document["missing"] == missing
    assert document["partial"] == partial
    assert document["totals"]["all"] == total
    for name in SERIES_NAMES:  # a missing period is null in every series, never 0
        assert [v is None for v in document["series"][name]] == missing
        assert (document["totals"][name] is None) == (total is None)


# With 10 days of retention on 6 December, 26 November is the oldest day whose keys Redis still
# holds; the in-memory reader keeps every key, as Redis's coverage set keeps every day.
PAST_RETENTION = [
    ACME_SINCE_2020,
    login("expired-1", "2026-11-20T09:00:00Z"),
    login("expired-2", "2026-11-25T09:00:00Z"),
    login("kept", "2026-11-26T09:00:00Z"),
    *_heartbeats_every_day("2026-11-20", "2026-11-30", [Product.TRELLO]),
]


async def test_days_past_the_retention_window_are_missing_not_zero() -> None:
    document = await report(
        ingest(PAST_RETENTION),
        *("2026-11-25", "2026-11-26", Interval.DAY, Product.TRELLO),
        today="2026-12-06",
        retention_days=10,
    )
    assert document["series"]["all"] == [None, 1]
    assert document["missing"] == [True, False]
    assert document["totals"]["all"] == 1  # the kept day's user only


async def test_a_period_reaching_past_the_window_is_partial_and_counts_its_kept_days() -> None:
    document = await report(
        ingest(PAST_RETENTION),
        *("2026-11-01", "2026-11-30", Interval.MONTH, Product.TRELLO),
        today="2026-12-06",
        retention_days=10,
    )
    assert document["series"]["all"] == [1]
    assert document["missing"] == [False]
    assert document["partial"] == [True]  # every kept day is covered and the month is over
    assert document["totals"]["all"] == 1


async def test_the_same_days_inside_the_window_are_counted() -> None:
    document = await report(
        ingest(PAST_RETENTION),
        *("2026-11-01", "2026-11-30", Interval.MONTH, Product.TRELLO),
        today="2026-12-06",
        retention_days=400,
    )
    assert document["series"]["all"] == [3]
    assert document["totals"]["all"] == 3


async def test_a_range_with_no_coverage_at_all_asks_for_no_counts() -> None:
    reader = ingest([ACME_SINCE_2020])
    document = await report(reader, "2026-12-01", "2026-12-31", Interval.WEEK)
    assert document["totals"] == dict.fromkeys(SERIES_NAMES)
    assert reader.round_trips <= 1


async def test_every_count_is_read_in_one_round_trip() -> None:
    reader = ingest(DECEMBER)
    await report(reader, "2026-12-01", "2026-12-31", Interval.DAY)
    assert reader.round_trips == 1


# --- unions, never sums -------------------------------------------------------------------------

UNIONS = [
    ACME_SINCE_2020,
    *_heartbeats_every_day("2026-12-07", "2026-12-13"),
    plan_change("u1", "jira", "enterprise", "2026-01-01T00:00:00Z"),
    login("u1", "2026-12-07T09:00:00Z"),  # trello, free
    login("u1", "2026-12-08T09:00:00Z"),  # the same user, another day
    login("u1", "2026-12-08T10:00:00Z", product="jira"),  # ... another product and plan
    login("u1", "2026-12-08T11:00:00Z", email="U1.Other@ACME.com"),  # another email, same user
    login("u2", "2026-12-09T09:00:00Z", product="confluence"),
]


@pytest.mark.parametrize(
    ("product", "interval", "series", "totals"),
    [
        pytest.param(
            Product.TRELLO,
            Interval.DAY,
            {"all": [1, 1, 0], "free": [1, 1, 0], "enterprise": [0, 0, 0]},
            _zeros(all=1, free=1),
            id="trello by day",
        ),
        pytest.param(
            Product.TRELLO,
            Interval.WEEK,
            {"all": [1], "free": [1], "enterprise": [0]},
            _zeros(all=1, free=1),
            id="a week is distinct over its days",
        ),
        pytest.param(
            None,
            Interval.DAY,
            {"all": [1, 1, 1], "free": [1, 1, 1], "enterprise": [0, 1, 0]},
            _zeros(all=2, free=2, enterprise=1),
            id="all products are distinct over products and plans",
        ),
        pytest.param(
            None,
            Interval.WEEK,
            {"all": [2], "free": [2], "enterprise": [1]},
            _zeros(all=2, free=2, enterprise=1),
            id="all products by week",
        ),
        pytest.param(
            None,
            Interval.MONTH,
            {"all": [2], "free": [2], "enterprise": [1]},
            _zeros(all=2, free=2, enterprise=1),
            id="all products by month",
        ),
        pytest.param(
            Product.JIRA,
            Interval.WEEK,
            {"all": [1], "free": [0], "enterprise": [1]},
            _zeros(all=1, enterprise=1),
            id="jira by week",
        ),
    ],
)
async def test_counts_are_unions_never_sums(
    product: Product | None,
    interval: Interval,
    series: dict[str, list[int]],
    totals: dict[str, int],
) -> None:
    document = await report(ingest(UNIONS), "2026-12-07", "2026-12-09", interval, product)
    for name, values in series.items():
        assert document["series"][name] == values, name
    assert document["totals"] == totals


async def test_an_org_sees_only_its_own_managed_users() -> None:
    events: list[Inbound] = [
        ACME_SINCE_2020,
        claim("globex", "globex.com", "2020-01-01T00:00:00Z"),
        claim("globex", "acme.com", "2020-06-01T00:00:00Z"),  # conflicting: rejected
        login("u1", "2026-12-07T09:00:00Z"),
        login("u2", "2026-12-07T09:00:00Z", email="u2@globex.com"),
        login("u3", "2026-12-07T09:00:00Z", email="u3@eu.acme.com"),  # subdomain: unmanaged
    ]
    acme = await report(ingest(events), "2026-12-07", "2026-12-07")
    globex = await report(ingest(events), "2026-12-07", "2026-12-07", org_id="globex")
    assert acme["series"]["all"] == [1]
    assert globex["series"]["all"] == [1]
    assert acme["totals"]["all"] == globex["totals"]["all"] == 1


async def test_the_document_has_the_api_shape() -> None:
    document = await report(
        ingest(DECEMBER), "2026-12-01", "2026-12-31", Interval.WEEK, Product.JSM
    )
    assert list(document) == [
        "org_id",
        "product",
        "start",
        "end",
        "interval",
        "periods",
        "series",
        "missing",
        "partial",
        "totals",
    ]
    assert (document["org_id"], document["product"], document["interval"]) == (
        "acme",
        "jsm",
        "week",
    )
    assert (document["start"], document["end"]) == ("2026-12-01", "2026-12-31")
    assert list(document["series"]) == list(document["totals"]) == list(SERIES_NAMES)
    lengths = {len(document[k]) for k in ("periods", "missing", "partial")}
    lengths |= {len(values) for values in document["series"].values()}
    assert lengths == {5}


# --- property: the report equals an exact reference ---------------------------------------------

BASE = datetime(2026, 12, 20, tzinfo=UTC)  # the window spans a year end and ISO week 2026-W53
WINDOW_DAYS = 16
USERS = ("u0", "u1", "u2")
# Mostly acme.com, so that periods hold several users and days to take unions over.
DOMAINS = ("acme.com", "acme.com", "acme.com", "globex.com", "unclaimed.org")

# Plan changes and claims sit on a coarse grid that includes midnights.
grid = st.integers(min_value=0, max_value=WINDOW_DAYS * 3 - 1).map(lambda n: n * 8 * 60)
minutes = st.one_of(grid, st.integers(min_value=0, max_value=WINDOW_DAYS * 24 * 60 - 1))
offsets = st.sampled_from([0, 60, -120, 330, 840, -720])  # minutes east of UTC

LoginSpec = tuple[str, Product, str, int, int]  # user, product, domain, UTC minute, offset
PlanSpecs = dict[tuple[str, Product, int], Plan]  # (user, product, UTC minute) -> plan


@dataclass(frozen=True)
class Scenario:
    """Generated traffic for one org `acme` (plus a neighbour `globex` and unclaimed logins)."""

    logins: list[LoginSpec]
    heartbeats: list[tuple[Product, int]]
    plans: PlanSpecs
    claimed: int
    released: int | None


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Random logins, plus logins on the edges the rules name and repeats unions must absorb."""
    plans = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(USERS), st.sampled_from(PRODUCTS), grid),
            st.sampled_from(PLANS),
            max_size=6,
        )
    )
    claimed = draw(st.one_of(st.just(0), grid))
    released = draw(st.one_of(st.none(), grid.filter(lambda m: m > claimed)))
    login = st.tuples(
        st.sampled_from(USERS),
        st.sampled_from(PRODUCTS),
        st.sampled_from(DOMAINS),
        minutes,
        offsets,
    )
    logins = draw(st.lists(login, min_size=1, max_size=20))
    # Logins exactly at a plan change, the claim or the release.
    edges = [*plans] if plans else [(u, p, claimed) for u in USERS for p in PRODUCTS]
    for user, product, minute in draw(st.lists(st.sampled_from(edges), max_size=4)):
        logins.append((user, product, "acme.com", minute, draw(offsets)))
    for minute in draw(st.lists(st.sampled_from([claimed, released or claimed]), max_size=2)):
        logins.append((draw(st.sampled_from(USERS)), Product.JIRA, "acme.com", minute, 0))
    # The same user again, on another day or product: unions must count them once.
    for user, _, domain, _, _ in draw(st.lists(st.sampled_from(logins), max_size=6)):
        logins.append((user, draw(st.sampled_from(PRODUCTS)), domain, draw(minutes), draw(offsets)))
    heartbeats = draw(st.lists(st.tuples(st.sampled_from(PRODUCTS), minutes), max_size=10))
    return Scenario(logins, heartbeats, plans, claimed, released)


def _instant(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def _rendered(minute: int, offset: int) -> str:
    """The instant written in another UTC offset (RFC 3339), as a producer might send it."""
    local = _instant(minute) + timedelta(minutes=offset)
    sign = "+" if offset >= 0 else "-"
    hours, mins = divmod(abs(offset), 60)
    return f"{local.replace(tzinfo=None).isoformat()}{sign}{hours:02d}:{mins:02d}"


def _events(scenario: Scenario) -> list[Inbound]:
    events: list[Inbound] = [
        claim("acme", "ACME.com", _rendered(scenario.claimed, 60)),
        claim("globex", "globex.com", _rendered(0, 0)),
    ]
    if scenario.released is not None:
        release = _rendered(scenario.released, -120)
        events.append(claim("acme", "acme.com.", release, action="release"))
    events += [
        plan_change(u, p.value, plan.value, _rendered(m, 0))
        for (u, p, m), plan in scenario.plans.items()
    ]
    events += [heartbeat(p.value, _rendered(m, 0)) for p, m in scenario.heartbeats]
    events += [
        login(u, _rendered(m, off), p.value, email=f"{u}@{d.upper()}")
        for u, p, d, m, off in scenario.logins
    ]
    return events


def _periods(start: date, end: date, interval: Interval) -> list[list[date]]:
    """Reference periods: consecutive days grouped by their day, ISO week or month."""

    def period_of(day: date) -> object:
        if interval is Interval.WEEK:
            return day.isocalendar()[:2]
        return (day.year, day.month) if interval is Interval.MONTH else day

    groups: list[list[date]] = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        if groups and period_of(groups[-1][0]) == period_of(day):
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def _attributed(scenario: Scenario, products: set[Product]) -> set[tuple[str, str, date]]:
    """Reference attribution: (user, plan or "all", UTC day) of each managed login of acme."""
    found: set[tuple[str, str, date]] = set()
    for user, product, domain, minute, _ in scenario.logins:
        released = scenario.released
        in_window = scenario.claimed <= minute and (released is None or minute < released)
        if domain != "acme.com" or not in_window or product not in products:
            continue
        known = [
            (m, plan) for (u, p, m), plan in scenario.plans.items() if (u, p) == (user, product)
        ]
        in_effect = [(m, plan) for m, plan in known if m <= minute]
        plan = max(in_effect)[1].value if in_effect else "free"
        day = _instant(minute).date()
        found |= {(user, plan, day), (user, "all", day)}
    return found


@settings(deadline=None, max_examples=100)
@given(
    scenario=scenarios(),
    range_days=st.tuples(
        st.integers(min_value=-2, max_value=WINDOW_DAYS // 2),
        st.integers(min_value=0, max_value=WINDOW_DAYS + 2),
    ),
    today_offset=st.integers(min_value=-1, max_value=WINDOW_DAYS + 2),
    interval=st.sampled_from(Interval),
    product=st.one_of(st.none(), st.sampled_from(PRODUCTS)),
)
async def test_report_equals_an_exact_reference(
    scenario: Scenario,
    range_days: tuple[int, int],
    today_offset: int,
    interval: Interval,
    product: Product | None,
) -> None:
    start = (BASE + timedelta(days=range_days[0])).date()
    end = start + timedelta(days=range_days[1])
    today = (BASE + timedelta(days=today_offset)).date()
    document = await report(
        ingest(_events(scenario)),
        start.isoformat(),
        end.isoformat(),
        interval,
        product,
        today.isoformat(),
    )

    # The reference: sets per period from the generated UTC minutes, not from the code under test.
    products = set(PRODUCTS) if product is None else {product}
    covered = {(p, _instant(m).date()) for p, m in scenario.heartbeats}
    covered |= {(p, _instant(m).date()) for _, p, _, m, _ in scenario.logins}
    attributed = _attributed(scenario, products)

    def distinct(days: set[date], name: str) -> int:
        return len({u for u, plan, day in attributed if plan == name and day in days})

    periods = _periods(start, end, interval)
    assert document["periods"] == [days[0].isoformat() for days in periods]
    any_covered = False
    for index, days in enumerate(periods):
        cells = {(p, day) for p in products for day in days}
        is_missing = not cells & covered
        any_covered |= not is_missing
        assert document["missing"][index] is is_missing
        assert document["partial"][index] is (
            days[-1] >= today or (not is_missing and not cells <= covered)
        )
        for name in SERIES_NAMES:
            expected = None if is_missing else distinct(set(days), name)
            assert document["series"][name][index] == expected, (name, days)
    all_days = {day for days in periods for day in days}
    for name in SERIES_NAMES:
        assert document["totals"][name] == (distinct(all_days, name) if any_covered else None)
