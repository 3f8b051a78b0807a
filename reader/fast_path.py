"""The JSON active-users route without the framework around it, for the requests that succeed.

A dashboard's requests are mostly answered from the report cache, and then FastAPI's and
Starlette's layers (exception middlewares, the exit stack, nested router matching, the endpoint
wrapper, the response object) cost a third of the reader's CPU per request, more than the
request's own work. This pure ASGI middleware answers `GET /api/v1/orgs/{org_id}/active-users`
itself, through the same `SeriesEndpoint` as the route. Every other request, and any failure
(401, 400, 503...), goes on to FastAPI unchanged; a failure travels in the scope, and the route
raises it, so the framework answers it as before without asking Redis twice.
"""

import re
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from reader.api import ACTIVE_USERS, FAST_PATH_ERROR, SeriesEndpoint

# Starlette's `{org_id}` matches one non-empty path segment.
SERIES_JSON = re.compile("^/api/v1" + ACTIVE_USERS.replace("{org_id}", "([^/]+)") + "$")


class SeriesRoute:
    """What the metrics middleware reads from `scope["route"]`: the route's template."""

    path = "/api/v1" + ACTIVE_USERS


class SeriesFastPath:
    """Answers successful JSON active-users requests directly; passes everything else on."""

    def __init__(self, app: ASGIApp, series: SeriesEndpoint) -> None:
        """Wrap the app's inner stack (inside the request metrics)."""
        self.app = app
        self.series = series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer here when possible, otherwise let the framework."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            match = SERIES_JSON.match(scope["path"])
            if match is not None:
                scope["path_params"] = {"org_id": match.group(1)}
                try:
                    body = await self.series.json(Request(scope))
                except Exception as error:  # any failure: the route raises it again
                    scope[FAST_PATH_ERROR] = error
                else:
                    scope["route"] = SeriesRoute
                    await send_json(send, body)
                    return
        await self.app(scope, receive, send)


async def send_json(send: Send, body: bytes) -> None:
    """A 200 with the headers Starlette's Response sends for application/json."""
    headers: list[Any] = [
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
