"""The performance issue's targets, checked against one harness run's results (pure, no I/O)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    """One target: a figure read from the results, and the bound it must meet."""

    name: str
    unit: str
    bound: float
    at_least: bool  # True: the figure must be >= bound; False: <= bound
    figure: Callable[[Mapping[str, Any]], float | None]

    def met(self, value: float | None) -> bool:
        """Whether the figure meets the bound; a figure the run could not measure never does."""
        if value is None:
            return False
        return value >= self.bound if self.at_least else value <= self.bound


@dataclass(frozen=True, slots=True)
class Verdict:
    """A target, the figure measured for it, and whether it was met."""

    target: Target
    value: float | None
    met: bool

    def line(self) -> str:
        """`met  worker, ... >= 25,000 events/s: 41,084`, for the table under the figures."""
        sign = ">=" if self.target.at_least else "<="
        shown = "not measured" if self.value is None else f"{self.value:,}"
        unit = self.target.unit
        bound = f"{self.target.bound:,}{unit}" if unit == "x" else f"{self.target.bound:,} {unit}"
        state = "met" if self.met else "NOT MET"
        return f"{state:<8}{self.target.name} {sign} {bound}: {shown}"


def _rate(phase: str) -> Callable[[Mapping[str, Any]], float | None]:
    return lambda results: results.get(phase, {}).get("events_per_s")


def _two_workers(results: Mapping[str, Any]) -> float | None:
    one, two = _rate("worker_1")(results), _rate("worker_2")(results)
    return round(two / one, 2) if one and two is not None else None


# The "Targets" section, in its order.
TARGETS = (
    Target("worker, 1 event/message, 1 worker", "events/s", 25_000, True, _rate("worker_1")),
    Target("worker, batched records", "events/s", 100_000, True, _rate("worker_1_batched")),
    Target("2 workers / 1 worker", "x", 1.6, True, _two_workers),
    Target(
        "insights produce / raw batch produce", "x", 0.8, True, lambda r: r.get("produce_vs_raw")
    ),
    Target("read p99, 365 days, 50 clients", "ms", 20, False, lambda r: r.get("read_p99_ms_365d")),
    Target("worker ready", "s", 5, False, lambda r: r.get("worker_1", {}).get("ready_s")),
    Target("freshness p99", "s", 2, False, lambda r: r.get("freshness", {}).get("p99_s")),
)


def verdicts(results: Mapping[str, Any]) -> list[Verdict]:
    """Each target's verdict on one run's results."""
    return [Verdict(t, value := t.figure(results), t.met(value)) for t in TARGETS]


def as_json(found: list[Verdict]) -> dict[str, dict[str, Any]]:
    """The verdicts as the results file records them, by target name."""
    return {
        v.target.name: {
            "value": v.value,
            "bound": v.target.bound,
            "at_least": v.target.at_least,
            "met": v.met,
        }
        for v in found
    }
