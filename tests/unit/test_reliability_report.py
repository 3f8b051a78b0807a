"""docs/RELIABILITY.md's findings say why a suite failed, not just that it did."""

from bench.reliability import commit, findings
from tests.reliability.figures import Figures


def run(outcome: str, failure: str = "", notes: tuple[str, ...] = ()) -> dict[str, object]:
    figures = Figures(suite="6. soak", scale="full", outcome=outcome, failure=failure)
    figures.notes.extend(notes)
    return figures.row()


def test_a_failed_suite_is_listed_with_its_assertion() -> None:
    failed = run("failed", "AssertionError: worker memory grew: growth 34.5%", ("keys compared",))
    assert "- 6. soak: failed. AssertionError: worker memory grew: growth 34.5%" in findings(
        [failed]
    )


def test_without_a_recorded_failure_the_last_note_stands_in() -> None:
    assert "- 6. soak: failed. keys compared" in findings([run("failed", notes=("keys compared",))])


def test_passed_suites_leave_no_findings() -> None:
    assert findings([run("passed", notes=("all fine",))]).endswith("- none\n")


def test_a_run_whose_setup_failed_is_reported_as_such_not_as_not_run() -> None:
    figures = Figures(suite="1. worker crashes", scale="full")
    figures.record_phase("setup", "failed", "TimeoutError: the broker did not start")
    assert (figures.outcome, figures.failure) == (
        "error in setup",
        "TimeoutError: the broker did not start",
    )
    assert "- 1. worker crashes: error in setup. TimeoutError: the broker did not start" in (
        findings([figures.row()])
    )


def test_a_passed_run_whose_teardown_failed_is_not_reported_as_passed() -> None:
    figures = Figures(suite="3. rebalances", scale="full")
    for when in ("setup", "call"):
        figures.record_phase(when, "passed", "")
    figures.record_phase("teardown", "failed", "RuntimeError: a worker was still running")
    assert figures.outcome == "error in teardown"
    assert figures.failure == "RuntimeError: a worker was still running"


def test_a_failed_call_keeps_its_own_error_over_a_later_teardown_error() -> None:
    figures = Figures(suite="6. soak", scale="full")
    figures.record_phase("call", "failed", "AssertionError: lag grew")
    figures.record_phase("teardown", "failed", "RuntimeError: a worker was still running")
    assert (figures.outcome, figures.failure) == ("failed", "AssertionError: lag grew")


def test_a_known_bug_is_marked_and_its_error_left_out_of_the_findings() -> None:
    figures = Figures(suite="2. Redis faults", scale="full")
    figures.record_phase("call", "skipped", "XFailed: known", known_bug=True)
    assert (figures.outcome, figures.failure) == ("xfailed (known bug)", "")


def test_the_report_names_the_tree_the_suites_ran() -> None:
    """A run whose tree changed while it ran says so: its workers ran more than one version."""
    clean = ("a" * 40, "")
    assert commit(clean, clean) == f"`{'a' * 40}`"
    dirty = ("a" * 40, "diff --git …")
    assert commit(dirty, dirty) == f"`{'a' * 40}` plus uncommitted changes"
    assert commit(dirty, ("b" * 40, "")) == (
        f"`{'a' * 40}` plus uncommitted changes (the tree changed during the run: it ended at "
        f"`{'b' * 40}`)"
    )
    assert commit(clean, ("a" * 40, "diff")).endswith(
        "(the uncommitted changes changed during the run)"
    )
