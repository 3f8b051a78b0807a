"""UTC calendar days and the day, ISO-week and month buckets a series is made of."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum


class Interval(StrEnum):
    """Granularity of a series."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One period of a series: its label (first day) and its days, already clipped to the range."""

    first: date
    last: date

    @property
    def label(self) -> str:
        """The period as DESIGN.md prints it: the first day of the clipped bucket."""
        return self.first.isoformat()

    def days(self) -> list[date]:
        """Every day of the bucket, in order."""
        return list(day_range(self.first, self.last))


def utc_day(instant: datetime) -> date:
    """The UTC calendar day of an aware instant; UTC so every worker and reader agree on 'a day'."""
    return instant.astimezone(UTC).date()


def today_utc(now: datetime | None = None) -> date:
    """Today's UTC day (now injectable for tests)."""
    return utc_day(now or datetime.now(UTC))


def day_range(first: date, last: date) -> Iterator[date]:
    """Days from first to last, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def day_end(day: date) -> datetime:
    """The first instant after a UTC day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def first_kept_day(today: date, retention_days: int) -> date:
    """The oldest day whose keys Redis still holds all of `today`: a day's keys expire at its end
    plus the retention (`streams.store`), so the days before it read as missing, never as 0."""
    return today - timedelta(days=retention_days)


def month_last_day(day: date) -> date:
    """The last day of the day's calendar month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _bucket_start(day: date, interval: Interval) -> date:
    """The unclipped start of the bucket holding `day`."""
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if interval is Interval.MONTH:
        return day.replace(day=1)
    return day


def buckets(start: date, end: date, interval: Interval) -> list[Bucket]:
    """Split [start, end] into buckets of the interval, clipped to the range."""
    result: list[Bucket] = []
    for day in day_range(start, end):
        if result and _bucket_start(day, interval) == _bucket_start(result[-1].first, interval):
            result[-1] = Bucket(result[-1].first, day)
        else:
            result.append(Bucket(day, day))
    return result
