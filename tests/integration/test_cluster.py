"""Scaling out: three workers on a 3-master Redis Cluster answer exactly as one on one Redis."""

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.exceptions import ClusterCrossSlotError

from insights.embedded import StackEndpoints, free_port, stop_process
from insights.producer import produce, route, wait_for_group
from insights.redis_cluster import LocalCluster, local_redis_cluster
from insights.simulation import Simulation, SimulationSpec, simulate
from schemas.vocabulary import Product
from streams.core.keys import KeyLayout
from streams.redis_durability import DurabilityWatch
from streams.redis_packing import HiredisPackingMixin
from streams.settings import Settings
from streams.store import (
    KEYS_PER_READ,
    RedisActiveUserStore,
    connect_redis,
    non_empty_zranges,
    primary_of,
)
from streams.topics import TopicNames
from tests.integration.cluster_fixtures import (
    Feed,
    RedisValue,
    Worker,
    WorkerPool,
    pipeline_env,
    redis_state,
    wait_ready,
    wait_until,
)
from tests.integration.test_reader import create_tokens, reader_client
from tests.integration.test_replay import answers_for, no_progress
from tests.integration.test_worker_redis_settings import exits_naming
from tests.integration.truth import Comparison

pytestmark = pytest.mark.integration

PARTITIONS = 6  # two per worker for three workers
REPLAY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Replay:
    """A pipeline after the dataset went through it: settings, answers and Redis contents."""

    settings: Settings
    answers: list[dict[str, Any]]
    state: dict[str, RedisValue]
    counted_by_worker: list[float]


def settings_of(env: dict[str, str]) -> Settings:
    """Settings exactly as a command would read them from `env`."""
    return Settings.model_validate({k.removeprefix("INSIGHTS_").lower(): v for k, v in env.items()})


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A real 3-master Redis Cluster on loopback for the session; always torn down."""
    with local_redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def dataset() -> Simulation:
    """5 orgs x 300 users x 14 days (about 16,000 events), ending yesterday.

    Five orgs, because the first three (acme, globex, initech) hash to the same third of the slots:
    with umbrella and hooli, a login batch writes org keys on all three masters.
    """
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return simulate(SimulationSpec(orgs=5, users=300, days=14, seed=11, end_day=yesterday))


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[WorkerPool]:
    """Workers for one test; every one still running is stopped at teardown."""
    workers = WorkerPool(tmp_path)
    yield workers
    workers.stop_all()


async def replay(env: dict[str, str], dataset: Simulation, workdir: Path, workers: int) -> Replay:
    """Start `workers` workers, wait until all hold partitions, replay the dataset, stop them."""
    settings, pool = settings_of(env), WorkerPool(workdir)
    try:
        started = [pool.start(env) for _ in range(workers)]
        await wait_ready(started)
        await produce(settings, dataset.lines, None, True, REPLAY_TIMEOUT_S, no_progress)
        counted = [await worker.counted() for worker in started]
    finally:
        pool.stop_all()
    client = connect_redis(settings)
    try:
        state = await redis_state(client, settings.key_prefix)
    finally:
        await client.aclose()
    return Replay(settings, await answers_for(settings, dataset.truth), state, counted)


@pytest.fixture(scope="module")
async def single_node(
    stack: StackEndpoints, dataset: Simulation, tmp_path_factory: pytest.TempPathFactory
) -> Replay:
    """The reference: one worker against one redis-server."""
    env = pipeline_env(stack.kafka_bootstrap, stack.redis_url, cluster=False, partitions=PARTITIONS)
    return await replay(env, dataset, tmp_path_factory.mktemp("single"), workers=1)


@pytest.fixture(scope="module")
async def three_on_cluster(
    stack: StackEndpoints,
    redis_cluster: LocalCluster,
    dataset: Simulation,
    tmp_path_factory: pytest.TempPathFactory,
) -> Replay:
    """Three workers in one consumer group against the 3-master cluster."""
    env = pipeline_env(
        stack.kafka_bootstrap, redis_cluster.url, cluster=True, partitions=PARTITIONS
    )
    return await replay(env, dataset, tmp_path_factory.mktemp("cluster"), workers=3)


def assert_matches_truth(answers: list[dict[str, Any]], dataset: Simulation) -> None:
    """Every answer within HyperLogLog tolerance of the exact truth (exact below 64)."""
    comparison = Comparison()
    for actual, expected in zip(answers, dataset.truth["answers"], strict=True):
        comparison.document(actual, expected)
    assert comparison.mismatches == []
    assert comparison.values_compared >= 1000


def differing_keys(left: dict[str, RedisValue], right: dict[str, RedisValue]) -> list[str]:
    """Keys missing on one side or holding different registers, members or scores."""
    return sorted(key for key in left.keys() | right.keys() if left.get(key) != right.get(key))


async def test_three_workers_on_a_cluster_answer_exactly_as_one_worker_on_one_redis(
    single_node: Replay, three_on_cluster: Replay, dataset: Simulation
) -> None:
    """Same registers in every key, so the same answers; both within tolerance of the truth."""
    assert all(counted > 0 for counted in three_on_cluster.counted_by_worker), (
        f"every worker must have counted logins: {three_on_cluster.counted_by_worker}"
    )
    assert sum(three_on_cluster.counted_by_worker) >= dataset.truth["stats"]["logins_managed"]
    assert len(single_node.state) > 1000
    assert differing_keys(single_node.state, three_on_cluster.state) == []
    assert three_on_cluster.answers == single_node.answers
    assert_matches_truth(three_on_cluster.answers, dataset)


async def test_the_local_cluster_is_three_masters_and_the_orgs_span_them(
    redis_cluster: LocalCluster, dataset: Simulation
) -> None:
    """All 16384 slots over 3 masters; one org per slot; a cross-org multi-key read is refused."""
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        await client.initialize()
        masters = {node.name for node in client.get_primaries()}
        assert len(masters) == 3
        homes = {home_of(client, org) for org in dataset.orgs}
        assert homes == masters, "the dataset's orgs must live on every master"
        layout = KeyLayout("probe")
        day = datetime.now(UTC).date()
        same_org = [
            layout.active_users("acme", "all", "all", day),
            layout.monthly_active_users("acme", "all", "all", day),
        ]
        assert await client.pfcount(*same_org) == 0
        node = redis.Redis.from_url(redis_cluster.node_urls()[0])
        try:
            assert node.cluster("INFO")["cluster_slots_ok"] == "16384"
            with pytest.raises(ClusterCrossSlotError):
                node.pfcount(
                    layout.active_users("acme", "all", "all", day),
                    layout.active_users("hooli", "all", "all", day),
                )
        finally:
            node.close()
    finally:
        await client.aclose()


def home_of(client: RedisCluster, org_id: str) -> str:
    """The master that serves an org's hash slot."""
    node = client.get_node_from_key(KeyLayout().org_domains(org_id))
    assert node is not None
    return str(node.name)


