"""Error responses: one JSON body shape, 400 for any bad input, 503 when Redis is away."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException

from reader.models import ErrorBody
from streams.core.requests import InvalidParameterError
from streams.store import RedisUnavailableError

# redis-py's own ConnectionError/TimeoutError are not the builtins; the builtins come from
# sockets and from stores that are not redis-py (the in-memory test store raises them).
REDIS_DOWN: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    RedisUnavailableError,
    RedisClusterException,  # no cluster node reachable; not a RedisError subclass
    ConnectionError,
    TimeoutError,
)
RETRY_AFTER_S = 5
logger = logging.getLogger(__name__)


class AuthError(Exception):
    """The request may not read this org: 401 (who are you?) or 403 (not yours)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        """Remember the status and the one-line reason."""
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(error: str, message: str, parameter: str | None = None) -> dict[str, Any]:
    """The JSON body of every error; `parameter` only for invalid_parameter."""
    body = ErrorBody(error=error, message=message, parameter=parameter)
    return body.model_dump(exclude_none=True)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "A parameter is invalid; `parameter` names it."),
        (401, "No valid bearer token."),
        (403, "The token belongs to another organization."),
        (503, "Redis is unreachable; retry later."),
    )
}


async def invalid_parameter(request: Request, exc: Exception) -> JSONResponse:
    """400 naming the parameter that parse_series_query (or the org id check) rejected."""
    assert isinstance(exc, InvalidParameterError)
    return JSONResponse(error_body("invalid_parameter", exc.message, exc.parameter), 400)


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors are client input too: 400, never its default 422."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if isinstance(part, str)]
    parameter = location[-1] if location else "request"
    message = str(first.get("msg", "invalid request")).splitlines()[0]
    return JSONResponse(error_body("invalid_parameter", message, parameter), 400)


async def not_authorized(request: Request, exc: Exception) -> JSONResponse:
    """401 carries the Bearer challenge (RFC 6750); 403 does not need one."""
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == HTTPStatus.UNAUTHORIZED else None
    code = "unauthorized" if exc.status == HTTPStatus.UNAUTHORIZED else "forbidden"
    return JSONResponse(error_body(code, exc.message), exc.status, headers=headers)


async def redis_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After: redis-py reconnects by itself once Redis answers again."""
    logger.warning("answering 503: Redis is unreachable: %s", exc)
    message = f"Redis is unreachable ({type(exc).__name__}); retry in a few seconds"
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return JSONResponse(error_body("redis_unavailable", message), 503, headers=headers)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404, 405) in the same body shape as ours."""
    assert isinstance(exc, HTTPException)
    try:
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    except ValueError:  # a status code the standard library has no name for
        code = "http_error"
    headers = exc.headers
    if headers and "Allow" in headers:
        headers = {**headers, "Allow": with_head(headers["Allow"])}
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=headers)


def with_head(allow: str) -> str:
    """The router's `Allow` plus HEAD wherever GET is allowed: `HeadAsGet` answers it there."""
    methods = [method.strip() for method in allow.split(",")]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler above on the app."""
    app.add_exception_handler(InvalidParameterError, invalid_parameter)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(AuthError, not_authorized)
    app.add_exception_handler(HTTPException, http_error)
    for error in REDIS_DOWN:
        app.add_exception_handler(error, redis_unavailable)
