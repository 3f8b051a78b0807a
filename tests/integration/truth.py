"""Compare service answers with a simulation's exact truth, within HyperLogLog tolerance."""

from dataclasses import dataclass, field
from typing import Any

SERIES = ("all", "free", "standard", "premium", "enterprise")


def tolerated(actual: int | None, expected: int | None) -> bool:
    """Exact below 20; otherwise |error| <= max(2, 3% of the truth). Null only where null."""
    if expected is None or actual is None:
        return actual is expected
    if expected < 20:
        return actual == expected
    return abs(actual - expected) <= max(2.0, 0.03 * expected)


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
