"""A simulated replay through the real worker and reader: /metrics counts what happened, no one."""

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from insights.embedded import free_port, stop_process
from insights.processes import start_insights
from insights.producer import produce, route
from insights.simulation import Simulation, SimulationSpec, simulate
from schemas.decode import RejectionReason
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.conftest import WorkerFactory
from tests.integration.scraping import Scrape, create_token, running_reader, scrape

pytestmark = pytest.mark.integration

EVENTS = "insights_events_consumed_total"
ACTIVE_USERS = "/api/v1/orgs/{org_id}/active-users"
SAMPLE_WAIT_S = 20.0  # the worker samples lag and committed offsets every 5 s
SETTLE_WAIT_S = 60.0  # a second worker's join: a rebalance of the embedded broker's group
ASSIGNED = "insights_worker_assigned_partitions"
REDIS_WRITES = {"login_batch", "plan_changes", "domain_claims"}


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str]) -> dict[str, str]:
    """The shared per-test environment, with the worker's /metrics on a free loopback port."""
    return {**pipeline_env, "INSIGHTS_WORKER_METRICS_PORT": str(free_port())}


def no_progress(phase: str, done: int, total: int) -> None:
    """Tests do not draw progress bars."""


def items(line: bytes) -> Iterator[Any]:
    """The JSON values of one line (a batched array gives each element); junk gives nothing."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return
    yield from parsed if isinstance(parsed, list) else [parsed]


@dataclass
class Identities:
    """Everything in the dataset that identifies a person or an organization."""

    texts: set[str] = field(default_factory=set)  # emails, user ids, domains: not even a substring
    orgs: set[str] = field(default_factory=set)  # org ids (short words): not as a word

    @classmethod
    def of(cls, dataset: Simulation) -> "Identities":
        """Collect them from every event, valid or not."""
        found = cls(orgs=set(dataset.orgs))
        for line in dataset.lines:
            for event in filter(lambda item: isinstance(item, dict), items(line)):
                for key in ("email", "user_id", "domain"):
                    value = event.get(key)
                    if isinstance(value, str):
                        text = value.strip(" .").lower()
                        found.texts |= {text, text.rpartition("@")[2]} - {""}
                if isinstance(event.get("org_id"), str):
                    found.orgs.add(event["org_id"].lower())
        return found

    def leaks(self, scraped: Scrape) -> list[str]:
        """Identities that appear anywhere in the exposition text."""
        text = scraped.text.lower()
        leaked = sorted(value for value in self.texts if value in text)
        leaked += sorted(org for org in self.orgs if re.search(rf"\b{re.escape(org)}\b", text))
        return leaked


async def wait_for_offsets(url: str, topic: str, records: int) -> Scrape:
    """Scrape until the committed-offset and lag gauges show `topic` fully processed."""
    deadline = time.monotonic() + SAMPLE_WAIT_S
    while True:
        scraped = await scrape(url)
        committed = scraped.total("insights_committed_offset", topic=topic)
        lag = scraped.total("insights_consumer_lag_records", topic=topic)
        if (committed, lag) == (records, 0) or time.monotonic() > deadline:
            return scraped
        await asyncio.sleep(0.5)


def expected_outcomes(stats: dict[str, int], names: TopicNames) -> dict[tuple[str, str], int]:
    """(topic, outcome) -> count, straight from the simulation's truth."""
    return {
        (names.logins, "counted"): stats["logins_managed"],
        (names.logins, "unmanaged_domain"): stats["logins_unmanaged"],
        (names.logins, "heartbeat"): stats["heartbeats"],
        (names.plan_changes, "recorded"): stats["plan_changes"],
        (names.domain_claims, "recorded"): stats["domain_claims"],
    }


