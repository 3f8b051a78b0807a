"""A batch whose processing fails with an error the worker does not retry is never lost."""

import asyncio
import signal
import time
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition

from insights.embedded import free_port, stop_process
from insights.processes import start_insights
from insights.producer import ProduceReport, produce, wait_for_group
from streams.kafka_admin import committed_offsets
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.conftest import WorkerFactory
from tests.integration.failing_worker import BUG, start_failing_worker
from tests.integration.test_pipeline import Y, claim, login, no_progress, report, send

pytestmark = pytest.mark.integration

USERS = 20


async def test_a_worker_whose_agent_fails_exits_and_the_batch_is_counted_after_restart(
    settings: Settings, pipeline_env: dict[str, str], start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """The failing worker exits with status 1 and commits nothing past the failed batches
    (Faust's default supervisor would restart the agent in place and commit past them); a
    healthy worker then counts every login."""
    day = f"{Y}-12-05"
    sent = await logins_waiting_for_a_worker(settings, start_worker, day)

    log = tmp_path / "failing-worker.log"
    failing = start_failing_worker(pipeline_env, log)
    try:
        # Nothing arrives after the failed batches, so this also shows the failure is acted on
        # at once, not when a next batch happens to be fetched.
        status = await asyncio.to_thread(failing.wait, 90)
    finally:
        failing.kill()
    text = log.read_text(errors="replace")
    assert status == 1, text[-2000:]
    assert BUG in text

    await assert_uncommitted_then_counted(settings, start_worker, sent, day)


async def test_a_worker_holding_a_batch_through_a_redis_outage_stops_on_sigterm(
    settings: Settings, pipeline_env: dict[str, str], start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """SIGTERM stops a worker whose Redis is away, within the Redis timeout plus its shutdown,
    instead of Faust waiting forever for the batch it holds; nothing of that batch is committed,
    and a worker with a Redis counts every login."""
    day = f"{Y}-12-06"
    sent = await logins_waiting_for_a_worker(settings, start_worker, day)

    log = tmp_path / "redis-away-worker.log"
    address = f"127.0.0.1:{free_port()}"
    away = {**pipeline_env, "INSIGHTS_REDIS_URL": f"redis://{address}/0"}
    worker = start_insights(["worker"], away, log)
    try:
        deadline = time.monotonic() + 60
        while "holding the batch" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the worker never tried to write"
            await asyncio.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        status = await asyncio.to_thread(worker.wait, 60)
    finally:
        worker.kill()
    text = log.read_text(errors="replace")
    assert status == 0, text[-2000:]
    holding = next(line for line in text.splitlines() if "holding the batch" in line)
    assert f"ConnectionError: Error 111 connecting to {address}" in holding, holding  # the cause

    await assert_uncommitted_then_counted(settings, start_worker, sent, day)


async def logins_waiting_for_a_worker(
    settings: Settings, start_worker: WorkerFactory, day: str
) -> ProduceReport:
    """acme.com claimed (applied by a worker, stopped again), then USERS logins on `day` sent
    with no worker running."""
    setup = start_worker()
    await send(settings, [claim("acme", "acme.com", f"{Y}-01-01T00:00:00Z")])
    stop_process(setup)
    logins = [login(f"u{n}", f"u{n}@acme.com", f"{day}T09:00:00Z") for n in range(USERS)]
    return await produce(
        settings, logins, None, wait=False, timeout_s=60, progress=no_progress, offsets=True
    )


async def assert_uncommitted_then_counted(
    settings: Settings, start_worker: WorkerFactory, sent: ProduceReport, day: str
) -> None:
    """No login offset was committed, and a healthy worker then counts every login."""
    names = TopicNames.from_settings(settings)
    partitions = [TopicPartition(names.logins, p) for p in range(settings.topic_partitions)]
    committed = await committed_offsets(settings.kafka(), settings.app_id, partitions)
    assert all(offset <= 0 for offset in committed.values()), committed

    start_worker()
    await wait_for_group(settings, sent.targets, time.monotonic() + 90, no_progress)
    document = await report(settings, "acme", day, day)
    assert document["series"]["all"] == [USERS]
