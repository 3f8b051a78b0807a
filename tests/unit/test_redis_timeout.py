"""The worker's Redis client gives up on a command after INSIGHTS_REDIS_TIMEOUT_S."""

from redis.asyncio import Redis

from streams.settings import Settings
from streams.store import connect_redis


def socket_timeouts(settings: Settings, fail_fast_s: float | None = None) -> tuple[float, float]:
    """The read and connect timeouts new connections of the client get."""
    client = connect_redis(settings, fail_fast_s=fail_fast_s)
    assert isinstance(client, Redis)
    options = client.connection_pool.connection_kwargs
    return options["socket_timeout"], options["socket_connect_timeout"]


def test_commands_time_out_after_the_setting() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_s=1.5)
    assert socket_timeouts(settings) == (1.5, 1.5)


def test_the_default_is_five_seconds_as_in_redis_py() -> None:
    assert socket_timeouts(Settings(redis_url="redis://127.0.0.1:1/0")) == (5.0, 5.0)


def test_the_readers_fail_fast_timeout_wins() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_s=9.0)
    assert socket_timeouts(settings, fail_fast_s=0.5) == (0.5, 0.5)
