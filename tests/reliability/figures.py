"""What each reliability run measured: printed after the session, written as JSON for the docs."""

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

FULL_ENV = "INSIGHTS_RELIABILITY_FULL"
RESULTS_ENV = "INSIGHTS_RELIABILITY_RESULTS"


def full_run() -> bool:
    """Whether the full-size suites were asked for (`make reliability` sets it)."""
    return os.environ.get(FULL_ENV) == "1"


def ci_and_full(ci: Any, full: Any, timeouts: tuple[float, float]) -> list[Any]:
    """Two sizes of one suite: the CI subset runs with `make test`, the full one on demand."""
    skip = pytest.mark.skipif(
        not full_run(), reason=f"full-size reliability suite: `make reliability` sets {FULL_ENV}=1"
    )
    return [
        pytest.param(
            ci, id="ci", marks=[pytest.mark.integration, pytest.mark.timeout(timeouts[0])]
        ),
        pytest.param(
            full, id="full", marks=[pytest.mark.reliability, skip, pytest.mark.timeout(timeouts[1])]
        ),
    ]


@dataclass
class Figures:
    """One suite run's figures: the columns of docs/RELIABILITY.md."""

    suite: str
    scale: str
    fault: str = ""
    faults: int = 0
    events: int = 0
    lost: int | None = None  # expected facts missing from Redis (must be 0)
    double_counted: int | None = None  # facts or keys nothing produced (must be 0)
    redelivered: int | None = None  # events counted more than once by the metric (at least once)
    recovery_s: list[float] = field(default_factory=list)
    catch_up_s: float | None = None  # last event sent -> committed offsets at the log end
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    outcome: str = "not run"
    failure: str = ""  # the first line of what failed, for the report's findings

    def row(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return asdict(self)

    def record_phase(self, when: str, outcome: str, error: str, *, known_bug: bool = False) -> None:
        """Fold one pytest phase (setup, call, teardown) into the run's outcome.

        The call decides the outcome; a setup that failed (the stack or a worker did not start)
        or a teardown that failed (a worker left running, a check in a finaliser) is reported too,
        so the report never shows such a run as "not run" or "passed".
        """
        if when == "call":
            self.outcome = "xfailed (known bug)" if known_bug else outcome
            if error and not known_bug:
                self.failure = error
        elif outcome == "failed" and self.outcome in ("not run", "passed"):
            self.outcome = f"error in {when}"
            self.failure = self.failure or error


def summary_line(figures: Figures) -> str:
    """One line per run for the terminal summary."""
    worst = f"{max(figures.recovery_s):.1f}" if figures.recovery_s else "-"
    catch_up = "-" if figures.catch_up_s is None else f"{figures.catch_up_s:.1f}"
    return (
        f"{figures.outcome:7} {figures.suite} [{figures.scale}]: "
        f"{figures.faults} x {figures.fault}, {figures.events:,} events, lost {figures.lost}, "
        "double counted "
        f"{figures.double_counted}, redelivered {figures.redelivered}, worst recovery {worst} s, "
        f"catch-up {catch_up} s, {figures.duration_s:.0f} s"
    )


def write_results(runs: list[Figures]) -> None:
    """Append the runs as JSON lines where the full-size runner asked for them."""
    target = os.environ.get(RESULTS_ENV)
    if not target:
        return
    with Path(target).open("ab") as out:
        for figures in runs:
            out.write(orjson.dumps(figures.row()) + b"\n")
