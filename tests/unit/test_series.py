"""Series shaping: missing and partial periods, union keys, the API document."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.vocabulary import PRODUCTS, Product
from streams.core.days import Bucket, Interval, day_range, month_last_day
from streams.core.keys import KeyLayout
from streams.core.series import (
    SERIES_NAMES,
    Coverage,
    PeriodStatus,
    SeriesQuery,
    month_cover,
    period_status,
    shape,
    union_keys,
)

TRELLO = (Product.TRELLO,)
WEEK = Bucket(date(2026, 12, 7), date(2026, 12, 13))  # Monday to Sunday
DAY = Bucket(date(2026, 12, 9), date(2026, 12, 9))
TODAY = date(2026, 12, 20)


def _cells(products: tuple[Product, ...], first: date, count: int) -> Coverage:
    return {(p, first + timedelta(days=n)) for p in products for n in range(count)}


MISSING = PeriodStatus(missing=True, partial=False)
NOT_YET = PeriodStatus(missing=True, partial=True)  # no data so far, and the period is not over
COMPLETE = PeriodStatus(missing=False, partial=False)
PARTIAL = PeriodStatus(missing=False, partial=True)


@pytest.mark.parametrize(
    ("bucket", "products", "covered", "today", "expected"),
    [
        pytest.param(DAY, TRELLO, _cells(TRELLO, DAY.first, 1), TODAY, COMPLETE, id="covered day"),
        pytest.param(DAY, TRELLO, set(), TODAY, MISSING, id="uncovered day"),
        pytest.param(
            DAY,
            TRELLO,
            _cells((Product.JIRA,), DAY.first, 1),
            TODAY,
            MISSING,
            id="another product's coverage does not count",
        ),
        pytest.param(
            DAY, TRELLO, _cells(TRELLO, DAY.first, 1), DAY.first, PARTIAL, id="today is partial"
        ),
        pytest.param(DAY, TRELLO, set(), DAY.first, NOT_YET, id="today, nothing yet"),
        pytest.param(DAY, TRELLO, set(), DAY.first - timedelta(days=3), NOT_YET, id="future day"),
        pytest.param(
            DAY,
            TRELLO,
            _cells(TRELLO, DAY.first, 1),
            DAY.first + timedelta(days=1),
            COMPLETE,
            id="yesterday is over",
        ),
        pytest.param(WEEK, TRELLO, _cells(TRELLO, WEEK.first, 7), TODAY, COMPLETE, id="full week"),
        pytest.param(WEEK, TRELLO, _cells(TRELLO, WEEK.first, 3), TODAY, PARTIAL, id="3 of 7 days"),
        pytest.param(
            WEEK, TRELLO, _cells(TRELLO, WEEK.last, 1), TODAY, PARTIAL, id="only the last day"
        ),
        pytest.param(WEEK, TRELLO, set(), TODAY, MISSING, id="empty week"),
        pytest.param(
            WEEK,
            TRELLO,
            _cells(TRELLO, WEEK.first, 3),
            date(2026, 12, 10),
            PARTIAL,
            id="current week",
        ),
        pytest.param(
            WEEK,
            TRELLO,
            _cells(TRELLO, WEEK.first, 7),
            WEEK.last,
            PARTIAL,
            id="week ending today",
        ),
        pytest.param(DAY, PRODUCTS, _cells(PRODUCTS, DAY.first, 1), TODAY, COMPLETE, id="all: 4/4"),
        pytest.param(DAY, PRODUCTS, _cells(TRELLO, DAY.first, 1), TODAY, PARTIAL, id="all: 1/4"),
        pytest.param(
            DAY,
            PRODUCTS,
            _cells((Product.JIRA, Product.JSM, Product.CONFLUENCE), DAY.first, 1),
            TODAY,
            PARTIAL,
            id="all: 3/4",
        ),
        pytest.param(DAY, PRODUCTS, set(), TODAY, MISSING, id="all: none covered"),
        pytest.param(
            WEEK,
            PRODUCTS,
            _cells(PRODUCTS, WEEK.first, 7) - {(Product.JSM, WEEK.last)},
            TODAY,
            PARTIAL,
            id="all: one cell short",
        ),
        pytest.param(
            WEEK,
            PRODUCTS,
            _cells(PRODUCTS, WEEK.first, 7),
            TODAY,
            COMPLETE,
            id="all: full week",
        ),
    ],
)
def test_period_status(
    bucket: Bucket,
    products: tuple[Product, ...],
    covered: Coverage,
    today: date,
    expected: PeriodStatus,
) -> None:
    assert period_status(bucket, products, covered, today) == expected


def test_series_names_are_the_all_plans_total_then_each_plan() -> None:
    assert SERIES_NAMES == ("all", "free", "standard", "premium", "enterprise")


@pytest.mark.parametrize(
    ("product", "products"),
    [(None, PRODUCTS), (Product.JIRA, (Product.JIRA,))],
)
def test_query_products_decide_coverage(
    product: Product | None, products: tuple[Product, ...]
) -> None:
    query = SeriesQuery("acme", product, date(2026, 12, 1), date(2026, 12, 31), Interval.WEEK)
    assert query.products == products
    assert [p.label for p in query.periods()] == [
        "2026-12-01",
        "2026-12-07",
        "2026-12-14",
        "2026-12-21",
        "2026-12-28",
    ]


@pytest.mark.parametrize(
    ("product", "product_part"),
    [(None, "all"), (Product.TRELLO, "trello"), (Product.JSM, "jsm")],
)
@pytest.mark.parametrize("series", SERIES_NAMES)
def test_union_keys_are_one_day_key_per_day_of_one_org(
    product: Product | None, product_part: str, series: str
) -> None:
    layout = KeyLayout()
    query = SeriesQuery("acme", product, date(2026, 12, 1), date(2026, 12, 31), Interval.MONTH)
    days = [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)]
    assert union_keys(layout, query, month_cover(days), (series,)) == [
        [layout.active_users("acme", product_part, series, day) for day in days]
    ]


def test_shape_is_the_api_document() -> None:
    query = SeriesQuery("acme", Product.TRELLO, date(2026, 12, 1), date(2026, 12, 3), Interval.DAY)
    periods = query.periods()
    statuses = [COMPLETE, MISSING, PARTIAL]
    counts = [
        {"all": 3, "free": 2, "standard": 0, "premium": 0, "enterprise": 1},
        None,
        {"all": 0, "free": 0, "standard": 0, "premium": 0, "enterprise": 0},
    ]
    totals = {"all": 3, "free": 2, "standard": 0, "premium": 0, "enterprise": 1}
    assert shape(query, periods, statuses, counts, totals) == {
        "org_id": "acme",
        "product": "trello",
        "start": "2026-12-01",
        "end": "2026-12-03",
        "interval": "day",
        "periods": ["2026-12-01", "2026-12-02", "2026-12-03"],
        "series": {
            "all": [3, None, 0],
            "free": [2, None, 0],
            "standard": [0, None, 0],
            "premium": [0, None, 0],
            "enterprise": [1, None, 0],
        },
        "missing": [False, True, False],
        "partial": [False, False, True],
        "totals": totals,
    }


def test_shape_of_a_wholly_missing_range_is_null_everywhere() -> None:
    query = SeriesQuery("acme", None, date(2026, 12, 1), date(2026, 12, 14), Interval.WEEK)
    periods = query.periods()
    document = shape(query, periods, [MISSING] * len(periods), [None] * len(periods), None)
    assert document["product"] == "all"
    assert document["interval"] == "week"
    assert document["periods"] == ["2026-12-01", "2026-12-07", "2026-12-14"]
    assert document["series"] == {name: [None, None, None] for name in SERIES_NAMES}
    assert document["totals"] == dict.fromkeys(SERIES_NAMES)
    assert document["missing"] == [True, True, True]


@given(
    st.sets(st.integers(0, 800), max_size=500),
    st.dates(date(2024, 1, 1), date(2027, 12, 1)),
)
def test_month_cover_splits_days_into_whole_months_and_the_rest(
    offsets: set[int], origin: date
) -> None:
    days = [origin + timedelta(days=offset) for offset in sorted(offsets)]
    present = set(days)

    def whole(first: date) -> bool:
        return all(day in present for day in day_range(first, month_last_day(first)))

    months, singles = month_cover(days)
    if len(days) < 28:
        assert (months, singles) == ([], days)
        return
    assert months == [day for day in days if day.day == 1 and whole(day)]
    assert singles == [day for day in days if not whole(day.replace(day=1))]
