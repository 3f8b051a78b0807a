"""The embedded stack starts real Tansu and redis-server, serves clients, and always stops both."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from insights import embedded
from insights.embedded import EmbeddedStackError, StackEndpoints, embedded_stack

pytestmark = pytest.mark.integration

Starter = Callable[[int, Path], "subprocess.Popen[bytes]"]


@pytest.fixture(scope="module")
def stack() -> Iterator[StackEndpoints]:
    """One running stack shared by the tests that only use it as clients."""
    with embedded_stack(startup_timeout_s=20) as endpoints:
        yield endpoints


@dataclass
class Started:
    """The processes embedded_stack started and the workdirs it gave them."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdirs: set[Path] = field(default_factory=set)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    """Record what embedded_stack starts, so a test can check it is all gone afterwards."""
    record = Started()

    def recording(start: Starter) -> Starter:
        def wrapper(port: int, workdir: Path) -> subprocess.Popen[bytes]:
            proc = start(port, workdir)
            record.processes.append(proc)
            record.workdirs.add(workdir)
            return proc

        return wrapper

    monkeypatch.setattr(embedded, "start_broker", recording(embedded.start_broker))
    monkeypatch.setattr(embedded, "start_redis", recording(embedded.start_redis))
    return record


def ports_of(endpoints: StackEndpoints) -> list[int]:
    """Return the broker's and Redis's TCP ports."""
    redis_port = urlsplit(endpoints.redis_url).port
    assert redis_port is not None
    return [int(endpoints.kafka_bootstrap.rsplit(":", 1)[1]), redis_port]


def accepts_connections(port: int) -> bool:
    """Return whether something listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def assert_gone(started: Started) -> None:
    """Assert that both processes exited and were reaped (their pids no longer exist)."""
    assert len(started.processes) == 2
    for proc in started.processes:
        assert proc.returncode is not None
        with pytest.raises(ProcessLookupError):
            os.kill(proc.pid, 0)


async def test_produced_message_is_consumed_back(stack: StackEndpoints) -> None:
    topic = f"embedded-{uuid.uuid4().hex}"
    # Create explicitly: Tansu would otherwise auto-create the topic with 4 partitions
    # on the first Metadata request that names it.
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, 2, 1)])
        assert [error for _, error, _ in response.topic_errors] == [0]
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        sent = await asyncio.wait_for(producer.send_and_wait(topic, b"hello", key=b"k"), 10)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, sent.partition)])
        await consumer.seek_to_beginning()
        record = await asyncio.wait_for(consumer.getone(), 10)
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.offset) == (b"k", b"hello", sent.offset)


async def test_redis_counts_distinct_members(stack: StackEndpoints) -> None:
    key = f"embedded:{{{uuid.uuid4().hex}}}:hll"
    client = redis.asyncio.Redis.from_url(stack.redis_url)
    try:
        await client.pfadd(key, "alice", "bob")
        await client.pfadd(key, "bob", "carol", "alice")
        assert await client.pfcount(key) == 3
    finally:
        await client.aclose()


@pytest.mark.parametrize("failure", [None, RuntimeError, KeyboardInterrupt])
def test_exit_stops_processes_closes_ports_and_removes_temp_dir(
    started: Started, failure: type[BaseException] | None
) -> None:
    ports: list[int] = []

    def run() -> None:
        with embedded_stack(startup_timeout_s=20) as endpoints:
            ports.extend(ports_of(endpoints))
            assert all(accepts_connections(port) for port in ports)
            if failure is not None:
                raise failure

    if failure is None:
        run()
    else:
        with pytest.raises(failure):
            run()
    assert not any(accepts_connections(port) for port in ports)
    assert_gone(started)
    (workdir,) = started.workdirs
    assert not workdir.exists()


def test_given_workdir_is_kept_with_both_logs(tmp_path: Path) -> None:
    with embedded_stack(tmp_path, startup_timeout_s=20):
        pass
    assert "listening on" in (tmp_path / embedded.BROKER_LOG).read_text()
    assert "Ready to accept connections" in (tmp_path / embedded.REDIS_LOG).read_text()


def test_broker_that_exits_at_start_fails_fast(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "broker_binary", lambda: "/bin/false")
    began = time.monotonic()
    with (
        pytest.raises(EmbeddedStackError, match="exited with code 1 before answering"),
        embedded_stack(startup_timeout_s=20),
    ):
        pytest.fail("the stack must not start")
    assert time.monotonic() - began < 5
    assert_gone(started)


def test_broker_that_never_answers_times_out_and_is_killed(
    started: Started, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    silent = tmp_path / "silent-broker"
    silent.write_text("#!/bin/sh\necho pretending to be a broker\nexec sleep 60\n")
    silent.chmod(0o755)
    monkeypatch.setattr(embedded, "broker_binary", lambda: str(silent))
    began = time.monotonic()
    with (
        pytest.raises(EmbeddedStackError, match=r"did not answer within 0\.5s") as caught,
        embedded_stack(tmp_path / "stack", startup_timeout_s=0.5),
    ):
        pytest.fail("the stack must not start")
    assert time.monotonic() - began < 5
    assert "pretending to be a broker" in str(caught.value)
    assert_gone(started)


def test_missing_binary_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "broker_binary", lambda: "/nonexistent/tansu")
    with (
        pytest.raises(EmbeddedStackError, match=r"^cannot start /nonexistent/tansu: .*$"),
        embedded_stack(startup_timeout_s=5),
    ):
        pytest.fail("the stack must not start")
