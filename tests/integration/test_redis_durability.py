"""The worker's reading of Redis's persistence settings, against real redis-servers."""

import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from insights.embedded import free_port
from streams.redis_durability import DurabilityWatch
from streams.settings import Settings
from streams.store import connect_redis
from tests.reliability.redis_server import persistent_redis

pytestmark = pytest.mark.integration
EVERYSEC_RISK = (
    "appendfsync everysec: a crash can lose the last seconds of writes whose offsets are "
    "already committed"
)
NO_AOF_RISK = "no append-only file: a restart loses every count since the last snapshot"


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, object]]:
    """The watch's log lines: level, message, and the risks it named."""
    return [
        (record.levelname, record.getMessage(), getattr(record, "risks", None))
        for record in caplog.records
        if record.name == "streams.redis_durability"
    ]


async def test_each_setting_is_reported_and_each_change_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """everysec is at risk, always is safe, no AOF is at risk; a repeat reading logs nothing,
    and an unreachable Redis changes nothing."""
    caplog.set_level(logging.INFO, logger="streams.redis_durability")
    with persistent_redis(tmp_path / "redis", ("--appendfsync", "everysec")) as server:
        client = Redis.from_url(server.url)
        watch = DurabilityWatch(client)
        try:
            assert await watch.check() == DurabilityWatch.AT_RISK
            assert await watch.check() == DurabilityWatch.AT_RISK
            await client.config_set("appendfsync", "always")
            assert await watch.check() == DurabilityWatch.SAFE
            await client.config_set("appendonly", "no")
            assert await watch.check() == DurabilityWatch.AT_RISK
            server.stop()
            assert await watch.check() is None
        finally:
            await client.aclose()
    assert logged(caplog) == [
        ("WARNING", "redis can lose acknowledged writes", [EVERYSEC_RISK]),
        ("INFO", "redis keeps every acknowledged write (appendfsync always)", None),
        ("WARNING", "redis can lose acknowledged writes", [NO_AOF_RISK]),
    ]


async def test_a_redis_refusing_config_is_reported_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Managed Redis services often disable CONFIG: the watch says it cannot tell, once."""
    caplog.set_level(logging.INFO, logger="streams.redis_durability")
    with persistent_redis(tmp_path / "redis", ("--rename-command", "CONFIG", "")) as server:
        client = Redis.from_url(server.url)
        watch = DurabilityWatch(client)
        try:
            assert await watch.check() == DurabilityWatch.UNKNOWN
            assert await watch.check() == DurabilityWatch.UNKNOWN
        finally:
            await client.aclose()
    [(level, message, _)] = logged(caplog)
    assert (level, message.split(":")[0]) == ("INFO", "cannot read redis persistence settings")


async def test_an_unreachable_cluster_is_no_news() -> None:
    """A cluster client that reaches no node raises RedisClusterException, not a RedisError: the
    watch must still answer 'no news', or the exception would end the worker."""
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_cluster=True)
    client = connect_redis(settings)
    try:
        assert await DurabilityWatch(client).check() is None
    finally:
        await client.aclose()
