"""An exact in-memory ActiveUserStore for unit tests of the agents (sets instead of HLLs)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from schemas.events import DomainClaim, PlanChange
from schemas.vocabulary import Product
from streams.core.attribution import BatchWrites, UserProduct
from streams.core.keys import KeyLayout
from streams.core.series import Coverage
from streams.core.timelines import (
    DomainTimeline,
    PlanTimeline,
    claim_member,
    from_millis,
    plan_member,
)


class MemoryActiveUserStore:
    """Keeps exactly what Redis would keep, as Python sets; can be told to fail writes."""

    def __init__(self) -> None:
        """An empty store."""
        self.layout = KeyLayout("mem")
        self.sets: dict[str, set[str]] = defaultdict(set)
        self.plans: dict[UserProduct, set[str]] = defaultdict(set)
        self.claims: dict[str, set[str]] = defaultdict(set)
        self.coverage: Coverage = set()
        self.latest: dict[Product, datetime] = {}
        self.failures_left = 0

    def _maybe_fail(self) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("simulated Redis outage")

    async def load_timelines(
        self, domains: Iterable[str], user_products: Iterable[UserProduct]
    ) -> tuple[dict[str, DomainTimeline], dict[UserProduct, PlanTimeline]]:
        """Decode the stored members, as the Redis store does."""
        self._maybe_fail()
        return (
            {d: DomainTimeline.decode(self.claims[d]) for d in domains if self.claims.get(d)},
            {p: PlanTimeline.decode(self.plans[p]) for p in user_products if self.plans.get(p)},
        )

    async def write_batch(self, writes: BatchWrites) -> None:
        """Add members and coverage."""
        self._maybe_fail()
        for key, members in writes.additions.items():
            self.sets[key] |= members
        self.coverage |= writes.covered
        for product, seconds in writes.latest_login_s.items():
            at = from_millis(round(seconds * 1000))  # millis, as Redis keeps them
            self.latest[product] = max(at, self.latest.get(product, at))

    async def add_plan_changes(self, changes: Iterable[PlanChange]) -> None:
        """Record plan members."""
        self._maybe_fail()
        for change in changes:
            member = plan_member(change.effective_at, change.plan)
            self.plans[(change.user_id, change.product)].add(member)

    async def domain_timeline(self, domain: str) -> DomainTimeline:
        """The decoded claims of one domain."""
        return DomainTimeline.decode(self.claims.get(domain, set()))

    async def add_domain_claim(self, claim: DomainClaim) -> None:
        """Record a claim member."""
        self.claims[claim.domain].add(claim_member(claim.effective_at, claim.action, claim.org_id))

    async def org_domains(self, org_id: str) -> dict[str, DomainTimeline]:
        """Domains the org ever claimed."""
        owned = {
            d
            for d, members in self.claims.items()
            if any(m.endswith(f":{org_id}") for m in members)
        }
        return {d: DomainTimeline.decode(self.claims[d]) for d in sorted(owned)}

    async def ping(self) -> bool:
        """Always up, unless told to fail."""
        self._maybe_fail()
        return True

    async def latest_logins(self) -> dict[Product, datetime]:
        """The latest login `occurred_at` seen per product."""
        return dict(self.latest)

    async def covered_days(self, products: tuple[Product, ...], start: date, end: date) -> Coverage:
        """Covered cells in range."""
        return {(p, d) for p, d in self.coverage if p in products and start <= d <= end}

    async def count_unions(self, key_groups: list[list[str]]) -> list[int]:
        """Exact union sizes."""
        return [len(set().union(*(self.sets.get(k, set()) for k in keys))) for keys in key_groups]
