"""Kafka administration: explicit topic creation and the worker group's committed offsets."""

import difflib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.structs import TopicPartition


class KafkaUnavailableError(RuntimeError):
    """The Kafka cluster could not be reached; the message says where we tried."""


class KafkaTopicError(RuntimeError):
    """Kafka refused to create a topic the service needs; the message names it and why."""


async def ensure_topics(
    bootstrap: str, names: Sequence[str], partitions: int, *, elsewhere: str | None = None
) -> None:
    """Create the topics that do not exist yet (existing ones keep their partition count).

    `elsewhere`, a topic outside `names`, must exist already: a typo in a topic name would
    otherwise create a topic that nothing reads (production Kafka turns auto-creation off for
    the same reason)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
    except KafkaConnectionError as error:
        raise KafkaUnavailableError(f"cannot reach Kafka at {bootstrap}: {error}") from error
    try:
        existing = set(await admin.list_topics())
        if elsewhere is not None and elsewhere not in existing:
            raise KafkaTopicError(unknown_topic(elsewhere, bootstrap, [*names, *existing]))
        missing = [n for n in names if n not in existing]
        if missing:
            new = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
            # Another process may have created it first: that is what we wanted.
            with suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(new)
                # aiokafka reports a refused topic in the reply instead of raising.
                refused = creation_failures(response.topic_errors)
                if refused:
                    raise KafkaTopicError(
                        f"Kafka at {bootstrap} refused to create {'; '.join(refused)}: create "
                        f"the topics yourself ({partitions} partitions each; docs/operations.md)"
                    )
    finally:
        await admin.close()


def unknown_topic(topic: str, bootstrap: str, known: Iterable[str]) -> str:
    """Names the missing topic, and the closest existing or service topic if one is close."""
    message = f"topic {topic!r} does not exist on Kafka at {bootstrap}"
    close = difflib.get_close_matches(topic, sorted(set(known)), n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message + "; create it first to send there"


def creation_failures(topic_errors: Iterable[Sequence[Any]]) -> list[str]:
    """`topic (ERROR_NAME: message)` for each topic a CreateTopics reply refused; a topic that
    already exists is not a failure. Entries are (topic, code) or (topic, code, message)."""
    failures = []
    for topic, code, *message in topic_errors:
        if code in (0, TopicAlreadyExistsError.errno):
            continue
        error = for_code(code)
        detail = message[0] if message and message[0] else error.description
        failures.append(f"{topic} ({error.message}: {detail})")
    return failures


async def committed_offsets(
    bootstrap: str, group_id: str, partitions: Iterable[TopicPartition]
) -> Mapping[TopicPartition, int]:
    """The group's committed offset per partition (-1 when nothing is committed yet)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    try:
        await consumer.start()
    except KafkaError as error:
        raise KafkaUnavailableError(f"cannot reach Kafka at {bootstrap}: {error}") from error
    try:
        # committed() asks the coordinator directly (OffsetFetch) without joining the group.
        offsets = {tp: await consumer.committed(tp) for tp in partitions}
        return {tp: -1 if offset is None else offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()