async def test_workers_joining_and_leaving_mid_replay_lose_and_double_count_nothing(
    stack: StackEndpoints,
    redis_cluster: LocalCluster,
    dataset: Simulation,
    single_node: Replay,
    pool: WorkerPool,
) -> None:
    """Two workers; a third joins, one leaves (SIGTERM), one is SIGKILLed, while traffic flows."""
    env = pipeline_env(
        stack.kafka_bootstrap, redis_cluster.url, cluster=True, partitions=PARTITIONS
    )
    settings = settings_of(env)
    first, second = pool.start(env), pool.start(env)
    await wait_ready([first, second])
    names = TopicNames.from_settings(settings)
    control = [line for line in dataset.lines if route(line, names, None).control]
    traffic = [line for line in dataset.lines if not route(line, names, None).control]
    await produce(settings, control, None, True, REPLAY_TIMEOUT_S, no_progress)

    quarter = len(traffic) // 4
    feed = Feed(settings, traffic, [quarter, 2 * quarter, 3 * quarter])
    feeding = asyncio.create_task(feed.run())
    try:
        await feed.release()  # a quarter in: a third worker joins while traffic flows
        third = pool.start(env)
        await wait_ready([third])
        await feed.release()  # half-way: the first worker leaves cleanly
        await leave_on_sigterm(first, staying=[second, third])
        await feed.release()  # three quarters: the second worker crashes mid-stream
        await asyncio.sleep(0.3)
        second.process.kill()
        await feeding
    finally:
        feeding.cancel()
    assert third.process.poll() is None, f"the last worker died; see {third.log}"
    # The survivor ends up with every partition of the three input topics.
    await wait_until(
        lambda: third.ready_partitions()[-1] == 3 * PARTITIONS, "the failover", REPLAY_TIMEOUT_S
    )
    deadline = time.monotonic() + REPLAY_TIMEOUT_S
    await wait_for_group(settings, feed.report.targets, deadline, no_progress)

    client = connect_redis(settings)
    try:
        state = await redis_state(client, settings.key_prefix)
    finally:
        await client.aclose()
    assert differing_keys(single_node.state, state) == []
    answers = await answers_for(settings, dataset.truth)
    assert answers == single_node.answers
    assert_matches_truth(answers, dataset)


