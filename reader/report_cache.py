"""Report documents shared between identical requests: single flight plus a short TTL."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class ReportCache:
    """Identical concurrent requests await one computation, and its document is reused for
    `ttl_s` seconds: a dashboard refreshed by many admins merges each range once.

    For another `ttl_s` after that the stale document is still answered at once while one
    background flight refreshes it, so no request waits on a recomputation of a hot report
    (without this, every expiry stalled all concurrent readers of a year-long range). A document
    is therefore never older than twice the TTL plus one computation.
    """

    def __init__(
        self, ttl_s: float, max_entries: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """A TTL of 0 keeps single flight but stores nothing."""
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.done: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self.running: dict[Hashable, asyncio.Future[Any]] = {}
        self.refreshes: set[asyncio.Future[Any]] = set()  # strong references until they land

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The cached document, the one being computed, or a fresh computation."""
        cached = self.done.get(key)
        if cached is not None:
            age = self.clock() - cached[0]
            if age < self.ttl_s:
                return cast(T, cached[1])
            if age < 2 * self.ttl_s:
                if key not in self.running:
                    self.refresh(key, compute)
                return cast(T, cached[1])
        if key in self.running:
            return cast(T, await asyncio.shield(self.running[key]))
        return await self.flight(key, self.take_off(key), compute)

    def refresh(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> None:
        """Recompute in the background; a failure leaves the stale document until it ages out."""
        task = asyncio.ensure_future(self.flight(key, self.take_off(key), compute))
        self.refreshes.add(task)
        task.add_done_callback(self.refreshes.discard)
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def take_off(self, key: Hashable) -> asyncio.Future[Any]:
        """Register the flight at once, before any await, so nobody starts a second one."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.running[key] = future
        return future

    async def flight(
        self, key: Hashable, future: asyncio.Future[Any], compute: Callable[[], Awaitable[T]]
    ) -> T:
        """Compute once for everyone asking meanwhile, then remember the result."""
        try:
            value = await compute()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so a future nobody awaited does not warn
            raise
        finally:
            del self.running[key]
        future.set_result(value)
        self.store(key, value)
        return value

    def store(self, key: Hashable, value: Any) -> None:
        """Remember a document, evicting the oldest beyond the size bound."""
        if self.ttl_s <= 0:
            return
        self.done[key] = (self.clock(), value)
        self.done.move_to_end(key)
        while len(self.done) > self.max_entries:
            self.done.popitem(last=False)
