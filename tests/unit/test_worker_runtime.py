"""The worker process: garbage collection paced for batches, and process metrics exposed."""

import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from prometheus_client import generate_latest

from insights.worker import (
    COLLECT_EVERY_S,
    FULL_COLLECTION_EVERY,
    YOUNG_COLLECTION_EVERY,
    register_scheduled_collection,
    tune_garbage_collection,
    worker_registry,
)


@pytest.fixture
def restored_gc_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc_thresholds")
def test_the_young_generation_is_collected_per_batch_not_per_700_allocations() -> None:
    gc.set_threshold(700, 10, 10)  # CPython's default
    tune_garbage_collection()
    young, middle, oldest = gc.get_threshold()
    assert young == YOUNG_COLLECTION_EVERY >= 10_000
    assert middle >= 10
    assert oldest == 10
    assert gc.isenabled()


def test_the_worker_exposes_process_and_collector_metrics() -> None:
    text = generate_latest(worker_registry()).decode()
    for name in ("process_cpu_seconds_total", "python_gc_collections_total", "python_info"):
        assert name in text


class TimerApp:
    """Records the timers registered on it, as Faust's `app.timer` would run them."""

    def __init__(self) -> None:
        """No timer yet."""
        self.timers: dict[str, tuple[float, Callable[[], Awaitable[None]]]] = {}

    def timer(self, interval: float, name: str) -> Callable[[Any], Any]:
        """Faust's decorator: remember the function and its interval."""

        def register(function: Callable[[], Awaitable[None]]) -> Any:
            self.timers[name] = (interval, function)
            return function

        return register


async def test_garbage_is_collected_on_a_timer_and_fully_every_so_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generations: list[int] = []

    def collect_generation(generation: int = 2) -> int:
        generations.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect_generation)
    app = TimerApp()
    register_scheduled_collection(app)  # type: ignore[arg-type]
    interval, collect = app.timers["insights_collect_garbage"]
    assert interval == COLLECT_EVERY_S <= 60

    for _ in range(2 * FULL_COLLECTION_EVERY):
        await collect()

    full = [n for n, generation in enumerate(generations, 1) if generation == 2]
    assert full == [FULL_COLLECTION_EVERY, 2 * FULL_COLLECTION_EVERY]
    assert generations.count(1) == 2 * FULL_COLLECTION_EVERY - 2
