"""The storage role the agents and the report depend on; Redis is one implementation."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from schemas.events import DomainClaim, PlanChange
from schemas.vocabulary import Product
from streams.core.attribution import BatchWrites, UserProduct
from streams.core.keys import KeyLayout
from streams.core.series import Coverage
from streams.core.timelines import DomainTimeline, PlanTimeline


class ActiveUserStore(Protocol):
    """Counts, timelines, coverage and watermarks; every write is idempotent."""

    layout: KeyLayout

    async def load_timelines(
        self, domains: Iterable[str], user_products: Iterable[UserProduct]
    ) -> tuple[dict[str, DomainTimeline], dict[UserProduct, PlanTimeline]]:
        """The domain and plan timelines a login batch needs."""
        ...

    async def write_batch(self, writes: BatchWrites) -> None:
        """Add a batch's users to their keys and mark coverage."""
        ...

    async def add_plan_changes(self, changes: Iterable[PlanChange]) -> None:
        """Record plan changes."""
        ...

    async def domain_timeline(self, domain: str) -> DomainTimeline:
        """The recorded claims and releases of one domain."""
        ...

    async def add_domain_claim(self, claim: DomainClaim) -> None:
        """Record an accepted claim or release."""
        ...

    async def org_domains(self, org_id: str) -> dict[str, DomainTimeline]:
        """Every domain the org ever claimed, with its timeline."""
        ...

    async def latest_logins(self) -> dict[Product, datetime]:
        """Per product, the latest `occurred_at` of a login processed."""
        ...

    async def covered_days(self, products: tuple[Product, ...], start: date, end: date) -> Coverage:
        """The covered (product, day) cells in [start, end]."""
        ...

    async def count_unions(self, key_groups: list[list[str]]) -> list[int]:
        """The distinct count of the union of each key group."""
        ...
