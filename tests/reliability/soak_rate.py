"""The soak's send rate: twice the sustained rate of the newest performance runs on record."""

import re
import statistics
from pathlib import Path

import orjson

DEFAULT_SUSTAINED_RATE = 10_000.0  # events/s, when no benchmark result is at hand
# `bench/results/<YYYY-MM-DD>-<commit>[-suffix].json`, as the harness names its runs.
RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-[0-9a-f]+.*\.json$")


def soak_rate(results: Path) -> tuple[float, str]:
    """Twice the median freshness (sustained) rate of the newest day's runs, and its source.

    By the date in the file name, not the file's mtime: a fresh clone gives every file the same
    mtime, which once made the pick arbitrary. The median of that day's runs, not one run: the
    machine's speed swings twice over between hours, and one fast run doubled into a 20-minute
    soak piles tens of millions of events into the memory-only broker.
    """
    rates_by_day: dict[str, list[float]] = {}
    for path in results.glob("20*.json"):
        named = RUN_NAME.match(path.name)
        if named is None:
            continue
        freshness = orjson.loads(path.read_bytes()).get("freshness") or {}
        if "rate_per_s" in freshness:
            rates_by_day.setdefault(named[1], []).append(float(freshness["rate_per_s"]))
    if not rates_by_day:
        return 2 * DEFAULT_SUSTAINED_RATE, "no benchmark result: 2 x 10,000 events/s"
    day = max(rates_by_day)
    rates = rates_by_day[day]
    median = statistics.median(rates)
    runs = "1 run" if len(rates) == 1 else f"{len(rates)} runs"
    return 2 * median, f"2 x the median sustained rate of {runs} of {day}"
