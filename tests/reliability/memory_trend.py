"""Whether the workers' memory grew over a soak, as opposed to swinging with their backlog."""

import statistics
from dataclasses import dataclass

MEMORY_GROWTH_LIMIT = 0.10
MIB = 2**20


@dataclass(frozen=True)
class MemoryTrend:
    """The workers' resident memory after the warm-up: its range, and its growth from the first
    quarter of the samples to the last.

    Growth compares the quarters' medians, not the peak with the first sample: a worker's memory
    rises and falls with the records it has fetched ahead (more while the group is behind), and
    a leak shows as a later quarter sitting higher, while one busy moment does not.
    """

    first_quarter: float
    last_quarter: float
    low: int
    high: int

    @classmethod
    def of(cls, rss: list[int]) -> "MemoryTrend":
        """The trend of samples taken at a steady pace."""
        quarter = max(1, len(rss) // 4)
        first, last = statistics.median(rss[:quarter]), statistics.median(rss[-quarter:])
        return cls(first, last, min(rss), max(rss))

    @property
    def growth(self) -> float:
        """How much higher the last quarter sits than the first, as a fraction of the first."""
        return self.last_quarter / self.first_quarter - 1

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"worker memory after the warm-up {self.low / MIB:.0f}-{self.high / MIB:.0f} MiB; "
            f"median {self.first_quarter / MIB:.0f} MiB in the first quarter, "
            f"{self.last_quarter / MIB:.0f} MiB in the last: growth {self.growth:.1%}"
        )
