"""The harness's target check: each figure read from the results and compared with its bound."""

from typing import Any

import pytest

from bench.targets import TARGETS, as_json, verdicts


def results(**overrides: Any) -> dict[str, Any]:
    """A run's results shaped as bench.throughput writes them, every target just met."""
    base: dict[str, Any] = {
        "worker_1": {"events_per_s": 25_000, "ready_s": 5.0},
        "worker_2": {"events_per_s": 40_000},
        "worker_1_batched": {"events_per_s": 100_000},
        "produce_vs_raw": 0.8,
        "read_p99_ms_365d": 20.0,
        "freshness": {"p99_s": 2.0},
    }
    base.update(overrides)
    return base


def test_figures_on_their_bounds_meet_every_target() -> None:
    found = verdicts(results())
    assert [v.target.name for v in found] == [t.name for t in TARGETS]
    assert [v.met for v in found] == [True] * len(TARGETS)
    assert found[2].value == 1.6  # 40,000 / 25,000


@pytest.mark.parametrize(
    ("overrides", "missed"),
    [
        (
            {"worker_1": {"events_per_s": 24_999, "ready_s": 1.0}},
            "worker, 1 event/message, 1 worker",
        ),
        ({"worker_1_batched": {"events_per_s": 99_999}}, "worker, batched records"),
        ({"worker_2": {"events_per_s": 39_000}}, "2 workers / 1 worker"),
        ({"produce_vs_raw": 0.79}, "insights produce / raw batch produce"),
        ({"read_p99_ms_365d": 20.01}, "read p99, 365 days, 50 clients"),
        ({"worker_1": {"events_per_s": 25_000, "ready_s": 5.01}}, "worker ready"),
        ({"freshness": {"p99_s": 2.5}}, "freshness p99"),
        ({"read_p99_ms_365d": None}, "read p99, 365 days, 50 clients"),
    ],
)
def test_a_figure_past_its_bound_or_unmeasured_misses_only_its_target(
    overrides: dict[str, Any], missed: str
) -> None:
    found = verdicts(results(**overrides))
    assert [v.target.name for v in found if not v.met] == [missed]


def test_the_results_file_and_the_printed_lines_name_value_bound_and_state() -> None:
    found = verdicts(results(worker_1_batched={"events_per_s": 70_604}))
    recorded = as_json(found)["worker, batched records"]
    assert recorded == {"value": 70_604, "bound": 100_000, "at_least": True, "met": False}
    assert found[1].line() == "NOT MET worker, batched records >= 100,000 events/s: 70,604"
    assert found[4].line() == "met     read p99, 365 days, 50 clients <= 20 ms: 20.0"
    assert found[2].line() == "met     2 workers / 1 worker >= 1.6x: 1.6"
