"""Compare service answers with a simulation's exact truth, within HyperLogLog tolerance."""

from dataclasses import dataclass, field
from typing import Any

from streams.core.keys import EXACT_LIMIT

SERIES = ("all", "free", "standard", "premium", "enterprise")


# Redis's HyperLogLog (16,384 registers) has a standard error of 1.04 / sqrt(16384) = 0.81%; four
# of them is 3.25%. Below a few hundred users its error is whole register collisions instead:
# PFCOUNT of random ids read up to 2 short at 65 users, 4 at 120 and 5 at 200 (3,000 sets each),
# and a calendar-dependent simulation meets such a tail on some days. Hence at least 5 either way.
HLL_RELATIVE_TOLERANCE = 4 * 1.04 / 16384**0.5
HLL_ABSOLUTE_TOLERANCE = 5


def tolerated(actual: int | None, expected: int | None) -> bool:
    """Exact up to EXACT_LIMIT (the union of exact sets); above it, within the HyperLogLog's error.
    Null only where null."""
    if expected is None or actual is None:
        return actual is expected
    if expected <= EXACT_LIMIT:
        return actual == expected
    return abs(actual - expected) <= max(HLL_ABSOLUTE_TOLERANCE, HLL_RELATIVE_TOLERANCE * expected)


@dataclass
class Comparison:
    """Every mismatch found, and the largest relative error seen on non-null values."""

    mismatches: list[str] = field(default_factory=list)
    values_compared: int = 0
    max_relative_error: float = 0.0

    def value(self, where: str, actual: int | None, expected: int | None) -> None:
        """Compare one value and remember the relative error."""
        self.values_compared += 1
        if actual is not None and expected:
            self.max_relative_error = max(
                self.max_relative_error, abs(actual - expected) / expected
            )
        if not tolerated(actual, expected):
            self.mismatches.append(f"{where}: got {actual}, truth {expected}")

    def document(self, actual: dict[str, Any], expected: dict[str, Any]) -> None:
        """Compare one API document: shape exactly, values within tolerance."""
        label = f"{expected['org_id']}/{expected['product']}/{expected['interval']}"
        for key in ("periods", "missing", "partial"):
            if actual[key] != expected[key]:
                self.mismatches.append(f"{label} {key}: got {actual[key]}, truth {expected[key]}")
        for name in SERIES:
            pairs = zip(actual["series"][name], expected["series"][name], strict=True)
            for period, (got, want) in zip(expected["periods"], pairs, strict=True):
                self.value(f"{label} {name} {period}", got, want)
            self.value(f"{label} totals.{name}", actual["totals"][name], expected["totals"][name])
