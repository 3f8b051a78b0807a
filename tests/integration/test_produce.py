"""`insights produce` on the real broker: Kafka's partition for each key, offsets to wait for."""

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from insights.producer import ProduceTimeoutError, produce
from streams.kafka_admin import KafkaTopicError
from streams.settings import Settings
from streams.topics import TopicNames
from tests.integration.kafka_reading import read_topic

pytestmark = pytest.mark.integration


def quiet(phase: str, done: int, total: int) -> None:
    """No progress output."""


async def test_each_key_lands_where_kafkas_default_partitioner_puts_it(settings: Settings) -> None:
    names = TopicNames.from_settings(settings)
    logins = [
        orjson.dumps({"type": "login", "user_id": f"557058:{n:x}", "email": f"u{n}@acme.com"})
        for n in range(400)
    ]
    plan_changes = [
        orjson.dumps({"type": "plan_change", "user_id": f"user-{n}", "plan": "standard"})
        for n in range(40)
    ]
    report = await produce(
        settings,
        logins + plan_changes,
        None,
        wait=False,
        timeout_s=60,
        progress=quiet,
        offsets=True,
    )
    assert report.sent == 440
    partitions = list(range(settings.topic_partitions))
    pick = DefaultPartitioner()  # the Java client's murmur2, as aiokafka implements it
    for topic, count in ((names.logins, 400), (names.plan_changes, 40)):
        records = await read_topic(settings.kafka(), topic, count)
        assert len(records) == count
        for record in records:
            assert record.key is not None
            assert record.partition == pick(record.key, partitions, partitions), record.key
        # The offsets `--wait` waits for are each partition's end: every record, none beyond.
        ends = {tp: end for tp, end in report.targets.items() if tp.topic == topic}
        assert sum(ends.values()) == count
        for partition in partitions:
            last = [r.offset for r in records if r.partition == partition]
            if last:
                assert ends[TopicPartition(topic, partition)] == max(last) + 1


async def test_without_wait_or_offsets_every_record_is_sent_and_no_offset_is_kept(
    settings: Settings,
) -> None:
    names = TopicNames.from_settings(settings)
    logins = [
        orjson.dumps({"type": "login", "user_id": f"u{n}", "email": f"u{n}@acme.com"})
        for n in range(300)
    ]
    report = await produce(settings, logins, None, wait=False, timeout_s=60, progress=quiet)
    assert report.sent == 300
    assert report.targets == {}  # librdkafka reported no successful delivery to Python
    assert len(await read_topic(settings.kafka(), names.logins, 300)) == 300


async def test_a_wait_timing_out_on_the_claims_says_the_logins_were_not_sent(
    settings: Settings,
) -> None:
    """No worker: the claims go, the wait for them times out, and the logins (sent only once
    the claims are applied) are not sent; the error says so instead of sounding done."""
    names = TopicNames.from_settings(settings)
    claim = {"type": "domain_claim", "org_id": "acme", "domain": "acme.com", "action": "claim"}
    mixed = [orjson.dumps({**claim, "effective_at": "2026-01-01T00:00:00Z"})] + [
        orjson.dumps({"type": "login", "user_id": f"u{n}", "email": f"u{n}@acme.com"})
        for n in range(3)
    ]
    with pytest.raises(ProduceTimeoutError) as timed_out:
        await produce(settings, mixed, None, wait=True, timeout_s=1, progress=quiet)
    message = str(timed_out.value)
    assert "only the 1 claims and plan changes were sent, the other 3 lines were not" in message
    assert len(await read_topic(settings.kafka(), names.domain_claims, 1)) == 1
    assert await read_topic(settings.kafka(), names.logins, 1, timeout_s=2) == []


async def test_a_mistyped_topic_is_refused_not_created(settings: Settings) -> None:
    """`--topic` to a topic that does not exist fails naming the closest one, and creates
    nothing: a typo used to create a topic no worker reads, and report success."""
    names = TopicNames.from_settings(settings)
    typo = names.logins.replace("logins", "lgoins")
    line = orjson.dumps({"type": "login", "user_id": "u1", "email": "u1@acme.com"})
    with pytest.raises(KafkaTopicError) as refused:
        await produce(settings, [line], typo, wait=False, timeout_s=60, progress=quiet)
    assert str(refused.value).startswith(f"topic {typo!r} does not exist on Kafka at ")
    assert f"did you mean {names.logins!r}?" in str(refused.value)
    assert typo not in await topics_on(settings.kafka())

    await produce(settings, [line], names.logins, wait=False, timeout_s=60, progress=quiet)
    assert len(await read_topic(settings.kafka(), names.logins, 1)) == 1  # a service topic goes


async def topics_on(bootstrap: str) -> set[str]:
    """The topics the broker lists."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()
