"""Whether the workers kept up over a soak: their lag stayed bounded rather than growing."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LagTrend:
    """The worst lag (Kafka records) sampled in each half of the soak after its warm-up, and the
    records sent in one sampling window.

    Bounded: the second half's worst is at most the first half's worst plus one window's
    records. A worst sample is noisy: in the full soak at `01c12d8` a lag that swung between 1.7k
    and 5.2k records with no trend had its second-half worst 10% above the first half's (5,215
    against 4,716) and failed the rule before this one (no more than the first half's worst, or
    one window). A group that cannot keep up falls further behind every window:
    the soak at `204109e` went from 5k to 20k records.
    """

    early: int
    late: int
    window: int

    @classmethod
    def of(cls, lags: list[int], window: int) -> "LagTrend":
        """The trend of samples taken at a steady pace."""
        half = len(lags) // 2
        return cls(max(lags[:half], default=0), max(lags[half:], default=0), window)

    @property
    def bounded(self) -> bool:
        """The second half fell no more than one window further behind than the first."""
        return self.late <= self.early + self.window

    def describe(self) -> str:
        """One report line."""
        return (
            f"lag after warm-up: worst {self.early:,} records in the first half, {self.late:,} "
            f"in the second (bound: the first half's plus {self.window:,}, one window's records)"
        )
