"""The soak's rate: the newest day by file name, the median of its runs."""

import os
from pathlib import Path

import orjson

from tests.reliability.soak_rate import soak_rate


def write_run(results: Path, name: str, rate: float | None, mtime: float) -> None:
    """A results file as bench writes it, with only the part the soak reads."""
    freshness = {} if rate is None else {"rate_per_s": rate}
    path = results / name
    path.write_bytes(orjson.dumps({"freshness": freshness}))
    os.utime(path, (mtime, mtime))


def test_the_newest_day_by_name_wins_whatever_the_mtimes(tmp_path: Path) -> None:
    write_run(tmp_path, "2026-12-02-aaaaaaa-quick-run1.json", 90_000.0, mtime=2_000_000)
    write_run(tmp_path, "2026-12-03-bbbbbbb-quick-run1.json", 10_000.0, mtime=1_000_000)
    write_run(tmp_path, "2026-12-03-ccccccc-quick-run2.json", 30_000.0, mtime=1_000_000)
    write_run(tmp_path, "2026-12-03-ddddddd-quick-run3.json", 20_000.0, mtime=1_000_000)
    rate, source = soak_rate(tmp_path)
    assert rate == 40_000.0
    assert source == "2 x the median sustained rate of 3 runs of 2026-12-03"


def test_runs_without_a_freshness_rate_and_other_files_are_skipped(tmp_path: Path) -> None:
    write_run(tmp_path, "2026-12-01-aaaaaaa.json", 12_000.0, mtime=1)
    write_run(tmp_path, "2026-12-04-bbbbbbb-quick.json", None, mtime=1)
    write_run(tmp_path, "2026-12-05-not-a-commit.json", 99_000.0, mtime=1)
    assert soak_rate(tmp_path) == (24_000.0, "2 x the median sustained rate of 1 run of 2026-12-01")


def test_no_results_fall_back_to_the_default(tmp_path: Path) -> None:
    assert soak_rate(tmp_path) == (20_000.0, "no benchmark result: 2 x 10,000 events/s")
