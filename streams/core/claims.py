"""Domain claim policy: a domain belongs to at most one organization at a time."""

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


def judge_claim(timeline: DomainTimeline, claim: DomainClaim) -> ClaimDecision:
    """Accept a claim or release only if it keeps one owner per domain at every instant."""
    millis = to_millis(claim.effective_at)
    if ClaimEntry(millis, claim.action, claim.org_id) in timeline.entries:
        return ClaimDecision(ClaimVerdict.DUPLICATE)
    owner = timeline.owner_at(millis)
    if claim.action == "release":
        # Ownership just before the instant: a release at the very instant of its own claim
        # would be ordered first (releases precede claims at one instant) and never take effect.
        if timeline.owner_at(millis - 1) != claim.org_id:
            return ClaimDecision(
                ClaimVerdict.RELEASE_NOT_OWNER,
                f"{claim.org_id} does not own {claim.domain} at {claim.effective_at.isoformat()}",
            )
        return ClaimDecision(ClaimVerdict.ACCEPT)
    if owner == claim.org_id:
        # Already the owner: recording a second claim would let it outlive a later release.
        return ClaimDecision(ClaimVerdict.DUPLICATE)
    if owner is not None:
        return ClaimDecision(
            ClaimVerdict.DOMAIN_CONFLICT, f"{claim.domain} is owned by another organization"
        )
    following = timeline.next_after(millis)
    if following is not None and following.owner_after not in (None, claim.org_id):
        # Accepting would make the later claim a takeover without a release.
        return ClaimDecision(
            ClaimVerdict.DOMAIN_CONFLICT,
            f"{claim.domain} is claimed later by another organization without a release",
        )
    return ClaimDecision(ClaimVerdict.ACCEPT)
