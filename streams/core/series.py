"""Series shaping: periods, the union keys behind each value, and the missing/partial rules."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.vocabulary import PLANS, PRODUCTS, Product
from streams.core.days import Bucket, Interval, buckets, month_last_day
from streams.core.keys import ALL, KeyLayout, month_label

SERIES_NAMES: tuple[str, ...] = (ALL, *(plan.value for plan in PLANS))
Coverage = set[tuple[Product, date]]


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """A validated request for one org's active-user series; product None means all products."""

    org_id: str
    product: Product | None
    start: date
    end: date
    interval: Interval

    @property
    def products(self) -> tuple[Product, ...]:
        """The products whose coverage decides missing and partial."""
        return PRODUCTS if self.product is None else (self.product,)

    def periods(self) -> list[Bucket]:
        """The buckets of the range, clipped to it."""
        return buckets(self.start, self.end, self.interval)


@dataclass(frozen=True, slots=True)
class PeriodStatus:
    """Whether a period has no data at all (missing) or incomplete data (partial)."""

    missing: bool
    partial: bool


def period_status(
    bucket: Bucket,
    products: Sequence[Product],
    covered: Coverage,
    today: date,
    days: Sequence[date] | None = None,
) -> PeriodStatus:
    """Missing when no (product, day) is covered; partial when some are not, or it is not over
    (a period not over is partial even while missing: its data may still come). `days` are
    the bucket's days, when the caller already listed them."""
    days = bucket.days() if days is None else days
    covered_cells = sum(1 for product in products for day in days if (product, day) in covered)
    if covered_cells == 0:
        return PeriodStatus(missing=True, partial=bucket.last >= today)
    cells = len(products) * len(days)
    return PeriodStatus(missing=False, partial=covered_cells < cells or bucket.last >= today)


def month_cover(days: Sequence[date]) -> tuple[list[date], list[date]]:
    """Split distinct days into whole calendar months (by first day) and leftover single days."""
    if len(days) < 28:  # too short to hold a whole month: skip the search (hot for daily series)
        return [], list(days)
    per_month: dict[date, int] = {}
    for day in days:
        first = day.replace(day=1)
        per_month[first] = per_month.get(first, 0) + 1
    # Distinct days: a month is whole when all of its days are among them.
    whole = {first for first, count in per_month.items() if count == month_last_day(first).day}
    months = [day for day in days if day.day == 1 and day in whole]
    singles = [day for day in days if day.replace(day=1) not in whole]
    return months, singles


def union_keys(
    layout: KeyLayout,
    query: SeriesQuery,
    cover: tuple[list[date], list[date]],
    series_names: Sequence[str] = SERIES_NAMES,
) -> list[list[str]]:
    """Per series, the keys whose union (one multi-key count) is a value, never a sum: month
    rollups for the whole months of `cover` (`month_cover` of the days, split once for every
    series), day keys for the rest, so a year reads about 12 keys instead of 365."""
    product = ALL if query.product is None else query.product.value
    months, singles = cover
    labels = [month_label(month) for month in months]
    labels.extend(day.isoformat() for day in singles)
    prefixes = (layout.series_prefix(query.org_id, product, series) for series in series_names)
    return [[prefix + label for label in labels] for prefix in prefixes]


def shape(
    query: SeriesQuery,
    periods: Sequence[Bucket],
    statuses: Sequence[PeriodStatus],
    counts: Sequence[Mapping[str, int] | None],
    totals: Mapping[str, int] | None,
) -> dict[str, Any]:
    """The API document of DESIGN.md; missing periods are null in every series, never 0."""
    return {
        "org_id": query.org_id,
        "product": ALL if query.product is None else query.product.value,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "interval": query.interval.value,
        "periods": [period.label for period in periods],
        "series": {name: [None if c is None else c[name] for c in counts] for name in SERIES_NAMES},
        "missing": [status.missing for status in statuses],
        "partial": [status.partial for status in statuses],
        "totals": {name: None if totals is None else totals[name] for name in SERIES_NAMES},
    }