async def leave_on_sigterm(leaving: Worker, staying: list[Worker]) -> None:
    """SIGTERM (SIGKILL after the grace period); wait until the others have rebalanced."""
    before = [len(worker.ready_partitions()) for worker in staying]
    await asyncio.to_thread(stop_process, leaving.process)

    def rebalanced() -> bool:
        return all(len(w.ready_partitions()) > n for w, n in zip(staying, before, strict=True))

    await wait_until(rebalanced, "the remaining workers to rebalance", 60.0)


async def test_the_reader_answers_identically_on_cluster_and_single_node(
    single_node: Replay, three_on_cluster: Replay, dataset: Simulation
) -> None:
    """Every truth question, its CSV and each org's domains over HTTP: byte-identical bodies."""
    bodies: list[list[bytes]] = []
    for replayed in (single_node, three_on_cluster):
        # Tokens: a global hash per token plus the org's index in its own slot.
        tokens = await create_tokens(replayed.settings, *dataset.orgs)
        async with reader_client(replayed.settings) as http:
            assert (await http.get("/readyz")).status_code == 200
            other = dataset.orgs[1]
            denied = await http.get(
                f"/api/v1/orgs/{other}/domains", headers=tokens[dataset.orgs[0]]
            )
            assert denied.status_code == 403
            bodies.append(await ask_everything(http, tokens, dataset))
    single, cluster = bodies
    assert len(single) == 2 * len(dataset.truth["answers"]) + len(dataset.orgs)
    assert cluster == single


async def ask_everything(
    http: Any, tokens: dict[str, dict[str, str]], dataset: Simulation
) -> list[bytes]:
    """The JSON and CSV of every truth question and each org's domain view, as raw bodies."""
    bodies = []
    for expected in dataset.truth["answers"]:
        params = {key: expected[key] for key in ("product", "start", "end", "interval")}
        path = f"/api/v1/orgs/{expected['org_id']}/active-users"
        for suffix in ("", ".csv"):
            response = await http.get(
                path + suffix, params=params, headers=tokens[expected["org_id"]]
            )
            assert response.status_code == 200, response.text
            bodies.append(response.content)
    for org in dataset.orgs:
        response = await http.get(f"/api/v1/orgs/{org}/domains", headers=tokens[org])
        assert response.status_code == 200, response.text
        assert response.json()["domains"], f"{org} has claimed domains"
        bodies.append(response.content)
    return bodies


async def test_timelines_are_read_one_script_call_per_node_and_match_per_key_reads(
    redis_cluster: LocalCluster,
) -> None:
    """Timelines of every node, missing ones left out, read as one ZRANGE per key would."""
    client = cluster_client(redis_cluster)
    store = RedisActiveUserStore(client, KeyLayout("timelines-probe"), 400)
    keys = [store.layout.plan_timeline(f"user-{n}", Product.JIRA) for n in range(3 * KEYS_PER_READ)]
    try:
        async with client.pipeline(transaction=False) as pipe:
            for n, key in enumerate(keys[::3]):
                pipe.zadd(key, {f"free:{n}": n, f"standard:{n}": n + 1})
            await pipe.execute()
        per_node = Counter(getattr(primary_of(client, key), "name", None) for key in keys)
        assert len(per_node) == 3
        expected = non_empty_zranges(await store.pipelined_zranges(client, keys))
        assert len(expected) == len(keys[::3])
        calls_before = await script_calls(client)
        store.pipelined_zranges = refuse_per_key_reads  # type: ignore[method-assign]
        assert await store.sorted_sets(keys) == expected  # no node refused, nothing fell back
        # One call per node and KEYS_PER_READ of its keys (about 5,000 each here), none per key.
        calls = sum(math.ceil(count / KEYS_PER_READ) for count in per_node.values())
        assert await script_calls(client) - calls_before == calls
    finally:
        await client.aclose()


