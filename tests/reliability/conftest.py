"""Fixtures: one embedded broker and Redis per session; per run its own topics, group and keys.

Every suite has a CI size (marked `integration`, runs in `make test`) and a full size (marked
`reliability`, skipped unless INSIGHTS_RELIABILITY_FULL=1, which `make reliability` sets).
"""

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from insights.embedded import StackEndpoints, embedded_stack
from tests.reliability.figures import Figures, summary_line, write_results
from tests.reliability.harness import Harness

RUNS = pytest.StashKey[list[Figures]]()
FIGURES = pytest.StashKey[Figures]()


@pytest.fixture(scope="session")
def reliability_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackEndpoints]:
    """Tansu and a (non-persistent) redis-server on free loopback ports for the session."""
    with embedded_stack(tmp_path_factory.mktemp("reliability-stack")) as endpoints:
        yield endpoints


@pytest.fixture
async def harness(reliability_stack: StackEndpoints, tmp_path: Path) -> AsyncIterator[Harness]:
    """A run against the session's broker and Redis; its workers are stopped at teardown."""
    run = Harness(reliability_stack.kafka_bootstrap, reliability_stack.redis_url, tmp_path)
    await run.start()
    try:
        yield run
    finally:
        await run.close()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """The run's figures (and its duration), reported after the session whatever the outcome."""
    scale = request.node.callspec.id if hasattr(request.node, "callspec") else "ci and full"
    run = Figures(suite=getattr(request.module, "SUITE", request.module.__name__), scale=scale)
    request.node.stash[FIGURES] = run
    request.config.stash.setdefault(RUNS, []).append(run)
    started = time.monotonic()
    yield run
    run.duration_s = time.monotonic() - started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Record each run's outcome on its figures."""
    report = yield
    run = item.stash.get(FIGURES, None)
    if run is not None and getattr(report, "when", "") == "call":
        known_bug = hasattr(report, "wasxfail") and getattr(report, "skipped", False)
        run.outcome = "xfailed (known bug)" if known_bug else getattr(report, "outcome", "?")
        if call.excinfo is not None and not known_bug:
            run.failure = call.excinfo.exconly().splitlines()[0][:300]
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
