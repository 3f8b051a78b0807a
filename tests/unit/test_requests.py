"""Active-users request parameters: defaults, and every invalid parameter named (DESIGN.md API)."""

from datetime import date, timedelta
from typing import Any

import pytest

from schemas.vocabulary import Product
from streams.core.days import Interval
from streams.core.requests import InvalidParameterError, parse_series_query
from streams.core.series import SeriesQuery

TODAY = date(2026, 12, 9)
RETENTION = 400


def _parse(
    org_id: str = "acme",
    product: str | None = None,
    start: str | None = None,
    end: str | None = None,
    interval: str | None = None,
    retention_days: int = RETENTION,
) -> SeriesQuery:
    return parse_series_query(org_id, product, start, end, interval, TODAY, retention_days)


def test_defaults_are_all_products_the_30_days_ending_today_by_day() -> None:
    assert _parse() == SeriesQuery("acme", None, date(2026, 11, 10), TODAY, Interval.DAY)
    assert (TODAY - _parse().start).days + 1 == 30


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"product": "all"}, SeriesQuery("acme", None, date(2026, 11, 10), TODAY, Interval.DAY)),
        (
            {"product": "trello"},
            SeriesQuery("acme", Product.TRELLO, date(2026, 11, 10), TODAY, Interval.DAY),
        ),
        (
            {"product": "jsm", "interval": "week"},
            SeriesQuery("acme", Product.JSM, date(2026, 11, 10), TODAY, Interval.WEEK),
        ),
        (
            {"product": "confluence", "interval": "month"},
            SeriesQuery("acme", Product.CONFLUENCE, date(2026, 11, 10), TODAY, Interval.MONTH),
        ),
        # An explicit end moves the default start with it.
        (
            {"end": "2026-03-01"},
            SeriesQuery("acme", None, date(2026, 1, 31), date(2026, 3, 1), Interval.DAY),
        ),
        (
            {"start": "2026-12-01", "end": "2026-12-31"},
            SeriesQuery("acme", None, date(2026, 12, 1), date(2026, 12, 31), Interval.DAY),
        ),
        (
            {"start": "2026-12-01"},
            SeriesQuery("acme", None, date(2026, 12, 1), TODAY, Interval.DAY),
        ),
        (
            {"start": "2026-12-09", "end": "2026-12-09"},
            SeriesQuery("acme", None, TODAY, TODAY, Interval.DAY),
        ),
        (  # exactly the retention window is allowed
            {"start": "2025-11-05", "end": "2026-12-09"},
            SeriesQuery("acme", None, date(2025, 11, 5), TODAY, Interval.DAY),
        ),
        (
            {"start": "2028-02-29", "end": "2028-02-29"},
            SeriesQuery("acme", None, date(2028, 2, 29), date(2028, 2, 29), Interval.DAY),
        ),
        (
            {"org_id": "x" * 64},
            SeriesQuery("x" * 64, None, date(2026, 11, 10), TODAY, Interval.DAY),
        ),
        (
            {"org_id": "Acme_EU-2"},
            SeriesQuery("Acme_EU-2", None, date(2026, 11, 10), TODAY, Interval.DAY),
        ),
    ],
)
def test_valid_parameters(arguments: dict[str, Any], expected: SeriesQuery) -> None:
    assert _parse(**arguments) == expected


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "2026-1-5"}, "start"),
        ({"start": "20261205"}, "start"),
        ({"start": "2026-12-05T00:00:00Z"}, "start"),
        ({"start": " 2026-12-05"}, "start"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "\u0662\u0660\u0662\u0666-12-01"}, "start"),  # Arabic-Indic digits
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-02-30"}, "end"),
        ({"end": "2026-1-5"}, "end"),
        ({"end": "2027-02-29"}, "end"),
        ({"start": "2026-12-10", "end": "2026-12-09"}, "start"),
        ({"start": "2026-12-10"}, "start"),  # after the default end, today
        # Longer than the retention: the start is named, even when the end defaulted to today.
        ({"start": "2025-11-04", "end": "2026-12-09"}, "start"),  # retention + 1 days
        ({"start": "2025-11-04"}, "start"),
        ({"start": "2026-12-01", "end": "2026-12-31", "retention_days": 30}, "start"),
        # Given empty is not absent: the client sent something, and it is not a value.
        ({"start": ""}, "start"),
        ({"end": ""}, "end"),
        ({"product": ""}, "product"),
        ({"interval": ""}, "interval"),
        ({"product": "slack"}, "product"),
        ({"product": "Trello"}, "product"),
        ({"product": "ALL"}, "product"),
        ({"product": "trello "}, "product"),
        ({"interval": "year"}, "interval"),
        ({"interval": "Day"}, "interval"),
        ({"interval": "weekly"}, "interval"),
        ({"org_id": "{acme}"}, "org_id"),
        ({"org_id": "x" * 65}, "org_id"),
        ({"org_id": ""}, "org_id"),
        ({"org_id": "acme corp"}, "org_id"),
        ({"org_id": "acme\n"}, "org_id"),
        ({"org_id": "acmé"}, "org_id"),
        ({"org_id": "acme/other"}, "org_id"),
        ({"org_id": "acme:x"}, "org_id"),
    ],
)
def test_each_invalid_parameter_names_itself(arguments: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        _parse(**arguments)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")
    assert caught.value.message


@pytest.mark.parametrize(("retention_days", "days"), [(1, 1), (7, 7), (29, 29), (30, 30), (31, 30)])
def test_the_default_range_fits_a_short_retention(retention_days: int, days: int) -> None:
    # A reader kept to a week must still answer a request without dates, with the week kept.
    query = _parse(retention_days=retention_days)
    assert (query.start, query.end) == (TODAY - timedelta(days=days - 1), TODAY)


def test_invalid_parameter_is_a_value_error() -> None:
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize(
    ("end", "start"),
    [("0001-01-05", date.min), ("0001-01-29", date.min), ("0001-01-30", date.min)],
)
def test_an_end_in_year_one_shortens_the_default_range(end: str, start: date) -> None:
    # The default start would fall before date.min; a client error must never become a 5xx.
    query = _parse(end=end)
    assert (query.start, query.end) == (start, date.fromisoformat(end))
