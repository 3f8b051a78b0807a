"""A record librdkafka cannot deliver fails `insights produce`, whether or not it reports every
successful delivery (no broker needed: the producer points at a closed port)."""

import pytest

from insights.embedded import free_port
from insights.producer import PRODUCER_CONFIG, ProduceReport, Routed, kafka_producer, send_all
from streams.kafka_admin import KafkaUnavailableError
from streams.settings import Settings


def quiet(phase: str, done: int, total: int) -> None:
    """No progress output."""


@pytest.mark.parametrize("acknowledgements", [True, False], ids=["every delivery", "only errors"])
def test_an_undelivered_record_is_an_error(
    acknowledgements: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # librdkafka gives up on a record after message.timeout.ms: 1 s instead of 30 s here.
    monkeypatch.setitem(PRODUCER_CONFIG, "message.timeout.ms", 1000)
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    producer = kafka_producer(settings, acknowledgements=acknowledgements)
    report = ProduceReport()
    records = [Routed("insights.logins", b"u1", b"{}", False)]
    with pytest.raises(KafkaUnavailableError, match="1 records were not acknowledged"):
        send_all(producer, records, report, quiet)
    assert report.sent == 0
    assert report.targets == {}
