"""The active-users report: one code path behind the HTTP reader and `insights query`."""

from datetime import date, timedelta
from typing import Any, Protocol

from schemas.vocabulary import Product
from streams.core.days import day_range, first_kept_day
from streams.core.keys import KeyLayout
from streams.core.series import (
    SERIES_NAMES,
    Coverage,
    SeriesQuery,
    month_cover,
    period_status,
    shape,
    union_keys,
)
from streams.core.timelines import DomainTimeline, claim_window


class ActiveUserReader(Protocol):
    """What the report needs from storage: coverage and union counts."""

    async def covered_days(self, products: tuple[Product, ...], start: date, end: date) -> Coverage:
        """The covered (product, day) cells in the range."""
        ...

    async def count_unions(self, key_groups: list[list[str]]) -> list[int]:
        """The distinct count of the union of each key group, in one round trip."""
        ...


class DomainActivityReader(ActiveUserReader, Protocol):
    """Also lists the org's claimed domains."""

    async def org_domains(self, org_id: str) -> dict[str, DomainTimeline]:
        """Every domain the org ever claimed, with its timeline."""
        ...


async def domain_activity(
    reader: DomainActivityReader, layout: KeyLayout, org_id: str, today: date, days: int = 30
) -> dict[str, Any]:
    """Each claimed domain with its claim window and distinct active users over the last days."""
    start = today - timedelta(days=days - 1)
    timelines = await reader.org_domains(org_id)
    window = list(day_range(start, today))
    groups = [[layout.domain_users(org_id, domain, day) for day in window] for domain in timelines]
    counts = await reader.count_unions(groups)
    return {
        "org_id": org_id,
        "start": start.isoformat(),
        "end": today.isoformat(),
        "domains": [
            {"domain": domain, **claim_window(timeline, org_id), "active_users": count}
            for (domain, timeline), count in zip(timelines.items(), counts, strict=True)
        ],
    }


async def active_users(
    reader: ActiveUserReader,
    layout: KeyLayout,
    query: SeriesQuery,
    today: date,
    *,
    retention_days: int,
) -> dict[str, Any]:
    """Build the API document: coverage first, then one union count per (period, series).

    Days before the retention window are missing: their day keys have expired, while the
    coverage set still lists them, and a month rollup outlives its early days. So they are
    neither covered nor counted: a period reaching past the window is partial, and its value and
    the totals are the unions of its kept days only."""
    periods = query.periods()
    period_days = [period.days() for period in periods]
    kept_from = first_kept_day(today, retention_days)
    kept_days = period_days
    if query.start < kept_from:
        kept_days = [[day for day in days if day >= kept_from] for days in period_days]
    first = max(query.start, kept_from)
    covered = (
        await reader.covered_days(query.products, first, query.end) if first <= query.end else set()
    )
    statuses = [
        period_status(period, query.products, covered, today, days)
        for period, days in zip(periods, period_days, strict=True)
    ]
    groups: list[list[str]] = []
    for days, status in zip(kept_days, statuses, strict=True):
        if not status.missing:
            groups.extend(union_keys(layout, query, month_cover(days)))
    any_covered = not all(status.missing for status in statuses)
    if any_covered:
        all_days = [day for days in kept_days for day in days]
        groups.extend(union_keys(layout, query, month_cover(all_days)))
    values = iter(await reader.count_unions(groups))
    counts = [
        None if status.missing else {s: next(values) for s in SERIES_NAMES} for status in statuses
    ]
    totals = {s: next(values) for s in SERIES_NAMES} if any_covered else None
    return shape(query, periods, statuses, counts, totals)
