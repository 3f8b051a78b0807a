"""An address the worker's /metrics or the reader cannot bind: one error naming what to change."""

import socket
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from insights.worker import WorkerStartError, serve_metrics
from reader.listening import ReaderStartError, listen
from streams.settings import Settings


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other process (here, this test) is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_second_worker_on_the_default_port_is_told_which_setting_to_change(
    taken_port: int,
) -> None:
    settings = Settings(worker_metrics_port=taken_port)
    with pytest.raises(WorkerStartError) as raised:
        serve_metrics(settings, CollectorRegistry())
    message = str(raised.value)
    assert f"127.0.0.1:{taken_port}" in message
    assert "in use" in message
    assert "own INSIGHTS_WORKER_METRICS_PORT" in message


def test_a_metrics_host_that_is_not_this_machine_names_the_settings_without_port_advice() -> None:
    settings = Settings(worker_metrics_host="192.0.2.1", worker_metrics_port=9464)  # TEST-NET-1
    with pytest.raises(WorkerStartError) as raised:
        serve_metrics(settings, CollectorRegistry())
    assert "INSIGHTS_WORKER_METRICS_HOST/PORT" in str(raised.value)
    assert "another worker" not in str(raised.value)


def test_the_reader_on_a_busy_port_names_the_option(taken_port: int) -> None:
    with pytest.raises(ReaderStartError, match=rf"127\.0\.0\.1:{taken_port} \(--host/--port\)"):
        listen("127.0.0.1", taken_port)


def test_the_reader_binds_the_port_it_was_given() -> None:
    listener = listen("127.0.0.1", 0)
    try:
        host, port = listener.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
    finally:
        listener.close()
