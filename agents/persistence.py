"""Retry a Redis write until it lands: a batch is never acked before its writes succeed."""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from agents.metrics import WorkerMetrics
from streams.redis_errors import describe

log = logging.getLogger(__name__)
T = TypeVar("T")


async def until_written(
    operation: Callable[[], Awaitable[T]], name: str, metrics: WorkerMetrics
) -> T:
    """Run `operation`, retrying Redis and network errors forever with capped backoff."""
    retrying_gauge = metrics.redis_retrying.labels(name)

    def note_retry(state: RetryCallState) -> None:
        metrics.redis_errors.labels(name).inc()
        retrying_gauge.set(1)
        if state.attempt_number == 1 or state.attempt_number % 10 == 0:
            error = state.outcome.exception() if state.outcome else None
            attempt, cause = state.attempt_number, describe(error) if error else None
            log.warning(
                "redis unavailable, holding the batch",
                extra={"operation": name, "attempt": attempt, "error": cause},
            )

    retrying = AsyncRetrying(
        # RedisClusterException (no node reachable) is not a RedisError subclass.
        retry=retry_if_exception_type(
            (RedisError, RedisConnectionError, RedisClusterException, OSError)
        ),
        wait=wait_exponential(multiplier=0.1, max=5.0),
        before_sleep=note_retry,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            result = await operation()
    if retrying.statistics.get("attempt_number", 1) > 1:
        retrying_gauge.set(0)
        log.warning("redis recovered", extra={"operation": name})
    return result
