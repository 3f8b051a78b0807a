"""`insights` commands as child processes, for the demo, the tests and the benchmarks."""

import os
import subprocess
import sys
from pathlib import Path


def start_insights(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`insights <args>` with `env` over ours, in its own process group (so stopping it stops its
    children too), output appended to `log` or discarded."""
    command = [sys.executable, "-m", "insights", *args]
    environment = {**os.environ, **env}
    if log is None:
        return subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
