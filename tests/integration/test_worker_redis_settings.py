"""A worker whose Redis settings no retry can fix ends at start with one line, not in retries."""

import subprocess
from pathlib import Path

import pytest

from insights.embedded import StackEndpoints
from insights.processes import start_insights

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("database", "cluster", "server_said"),
    [("99", "false", "DB index is out of range"), ("0", "true", "Cluster mode is not enabled")],
    ids=["no-such-database", "cluster-flag-on-a-single-node"],
)
def test_a_redis_refusing_the_settings_stops_the_worker_at_start(
    pipeline_env: dict[str, str],
    stack: StackEndpoints,
    tmp_path: Path,
    database: str,
    cluster: str,
    server_said: str,
) -> None:
    """The server answers and says no: exit 1 naming its answer and the settings to check
    (the worker used to join its group and log `server:ResponseError` retries forever)."""
    server = stack.redis_url.rsplit("/", 1)[0]
    env = {
        **pipeline_env,
        "INSIGHTS_REDIS_URL": f"{server}/{database}",
        "INSIGHTS_REDIS_CLUSTER": cluster,
    }
    log = tmp_path / "worker.log"
    worker = start_insights(["worker"], env, log)
    try:
        status = worker.wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker kept running: " + log.read_text(errors="replace")[-2000:])
    finally:
        worker.kill()
    last = log.read_text(errors="replace").strip().splitlines()[-1]
    assert status == 1, last
    assert last.startswith("insights: error: redis at "), last
    assert server_said in last, last
    assert "INSIGHTS_REDIS_URL" in last, last
