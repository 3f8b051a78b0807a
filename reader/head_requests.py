"""HEAD answered as GET without the body (RFC 9110 §9.3.2), for every GET route.

FastAPI's routes answer only the methods they declare, so a monitor probing `/healthz` with
HEAD (`wget --spider`, many uptime checkers) would see 405 and call the reader down.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Routes a HEAD request as GET and sends its status and headers, never its body."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap the router (inside the request metrics, which label the request HEAD)."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET's status and headers (its Content-Length included) with an empty body."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # In place, not a copy: the metrics read the route the router records in this scope.
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"
