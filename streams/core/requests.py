"""Validate the parameters of an active-users request into a SeriesQuery, naming any bad one."""

import re
from datetime import date, timedelta

from schemas.vocabulary import Product
from streams.core.days import Interval
from streams.core.keys import ALL
from streams.core.series import SeriesQuery

ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_DAYS = 30


class InvalidParameterError(ValueError):
    """One request parameter is invalid; `parameter` names it for the 400 body."""

    def __init__(self, parameter: str, message: str) -> None:
        """Remember which parameter was wrong and why."""
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def _parse_day(name: str, value: str | None, default: date) -> date:
    """A `YYYY-MM-DD` day, or the default when the parameter is absent (an empty one is bad)."""
    if value is None:
        return default
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameterError(name, f"{value!r} is not a valid YYYY-MM-DD date") from None


def parse_series_query(
    org_id: str,
    product: str | None,
    start: str | None,
    end: str | None,
    interval: str | None,
    today: date,
    retention_days: int,
) -> SeriesQuery:
    """Defaults: all products, the 30 days ending today (UTC; fewer if the retention is
    shorter), daily buckets. A parameter given empty is invalid, not the default."""
    if not ORG_ID.fullmatch(org_id):
        raise InvalidParameterError("org_id", "must be 1-64 characters of A-Z a-z 0-9 _ -")
    chosen = ALL if product is None else product
    if chosen != ALL and chosen not in Product.__members__.values():
        allowed = ", ".join([*(p.value for p in Product), ALL])
        raise InvalidParameterError("product", f"{chosen!r} is not one of {allowed}")
    try:
        bucket = Interval(Interval.DAY.value if interval is None else interval)
    except ValueError:
        raise InvalidParameterError("interval", f"{interval!r} is not day, week or month") from None
    last = _parse_day("end", end, today)
    try:
        default_start = last - timedelta(days=min(DEFAULT_DAYS, retention_days) - 1)
    except OverflowError:
        default_start = date.min  # an end in year 1: the default range is simply shorter
    first = _parse_day("start", start, default_start)
    if first > last:
        raise InvalidParameterError("start", f"start {first} is after end {last}")
    if (last - first).days + 1 > retention_days:
        # Only a given start can make it too long (the default start never does), so name it
        # even when `end` was left to default to today.
        raise InvalidParameterError(
            "start", f"the range {first} to {last} is longer than the {retention_days} days kept"
        )
    return SeriesQuery(org_id, None if chosen == ALL else Product(chosen), first, last, bucket)
