"""A simulated month of traffic through the real broker, worker and Redis, checked against truth."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from insights.producer import produce
from insights.simulation import SimulationSpec, simulate, write_jsonl
from streams.core.keys import KeyLayout
from streams.core.requests import parse_series_query
from streams.report import active_users
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis
from tests.integration.conftest import WorkerFactory
from tests.integration.truth import Comparison

pytestmark = pytest.mark.integration


def no_progress(phase: str, done: int, total: int) -> None:
    """Tests do not draw progress bars."""


async def answers_for(settings: Settings, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Ask the service every question the truth answers."""
    today = datetime.now(UTC).date()
    client = connect_redis(settings)
    store = RedisActiveUserStore(client, KeyLayout(settings.key_prefix), settings.retention_days)
    try:
        documents = []
        for expected in truth["answers"]:
            query = parse_series_query(
                expected["org_id"],
                expected["product"],
                expected["start"],
                expected["end"],
                expected["interval"],
                today,
                settings.retention_days,
            )
            documents.append(
                await active_users(
                    store, store.layout, query, today, retention_days=settings.retention_days
                )
            )
        return documents
    finally:
        await client.aclose()


async def test_simulated_month_matches_truth_and_replay_changes_nothing(
    settings: Settings, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """3 orgs x 4 products x 2,000 users x 30 days, then the same file again."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=3, users=2000, days=30, seed=7, end_day=yesterday))
    path = tmp_path / "events.jsonl"
    write_jsonl(dataset.lines, path)
    start_worker()

    started = datetime.now(UTC)
    await produce(settings, dataset.lines, None, wait=True, timeout_s=600, progress=no_progress)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    first = await answers_for(settings, dataset.truth)

    comparison = Comparison()
    for actual, expected in zip(first, dataset.truth["answers"], strict=True):
        comparison.document(actual, expected)
    events = dataset.truth["stats"]["events_valid"] + dataset.truth["stats"]["events_invalid"]
    print(
        f"\nreplayed {len(dataset.lines)} lines ({events} events) in {elapsed:.1f} s "
        f"({events / elapsed:.0f} events/s); compared {comparison.values_compared} values; "
        f"max relative error {comparison.max_relative_error:.4%}"
    )
    assert comparison.mismatches == []
    assert comparison.values_compared >= 3000

    await produce(settings, dataset.lines, None, wait=True, timeout_s=600, progress=no_progress)
    assert await answers_for(settings, dataset.truth) == first
