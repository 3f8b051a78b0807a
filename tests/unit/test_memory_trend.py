"""The soak's memory rule: growth is a trend across the run, not one busy moment."""

from tests.reliability.memory_trend import MEMORY_GROWTH_LIMIT, MIB, MemoryTrend


def test_memory_that_swings_with_the_backlog_is_not_growth() -> None:
    swinging = [300, 520, 310, 700, 320, 480, 305, 690] * 3
    assert MemoryTrend.of(swinging).growth < MEMORY_GROWTH_LIMIT
    assert max(swinging) / swinging[0] - 1 > MEMORY_GROWTH_LIMIT  # the old peak rule failed it


def test_memory_that_keeps_rising_is_growth() -> None:
    leaking = [300 + 10 * minute for minute in range(24)]
    assert MemoryTrend.of(leaking).growth > MEMORY_GROWTH_LIMIT


def test_the_report_line_gives_the_range_and_both_quarters() -> None:
    line = MemoryTrend.of([400 * MIB, 420 * MIB, 410 * MIB, 480 * MIB]).describe()
    assert line == (
        "worker memory after the warm-up 400-480 MiB; median 400 MiB in the first quarter, "
        "480 MiB in the last: growth 20.0%"
    )
