"""`insights simulate` refuses only the days the worker would not count whole."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import typer

from insights.cli import check_days_complete, check_within_retention
from schemas.decode import TimeBounds

TODAY = date(2026, 12, 6)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.mark.parametrize("end", [TODAY, TODAY + timedelta(days=1), date(2999, 1, 1)])
def test_a_day_not_over_yet_is_refused(end: date) -> None:
    with pytest.raises(typer.BadParameter, match=f"{YESTERDAY} at the latest"):
        check_days_complete(end, TODAY)


def test_yesterday_is_the_last_day_allowed() -> None:
    check_days_complete(YESTERDAY, TODAY)


def test_the_whole_retention_is_allowed_and_one_day_more_is_not() -> None:
    check_within_retention(YESTERDAY, 400, TODAY, 400)
    with pytest.raises(typer.BadParameter, match="too old"):
        check_within_retention(YESTERDAY, 401, TODAY, 400)


@pytest.mark.parametrize("clock", [time(0, 0), time(0, 0, 1), time(12), time(23, 59, 59)])
def test_every_hour_of_the_oldest_day_allowed_is_one_the_worker_accepts(clock: time) -> None:
    """The check and the worker agree at any time of day: the first simulated day's midnight
    is inside the worker's bounds (it once rejected that day's hours before the current time)."""
    days = 400
    check_within_retention(YESTERDAY, days, TODAY, days)
    first_midnight = datetime.combine(YESTERDAY - timedelta(days=days - 1), time(0), UTC)
    bounds = TimeBounds.around(datetime.combine(TODAY, clock, UTC), days)
    assert bounds.earliest <= first_midnight  # all of that day is counted
    assert bounds.earliest > first_midnight - timedelta(microseconds=1)  # none of the day before
