"""A worker whose Redis settings no retry can fix ends at start with one line, not in retries."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from insights.embedded import StackEndpoints
from insights.processes import start_insights

pytestmark = pytest.mark.integration


@pytest.fixture
def probe_user(stack: StackEndpoints) -> Iterator[None]:
    """A Redis user `probe` whose password is not `secret` (the default user stays as it is)."""
    client = redis.Redis.from_url(stack.redis_url)
    client.acl_setuser(
        "probe", enabled=True, passwords=["+not-secret"], keys=["*"], commands=["+@all"]
    )
    try:
        yield
    finally:
        client.acl_deluser("probe")
        client.close()


def exits_naming(env: dict[str, str], log: Path) -> str:
    """Run a worker that must stop by itself with status 1; its last line."""
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
    assert "INSIGHTS_REDIS_URL" in last, last
    return last


@pytest.mark.parametrize(
    ("credentials", "database", "cluster", "server_said"),
    [
        ("", "99", "false", "DB index is out of range"),
        ("", "0", "true", "it is not a cluster node"),
        ("probe:secret@", "0", "false", "AuthenticationError"),
    ],
    ids=["no-such-database", "cluster-flag-on-a-single-node", "password-not-taken"],
)
def test_a_redis_refusing_the_settings_stops_the_worker_at_start(
    pipeline_env: dict[str, str],
    stack: StackEndpoints,
    probe_user: None,
    tmp_path: Path,
    credentials: str,
    database: str,
    cluster: str,
    server_said: str,
) -> None:
    """The server answers and says no: exit 1 naming its answer and the settings to check
    (the worker used to join its group and log `server:ResponseError` retries forever)."""
    server = stack.redis_url.rsplit("/", 1)[0].replace("redis://", f"redis://{credentials}")
    env = {
        **pipeline_env,
        "INSIGHTS_REDIS_URL": f"{server}/{database}",
        "INSIGHTS_REDIS_CLUSTER": cluster,
    }
    last = exits_naming(env, tmp_path / "worker.log")
    assert server_said in last, last
    assert "secret" not in last, last  # the password is masked
