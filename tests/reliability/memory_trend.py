"""Whether the workers' memory grew over a soak, as opposed to swinging with their backlog."""

import statistics
from dataclasses import dataclass

MEMORY_GROWTH_LIMIT = 0.10
MIB = 2**20


@dataclass(frozen=True)
class MemoryTrend:
    """The workers' resident memory after the warm-up: its range, and its growth from the first
    quarter of the samples to the last, at the same backlog.

    A worker holds the records it has fetched ahead and decoded, so its memory follows the lag:
    in the full soaks of 2026-12-02 by 8-16 MiB per 1,000 records of lag (a batched record holds
    up to 50 logins). Comparing the quarters' raw medians therefore failed runs whose lag merely
    sat higher at the end: at `94e88fc` 330 -> 368 MiB (11.5%) while the lag's quarter medians
    went from about 2,500 to 3,900 records. So the memory each sample owes to its lag is taken
    out first: a line fitted through (lag, memory) over the whole run gives the bytes per record
    of lag (never below zero, so noise cannot invent a fall), each sample is moved to the run's
    median lag along it, and growth compares the quarters' medians of those. A leak grows with
    the work done, i.e. with time, and survives this; a lag that rises with it is caught by the
    lag rule (`LagTrend`), which fails a group that keeps falling behind.
    """

    first_quarter: float
    last_quarter: float
    first_adjusted: float
    last_adjusted: float
    per_lag_record: float  # bytes of memory per record of lag, fitted over the run
    median_lag: float
    low: int
    high: int

    @classmethod
    def of(cls, rss: list[int], lags: list[int]) -> "MemoryTrend":
        """The trend of (memory, lag) samples taken at a steady pace."""
        if len(rss) != len(lags) or not rss:
            raise ValueError("need one lag per memory sample, and at least one sample")
        median_lag = statistics.median(lags)
        per_lag_record = max(0.0, fitted_slope(lags, rss))
        adjusted = [
            memory - per_lag_record * (lag - median_lag)
            for memory, lag in zip(rss, lags, strict=True)
        ]
        quarter = max(1, len(rss) // 4)
        return cls(
            statistics.median(rss[:quarter]),
            statistics.median(rss[-quarter:]),
            statistics.median(adjusted[:quarter]),
            statistics.median(adjusted[-quarter:]),
            per_lag_record,
            median_lag,
            min(rss),
            max(rss),
        )

    @property
    def growth(self) -> float:
        """How much higher the last quarter sits than the first at the same lag, as a fraction."""
        return self.last_adjusted / self.first_adjusted - 1

    @property
    def raw_growth(self) -> float:
        """The same, with no account of the lag."""
        return self.last_quarter / self.first_quarter - 1

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"worker memory after the warm-up {self.low / MIB:.0f}-{self.high / MIB:.0f} MiB; "
            f"median {self.first_quarter / MIB:.0f} MiB in the first quarter, "
            f"{self.last_quarter / MIB:.0f} MiB in the last ({self.raw_growth:+.1%}); "
            f"at the median lag of {self.median_lag:,.0f} records "
            f"({self.per_lag_record * 1000 / MIB:.1f} MiB per 1,000 records of lag) "
            f"{self.first_adjusted / MIB:.0f} -> {self.last_adjusted / MIB:.0f} MiB: "
            f"growth {self.growth:.1%}"
        )


def fitted_slope(xs: list[int], ys: list[int]) -> float:
    """Least-squares slope of ys over xs; zero when xs do not vary (nothing to fit)."""
    if len(set(xs)) < 2:
        return 0.0
    slope, _ = statistics.linear_regression(xs, ys)
    return slope
