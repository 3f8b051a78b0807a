"""What a worker learns from Redis before it joins its group: a wrong setting ends it at once.

A worker holds each batch until Redis takes it, retrying forever, which is right for an outage
(Redis down, failing over, out of memory) but not for a setting that no retry can fix: a
database index Redis does not have, a wrong password, `INSIGHTS_REDIS_CLUSTER` that does not
match the server. Such a worker would join its group, take partitions and log retries until
someone read them, so these are refused before it starts, as the CLI refuses a bad setting.
"""

import logging
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    RedisClusterException,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.settings import Settings
from streams.store import connect_redis

log = logging.getLogger(__name__)

# Errors a retry cannot fix: the server answered, and said no. (AuthenticationError is a
# ConnectionError subclass, so it is named before the outage errors below.)
REFUSALS = (AuthenticationError, AuthorizationError, ResponseError)
OUTAGES = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisSettingsError(RuntimeError):
    """Redis answered, but the worker's settings cannot work with it."""


def describe(error: BaseException) -> str:
    """The error's class and message: redis-py's repr says only `server:ResponseError`."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def check_redis(settings: Settings) -> None:
    """PING Redis as the worker will reach it. A refusal raises RedisSettingsError naming the
    settings; an outage is logged, and the worker starts anyway and waits it out."""
    client = connect_redis(settings, fail_fast_s=settings.redis_timeout_s)
    try:
        await client.ping()
    except REFUSALS as error:
        raise refused(settings, error) from None
    except RedisClusterException as error:
        # Raised both when no node answers and when the node is not a cluster: ask it plainly.
        if await answers_plainly(settings):
            raise refused(settings, error) from None
        unreachable(error)
    except (*OUTAGES, RedisError) as error:
        unreachable(error)
    finally:
        await client.aclose()


def refused(settings: Settings, error: BaseException) -> RedisSettingsError:
    """One line naming the server's answer and the settings to look at."""
    cluster = "true" if settings.redis_cluster else "false"
    url = without_password(settings.redis())
    return RedisSettingsError(
        f"redis at {url} refused the worker ({describe(error)}); check INSIGHTS_REDIS_URL and "
        f"INSIGHTS_REDIS_CLUSTER (now {cluster})"
    )


def without_password(url: str) -> str:
    """The URL to show in an error: its password, if any, masked."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def unreachable(error: BaseException) -> None:
    """Start anyway: batches are held, uncommitted, until Redis answers."""
    log.warning(
        "redis does not answer yet; batches will wait for it",
        extra={"error": describe(error)},
    )


async def answers_plainly(settings: Settings) -> bool:
    """Whether the URL's server answers PING as a single node."""
    client = Redis.from_url(
        settings.redis(),
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    try:
        return bool(await client.ping())
    except RedisError:
        return False
    finally:
        await client.aclose()
