"""What a worker learns from Redis before it joins its group: a wrong setting ends it at once.

A worker holds each batch until Redis takes it, retrying forever, which is right for an outage
(Redis down, failing over, out of memory, a cluster whose slots are still being assigned) but not
for a setting that no retry can fix: a database index Redis does not have, a wrong password,
`INSIGHTS_REDIS_CLUSTER` that does not match the server. Such a worker would join its group, take
partitions and log retries until someone read them, so these are refused before it starts, as the
CLI refuses a bad setting.
"""

import logging

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, AuthorizationError, RedisError, ResponseError

from streams.redis_errors import describe, without_password
from streams.settings import Settings

log = logging.getLogger(__name__)

# The server answered, and said no. (AuthenticationError is a ConnectionError subclass: every
# other error, a connection refused or a timeout included, is an outage to wait out.)
REFUSALS = (AuthenticationError, AuthorizationError, ResponseError)


class RedisSettingsError(RuntimeError):
    """Redis answered, but the worker's settings cannot work with it."""


async def check_redis(settings: Settings) -> None:
    """Ask the URL's server, as a single node, whether it is a cluster node. A refusal, or an
    answer that contradicts INSIGHTS_REDIS_CLUSTER, raises RedisSettingsError naming the
    settings; an outage is logged, and the worker starts anyway and waits it out."""
    # A plain client for both settings: a cluster client would wrap a refused password, or a
    # cluster still assigning its slots, in the same RedisClusterException as a dead node.
    client = Redis.from_url(
        settings.redis(),
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    try:
        info = await client.info("cluster")
    except REFUSALS as error:
        raise refused(settings, describe(error)) from None
    except (RedisError, OSError) as error:
        log.warning(
            "redis does not answer yet; batches will wait for it",
            extra={"error": describe(error)},
        )
        return
    finally:
        await client.aclose()
    is_cluster = bool(int(info.get("cluster_enabled", 0)))
    if is_cluster != settings.redis_cluster:
        node = "a cluster node" if is_cluster else "not a cluster node"
        raise refused(settings, f"it is {node}")


def refused(settings: Settings, reason: str) -> RedisSettingsError:
    """One line naming the server's answer and the settings to look at."""
    cluster = "true" if settings.redis_cluster else "false"
    url = without_password(settings.redis())
    return RedisSettingsError(
        f"redis at {url} refused the worker ({reason}); check INSIGHTS_REDIS_URL and "
        f"INSIGHTS_REDIS_CLUSTER (now {cluster})"
    )
