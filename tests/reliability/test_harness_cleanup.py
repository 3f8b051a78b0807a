"""A closed run leaves no topic behind on the session's broker, which holds records in memory."""

from pathlib import Path

import pytest

from insights.embedded import StackEndpoints
from tests.reliability.harness import Harness


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_closing_a_run_deletes_its_topics(
    reliability_stack: StackEndpoints, tmp_path: Path
) -> None:
    run = Harness(reliability_stack.kafka_bootstrap, reliability_stack.redis_url, tmp_path)
    await run.start()
    await run.feed.send([b'{"type":"login"}'] * 10)
    assert await run.topics()
    await run.close()
    assert await run.topics() == []
