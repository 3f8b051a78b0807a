"""docs/RELIABILITY.md's findings say why a suite failed, not just that it did."""

from bench.reliability import findings
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
