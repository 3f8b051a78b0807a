"""Fixtures: one embedded broker and Redis per session; per run its own topics, group and keys.

Every suite has a CI size (marked `integration`, runs in `make test`) and a full size (marked
`reliability`, skipped unless INSIGHTS_RELIABILITY_FULL=1, which `make reliability` sets).
"""

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from insights.embedded import BROKER_LOG, StackEndpoints, embedded_stack
from tests.reliability.figures import Figures, summary_line, write_results
from tests.reliability.harness import Harness

RUNS = pytest.StashKey[list[Figures]]()
FIGURES = pytest.StashKey[Figures]()


@pytest.fixture(scope="session")
def reliability_stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's broker and Redis keep their logs."""
    return tmp_path_factory.mktemp("reliability-stack")


@pytest.fixture(scope="session")
def reliability_stack(reliability_stack_dir: Path) -> Iterator[StackEndpoints]:
    """Tansu and a (non-persistent) redis-server on free loopback ports for the session."""
    with embedded_stack(reliability_stack_dir) as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def reliability_broker_log(reliability_stack_dir: Path) -> Path:
    """The session broker's log, quoted when the broker stops answering."""
    return reliability_stack_dir / BROKER_LOG


@pytest.fixture
async def harness(reliability_stack: StackEndpoints, tmp_path: Path) -> AsyncIterator[Harness]:
    """A run against the session's broker and Redis; its workers are stopped at teardown."""
    run = Harness(reliability_stack.kafka_bootstrap, reliability_stack.redis_url, tmp_path)
    await run.start()
    try:
        yield run
    finally:
        await run.close()


def figures_of(item: pytest.Item) -> Figures:
    """The item's figures, created on first use and listed for the session's report."""
    run = item.stash.get(FIGURES, None)
    if run is None:
        scale = (
            item.callspec.id
            if isinstance(item, pytest.Function) and hasattr(item, "callspec")
            else "ci and full"
        )
        module = getattr(item, "module", None)
        name = getattr(module, "__name__", item.name)
        run = Figures(suite=getattr(module, "SUITE", name), scale=scale)
        item.stash[FIGURES] = run
        item.config.stash.setdefault(RUNS, []).append(run)
    return run


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """The run's figures (and its duration), reported after the session whatever the outcome."""
    run = figures_of(request.node)
    started = time.monotonic()
    yield run
    run.duration_s = time.monotonic() - started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Record each phase's outcome on the run's figures (a failed setup creates them)."""
    report = yield
    run = item.stash.get(FIGURES, None)
    outcome = getattr(report, "outcome", "?")
    if run is None and outcome == "failed" and "figures" in getattr(item, "fixturenames", ()):
        run = figures_of(item)  # the setup failed before the figures fixture ran
    if run is not None:
        known_bug = hasattr(report, "wasxfail") and getattr(report, "skipped", False)
        error = call.excinfo.exconly().splitlines()[0][:300] if call.excinfo is not None else ""
        run.record_phase(getattr(report, "when", ""), outcome, error, known_bug=known_bug)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every run's figures, captured output or not."""
    runs = terminalreporter.config.stash.get(RUNS, [])
    if not runs:
        return
    terminalreporter.section("reliability figures")
    for run in runs:
        terminalreporter.line(summary_line(run))
        for note in run.notes:
            terminalreporter.line(f"    {note}")
    write_results(runs)
