"""The worker's fetch waits: the broker holds a fetch INSIGHTS_FETCH_MAX_WAIT_S, not Faust's fixed
1.5 s, and a look for fetched records waits GETMANY_WAIT_S, not Faust's second."""

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from streams.app import create_app
from streams.record_batches import GETMANY_WAIT_S
from streams.settings import Settings


@pytest.mark.parametrize(("seconds", "millis"), [(0.1, 100), (0.25, 250), (2.0, 2000)])
def test_the_worker_consumer_fetches_with_the_configured_wait(seconds: float, millis: int) -> None:
    async def build() -> int:
        app = create_app(Settings(kafka_bootstrap="127.0.0.1:1", fetch_max_wait_s=seconds))
        thread = cast(Any, app.consumer)._thread
        consumer = thread._create_worker_consumer(app.transport)
        try:
            # Nothing connects before start(); start() hands this value to the Fetcher.
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()
            thread.thread_loop.close()  # the consumer thread's loop, never started here

    assert asyncio.run(build()) == millis


def test_the_default_wait_is_short() -> None:
    # aiokafka keeps one fetch in flight per broker: a long wait on idle topics stalls logins.
    assert Settings().fetch_max_wait_s == 0.1


def test_the_fetch_loop_looks_for_records_again_within_a_tenth_of_a_second() -> None:
    # A look asks only for the partitions active when it starts; one that Faust's flow control
    # resumes meanwhile is served by the next look, so the wait bounds how late its logins are.
    async def drain() -> list[float]:
        app = create_app(Settings(kafka_bootstrap="127.0.0.1:1"))
        consumer = cast(Any, app.consumer)
        waits: list[float] = []

        async def getmany(timeout: float) -> AsyncIterator[Any]:  # noqa: ASYNC109 - upstream's
            waits.append(timeout)
            if len(waits) == 3:
                consumer._stopped.set()
            return
            yield  # an async generator, as upstream's getmany is, that finds nothing

        consumer.getmany = getmany
        try:
            await consumer._drain_messages(SimpleNamespace(_stopped=asyncio.Event()))
        finally:
            consumer._thread.thread_loop.close()
        return waits

    assert asyncio.run(drain()) == [GETMANY_WAIT_S] * 3
    assert GETMANY_WAIT_S <= 0.1
