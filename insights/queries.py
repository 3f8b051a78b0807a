"""`insights query`: the reader's report, computed straight from Redis."""

from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from streams.core.keys import KeyLayout
from streams.core.requests import parse_series_query
from streams.report import active_users
from streams.settings import Settings
from streams.store import RedisActiveUserStore, RedisUnavailableError, connect_redis


async def run_query(
    settings: Settings, org: str, product: str, start: str | None, end: str | None, interval: str
) -> dict[str, Any]:
    """Validate the parameters and build the same document as the HTTP API."""
    today = datetime.now(UTC).date()
    query = parse_series_query(org, product, start, end, interval, today, settings.retention_days)
    client = connect_redis(settings)
    try:
        store = RedisActiveUserStore(
            client, KeyLayout(settings.key_prefix), settings.retention_days
        )
        return await active_users(
            store, store.layout, query, today, retention_days=settings.retention_days
        )
    except RedisConnectionError as error:
        raise RedisUnavailableError.at(settings.redis(), error) from error
    finally:
        await client.aclose()