async def test_worker_counters_equal_the_replayed_outcomes(
    settings: Settings, pipeline_env: dict[str, str], start_worker: WorkerFactory
) -> None:
    """Every produced event is counted once, under the outcome the truth says it has."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=2, users=300, days=10, seed=5, end_day=yesterday))
    stats, names = dataset.truth["stats"], TopicNames.from_settings(settings)
    start_worker()
    await produce(settings, dataset.lines, None, wait=True, timeout_s=300, progress=no_progress)
    records = {name: 0 for name in (names.logins, names.plan_changes, names.domain_claims)}
    for line in dataset.lines:
        records[route(line, names, None).topic] += 1
    logins_records = records[names.logins]
    url = f"http://127.0.0.1:{pipeline_env['INSIGHTS_WORKER_METRICS_PORT']}/metrics"
    worker = await wait_for_offsets(url, names.logins, logins_records)

    produced = stats["events_valid"] + stats["events_invalid"]
    assert worker.total(EVENTS) == produced
    outcomes = {(s[1]["topic"], s[1]["outcome"]): s[2] for s in worker.samples if s[0] == EVENTS}
    invalid = {key: n for key, n in outcomes.items() if key[1].startswith("invalid_")}
    assert {key: n for key, n in outcomes.items() if key not in invalid} == expected_outcomes(
        stats, names
    )
    assert sum(invalid.values()) == stats["events_invalid"]
    assert worker.total("insights_dead_letters_written_total") == stats["events_invalid"]
    # Counters of a known label set exist at 0, so rate() sees their first increment.
    late = worker.by("insights_late_control_events_total", "topic")
    assert late == {names.plan_changes: 0, names.domain_claims: 0}
    assert worker.by("insights_redis_errors_total", "operation") == dict.fromkeys(REDIS_WRITES, 0)
    reasons = worker.by("insights_dead_letters_written_total", "reason")
    assert set(reasons) == {reason.value for reason in RejectionReason}
    valid_traffic = stats["logins_managed"] + stats["logins_unmanaged"] + stats["heartbeats"]
    assert worker.total("insights_event_lag_seconds_count", topic=names.logins) == valid_traffic
    assert worker.by("insights_batch_size_records_sum", "agent") == {
        "logins": logins_records,
        "plan_changes": records[names.plan_changes],
        "domain_claims": records[names.domain_claims],
    }
    timed = worker.by("insights_batch_processing_seconds_count", "agent")
    assert timed == worker.by("insights_batch_size_records_count", "agent")
    redis_timed = worker.by("insights_redis_operation_seconds_count", "operation")
    assert {"plan_changes", "domain_claims"} <= {op for op, n in redis_timed.items() if n > 0}
    assert worker.total("insights_committed_offset", topic=names.logins) == logins_records
    assert worker.total("insights_consumer_lag_records") == 0
    assert worker.total("insights_worker_ready") == 1
    assert worker.by(ASSIGNED, "topic") == dict.fromkeys(records, settings.topic_partitions)
    assert worker.total("insights_redis_crash_safe") == 0  # -1 until read: no AOF in the stack
    newest = worker.by("insights_product_last_event_timestamp_seconds", "product")
    day_after = datetime.combine(yesterday + timedelta(days=1), datetime.min.time(), UTC)
    assert sorted(newest) == ["confluence", "jira", "jsm", "trello"]
    assert all(0 < day_after.timestamp() - at <= 2 * 86_400 for at in newest.values())
    assert Identities.of(dataset).leaks(worker) == []


async def scrape_when_up(url: str) -> Scrape | None:
    """One scrape, or None while the worker does not serve /metrics yet."""
    try:
        return await scrape(url)
    except httpx.TransportError:
        return None


async def wait_for_workers(
    urls: list[str], settled: Callable[[list[Scrape]], bool]
) -> list[Scrape]:
    """Scrape every worker until `settled` holds for them all; fail with the last scrapes."""
    deadline = time.monotonic() + SETTLE_WAIT_S
    while True:
        scraped = [await scrape_when_up(url) for url in urls]
        answered = [found for found in scraped if found is not None]
        if len(answered) == len(urls) and settled(answered):
            return answered
        assert time.monotonic() < deadline, [
            (found.total("insights_worker_ready"), found.by(ASSIGNED, "topic"))
            for found in answered
        ]
        await asyncio.sleep(0.5)


def all_ready(scrapes: list[Scrape]) -> bool:
    """Every worker joined the group and consumes its assignment (possibly none)."""
    return all(found.total("insights_worker_ready") == 1 for found in scrapes)


def partitions_held(scrapes: list[Scrape]) -> dict[str, float]:
    """Partitions held per topic, summed over the workers."""
    topics: dict[str, float] = {}
    for found in scrapes:
        for topic, partitions in found.by(ASSIGNED, "topic").items():
            topics[topic] = topics.get(topic, 0) + partitions
    return topics


async def test_a_standby_worker_is_ready_and_exports_zero_partitions(
    settings: Settings, pipeline_env: dict[str, str], tmp_path: Path
) -> None:
    """Two workers on one-partition topics: both joined and ready, one holds every partition (the
    topics are copartitioned) and the other is a standby that says so."""
    names = TopicNames.from_settings(settings)
    consumed = {names.logins, names.plan_changes, names.domain_claims}

    def settled(scrapes: list[Scrape]) -> bool:
        return partitions_held(scrapes) == dict.fromkeys(consumed, 1)

    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}/metrics" for port in ports]
    env = {**pipeline_env, "INSIGHTS_TOPIC_PARTITIONS": "1"}
    workers = []
    try:
        for index, port in enumerate(ports):  # one after the other: the first creates the topics
            worker_env = {**env, "INSIGHTS_WORKER_METRICS_PORT": str(port)}
            workers.append(start_insights(["worker"], worker_env, tmp_path / f"worker-{index}.log"))
            await wait_for_workers(urls[: index + 1], all_ready)
        scrapes = await wait_for_workers(urls, lambda found: all_ready(found) and settled(found))
    finally:
        for worker in workers:
            stop_process(worker)

    per_worker = [found.by(ASSIGNED, "topic") for found in scrapes]
    assert sorted(per_worker, key=lambda topics: sum(topics.values())) == [
        dict.fromkeys(consumed, 0),
        dict.fromkeys(consumed, 1),
    ]


async def test_reader_counts_requests_by_route_template_and_names_no_org(
    settings: Settings, pipeline_env: dict[str, str], start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """After a replay, API calls for real orgs are counted under templates; no identity leaks."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dataset = simulate(SimulationSpec(orgs=2, users=40, days=3, seed=6, end_day=yesterday))
    start_worker()
    await produce(settings, dataset.lines, None, wait=True, timeout_s=300, progress=no_progress)
    own, other = dataset.orgs
    token = await asyncio.to_thread(create_token, pipeline_env, own)
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        running_reader(pipeline_env, tmp_path / "reader.log") as base,
        httpx.AsyncClient(base_url=f"{base}/api/v1/orgs", timeout=10) as api,
    ):
        statuses = [
            (await api.get(f"/{own}/active-users", headers=auth)).status_code,
            (await api.get(f"/{own}/active-users.csv", headers=auth)).status_code,
            (await api.get(f"/{other}/active-users", headers=auth)).status_code,
            (await api.get(f"/{own}/active-users")).status_code,
            (await api.get(f"/{own}/active-users?interval=hour", headers=auth)).status_code,
            (await api.get(f"{base}/no/such/{own}")).status_code,
        ]
        reader = await scrape(f"{base}/metrics")
        worker = await scrape(f"http://127.0.0.1:{pipeline_env['INSIGHTS_WORKER_METRICS_PORT']}/")

    assert statuses == [200, 200, 403, 401, 400, 404]
    requests = "insights_reader_requests_total"
    assert {
        (labels["route"], labels["status"]): value
        for name, labels, value in reader.samples
        if name == requests and labels["route"] not in {"/healthz", "/metrics"}
    } == {
        (ACTIVE_USERS, "200"): 1,
        (ACTIVE_USERS + ".csv", "200"): 1,
        (ACTIVE_USERS, "403"): 1,
        (ACTIVE_USERS, "401"): 1,
        (ACTIVE_USERS, "400"): 1,
        ("unmatched", "404"): 1,
    }
    assert reader.total("insights_reader_request_duration_seconds_count", route=ACTIVE_USERS) == 4
    identities = Identities.of(dataset)
    identities.texts.add(token.lower())
    assert identities.leaks(reader) == []
    assert identities.leaks(worker) == []
