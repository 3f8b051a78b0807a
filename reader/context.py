"""What the routes need: the store, the token store and the clock, built once per app."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from reader.report_cache import ReportCache
from streams.core.keys import KeyLayout
from streams.report import DomainActivityReader
from streams.tokens import TokenStore


class ReaderStore(DomainActivityReader, Protocol):
    """The reads the API makes, the key layout they use, and a liveness probe."""

    layout: KeyLayout

    async def ping(self) -> bool:
        """Whether the backing store answers."""
        ...


def utc_today() -> date:
    """The current UTC day: DESIGN.md's days are UTC, so 'today' is too."""
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class ReaderContext:
    """Everything a request handler reads; one per app, so apps never share state."""

    store: ReaderStore
    tokens: TokenStore
    retention_days: int
    today: Callable[[], date] = utc_today
    reports: ReportCache = field(default_factory=lambda: ReportCache(ttl_s=0))
