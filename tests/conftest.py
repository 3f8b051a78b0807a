"""Settings for the whole suite."""

import pytest
from hypothesis import settings

from streams.compiled import StaleCompiledModuleError, compiled_state, refuse_stale

# Hypothesis fails an example that takes over 200 ms by default: a timed assertion, and on two
# cores shared with a broker, Redis and Chromium a cold first example can take that long. Speed
# is measured by the benchmarks in bench/, never by tests.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test an edited hot-path module through its older compiled copy."""
    try:
        refuse_stale()
    except StaleCompiledModuleError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> str:
    """Say whether the hot path under test is compiled (`make compile`) or plain Python."""
    return f"hot path: {compiled_state().summary}"
