"""Reader tokens: stored only as SHA-256 hashes, each bound to one organization."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from streams.core.keys import KeyLayout

TOKEN_PREFIX = "oit_"  # recognisable in logs and secret scanners


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about a token without the token itself."""

    token_id: str  # the first 12 hex digits of its hash: enough to list and revoke
    org_id: str
    created_at: datetime
    label: str


class TokenStore(Protocol):
    """Creates, resolves, lists and revokes reader tokens."""

    async def create(self, org_id: str, label: str = "") -> tuple[str, TokenInfo]:
        """A new token for the org; the plain token is returned once and never stored."""
        ...

    async def resolve(self, token: str) -> str | None:
        """The org a presented token belongs to, or None."""
        ...

    async def list(self, org_id: str) -> list[TokenInfo]:
        """The org's tokens, oldest first."""
        ...

    async def revoke(self, org_id: str, token_id: str) -> bool:
        """Revoke one of the org's tokens; False if it does not exist."""
        ...


def token_hash(token: str) -> str:
    """SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough (no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


class RedisTokenStore:
    """Tokens as `<prefix>:token:<sha256>` hashes plus a per-org index of token ids."""

    def __init__(self, client: Any, layout: KeyLayout) -> None:
        """Wrap a Redis (or Redis Cluster) client."""
        self.client = client
        self.layout = layout

    async def create(self, org_id: str, label: str = "") -> tuple[str, TokenInfo]:
        """Store the hash, index its id under the org, return the plain token once."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        info = TokenInfo(digest[:12], org_id, datetime.now(UTC).replace(microsecond=0), label)
        fields = {"org_id": org_id, "created_at": info.created_at.isoformat(), "label": label}
        await self.client.hset(self.layout.token(digest), mapping=fields)
        await self.client.hset(self.layout.org_tokens(org_id), info.token_id, digest)
        return token, info

    async def resolve(self, token: str) -> str | None:
        """Look the hash up; unknown or revoked tokens resolve to None."""
        org_id = await self.client.hget(self.layout.token(token_hash(token)), "org_id")
        return (
            None
            if org_id is None
            else str(org_id.decode() if isinstance(org_id, bytes) else org_id)
        )

    async def list(self, org_id: str) -> list[TokenInfo]:
        """Every live token of the org."""
        index = await self.client.hgetall(self.layout.org_tokens(org_id))
        infos = []
        for token_id, digest in index.items():
            fields = await self.client.hgetall(self.layout.token(_text(digest)))
            if fields:
                decoded = {_text(k): _text(v) for k, v in fields.items()}
                created = datetime.fromisoformat(decoded["created_at"])
                infos.append(TokenInfo(_text(token_id), org_id, created, decoded.get("label", "")))
        return sorted(infos, key=lambda info: info.created_at)

    async def revoke(self, org_id: str, token_id: str) -> bool:
        """Delete the token's hash and its index entry."""
        digest = await self.client.hget(self.layout.org_tokens(org_id), token_id)
        if digest is None:
            return False
        await self.client.delete(self.layout.token(_text(digest)))
        await self.client.hdel(self.layout.org_tokens(org_id), token_id)
        return True


def _text(value: bytes | str) -> str:
    """Redis replies are bytes unless decoding was asked for."""
    return value.decode() if isinstance(value, bytes) else value