async def test_a_refused_node_read_falls_back_to_per_key_reads(
    redis_cluster: LocalCluster,
) -> None:
    """A node without the script, or asked for another node's key, still gives every timeline."""
    client = cluster_client(redis_cluster)
    store = RedisActiveUserStore(client, KeyLayout("fallback-probe"), 400)
    keys = [store.layout.plan_timeline(f"user-{n}", Product.TRELLO) for n in range(300)]
    try:
        async with client.pipeline(transaction=False) as pipe:
            for n, key in enumerate(keys):
                pipe.zadd(key, {f"premium:{n}": n})
            await pipe.execute()
        expected = non_empty_zranges(await store.pipelined_zranges(client, keys))
        await store.load_scripts()
        home = primary_of(client, keys[0])
        assert home is not None
        elsewhere = next(key for key in keys if primary_of(client, key) != home)
        assert await store.read_on_node(client, home, [elsewhere]) is None  # "non local key"
        gone = ClusterNode("127.0.0.1", free_port())  # a primary that no longer answers
        assert await store.read_on_node(client, gone, keys[:1]) is None
        await client.script_flush()  # redis-py sends it to every primary
        assert await store.sorted_sets(keys) == expected  # NOSCRIPT: read per key
        assert not store.scripts_loaded
        assert await store.sorted_sets(keys) == expected  # reloaded on the next read
        assert store.scripts_loaded
    finally:
        await client.aclose()


async def refuse_per_key_reads(client: RedisCluster, keys: list[str]) -> list[Any]:
    """Stands in for the per-key fallback where a test requires that it is never used."""
    raise AssertionError(f"fell back to per-key reads for {len(keys)} keys")


def cluster_client(cluster: LocalCluster) -> RedisCluster:
    """The service's own cluster client for the session's cluster."""
    client = connect_redis(Settings(redis_url=cluster.url, redis_cluster=True))
    assert isinstance(client, RedisCluster)
    return client


async def script_calls(client: RedisCluster) -> int:
    """EVALSHA calls every primary has served so far (INFO commandstats)."""
    stats = await client.info("commandstats", target_nodes=RedisCluster.PRIMARIES)
    return sum(int(node.get("cmdstat_evalsha", {}).get("calls", 0)) for node in stats.values())


async def test_the_cluster_client_packs_with_hiredis_and_redis_still_refuses_cross_slot_scripts(
    redis_cluster: LocalCluster,
) -> None:
    """Scripts are routed by their first key only: Redis itself still refuses mixed slots."""
    client = cluster_client(redis_cluster)
    layout = KeyLayout("routing-probe")
    try:
        await client.initialize()
        for node in client.get_nodes():
            assert issubclass(node.connection_class, HiredisPackingMixin)
        day = datetime.now(UTC).date()
        acme = [layout.active_users("acme", "all", "all", day), layout.org_domains("acme")]
        sha = await client.script_load("return #KEYS")  # loaded on every primary
        assert await client.evalsha(sha, len(acme), *acme) == 2
        mixed = [layout.active_users("acme", "all", "all", day), layout.org_domains("hooli")]
        with pytest.raises(ClusterCrossSlotError):  # Redis's CROSSSLOT, not redis-py's check
            await client.evalsha(sha, len(mixed), *mixed)
    finally:
        await client.aclose()


async def test_durability_watch_reads_every_primary(
    redis_cluster: LocalCluster, caplog: pytest.LogCaptureFixture
) -> None:
    """Crash-safe only when every primary fsyncs its AOF before replying; one that does not is
    named in the warning."""
    caplog.set_level(logging.WARNING, logger="streams.redis_durability")
    nodes = [redis.Redis.from_url(url) for url in redis_cluster.node_urls()]
    client = cluster_client(redis_cluster)
    watch = DurabilityWatch(client)
    try:
        assert await watch.check() == DurabilityWatch.AT_RISK  # the test cluster keeps no AOF
        for node in nodes:
            node.config_set("appendonly", "yes")
            node.config_set("appendfsync", "always")
        assert await watch.check() == DurabilityWatch.SAFE
        nodes[1].config_set("appendfsync", "everysec")
        assert await watch.check() == DurabilityWatch.AT_RISK
    finally:
        for node in nodes:  # as the session's other tests expect it
            node.config_set("appendonly", "no")
            node.config_set("appendfsync", "everysec")
            node.close()
        await client.aclose()
    risks = [getattr(record, "risks", None) for record in caplog.records]
    assert len(risks) == 2
    assert risks[0] == ["no append-only file: a restart loses every count since the last snapshot"]
    assert risks[1] == [
        "appendfsync everysec: a crash can lose the last seconds of writes whose offsets are "
        "already committed"
    ]


def test_a_worker_told_redis_is_no_cluster_refuses_a_cluster_node(
    stack: StackEndpoints, redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    """INSIGHTS_REDIS_CLUSTER=false against a cluster node: a plain client would answer PING and
    then fail on every key of another node's slots (MOVED), so the worker stops at start."""
    env = pipeline_env(stack.kafka_bootstrap, redis_cluster.url, cluster=False, partitions=1)
    last = exits_naming(env, tmp_path / "worker.log")
    assert "(it is a cluster node)" in last, last
    assert "INSIGHTS_REDIS_CLUSTER (now false)" in last, last
