"""Attribution of logins to org, plan and UTC day, with write-time rollups, and the key layout."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.events import DomainClaim, Heartbeat, Login
from schemas.vocabulary import PLANS, PRODUCTS, Plan, Product
from streams.core.attribution import (
    BatchWrites,
    ObservedBatch,
    UserProduct,
    attribute,
    observed,
)
from streams.core.days import utc_day
from streams.core.keys import ALL, KeyLayout
from streams.core.timelines import DomainTimeline, PlanTimeline, claim_member, plan_member

LAYOUT = KeyLayout()
ACME_CLAIMED = "2026-03-01T00:00:00Z"
ACME_RELEASED = "2026-06-01T00:00:00Z"


def _login(
    occurred_at: str,
    user_id: str = "u1",
    email: str = "alice@acme.com",
    product: str = "trello",
) -> Login:
    return Login.model_validate(
        {
            "type": "login",
            "user_id": user_id,
            "email": email,
            "product": product,
            "occurred_at": occurred_at,
        }
    )


def _heartbeat(occurred_at: str, product: str = "trello") -> Heartbeat:
    return Heartbeat.model_validate(
        {"type": "heartbeat", "product": product, "occurred_at": occurred_at}
    )


def _domains(*claims: tuple[str, str, str, str]) -> dict[str, DomainTimeline]:
    """Timelines from (org_id, domain, action, effective_at), normalised as the schema does."""
    members: dict[str, list[str]] = {}
    for org_id, domain, action, effective_at in claims:
        claim = DomainClaim.model_validate(
            {
                "type": "domain_claim",
                "org_id": org_id,
                "domain": domain,
                "action": action,
                "effective_at": effective_at,
            }
        )
        member = claim_member(claim.effective_at, claim.action, claim.org_id)
        members.setdefault(claim.domain, []).append(member)
    return {domain: DomainTimeline.decode(entries) for domain, entries in members.items()}


def _plans(*changes: tuple[str, Plan]) -> PlanTimeline:
    return PlanTimeline.decode(
        plan_member(datetime.fromisoformat(at), plan) for at, plan in changes
    )


ACME = _domains(("acme", "acme.com", "claim", "2026-01-01T00:00:00Z"))


def _keys_of(writes: BatchWrites) -> set[str]:
    """The daily active-user keys written (domain and month keys are pinned by their own tests)."""
    return {
        key
        for key, members in writes.additions.items()
        if members and "domain=" not in key and len(key.rsplit(":", 1)[1]) == len("2026-12-09")
    }


def test_a_managed_login_also_counts_in_its_month_rollups() -> None:
    writes = attribute([_login("2026-12-09T08:00:00Z")], ACME, {}, LAYOUT)
    month = date(2026, 12, 1)
    for product, plan in [("trello", "free"), ("trello", "all"), ("all", "free"), ("all", "all")]:
        key = LAYOUT.monthly_active_users("acme", product, plan, month)
        assert writes.additions[key] == {"u1"}
        assert writes.key_days[key] == date(2026, 12, 31)


def test_a_managed_login_also_counts_on_its_domain() -> None:
    writes = attribute([_login("2026-12-09T08:00:00Z", email="A@Acme.com")], ACME, {}, LAYOUT)
    key = LAYOUT.domain_users("acme", "acme.com", date(2026, 12, 9))
    assert writes.additions[key] == {"u1"}


def _rollups(org_id: str, product: Product, plan: Plan, day: str) -> set[str]:
    """The four keys one managed login lands in: plan x {plan, all}, product x {product, all}."""
    when = date.fromisoformat(day)
    return {
        LAYOUT.active_users(org_id, product_part, plan_part, when)
        for product_part in (product.value, ALL)
        for plan_part in (plan.value, ALL)
    }


@pytest.mark.parametrize(
    ("claimed", "email", "managed"),
    [
        ("acme.com", "alice@acme.com", True),
        ("acme.com", "Alice@ACME.COM", True),  # upper-case
        ("acme.com", "  alice@acme.com  ", True),  # padded
        ("acme.com", "alice@acme.com.", True),  # trailing dot
        ("ACME.com.", "alice@acme.com", True),  # the claim is normalised too
        ("acme.com", "alice@eu.acme.com", False),  # exact domain only: no subdomains
        ("eu.acme.com", "alice@acme.com", False),  # ... and no parent domains
        ("eu.acme.com", "alice@EU.Acme.com", True),
        ("acme.com", "alice@notacme.com", False),
        ("acme.com", "alice@acme.co", False),
        ("acme.com", "alice@acme.com.evil.org", False),
        ("bücher.example", "alice@BÜCHER.example", True),  # IDNA on both sides
        ("bücher.example", "alice@xn--bcher-kva.example", True),
        ("xn--bcher-kva.example", "alice@bücher.example", True),
        ("bücher.example", "alice@bucher.example", False),
    ],
)
def test_a_login_is_managed_only_on_an_exact_normalised_domain_match(
    claimed: str, email: str, managed: bool
) -> None:
    domains = _domains(("acme", claimed, "claim", "2026-01-01T00:00:00Z"))
    writes = attribute([_login("2026-12-09T08:15:00Z", email=email)], domains, {}, LAYOUT)
    assert (writes.counted, writes.unmanaged) == ((1, 0) if managed else (0, 1))
    expected = _rollups("acme", Product.TRELLO, Plan.FREE, "2026-12-09") if managed else set()
    assert _keys_of(writes) == expected


@pytest.mark.parametrize(
    ("occurred_at", "managed"),
    [
        ("2026-02-28T23:59:59.999Z", False),  # before the claim
        (ACME_CLAIMED, True),  # the claim instant is managed
        ("2026-02-28T23:30:00-01:00", True),  # 00:30 UTC on 1 March
        ("2026-04-15T12:00:00Z", True),
        ("2026-05-31T23:59:59.999Z", True),
        (ACME_RELEASED, False),  # the release instant is not
        ("2026-06-01T01:30:00+02:00", True),  # 23:30 UTC on 31 May: still claimed
        ("2026-06-01T00:30:00+00:00", False),
        ("2026-07-01T00:00:00Z", False),  # after the release
    ],
)
def test_a_domain_claimed_mid_range_and_released_later(occurred_at: str, managed: bool) -> None:
    domains = _domains(
        ("acme", "acme.com", "claim", ACME_CLAIMED), ("acme", "acme.com", "release", ACME_RELEASED)
    )
    writes = attribute([_login(occurred_at)], domains, {}, LAYOUT)
    assert writes.counted == int(managed)
    assert writes.unmanaged == int(not managed)


@pytest.mark.parametrize(
    ("changes", "occurred_at", "plan"),
    [
        ([], "2026-12-09T08:00:00Z", Plan.FREE),  # none known: free
        ([("2026-12-09T00:00:00Z", Plan.ENTERPRISE)], "2026-12-08T23:59:59.999Z", Plan.FREE),
        ([("2026-12-09T00:00:00Z", Plan.ENTERPRISE)], "2026-12-09T00:00:00Z", Plan.ENTERPRISE),
        ([("2026-12-09T00:00:00Z", Plan.ENTERPRISE)], "2026-12-08T19:00:00-05:00", Plan.ENTERPRISE),
        ([("2026-12-09T00:00:00Z", Plan.ENTERPRISE)], "2026-12-31T12:00:00Z", Plan.ENTERPRISE),
        (
            [("2026-12-09T00:00:00Z", Plan.ENTERPRISE), ("2026-12-20T00:00:00Z", Plan.PREMIUM)],
            "2026-12-20T00:00:00Z",
            Plan.PREMIUM,
        ),
        (
            [("2026-12-20T00:00:00Z", Plan.PREMIUM), ("2026-12-09T00:00:00Z", Plan.STANDARD)],
            "2026-12-15T00:00:00Z",
            Plan.STANDARD,
        ),
    ],
)
def test_the_plan_of_a_login_is_the_plan_in_effect_at_occurred_at(
    changes: list[tuple[str, Plan]], occurred_at: str, plan: Plan
) -> None:
    plans = {("u1", Product.TRELLO): _plans(*changes)}
    writes = attribute([_login(occurred_at)], ACME, plans, LAYOUT)
    day = _login(occurred_at).occurred_at.date().isoformat()
    assert _keys_of(writes) == _rollups("acme", Product.TRELLO, plan, day)


@pytest.mark.parametrize(
    ("plan_owner", "login_user", "login_product"),
    [
        (("u1", Product.JIRA), "u1", "trello"),  # plans are per product
        (("u2", Product.TRELLO), "u1", "trello"),  # ... and per user
    ],
)
def test_another_users_or_products_plan_does_not_apply(
    plan_owner: UserProduct, login_user: str, login_product: str
) -> None:
    plans = {plan_owner: _plans(("2026-01-01T00:00:00Z", Plan.ENTERPRISE))}
    login = _login("2026-12-09T08:00:00Z", user_id=login_user, product=login_product)
    writes = attribute([login], ACME, plans, LAYOUT)
    assert _keys_of(writes) == _rollups("acme", login.product, Plan.FREE, "2026-12-09")


def test_the_9_december_upgrade_lands_in_free_then_enterprise() -> None:
    plans = {("u1", Product.TRELLO): _plans(("2026-12-09T00:00:00Z", Plan.ENTERPRISE))}
    logins = [_login("2026-12-03T10:00:00Z"), _login("2026-12-09T10:00:00Z")]
    writes = attribute(logins, ACME, plans, LAYOUT)
    assert _keys_of(writes) == _rollups("acme", Product.TRELLO, Plan.FREE, "2026-12-03") | _rollups(
        "acme", Product.TRELLO, Plan.ENTERPRISE, "2026-12-09"
    )
    assert all(members == {"u1"} for members in writes.additions.values())


def test_the_utc_day_decides_the_keys_and_coverage() -> None:
    writes = attribute([_login("2026-12-09T23:30:00-02:00")], ACME, {}, LAYOUT)
    assert _keys_of(writes) == _rollups("acme", Product.TRELLO, Plan.FREE, "2026-12-10")
    assert set(writes.key_days.values()) == {date(2026, 12, 10), date(2026, 12, 31)}
    assert writes.covered == {(Product.TRELLO, date(2026, 12, 10))}


def test_key_days_name_the_last_day_each_key_covers() -> None:
    logins = [_login("2026-12-09T08:00:00Z"), _login("2026-12-10T08:00:00Z", product="jira")]
    writes = attribute(logins, ACME, {}, LAYOUT)
    assert set(writes.key_days) == set(writes.additions)
    for key, day in writes.key_days.items():
        is_month = key.endswith(":2026-12")
        assert key.endswith(day.isoformat()) or (is_month and day == date(2026, 12, 31))


def test_identity_is_the_user_id_not_the_email() -> None:
    logins = [
        _login("2026-12-09T08:00:00Z", user_id="u1", email="alice@acme.com"),
        _login("2026-12-09T09:00:00Z", user_id="u1", email="alice.smith@ACME.com"),
        _login("2026-12-09T10:00:00Z", user_id="u2", email="alice@acme.com"),
    ]
    writes = attribute(logins, ACME, {}, LAYOUT)
    assert writes.counted == 3
    all_key = LAYOUT.active_users("acme", ALL, ALL, date(2026, 12, 9))
    assert writes.additions[all_key] == {"u1", "u2"}


def test_heartbeats_and_unmanaged_logins_cover_the_day_but_count_nobody() -> None:
    events: list[Login | Heartbeat] = [
        _heartbeat("2026-12-09T08:00:00Z", product="jira"),
        _login("2026-12-10T08:00:00Z", email="bob@unclaimed.org", product="confluence"),
        _heartbeat("2026-12-09T23:30:00-02:00", product="jsm"),
    ]
    writes = attribute(events, ACME, {}, LAYOUT)
    assert writes.covered == {
        (Product.JIRA, date(2026, 12, 9)),
        (Product.CONFLUENCE, date(2026, 12, 10)),
        (Product.JSM, date(2026, 12, 10)),
    }
    assert (writes.heartbeats, writes.unmanaged, writes.counted) == (2, 1, 0)
    assert _keys_of(writes) == set()


def test_each_org_gets_its_own_keys() -> None:
    domains = _domains(
        ("acme", "acme.com", "claim", "2026-01-01T00:00:00Z"),
        ("globex", "globex.com", "claim", "2026-01-01T00:00:00Z"),
    )
    logins = [
        _login("2026-12-09T08:00:00Z", user_id="u1", email="a@acme.com"),
        _login("2026-12-09T08:00:00Z", user_id="u2", email="b@globex.com"),
    ]
    writes = attribute(logins, domains, {}, LAYOUT)
    assert _keys_of(writes) == _rollups("acme", Product.TRELLO, Plan.FREE, "2026-12-09") | _rollups(
        "globex", Product.TRELLO, Plan.FREE, "2026-12-09"
    )
    assert all("{acme}" in key for key, members in writes.additions.items() if "u1" in members)
    assert all("{globex}" in key for key, members in writes.additions.items() if "u2" in members)


def test_an_observed_batch_names_the_domains_and_plan_timelines_it_needs() -> None:
    events: Sequence[Login | Heartbeat] = [
        _login("2026-12-09T08:00:00Z", user_id="u1", email="a@ACME.com.", product="jira"),
        _login("2026-12-09T09:00:00Z", user_id="u1", email="b@acme.com", product="jira"),
        _login("2026-12-09T09:00:00Z", user_id="u2", email="c@globex.com"),
        _heartbeat("2026-12-09T08:00:00Z"),
    ]
    batch = observed(events)
    assert batch.domains == {"acme.com", "globex.com"}
    assert batch.user_products == {("u1", Product.JIRA), ("u2", Product.TRELLO)}


def _hash_tags(key: str) -> list[str]:
    """Every `{...}` section of a key; Redis Cluster hashes the first non-empty one."""
    tags: list[str] = []
    rest = key
    while "{" in rest:
        rest = rest[rest.index("{") + 1 :]
        if "}" not in rest:
            break
        tags.append(rest[: rest.index("}")])
        rest = rest[rest.index("}") + 1 :]
    return tags


def _org_keys(layout: KeyLayout, org_id: str) -> list[str]:
    day = date(2026, 12, 9)
    parts = [*(p.value for p in PRODUCTS), ALL]
    plans = [*(p.value for p in PLANS), ALL]
    keys = [layout.active_users(org_id, p, plan, day) for p in parts for plan in plans]
    return [*keys, layout.org_domains(org_id)]


@pytest.mark.parametrize("layout", [KeyLayout(), KeyLayout(prefix="insights-test")])
@pytest.mark.parametrize("org_id", ["acme", "a", "Acme_EU-2", "x" * 64])
def test_every_key_of_an_org_carries_its_hash_tag_exactly_once(
    layout: KeyLayout, org_id: str
) -> None:
    keys = _org_keys(layout, org_id)
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert _hash_tags(key) == [org_id], key
        assert key.count("{") == key.count("}") == 1


@pytest.mark.parametrize(("first", "second"), [("acme", "globex"), ("acme", "acme2"), ("a", "A")])
def test_keys_of_different_orgs_differ(first: str, second: str) -> None:
    assert not set(_org_keys(LAYOUT, first)) & set(_org_keys(LAYOUT, second))


def test_active_user_keys_differ_by_product_plan_and_day() -> None:
    keys = {
        LAYOUT.active_users("acme", product, plan, day)
        for product in [*PRODUCTS, ALL]
        for plan in [*PLANS, ALL]
        for day in (date(2026, 12, 9), date(2026, 12, 10))
    }
    assert len(keys) == 5 * 5 * 2


def test_shared_keys_carry_no_org_hash_tag() -> None:
    shared = [
        LAYOUT.coverage(Product.TRELLO),
        LAYOUT.latest_logins(),
        LAYOUT.plan_timeline("u1", Product.TRELLO),
        LAYOUT.domain_timeline("acme.com"),
    ]
    assert len(set(shared)) == len(shared)
    assert all(key.startswith("ins:") and "{" not in key for key in shared)


@pytest.mark.parametrize("layout", [KeyLayout(), KeyLayout(prefix="insights-test")])
def test_a_batch_names_each_plan_timeline_as_one_at_a_time_would(layout: KeyLayout) -> None:
    pairs = [
        (user, product)
        for user in ("u1", "557058:1b2c", "ünï", "a:b:c", "x" * 128)
        for product in PRODUCTS
    ]
    assert layout.plan_timelines(pairs) == [layout.plan_timeline(u, p) for u, p in pairs]
    assert layout.plan_timelines([]) == []


def test_instants_either_side_of_midnight_land_on_their_own_utc_days() -> None:
    logins = [
        _login("2026-12-09T23:59:59.999999Z", user_id="before"),
        _login("2026-12-10T00:00:00Z", user_id="after"),
        _login("2026-12-10T01:59:59.999999+02:00", user_id="offset_before"),
    ]
    writes = attribute(logins, ACME, {}, LAYOUT)
    day_key = LAYOUT.active_users("acme", ALL, ALL, date(2026, 12, 9))
    next_day_key = LAYOUT.active_users("acme", ALL, ALL, date(2026, 12, 10))
    assert writes.additions[day_key] == {"before", "offset_before"}
    assert writes.additions[next_day_key] == {"after"}
    assert writes.occurred_s == [login.occurred_at.timestamp() for login in logins]


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2026, 1, 2),  # after ACME claims its domain
            max_value=datetime(2099, 12, 31),
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=13, minutes=45))]
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_each_event_is_counted_on_the_utc_day_and_millis_of_its_own_instant(
    instants: list[datetime],
) -> None:
    """Days are looked up by epoch day within a batch: never a neighbour's day, never off by one."""
    heartbeats = [_heartbeat(instant.isoformat()) for instant in instants]
    writes = attribute(heartbeats, ACME, {}, LAYOUT)
    assert writes.covered == {(Product.TRELLO, utc_day(event.occurred_at)) for event in heartbeats}
    assert writes.occurred_s == [event.occurred_at.timestamp() for event in heartbeats]
    members = [f"u{n}" for n in range(len(instants))]
    logins = [
        _login(instant.isoformat(), user_id=member)
        for instant, member in zip(instants, members, strict=True)
    ]
    additions = attribute(logins, ACME, {}, LAYOUT).additions
    for login in logins:
        day_key = LAYOUT.active_users("acme", ALL, ALL, utc_day(login.occurred_at))
        assert login.user_id in additions[day_key]


