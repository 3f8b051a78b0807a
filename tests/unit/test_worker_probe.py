"""The image's health check follows the worker's metrics settings."""

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from insights import worker_probe
from insights.embedded import free_port
from streams.settings import Settings


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9500/metrics"),
        ("0.0.0.0", "http://127.0.0.1:9500/metrics"),
        ("::", "http://[::1]:9500/metrics"),
        ("10.1.2.3", "http://10.1.2.3:9500/metrics"),
    ],
)
def test_the_probe_asks_where_the_worker_listens(host: str, url: str) -> None:
    settings = Settings(worker_metrics_host=host, worker_metrics_port=9500)
    assert worker_probe.metrics_url(settings) == url


def test_metrics_off_passes_with_nothing_to_probe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSIGHTS_WORKER_METRICS_PORT", "0")
    assert worker_probe.main() == 0
    assert "metrics off" in capsys.readouterr().out


def test_a_port_set_in_the_environment_is_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up where the settings say (not at the default 9464), and down once nothing listens."""
    port = free_port()
    monkeypatch.setenv("INSIGHTS_WORKER_METRICS_HOST", "127.0.0.1")
    monkeypatch.setenv("INSIGHTS_WORKER_METRICS_PORT", str(port))
    assert worker_probe.main() == 1  # nothing listens yet
    server, thread = start_http_server(port, addr="127.0.0.1", registry=CollectorRegistry())
    try:
        assert worker_probe.main() == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
