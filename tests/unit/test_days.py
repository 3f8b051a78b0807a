"""UTC days and the day, ISO-week and month buckets of a series (DESIGN.md "Day", API intervals)."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.events import Login
from streams.core.days import Bucket, Interval, buckets, day_end, day_range, today_utc, utc_day


def _day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("occurred_at", "expected"),
    [
        ("2026-12-09T08:15:00Z", "2026-12-09"),
        ("2026-12-09T00:00:00Z", "2026-12-09"),
        ("2026-12-09T23:59:59.999999Z", "2026-12-09"),
        ("2026-12-09T23:30:00-02:00", "2026-12-10"),  # DESIGN example: late evening west of UTC
        ("2026-12-10T00:30:00+01:00", "2026-12-09"),  # just after midnight east of UTC
        ("2026-12-10T13:59:00+14:00", "2026-12-09"),
        ("2026-12-09T12:00:00-12:00", "2026-12-10"),
        ("2026-12-31T22:00:00-03:00", "2027-01-01"),  # the offset moves it across a year
        ("2028-03-01T00:30:00+01:00", "2028-02-29"),  # ... and back onto a leap day
        ("2026-12-09t08:15:00z", "2026-12-09"),
    ],
)
def test_the_day_of_a_login_is_its_utc_calendar_day(occurred_at: str, expected: str) -> None:
    login = Login.model_validate(
        {
            "type": "login",
            "user_id": "u1",
            "email": "a@acme.com",
            "product": "trello",
            "occurred_at": occurred_at,
        }
    )
    assert utc_day(login.occurred_at) == _day(expected)
    assert utc_day(datetime.fromisoformat(occurred_at.upper())) == _day(expected)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-09T21:30:00+00:00", "2026-12-09"),
        ("2026-12-09T23:30:00-02:00", "2026-12-10"),
        ("2026-12-10T00:30:00+01:00", "2026-12-09"),
    ],
)
def test_today_is_the_utc_day_of_now(now: str, expected: str) -> None:
    assert today_utc(datetime.fromisoformat(now)) == _day(expected)


def test_today_without_now_is_the_current_utc_day() -> None:
    before = datetime.now(UTC).date()
    today = today_utc()
    assert today in (before, before + timedelta(days=1))


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-12-09", "2026-12-09", ["2026-12-09"]),
        ("2026-12-30", "2027-01-02", ["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"]),
        ("2028-02-28", "2028-03-01", ["2028-02-28", "2028-02-29", "2028-03-01"]),
        ("2026-02-28", "2026-03-01", ["2026-02-28", "2026-03-01"]),
        ("2026-12-10", "2026-12-09", []),
    ],
)
def test_day_range_includes_both_ends(first: str, last: str, expected: list[str]) -> None:
    assert [d.isoformat() for d in day_range(_day(first), _day(last))] == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-12-09", datetime(2026, 12, 10, tzinfo=UTC)),
        ("2026-12-31", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2028-02-28", datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_day_end_is_the_first_utc_instant_of_the_next_day(day: str, expected: datetime) -> None:
    end = day_end(_day(day))
    assert end == expected
    assert end.utcoffset() == timedelta(0)


Span = tuple[str, str]


@pytest.mark.parametrize(
    ("start", "end", "interval", "expected"),
    [
        # Day buckets: one per day, across a year boundary.
        (
            "2026-12-30",
            "2027-01-01",
            Interval.DAY,
            [
                ("2026-12-30", "2026-12-30"),
                ("2026-12-31", "2026-12-31"),
                ("2027-01-01", "2027-01-01"),
            ],
        ),
        # ISO weeks start on Monday; a range starting on a Wednesday gets a clipped first week.
        (
            "2026-12-09",
            "2026-12-24",
            Interval.WEEK,
            [
                ("2026-12-09", "2026-12-13"),
                ("2026-12-14", "2026-12-20"),
                ("2026-12-21", "2026-12-24"),
            ],
        ),
        # ISO week 2026-W53 runs Monday 28 December to Sunday 3 January: one bucket across the year.
        (
            "2026-12-26",
            "2027-01-05",
            Interval.WEEK,
            [
                ("2026-12-26", "2026-12-27"),
                ("2026-12-28", "2027-01-03"),
                ("2027-01-04", "2027-01-05"),
            ],
        ),
        ("2026-12-14", "2026-12-20", Interval.WEEK, [("2026-12-14", "2026-12-20")]),
        (
            "2026-12-13",
            "2026-12-14",
            Interval.WEEK,
            [("2026-12-13", "2026-12-13"), ("2026-12-14", "2026-12-14")],
        ),
        ("2026-12-09", "2026-12-09", Interval.WEEK, [("2026-12-09", "2026-12-09")]),
        # Months: clipped at both ends, across a year boundary.
        (
            "2026-11-15",
            "2027-01-10",
            Interval.MONTH,
            [
                ("2026-11-15", "2026-11-30"),
                ("2026-12-01", "2026-12-31"),
                ("2027-01-01", "2027-01-10"),
            ],
        ),
        # A leap February has 29 days; a common one 28.
        (
            "2028-01-31",
            "2028-03-01",
            Interval.MONTH,
            [
                ("2028-01-31", "2028-01-31"),
                ("2028-02-01", "2028-02-29"),
                ("2028-03-01", "2028-03-01"),
            ],
        ),
        (
            "2026-02-01",
            "2026-03-31",
            Interval.MONTH,
            [("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")],
        ),
        ("2026-12-09", "2026-12-09", Interval.MONTH, [("2026-12-09", "2026-12-09")]),
    ],
)
def test_buckets_are_clipped_to_the_range(
    start: str, end: str, interval: Interval, expected: list[Span]
) -> None:
    result = buckets(_day(start), _day(end), interval)
    assert [(b.first.isoformat(), b.last.isoformat()) for b in result] == expected
    assert [b.label for b in result] == [first for first, _ in expected]


def test_a_bucket_lists_its_days_in_order() -> None:
    bucket = Bucket(date(2028, 2, 27), date(2028, 3, 1))
    assert bucket.days() == [
        date(2028, 2, 27),
        date(2028, 2, 28),
        date(2028, 2, 29),
        date(2028, 3, 1),
    ]
    assert bucket.label == "2028-02-27"


def _same_period(a: date, b: date, interval: Interval) -> bool:
    """Reference: do two days fall in the same unclipped day, ISO week or month."""
    if interval is Interval.DAY:
        return a == b
    if interval is Interval.WEEK:
        return a.isocalendar()[:2] == b.isocalendar()[:2]
    return (a.year, a.month) == (b.year, b.month)


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(min_value=1, max_value=120),
    interval=st.sampled_from(Interval),
)
def test_buckets_partition_the_range_into_whole_periods(
    start: date, length: int, interval: Interval
) -> None:
    end = start + timedelta(days=length - 1)
    result = buckets(start, end, interval)
    assert [day for bucket in result for day in bucket.days()] == list(day_range(start, end))
    for bucket in result:
        assert _same_period(bucket.first, bucket.last, interval)
    for left, right in pairwise(result):
        assert not _same_period(left.last, right.first, interval)
