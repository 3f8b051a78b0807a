"""The soak's lag rule: a lag that swings is bounded, one that keeps rising is not."""

from tests.reliability.lag_trend import LagTrend

# The full soak of 2026-12-02 17:15 UTC, every sixth sample after its warm-up (records).
SWINGING = [1715, 2435, 2661, 3011, 3819, 4170, 4402, 3920, 3751, 3467, 3804, 5159, 2546, 2328]
WINDOW = 4822


def test_a_lag_that_swings_without_a_trend_is_bounded() -> None:
    trend = LagTrend.of(SWINGING, WINDOW)
    assert (trend.early, trend.late) == (4402, 5159)
    assert trend.bounded


def test_a_lag_that_keeps_rising_is_not_bounded() -> None:
    rising = [5000 + 1200 * window for window in range(14)]  # 5k to ~20k, as at 204109e
    assert not LagTrend.of(rising, WINDOW).bounded


def test_the_report_line_gives_both_halves_and_the_window() -> None:
    assert LagTrend(4716, 5215, 4822).describe() == (
        "lag after warm-up: worst 4,716 records in the first half, 5,215 in the second "
        "(bound: the first half's plus 4,822, one window's records)"
    )
