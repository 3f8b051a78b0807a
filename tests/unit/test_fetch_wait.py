"""The worker lets the broker hold a fetch INSIGHTS_FETCH_MAX_WAIT_S, not Faust's fixed 1.5 s."""

import asyncio
from typing import Any, cast

import pytest

from streams.app import create_app
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
