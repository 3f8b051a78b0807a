"""How long `insights demo` takes to show its token and a complete 90-day chart (README's figure).

    python -m bench.demo_chart --seconds 75

Starts the demo, polls the API once a second for the 90 days ending today, and prints when the token
appeared and when the history (every day but today) last changed; "complete" means it then stayed
the same until `--seconds` had passed. The demo is stopped with SIGTERM at the end.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from insights.demo import DEMO_ORG

DAYS = 90


def read_announcement(demo: subprocess.Popen[str]) -> tuple[str, str]:
    """The dashboard URL and token the demo prints."""
    url = ""
    assert demo.stdout is not None
    for line in demo.stdout:
        if line.startswith("dashboard: "):
            url = line.split()[1]
        if line.startswith("token: "):
            return url, line.split()[1]
    raise RuntimeError(f"the demo exited with status {demo.wait()} before printing its token")


def history_settled_at(url: str, token: str, started: float, seconds: float) -> float:
    """Seconds from `started` to the last change of the history, polled until `seconds` passed."""
    today = datetime.now(UTC).date()
    params = {"start": str(today - timedelta(days=DAYS - 1)), "end": str(today)}
    auth = {"Authorization": f"Bearer {token}"}
    last: list[int | None] | None = None
    changed_at = time.monotonic()
    while time.monotonic() - started < seconds:
        document = httpx.get(
            f"{url}api/v1/orgs/{DEMO_ORG}/active-users", params=params, headers=auth
        )
        history = document.json()["series"]["all"][:-1]
        if history != last:
            changed_at, last = time.monotonic(), history
            covered = sum(value is not None for value in history)
            print(f"{changed_at - started:6.1f} s  {covered} of {DAYS - 1} past days covered")
        time.sleep(1)
    return changed_at - started


def main() -> None:
    """Run the demo once and print its two figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=75, help="how long to watch")
    seconds = parser.parse_args().seconds
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "insights", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        url, token = read_announcement(demo)
        print(f"token printed after {time.monotonic() - started:.1f} s")
        settled = history_settled_at(url, token, started, seconds)
        print(f"90-day chart complete after {settled:.1f} s (unchanged until {seconds:.0f} s)")
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(30)


if __name__ == "__main__":
    main()
