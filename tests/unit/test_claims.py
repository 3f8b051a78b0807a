"""Domain claims: one owner per domain at a time, conflicts rejected (DESIGN.md "Managed login")."""

from collections.abc import Sequence
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.domain_names import InvalidDomainError, email_domain, normalise_domain
from schemas.events import DomainClaim
from streams.core.claims import ClaimDecision, ClaimVerdict, judge_claim
from streams.core.timelines import DomainTimeline, claim_member, to_millis

ACCEPT = ClaimVerdict.ACCEPT
DUPLICATE = ClaimVerdict.DUPLICATE
CONFLICT = ClaimVerdict.DOMAIN_CONFLICT
NOT_OWNER = ClaimVerdict.RELEASE_NOT_OWNER

# Instants in order: T1 < T2 < ... < T5.
T1, T2, T3, T4, T5 = (f"2026-0{month}-01T00:00:00Z" for month in range(1, 6))

Step = tuple[str, str, str]  # (org_id, action, effective_at)


def _claim(org_id: str, action: str, effective_at: str, domain: str = "acme.com") -> DomainClaim:
    return DomainClaim.model_validate(
        {
            "type": "domain_claim",
            "org_id": org_id,
            "domain": domain,
            "action": action,
            "effective_at": effective_at,
        }
    )


def _recorded(history: Sequence[Step]) -> DomainTimeline:
    """The timeline as the store reads it back: ZRANGE order (score, then member)."""
    members = [claim_member(datetime.fromisoformat(at), action, org) for org, action, at in history]
    members.sort(key=lambda member: (int(member.partition(":")[0]), member))
    return DomainTimeline.decode(members)


def _replay(steps: Sequence[Step]) -> tuple[list[ClaimVerdict], DomainTimeline]:
    """Judge each event against what was accepted before it, as the claims agent does."""
    accepted: list[Step] = []
    verdicts: list[ClaimVerdict] = []
    for step in steps:
        decision = judge_claim(_recorded(accepted), _claim(*step))
        verdicts.append(decision.verdict)
        if decision.verdict is ACCEPT:
            accepted.append(step)
    return verdicts, _recorded(accepted)


@pytest.mark.parametrize(
    ("history", "event", "verdict"),
    [
        pytest.param([], ("acme", "claim", T1), ACCEPT, id="first claim"),
        pytest.param([("acme", "claim", T1)], ("acme", "claim", T1), DUPLICATE, id="redelivery"),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T3)],
            ("acme", "release", T3),
            DUPLICATE,
            id="release redelivered",
        ),
        pytest.param(
            [("acme", "claim", T1)], ("globex", "claim", T2), CONFLICT, id="claim while owned"
        ),
        pytest.param(
            [("acme", "claim", T1)], ("globex", "claim", T1), CONFLICT, id="claim at same instant"
        ),
        pytest.param(
            [("acme", "claim", T3)],
            ("globex", "claim", T1),
            CONFLICT,
            id="claimed later by another org without release",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T2), ("acme", "claim", T4)],
            ("globex", "claim", T3),
            CONFLICT,
            id="gap closed by a later claim of another org",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T2)],
            ("globex", "claim", T3),
            ACCEPT,
            id="claim after release",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T3)],
            ("globex", "claim", T3),
            ACCEPT,
            id="claim at the release instant",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T3)],
            ("globex", "claim", T2),
            CONFLICT,
            id="claim inside another org's window",
        ),
        pytest.param(
            [("acme", "claim", T1)], ("acme", "claim", T2), DUPLICATE, id="owner claims again"
        ),
        pytest.param(
            [("acme", "claim", T3)], ("acme", "claim", T1), ACCEPT, id="owner claims earlier"
        ),
        pytest.param([("acme", "claim", T1)], ("acme", "release", T2), ACCEPT, id="owner releases"),
        pytest.param(
            [("acme", "claim", T1)],
            ("acme", "release", T1),
            NOT_OWNER,
            id="release at claim instant",
        ),
        pytest.param(
            [("acme", "claim", T1)],
            ("globex", "release", T2),
            NOT_OWNER,
            id="release by non-owner",
        ),
        pytest.param([], ("acme", "release", T2), NOT_OWNER, id="release of unclaimed domain"),
        pytest.param(
            [("acme", "claim", T2)],
            ("acme", "release", T1),
            NOT_OWNER,
            id="release before own claim",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T2)],
            ("acme", "release", T3),
            NOT_OWNER,
            id="release after release",
        ),
    ],
)
def test_judge_claim(history: list[Step], event: Step, verdict: ClaimVerdict) -> None:
    decision = judge_claim(_recorded(history), _claim(*event))
    assert decision.verdict is verdict
    if verdict in (ACCEPT, DUPLICATE):
        assert decision.detail == ""
    else:
        assert "acme.com" in decision.detail


def test_release_by_non_owner_at_the_owners_release_instant_is_rejected() -> None:
    history = [("acme", "claim", T1), ("acme", "release", T3)]
    decision = judge_claim(_recorded(history), _claim("globex", "release", T3))
    assert decision.verdict is NOT_OWNER


def test_verdict_values_are_dead_letter_reasons() -> None:
    assert CONFLICT.value == "domain_conflict"
    assert NOT_OWNER.value == "release_not_owner"
    assert ClaimDecision(ACCEPT) == ClaimDecision(ACCEPT, "")


