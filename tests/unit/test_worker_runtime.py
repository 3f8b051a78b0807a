"""The worker process: garbage collection paced for batches, and process metrics exposed."""

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from insights.worker import YOUNG_COLLECTION_EVERY, tune_garbage_collection, worker_registry


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
