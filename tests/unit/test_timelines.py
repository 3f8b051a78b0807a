"""Plan and domain-claim timelines: what is in effect at an instant."""

import itertools
from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from schemas.vocabulary import Plan
from streams.core.timelines import (
    ClaimEntry,
    DomainTimeline,
    PlanTimeline,
    claim_member,
    from_millis,
    plan_member,
    to_millis,
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ms(text: str) -> int:
    return to_millis(_at(text))


def _redis_order(members: list[str]) -> list[str]:
    """What ZRANGE returns: by score (the millis prefix), ties by member bytes."""
    return sorted(members, key=lambda member: (int(member.partition(":")[0]), member))


@pytest.mark.parametrize(
    ("instant", "millis"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01.5Z", 1500),
        ("2026-12-09T00:00:00Z", 1796774400000),
        ("2026-12-08T22:00:00-02:00", 1796774400000),
        ("2026-12-09T01:00:00+01:00", 1796774400000),
        ("2026-12-09T00:00:00.001Z", 1796774400001),
        ("2026-12-09T00:00:00.000999Z", 1796774400000),  # sub-millisecond precision is dropped
    ],
)
def test_to_millis_is_epoch_milliseconds_of_the_instant(instant: str, millis: int) -> None:
    assert to_millis(_at(instant)) == millis


def test_from_millis_is_the_utc_instant() -> None:
    instant = from_millis(1796774400001)
    assert instant == datetime(2026, 12, 9, 0, 0, 0, 1000, tzinfo=UTC)
    assert instant.utcoffset() == timedelta(0)
    assert to_millis(instant) == 1796774400001


def test_to_millis_keeps_consecutive_milliseconds_apart() -> None:
    # A float round-off would let a login one millisecond before a change share its score.
    base = datetime(2026, 12, 9, tzinfo=UTC)
    start = to_millis(base)
    for offset in range(0, 5000, 7):
        assert to_millis(base + timedelta(milliseconds=offset)) == start + offset


UPGRADE = "2026-12-09T00:00:00Z"

# The 9 December example, plus a later downgrade.
_DECEMBER = PlanTimeline(
    ((_ms(UPGRADE), Plan.ENTERPRISE), (_ms("2026-12-20T12:00:00Z"), Plan.STANDARD))
)


@pytest.mark.parametrize(
    ("timeline", "instant", "expected"),
    [
        (PlanTimeline(), "2026-12-09T08:00:00Z", Plan.FREE),  # no change known: free
        (_DECEMBER, "2026-12-01T00:00:00Z", Plan.FREE),
        (_DECEMBER, "2026-12-08T23:59:59.999Z", Plan.FREE),
        (_DECEMBER, UPGRADE, Plan.ENTERPRISE),  # exactly at the change: the new plan
        (_DECEMBER, "2026-12-08T22:00:00-02:00", Plan.ENTERPRISE),  # same instant, other offset
        (_DECEMBER, "2026-12-09T00:00:00.001Z", Plan.ENTERPRISE),
        (_DECEMBER, "2026-12-20T11:59:59.999Z", Plan.ENTERPRISE),
        (_DECEMBER, "2026-12-20T12:00:00Z", Plan.STANDARD),
        (_DECEMBER, "2027-06-01T00:00:00Z", Plan.STANDARD),
        (PlanTimeline(((_ms(UPGRADE), Plan.FREE),)), "2026-12-10T00:00:00Z", Plan.FREE),
        (PlanTimeline(((_ms(UPGRADE), Plan.PREMIUM),)), "2026-12-09T00:00:00Z", Plan.PREMIUM),
    ],
)
def test_plan_at_is_the_latest_change_not_after_the_instant(
    timeline: PlanTimeline, instant: str, expected: Plan
) -> None:
    assert timeline.plan_at(_ms(instant)) is expected


@pytest.mark.parametrize(
    "members",
    [
        ["1796774400000:enterprise", "1798200000000:standard"],
        ["1798200000000:standard", "1796774400000:enterprise"],
        [b"1798200000000:standard", b"1796774400000:enterprise"],
    ],
)
def test_plan_timeline_reads_members_in_any_order(members: list[str | bytes]) -> None:
    timeline = PlanTimeline.decode(members)
    assert timeline.changes == (
        (1796774400000, Plan.ENTERPRISE),
        (1798200000000, Plan.STANDARD),
    )


@pytest.mark.parametrize("plans", list(itertools.permutations(Plan)))
def test_changes_in_the_same_millisecond_leave_the_higher_plan(plans: tuple[Plan, ...]) -> None:
    """A deliberate tie-break, whatever order Redis returns them in (it sorts by name)."""
    timeline = PlanTimeline.decode(plan_member(_at(UPGRADE), plan) for plan in plans)
    assert timeline.plan_at(_ms(UPGRADE)) is Plan.ENTERPRISE
    lower = [plan for plan in plans if plan is not Plan.ENTERPRISE]
    two = PlanTimeline.decode(plan_member(_at(UPGRADE), plan) for plan in lower[:2])
    assert two.plan_at(_ms(UPGRADE)) is max(lower[:2], key=list(Plan).index)


def test_plan_members_round_trip_through_the_timeline() -> None:
    changes = [(_at(UPGRADE), Plan.ENTERPRISE), (_at("2026-12-01T00:00:00+05:00"), Plan.PREMIUM)]
    timeline = PlanTimeline.decode(plan_member(at, plan) for at, plan in changes)
    assert timeline.plan_at(_ms("2026-11-30T19:00:00Z")) is Plan.PREMIUM
    assert timeline.plan_at(_ms("2026-11-30T18:59:59.999Z")) is Plan.FREE
    assert timeline.plan_at(_ms(UPGRADE)) is Plan.ENTERPRISE


def test_plan_member_is_millis_and_plan() -> None:
    assert plan_member(_at(UPGRADE), Plan.ENTERPRISE) == "1796774400000:enterprise"


CLAIMED = "2026-03-01T00:00:00Z"
RELEASED = "2026-06-01T00:00:00Z"
_ACME_SPRING = DomainTimeline(
    (ClaimEntry(_ms(CLAIMED), "claim", "acme"), ClaimEntry(_ms(RELEASED), "release", "acme"))
)


@pytest.mark.parametrize(
    ("timeline", "instant", "owner"),
    [
        (DomainTimeline(), "2026-04-01T00:00:00Z", None),
        (_ACME_SPRING, "2026-02-28T23:59:59.999Z", None),  # before the claim: unmanaged
        (_ACME_SPRING, CLAIMED, "acme"),  # the claim instant itself is managed
        (_ACME_SPRING, "2026-02-28T23:30:00-01:00", "acme"),  # 00:30 UTC on 1 March
        (_ACME_SPRING, "2026-04-15T12:00:00Z", "acme"),
        (_ACME_SPRING, "2026-05-31T23:59:59.999Z", "acme"),
        (_ACME_SPRING, RELEASED, None),  # the release instant itself is no longer managed
        (_ACME_SPRING, "2026-07-01T00:00:00Z", None),
        (
            DomainTimeline(
                (
                    ClaimEntry(_ms(CLAIMED), "claim", "acme"),
                    ClaimEntry(_ms(RELEASED), "release", "acme"),
                    ClaimEntry(_ms("2026-08-01T00:00:00Z"), "claim", "globex"),
                )
            ),
            "2026-08-02T00:00:00Z",
            "globex",
        ),
    ],
)
def test_owner_at_follows_claims_and_releases(
    timeline: DomainTimeline, instant: str, owner: str | None
) -> None:
    assert timeline.owner_at(_ms(instant)) == owner


def test_domain_timeline_reads_claim_and_release_members() -> None:
    members: list[str | bytes] = [
        claim_member(_at(RELEASED), "release", "acme").encode(),
        claim_member(_at(CLAIMED), "claim", "acme"),
    ]
    assert DomainTimeline.decode(members) == _ACME_SPRING


def test_org_ids_with_separators_stay_whole() -> None:
    timeline = DomainTimeline.decode([claim_member(_at(CLAIMED), "claim", "acme_eu-2")])
    assert timeline.owner_at(_ms(CLAIMED)) == "acme_eu-2"


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-01-01T00:00:00Z", ClaimEntry(_ms(CLAIMED), "claim", "acme")),
        (
            CLAIMED,
            ClaimEntry(_ms(RELEASED), "release", "acme"),
        ),  # strictly after: not the entry at the instant
        ("2026-04-01T00:00:00Z", ClaimEntry(_ms(RELEASED), "release", "acme")),
        (RELEASED, None),
    ],
)
def test_next_after_is_the_first_entry_strictly_later(
    instant: str, expected: ClaimEntry | None
) -> None:
    assert _ACME_SPRING.next_after(_ms(instant)) == expected


_HANDOVER = [
    claim_member(_at(CLAIMED), "claim", "acme"),
    claim_member(_at(RELEASED), "release", "acme"),
    claim_member(_at(RELEASED), "claim", "globex"),
]


@pytest.mark.parametrize("members", [list(order) for order in permutations(_HANDOVER)])
def test_a_same_instant_handover_belongs_to_the_new_owner(members: list[str]) -> None:
    # ZRANGE returns ties by member ("claim" < "release"); any order must decode the same.
    timeline = DomainTimeline.decode(members)
    assert timeline.owner_at(_ms(RELEASED) - 1) == "acme"
    assert timeline.owner_at(_ms(RELEASED)) == "globex"
    assert timeline.owner_at(_ms("2026-07-01T00:00:00Z")) == "globex"
    assert timeline == DomainTimeline.decode(_redis_order(_HANDOVER))


@pytest.mark.parametrize(
    ("entry", "owner"),
    [
        (ClaimEntry(1, "claim", "acme"), "acme"),
        (ClaimEntry(1, "release", "acme"), None),
    ],
)
def test_owner_after_an_entry(entry: ClaimEntry, owner: str | None) -> None:
    assert entry.owner_after == owner
