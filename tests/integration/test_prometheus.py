"""A real Prometheus with the project's config and alert rules, scraping the embedded stack.

Debian's `prometheus` package provides `prometheus` and `promtool`; the test setup installs it, so a
missing binary fails these tests rather than skipping them.
"""

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from insights.embedded import free_port, stop_process
from insights.producer import produce
from insights.simulation import SimulationSpec, simulate
from streams.settings import Settings
from tests.integration.conftest import WorkerFactory
from tests.integration.scraping import running_reader, spawn, wait_for_http

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
ALERTS = DEPLOY / "alerts.yml"
INSTALL = "apt-get install -y --no-install-recommends prometheus"
WAIT_S = 60.0
PRODUCTS = ("confluence", "jira", "jsm", "trello")
SILENT = {("InsightsProductSilent", product) for product in PRODUCTS}
# The embedded stack's Redis keeps no append-only file: a crash there would lose counts.
NOT_CRASH_SAFE = ("InsightsRedisNotCrashSafe", "")
# One embedded worker, where the rule expects compose's two replicas (pending within its 2 min).
ONE_WORKER_OF_TWO = ("InsightsWorkerDown", "")
T = TypeVar("T")


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str]) -> dict[str, str]:
    """The shared per-test environment, with the worker's /metrics on a free loopback port."""
    return {**pipeline_env, "INSIGHTS_WORKER_METRICS_PORT": str(free_port())}


def binary(name: str) -> str:
    """The path of a Prometheus binary, or a failure that says how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed; install Debian's package: {INSTALL}")
    return path


def promtool(*args: str, cwd: Path = DEPLOY) -> str:
    """Run promtool; fail with its output unless it exits 0."""
    done = subprocess.run(
        [binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_promtool_accepts_the_config_and_the_rules() -> None:
    """The files docker-compose.yml mounts are valid for Prometheus as they are."""
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")
    rules = sum(len(group["rules"]) for group in yaml.safe_load(ALERTS.read_text())["groups"])
    assert f"SUCCESS: {rules} rules found" in promtool("check", "rules", "alerts.yml")


def test_alert_rules_pass_their_unit_tests() -> None:
    """Each alert fires on its condition and stays quiet next to it (alerts.test.yml)."""
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")


def loopback_config(targets: dict[str, str], path: Path) -> Path:
    """deploy/prometheus/prometheus.yml with each job's targets on loopback and 1 s intervals."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] |= {"scrape_interval": "1s", "scrape_timeout": "1s"}
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(DEPLOY / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        name = job["job_name"]
        assert name in targets, f"job {name} has no loopback target here: extend this test"
        for key in [key for key in job if key.endswith("_sd_configs") or key == "static_configs"]:
            del job[key]
        job["static_configs"] = [{"targets": [targets[name]]}]
    path.write_text(yaml.safe_dump(config))
    return path


@asynccontextmanager
async def running_prometheus(port: int, config: Path, workdir: Path) -> AsyncIterator[str]:
    """Prometheus on 127.0.0.1:port with its own storage; yields its URL, always stops it."""
    args = [
        binary("prometheus"),
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
    ]
    process = spawn(args, {}, workdir / "prometheus.log")
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_for_http(f"{base}/-/ready", process, workdir / "prometheus.log")
        yield base
    finally:
        stop_process(process)


Probe = Callable[[], Awaitable[tuple[bool, T]]]


async def eventually(probe: Probe[T], what: str) -> T:
    """Poll `probe` until it reports done; after WAIT_S fail with `what` and its last answer."""
    deadline = time.monotonic() + WAIT_S
    while True:
        done, seen = await probe()
        if done:
            return seen
        assert time.monotonic() < deadline, f"Prometheus never reported {what}; last: {seen}"
        await asyncio.sleep(0.5)


def no_progress(phase: str, done: int, total: int) -> None:
    """Tests do not draw progress bars."""


async def test_prometheus_scrapes_the_stack_and_counts_the_replay(
    settings: Settings, pipeline_env: dict[str, str], start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """Both targets up, every rule group loaded and healthy, the replayed events all counted."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=1, users=40, days=3, seed=8, end_day=yesterday))
    start_worker()
    await produce(settings, dataset.lines, None, wait=True, timeout_s=300, progress=no_progress)
    produced = dataset.truth["stats"]["events_valid"] + dataset.truth["stats"]["events_invalid"]
    port = free_port()
    async with running_reader(pipeline_env, tmp_path / "reader.log") as reader:
        targets = {
            "insights-worker": f"127.0.0.1:{pipeline_env['INSIGHTS_WORKER_METRICS_PORT']}",
            "insights-reader": reader.removeprefix("http://"),
            "prometheus": f"127.0.0.1:{port}",
        }
        config = loopback_config(targets, tmp_path / "prometheus.yml")
        promtool("check", "config", str(config))
        async with (
            running_prometheus(port, config, tmp_path) as base,
            httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=10) as api,
        ):
            await check_prometheus(api, set(targets), produced)


async def check_prometheus(api: httpx.AsyncClient, jobs: set[str], produced: int) -> None:
    """Targets, rules, the consumed-events query and the alerts the replay must raise."""
    rules = yaml.safe_load(ALERTS.read_text())["groups"]

    async def targets() -> tuple[bool, dict[str, str]]:
        active = (await api.get("/targets")).json()["data"]["activeTargets"]
        health = {target["labels"]["job"]: target["health"] for target in active}
        return health == dict.fromkeys(jobs, "up"), health

    async def groups() -> tuple[bool, dict[str, list[str]]]:
        loaded = (await api.get("/rules")).json()["data"]["groups"]
        health = {g["name"]: [rule["health"] for rule in g["rules"]] for g in loaded}
        return {h for healths in health.values() for h in healths} == {"ok"}, health

    async def consumed() -> tuple[bool, float | None]:
        query = {"query": "sum(insights_events_consumed_total)"}
        result = (await api.get("/query", params=query)).json()["data"]["result"]
        return bool(result), float(result[0]["value"][1]) if result else None

    async def alerts() -> tuple[bool, set[tuple[str, str]]]:
        active = (await api.get("/alerts")).json()["data"]["alerts"]
        names = {(a["labels"]["alertname"], a["labels"].get("product", "")) for a in active}
        return names == SILENT | {NOT_CRASH_SAFE, ONE_WORKER_OF_TWO}, names

    await eventually(targets, f"every job of {sorted(jobs)} up")
    loaded = await eventually(groups, "every rule evaluated without error")
    assert loaded == {g["name"]: ["ok"] * len(g["rules"]) for g in rules}
    # Prometheus starts after the replay, so its first value must already be the final one.
    assert await eventually(consumed, "sum(insights_events_consumed_total)") == produced
    # The replayed events are a day old or more: every product is silent, Redis runs without an
    # AOF, and one worker runs of compose's two; nothing else alerts (start-up alerts such as
    # InsightsNoWorkerUp clear once the first scrapes land).
    await eventually(
        alerts,
        "InsightsProductSilent for each product, InsightsRedisNotCrashSafe, InsightsWorkerDown, "
        "nothing else",
    )
