"""`insights worker` with a bug in its login processing: every login batch raises.

`start_failing_worker` runs it as `python -m tests.integration.failing_worker` with a test's
INSIGHTS_* environment; the other agents (claims, plan changes) are the real ones.
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from agents.logins import LoginBatchProcessor
from agents.records import SourceRecord

BUG = "a bug in login processing (injected by the test)"
ROOT = Path(__file__).resolve().parents[2]


async def failing(self: LoginBatchProcessor, records: Sequence[SourceRecord]) -> None:
    """Stand-in for a handler with a bug the worker does not retry (not a Redis error)."""
    raise RuntimeError(BUG)


def start_failing_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """This module as a worker process, its output in `log`."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.failing_worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


if __name__ == "__main__":
    from insights.worker import run_worker
    from streams.settings import Settings

    LoginBatchProcessor.__call__ = failing  # type: ignore[method-assign]
    run_worker(Settings())
