"""A closed run leaves no topic behind on the session's broker, which holds records in memory."""

from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from insights.embedded import StackEndpoints
from tests.reliability.harness import Harness


async def topics_of(bootstrap: str, prefix: str) -> list[str]:
    """The broker's topics whose names start with `prefix`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return [name for name in await admin.list_topics() if name.startswith(prefix)]
    finally:
        await admin.close()


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_closing_a_run_deletes_its_topics(
    reliability_stack: StackEndpoints, tmp_path: Path
) -> None:
    run = Harness(reliability_stack.kafka_bootstrap, reliability_stack.redis_url, tmp_path)
    await run.start()
    await run.feed.send([b'{"type":"login"}'] * 10)
    prefix = run.settings.topic_prefix
    assert await topics_of(reliability_stack.kafka_bootstrap, prefix)
    await run.close()
    assert await topics_of(reliability_stack.kafka_bootstrap, prefix) == []
