"""Topic creation: a refusal in Kafka's CreateTopics reply must not pass silently."""

from streams.kafka_admin import creation_failures


def test_created_and_already_existing_topics_are_not_failures() -> None:
    assert creation_failures([("t.logins", 0, None), ("t.plan-changes", 36, "exists")]) == []
    assert creation_failures([("t.logins", 0)]) == []  # version 0 replies carry no message


def test_a_refused_topic_is_named_with_the_error_and_the_broker_message() -> None:
    refused = creation_failures(
        [("t.logins", 0, None), ("t.domain-claims", 38, "Replication factor: 1 larger than 0")]
    )
    assert refused == [
        "t.domain-claims (INVALID_REPLICATION_FACTOR: Replication factor: 1 larger than 0)"
    ]


def test_without_a_message_the_error_description_is_used() -> None:
    (refused,) = creation_failures([("t.logins", 29)])
    assert refused.startswith("t.logins (TOPIC_AUTHORIZATION_FAILED: ")
    assert len(refused) > len("t.logins (TOPIC_AUTHORIZATION_FAILED: )")
