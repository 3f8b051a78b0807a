"""Group-timing settings: what Kafka and Faust would refuse later is refused at start, by name."""

import os
import re

import pytest

from streams.app import create_app
from streams.settings import Settings, SettingsError, load_settings


def loaded(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    """Settings from exactly these variables, whatever the test's own environment holds."""
    for name in [name for name in os.environ if name.startswith("INSIGHTS_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"INSIGHTS_HEARTBEAT_INTERVAL_S": "60"}, "INSIGHTS_HEARTBEAT_INTERVAL_S"),
        (
            {"INSIGHTS_SESSION_TIMEOUT_S": "4", "INSIGHTS_HEARTBEAT_INTERVAL_S": "4"},
            "INSIGHTS_HEARTBEAT_INTERVAL_S",
        ),
        ({"INSIGHTS_SESSION_TIMEOUT_S": "3600"}, "INSIGHTS_SESSION_TIMEOUT_S"),
        ({"INSIGHTS_SESSION_TIMEOUT_S": "2"}, "INSIGHTS_HEARTBEAT_INTERVAL_S"),  # default 3 s
        ({"INSIGHTS_COMMIT_INTERVAL_S": "inf"}, "INSIGHTS_COMMIT_INTERVAL_S"),
        ({"INSIGHTS_COMMIT_INTERVAL_S": "nan"}, "INSIGHTS_COMMIT_INTERVAL_S"),
        ({"INSIGHTS_READER_CACHE_S": "inf"}, "INSIGHTS_READER_CACHE_S"),
    ],
)
def test_timing_no_group_could_keep_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{named} is invalid"):
        loaded(monkeypatch, **variables)


def test_a_heartbeat_above_the_session_names_both_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named = re.escape("not below INSIGHTS_SESSION_TIMEOUT_S (45.0 s)")
    with pytest.raises(SettingsError, match=named):
        loaded(monkeypatch, INSIGHTS_HEARTBEAT_INTERVAL_S="45")


def test_a_session_timeout_above_faust_s_request_timeout_starts() -> None:
    """Faust refused any session timeout above its 90 s request timeout with a traceback;
    Kafka brokers accept up to 30 minutes by default."""
    settings = Settings(kafka_bootstrap="127.0.0.1:9", session_timeout_s=120)
    conf = create_app(settings).conf
    assert conf.broker_session_timeout == 120
    assert conf.broker_request_timeout >= 120


def test_the_defaults_and_the_embedded_timing_are_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert loaded(monkeypatch).heartbeat_interval_s == 3.0
    embedded = loaded(
        monkeypatch, INSIGHTS_SESSION_TIMEOUT_S="4", INSIGHTS_HEARTBEAT_INTERVAL_S="0.5"
    )
    assert (embedded.session_timeout_s, embedded.heartbeat_interval_s) == (4.0, 0.5)