@pytest.mark.parametrize(
    ("steps", "verdicts", "owners"),
    [
        pytest.param(
            [("acme", "claim", T2), ("acme", "release", T4)],
            [ACCEPT, ACCEPT],
            {T1: None, T2: "acme", T3: "acme", T4: None, T5: None},
            id="claimed mid-range, released later",
        ),
        pytest.param(
            [("acme", "claim", T1), ("globex", "claim", T2), ("globex", "release", T3)],
            [ACCEPT, CONFLICT, NOT_OWNER],
            {T1: "acme", T2: "acme", T3: "acme", T5: "acme"},
            id="rejected events change nothing",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "release", T2), ("globex", "claim", T3)],
            [ACCEPT, ACCEPT, ACCEPT],
            {T1: "acme", T2: None, T3: "globex", T5: "globex"},
            id="released then claimed by another org",
        ),
        pytest.param(
            [("acme", "claim", T1), ("acme", "claim", T1), ("acme", "release", T2)],
            [ACCEPT, DUPLICATE, ACCEPT],
            {T1: "acme", T2: None},
            id="redelivered claim",
        ),
    ],
)
def test_replayed_claims_keep_one_owner_at_a_time(
    steps: list[Step], verdicts: list[ClaimVerdict], owners: dict[str, str | None]
) -> None:
    got, timeline = _replay(steps)
    assert got == verdicts
    for at, owner in owners.items():
        assert timeline.owner_at(to_millis(datetime.fromisoformat(at))) == owner, at


def test_a_same_instant_handover_is_accepted_and_owned_by_the_new_org() -> None:
    verdicts, timeline = _replay(
        [("acme", "claim", T1), ("acme", "release", T3), ("globex", "claim", T3)]
    )
    assert verdicts == [ACCEPT, ACCEPT, ACCEPT]
    assert timeline.owner_at(to_millis(datetime.fromisoformat(T3)) - 1) == "acme"
    assert timeline.owner_at(to_millis(datetime.fromisoformat(T3))) == "globex"


def test_a_release_at_the_claim_instant_is_consistent() -> None:
    verdicts, timeline = _replay(
        [("acme", "claim", T1), ("acme", "release", T1), ("globex", "claim", T2)]
    )
    # Either rejecting the release or honouring it is consistent; accepting and ignoring is not.
    if verdicts[1] is ACCEPT:
        assert timeline.owner_at(to_millis(datetime.fromisoformat(T1))) is None
        assert verdicts[2] is ACCEPT
    else:
        assert verdicts[1] is NOT_OWNER


ORGS = ("acme", "globex", "initech")
INSTANTS = tuple(f"2026-01-01T0{hour}:00:00Z" for hour in range(6))

steps = st.lists(
    st.tuples(
        st.sampled_from(ORGS), st.sampled_from(("claim", "release")), st.sampled_from(INSTANTS)
    ),
    max_size=12,
)


@given(sequence=steps)
def test_replayed_claims_honour_every_accepted_event(sequence: list[Step]) -> None:
    verdicts, timeline = _replay(sequence)
    accepted = [step for step, verdict in zip(sequence, verdicts, strict=True) if verdict is ACCEPT]
    for org, action, at in accepted:
        owner = timeline.owner_at(to_millis(datetime.fromisoformat(at)))
        if action == "claim":
            assert owner == org, (org, action, at)
        elif (org, "claim", at) not in accepted:  # a re-claim at the release instant wins
            assert owner != org, (org, action, at)
    # One owner at a time: ownership passes from one org to another only through a release.
    owners = [timeline.owner_at(to_millis(datetime.fromisoformat(at))) for at in INSTANTS]
    for before, after, at in zip(owners, owners[1:], INSTANTS[1:], strict=False):
        if before is not None and after not in (None, before):
            assert (before, "release", at) in accepted, (before, after, at)
    # Re-judging an accepted event is a redelivery.
    for step in accepted:
        assert judge_claim(timeline, _claim(*step)).verdict is DUPLICATE


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("acme.com", "acme.com"),
        ("ACME.Com", "acme.com"),
        ("  acme.com\t", "acme.com"),
        ("acme.com.", "acme.com"),  # one trailing dot (the DNS root) is stripped
        (" Acme.COM. ", "acme.com"),
        ("eu.acme.com", "eu.acme.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("bücher.example.", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
    ],
)
def test_claimed_domains_are_normalised(raw: str, normalised: str) -> None:
    assert normalise_domain(raw) == normalised
    assert _claim("acme", "claim", T1, domain=raw).domain == normalised


@pytest.mark.parametrize(
    "raw", ["acme.com..", "", ".", "acme..com", "-acme.com", "acme!.com", "a@b.com"]
)
def test_invalid_domains_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidDomainError):
        normalise_domain(raw)


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("alice@acme.com", "acme.com"),
        ("Alice@Acme.COM", "acme.com"),
        ("  alice@acme.com  ", "acme.com"),
        ("alice@acme.com.", "acme.com"),
        ("alice@eu.acme.com", "eu.acme.com"),
        ("alice@BÜCHER.example", "xn--bcher-kva.example"),
        ('"a@b"@acme.com', "acme.com"),  # the domain is after the last @
    ],
)
def test_email_domain_is_normalised_like_claims(email: str, domain: str) -> None:
    assert email_domain(email) == domain


@pytest.mark.parametrize("email", ["alice", "alice@", "@acme.com", "alice@acme..com"])
def test_emails_without_a_domain_are_rejected(email: str) -> None:
    with pytest.raises(InvalidDomainError):
        email_domain(email)
