"""Bearer-token access to one organization's data: 401, then 400 for a bad org id, then 403."""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import WithJsonSchema

from reader.errors import AuthError
from streams.core.requests import ORG_ID, InvalidParameterError
from streams.tokens import TokenStore

# auto_error=False: FastAPI's own refusal lacks our body and challenge, and would come
# before the org id check; we raise our own errors in the order documented below.
bearer = HTTPBearer(auto_error=False, description="A reader token from `insights token create`.")

# Documented for clients; checked in code rather than by FastAPI, so that a request without
# a valid token learns nothing (not even that its org id is malformed) before it is a 401.
OrgIdPath = Annotated[
    str,
    Path(description="Organization id."),
    WithJsonSchema({"type": "string", "pattern": ORG_ID.pattern}),
]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


class RecentTokens:
    """Token lookups remembered for `ttl_s` seconds (INSIGHTS_READER_CACHE_S): a dashboard's
    requests skip a Redis round trip each, and a revoked token stops working within `ttl_s`.
    Unknown tokens are never remembered, so guessing cannot fill the memory."""

    def __init__(
        self,
        tokens: TokenStore,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap a token store."""
        self.tokens = tokens
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.owners: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def resolve(self, token: str) -> str | None:
        """The token's org, from memory while recent, otherwise from the store."""
        remembered = self.owners.get(token)
        if remembered is not None and self.clock() - remembered[0] < self.ttl_s:
            return remembered[1]
        owner = await self.tokens.resolve(token)
        if owner is None:
            self.owners.pop(token, None)
        elif self.ttl_s > 0:
            self.owners[token] = (self.clock(), owner)
            self.owners.move_to_end(token)
            while len(self.owners) > self.max_entries:
                self.owners.popitem(last=False)
        return owner


def org_access(
    tokens: TokenStore | RecentTokens,
) -> Callable[[str, HTTPAuthorizationCredentials | None], Awaitable[str]]:
    """A dependency that returns the path's org id once the token may read it."""

    async def authorized_org(org_id: OrgIdPath, credentials: Credentials) -> str:
        """401 without a known token; 400 for a malformed org id; 403 for another org's data."""
        if credentials is None or not credentials.credentials:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <token>")
        owner = await tokens.resolve(credentials.credentials)
        if owner is None:
            raise AuthError(HTTPStatus.UNAUTHORIZED, "the token is unknown or revoked")
        # Checked before any Redis key is built from it: the id lands inside a hash tag.
        if not ORG_ID.fullmatch(org_id):
            raise InvalidParameterError("org_id", "must be 1-64 characters of A-Z a-z 0-9 _ -")
        if owner != org_id:
            raise AuthError(HTTPStatus.FORBIDDEN, "this token may not read that organization")
        return org_id

    return authorized_org
