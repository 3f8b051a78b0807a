"""Fixtures: one embedded stack per session; per test its own topics, group, keys and workers."""

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from insights.embedded import EMBEDDED_GROUP_TIMING, StackEndpoints, embedded_stack, stop_process
from insights.processes import start_insights
from streams.settings import Settings

WorkerFactory = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackEndpoints]:
    """Tansu and redis-server on free loopback ports for the whole session."""
    with embedded_stack(tmp_path_factory.mktemp("stack")) as endpoints:
        yield endpoints


@pytest.fixture
def pipeline_env(stack: StackEndpoints) -> dict[str, str]:
    """Environment for one test's own topics, consumer group and Redis key prefix."""
    unique = uuid.uuid4().hex[:10]
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "INSIGHTS_REDIS_URL": stack.redis_url,
        "INSIGHTS_TOPIC_PREFIX": f"t{unique}",
        "INSIGHTS_APP_ID": f"insights-test-{unique}",
        "INSIGHTS_KEY_PREFIX": f"k{unique}",
        "INSIGHTS_WORKER_METRICS_PORT": "0",
        **EMBEDDED_GROUP_TIMING,
    }


@pytest.fixture
def settings(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings read from the test's environment, as a command would read them."""
    for key, value in pipeline_env.items():
        monkeypatch.setenv(key, value)
    return Settings()


@pytest.fixture
def start_worker(pipeline_env: dict[str, str], tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start `insights worker` processes for this test; all are stopped at teardown."""
    workers: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        worker = start_insights(["worker"], pipeline_env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        stop_process(worker)
