"""Domain claim policy: a domain belongs to at most one organization at a time."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from schemas.events import DomainClaim
from streams.core.timelines import ClaimEntry, DomainTimeline, to_millis


class ClaimVerdict(StrEnum):
    """What to do with a claim or release event."""

    ACCEPT = "accept"
    DUPLICATE = "duplicate"  # already recorded or already in effect: nothing to write
    DOMAIN_CONFLICT = "domain_conflict"
    RELEASE_NOT_OWNER = "release_not_owner"


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    """The verdict on one claim event, with a one-line reason for the dead-letter topic."""

    verdict: ClaimVerdict
    detail: str = ""


def violations(entries: Iterable[ClaimEntry]) -> int:
    """Entries that break "one owner at a time": a claim while another org owns the domain,
    or a release by an org that does not own it."""
    owner: str | None = None
    broken = 0
    for entry in sorted(entries, key=ClaimEntry.order):
        if entry.action == "claim":
            broken += owner not in (None, entry.org_id)
            owner = entry.org_id
        elif owner == entry.org_id:
            owner = None
        else:
            broken += 1
    return broken


def judge_claim(timeline: DomainTimeline, claim: DomainClaim) -> ClaimDecision:
    """Accept a claim or release only if the whole timeline still has one owner at a time.

    Claims may arrive late, so the check replays the timeline with the event inserted: an
    event that adds a violation anywhere (before or after its own instant) is rejected.
    """
    entry = ClaimEntry(to_millis(claim.effective_at), claim.action, claim.org_id)
    if entry in timeline.entries:
        return ClaimDecision(ClaimVerdict.DUPLICATE)
    if claim.action == "claim" and timeline.owner_at(entry.millis) == claim.org_id:
        # Already the owner: recording a second claim would let it outlive a later release.
        return ClaimDecision(ClaimVerdict.DUPLICATE)
    if violations([*timeline.entries, entry]) <= violations(timeline.entries):
        return ClaimDecision(ClaimVerdict.ACCEPT)
    when = claim.effective_at.isoformat()
    if claim.action == "release":
        detail = f"{claim.org_id} does not own {claim.domain} at {when}"
        return ClaimDecision(ClaimVerdict.RELEASE_NOT_OWNER, detail)
    detail = f"{claim.domain} is owned by another organization at or after {when}"
    return ClaimDecision(ClaimVerdict.DOMAIN_CONFLICT, detail)
