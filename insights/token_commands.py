"""`insights token create|list|revoke`: reader tokens, stored hashed in Redis."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from redis.exceptions import ConnectionError as RedisConnectionError

from streams.core.keys import KeyLayout
from streams.settings import Settings, load_settings
from streams.store import RedisUnavailableError, connect_redis
from streams.tokens import RedisTokenStore, TokenInfo

T = TypeVar("T")


def with_tokens(settings: Settings, action: Callable[[RedisTokenStore], Awaitable[T]]) -> T:
    """Run one token operation against Redis and close the client."""

    async def run() -> T:
        client = connect_redis(settings)
        try:
            return await action(RedisTokenStore(client, KeyLayout(settings.key_prefix)))
        except RedisConnectionError as error:
            raise RedisUnavailableError.at(settings.redis(), error) from error
        finally:
            await client.aclose()

    return asyncio.run(run())


def create(org: str, label: str = "") -> None:
    """Create a token for the org and print it alone on the last line (shown only once)."""
    token, info = with_tokens(load_settings(), lambda store: store.create(org, label))
    typer.echo(f"token id {info.token_id} for org {info.org_id} (store it now: it is not kept)")
    typer.echo(token)


def list_tokens(org: str) -> None:
    """Print the org's tokens: id, creation time, label."""
    infos: list[TokenInfo] = with_tokens(load_settings(), lambda s: s.list(org))
    for info in infos:
        typer.echo(f"{info.token_id}\t{info.created_at.isoformat()}\t{info.label}")
    if not infos:
        typer.echo(f"no tokens for org {org}", err=True)


def revoke(org: str, token_id: str) -> None:
    """Revoke one token by id; unknown ids are an error."""
    if not with_tokens(load_settings(), lambda store: store.revoke(org, token_id)):
        raise LookupError(f"org {org} has no token with id {token_id}")
    typer.echo(f"revoked {token_id}")