def test_a_batch_observed_in_slices_is_attributed_alike_and_again_on_a_retry() -> None:
    """The worker observes a batch slice by slice and attributes it once per write attempt."""
    events: list[Login | Heartbeat] = [
        _login("2026-12-09T08:00:00Z", user_id="u1"),
        _heartbeat("2026-12-09T08:01:00Z"),
        _login("2026-12-10T09:00:00Z", user_id="u2", product="jira"),
        _login("2026-12-10T09:30:00Z", user_id="u3", email="bob@elsewhere.com"),
        _login("2026-12-11T10:00:00Z", user_id="u1"),
    ]
    plans = {("u2", Product.JIRA): _plans(("2026-12-01T00:00:00+00:00", Plan.PREMIUM))}
    batch = ObservedBatch()
    batch.observe(events[:2])
    batch.observe(events[2:])

    first = batch.attribute(ACME, plans, LAYOUT)
    again = batch.attribute(ACME, plans, LAYOUT)
    whole = attribute(events, ACME, plans, LAYOUT)

    for writes in (first, again):
        assert writes.key_groups == whole.key_groups
        assert (writes.counted, writes.unmanaged, writes.heartbeats) == (3, 1, 1)
        assert writes.covered == whole.covered
        assert writes.occurred_s == [event.occurred_at.timestamp() for event in events]
    assert batch.latest_s == {
        Product.TRELLO: events[4].occurred_at.timestamp(),
        Product.JIRA: events[2].occurred_at.timestamp(),
    }
    premium = LAYOUT.active_users("acme", Product.JIRA, Plan.PREMIUM, date(2026, 12, 10))
    assert whole.additions[premium] == {"u2"}
