"""Plan and domain-claim timelines: what was in effect at an instant, and their Redis encoding."""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter

from schemas.vocabulary import Plan


def to_millis(instant: datetime) -> int:
    """Epoch milliseconds of an aware instant (the score used in Redis sorted sets)."""
    return int(instant.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    """The aware UTC instant of epoch milliseconds."""
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


_effective_millis = itemgetter(0)
# Two changes effective in the same millisecond: the higher plan is the one in effect (a
# deliberate rule; sorted members alone would let the plan's name decide, `free` over
# `enterprise`). Redis keeps no arrival order between them.
_PLAN_RANK = {plan: rank for rank, plan in enumerate(Plan)}


def _change_order(change: tuple[int, Plan]) -> tuple[int, int]:
    return change[0], _PLAN_RANK[change[1]]


@dataclass(frozen=True, slots=True)
class PlanTimeline:
    """The plan changes of one user for one product, ordered by effective instant."""

    changes: tuple[tuple[int, Plan], ...] = ()

    @classmethod
    def decode(cls, members: Iterable[str | bytes]) -> "PlanTimeline":
        """Build from Redis members `<millis>:<plan>`; the millis prefix keeps members unique."""
        changes = []
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            millis, _, plan = text.partition(":")
            changes.append((int(millis), Plan(plan)))
        return cls(tuple(sorted(changes, key=_change_order)))

    def plan_at(self, instant_millis: int) -> Plan:
        """The latest plan with effective_at <= instant, `free` when none is known."""
        # A change effective exactly at the login instant applies (<=): bisect_right on the
        # millis alone (a key, not a list of them built per login).
        position = bisect_right(self.changes, instant_millis, key=_effective_millis)
        return self.changes[position - 1][1] if position else Plan.FREE


def plan_member(effective_at: datetime, plan: Plan) -> str:
    """The sorted-set member that records one plan change."""
    return f"{to_millis(effective_at)}:{plan.value}"


@dataclass(frozen=True, slots=True)
class ClaimEntry:
    """One claim or release of a domain by an org."""

    millis: int
    action: str  # "claim" or "release"
    org_id: str

    @property
    def owner_after(self) -> str | None:
        """Who owns the domain once this entry is in effect."""
        return self.org_id if self.action == "claim" else None

    def order(self) -> tuple[int, int]:
        """Sort key: at one instant a release goes before a claim, so a handover ends owned."""
        return (self.millis, 0 if self.action == "release" else 1)


@dataclass(frozen=True, slots=True)
class DomainTimeline:
    """Who owned one domain when: claims and releases ordered by effective instant."""

    entries: tuple[ClaimEntry, ...] = ()

    @classmethod
    def decode(cls, members: Iterable[str | bytes]) -> "DomainTimeline":
        """Build from Redis members `<millis>:claim:<org>` or `<millis>:release:<org>`."""
        entries = []
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            millis, action, org_id = text.split(":", 2)
            entries.append(ClaimEntry(int(millis), action, org_id))
        return cls(tuple(sorted(entries, key=ClaimEntry.order)))

    def owner_at(self, instant_millis: int) -> str | None:
        """The org that owned the domain at the instant, or None if unclaimed."""
        owner: str | None = None
        for entry in self.entries:
            if entry.millis > instant_millis:
                break
            owner = entry.owner_after
        return owner

    def next_after(self, instant_millis: int) -> ClaimEntry | None:
        """The first entry strictly after the instant."""
        return next((e for e in self.entries if e.millis > instant_millis), None)


def claim_member(effective_at: datetime, action: str, org_id: str) -> str:
    """The sorted-set member that records one claim or release."""
    return f"{to_millis(effective_at)}:{action}:{org_id}"


def claim_window(timeline: DomainTimeline, org_id: str) -> dict[str, str | bool | None]:
    """The org's latest claim of a domain and the release that ended it, if any."""
    claimed: ClaimEntry | None = None
    released: ClaimEntry | None = None
    for entry in timeline.entries:
        if entry.org_id != org_id:
            continue
        if entry.action == "claim":
            claimed, released = entry, None
        elif claimed is not None:
            released = entry
    return {
        "claimed_at": None if claimed is None else from_millis(claimed.millis).isoformat(),
        "released_at": None if released is None else from_millis(released.millis).isoformat(),
        "claimed": claimed is not None and released is None,
    }
