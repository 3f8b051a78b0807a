"""The soak's memory rule: growth is a trend across the run at the same backlog, not one busy
moment and not a backlog that sits higher at the end."""

from collections.abc import Sequence

import pytest

from tests.reliability.memory_trend import MEMORY_GROWTH_LIMIT, MIB, MemoryTrend

# The full soak at 94e88fc (2026-12-02 18:14 UTC), every fourth sample after its warm-up:
# (MiB of both workers, records of lag). Its raw quarters failed the rule (11.5% over all samples).
FOLLOWING_THE_LAG = [
    (328, 2841), (326, 2445), (334, 1999), (329, 2421), (341, 2110), (333, 1986), (331, 1871),
    (321, 2887), (326, 2172), (332, 2817), (355, 3147), (344, 2067), (346, 2674), (335, 3119),
    (350, 3971), (360, 3369), (335, 2793), (359, 3598), (377, 3512), (371, 4577), (363, 3942),
    (357, 3597), (367, 3326),
]  # fmt: skip


def trend(samples: Sequence[tuple[float, int]]) -> MemoryTrend:
    return MemoryTrend.of([int(mib * MIB) for mib, _ in samples], [lag for _, lag in samples])


def test_memory_that_sits_higher_with_a_higher_lag_is_not_growth() -> None:
    recorded = trend(FOLLOWING_THE_LAG)
    assert recorded.raw_growth > MEMORY_GROWTH_LIMIT  # what the quarters alone said
    assert recorded.growth < MEMORY_GROWTH_LIMIT
    assert 10 < recorded.per_lag_record * 1000 / MIB < 20  # MiB per 1,000 records


def test_memory_that_swings_with_the_backlog_is_not_growth() -> None:
    lags = [1000, 5000, 1200, 9000, 1300, 4500, 1100, 8800] * 3
    swinging = [(300 + lag * 0.045, lag) for lag in lags]
    assert trend(swinging).growth < MEMORY_GROWTH_LIMIT
    assert trend(swinging).growth == pytest.approx(0, abs=0.001)


def test_memory_that_keeps_rising_at_a_steady_lag_is_growth() -> None:
    lags = [2000, 3500, 2500, 4000] * 6
    leaking = [(300 + 10 * minute + lag * 0.01, lag) for minute, lag in enumerate(lags)]
    assert trend(leaking).growth > MEMORY_GROWTH_LIMIT


def test_a_lag_that_falls_as_memory_rises_explains_nothing_away() -> None:
    # Fitted, this would be memory falling with the lag; taken as such it would hide the rise.
    samples = [(300 + 10 * minute, 5000 - 100 * minute) for minute in range(24)]
    falling = trend(samples)
    assert falling.per_lag_record == 0
    assert falling.growth == falling.raw_growth > MEMORY_GROWTH_LIMIT


def test_a_lag_that_never_moves_leaves_the_quarters_as_they_are() -> None:
    steady = trend([(300, 0), (310, 0), (305, 0), (340, 0)])
    assert steady.per_lag_record == 0
    assert steady.growth == steady.raw_growth == pytest.approx(340 / 300 - 1)


def test_samples_and_lags_must_pair_up() -> None:
    with pytest.raises(ValueError, match="one lag per memory sample"):
        MemoryTrend.of([300 * MIB, 310 * MIB], [0])


def test_the_report_line_gives_the_range_both_quarters_and_the_lag_adjustment() -> None:
    line = trend([(400, 1000), (420, 3000), (410, 2000), (480, 3000)]).describe()
    assert line == (
        "worker memory after the warm-up 400-480 MiB; median 400 MiB in the first quarter, "
        "480 MiB in the last (+20.0%); at the median lag of 2,500 records (26.4 MiB per 1,000 "
        "records of lag) 440 -> 467 MiB: growth 6.2%"
    )
