"""One reliability run: its workers, producer, commit watch, Redis client and state checker."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from redis.asyncio import Redis

from streams.core.keys import KeyLayout
from streams.settings import Settings
from tests.reliability.feed import Feed
from tests.reliability.offsets import POLL_S, CommitWatch, GroupCommitTimeoutError
from tests.reliability.replay import Expected
from tests.reliability.state import StateChecker, StateDiff
from tests.reliability.workers import WorkerPool

CONTROL_TIMEOUT_S = 120.0
# The embedded broker's group timing (DESIGN: 6 s / 0.5 s is the safe value under load).
SESSION_TIMEOUT_S = 6.0


def run_env(kafka_bootstrap: str, redis_url: str) -> dict[str, str]:
    """Fresh topics, consumer group and key prefix for one run."""
    unique = uuid.uuid4().hex[:10]
    return {
        "INSIGHTS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "INSIGHTS_REDIS_URL": redis_url,
        "INSIGHTS_TOPIC_PREFIX": f"rel{unique}",
        "INSIGHTS_APP_ID": f"reliability-{unique}",
        "INSIGHTS_KEY_PREFIX": f"rel{unique}",
        "INSIGHTS_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S),
        "INSIGHTS_HEARTBEAT_INTERVAL_S": "0.5",
    }


def settings_of(env: Mapping[str, str]) -> Settings:
    """The Settings a worker started with `env` reads."""
    return Settings.model_validate({k.removeprefix("INSIGHTS_").lower(): v for k, v in env.items()})


class Harness:
    """Drives one run and measures it; `close` stops everything it started."""

    def __init__(self, kafka_bootstrap: str, redis_url: str, workdir: Path) -> None:
        """Nothing connects before `start`."""
        self.env = run_env(kafka_bootstrap, redis_url)
        self.settings = settings_of(self.env)
        self.layout = KeyLayout(self.settings.key_prefix)
        self.pool = WorkerPool(self.env, workdir)
        self.feed = Feed(self.settings)
        self.watch = CommitWatch(kafka_bootstrap, self.settings.app_id)
        self.redis = Redis.from_url(redis_url)
        self.checker = StateChecker(self.redis)

    async def start(self) -> None:
        """Create the topics and connect the producer and the commit watch."""
        await self.feed.start()
        await self.watch.start()

    async def close(self) -> None:
        """Stop the workers, disconnect, and delete the run's topics."""
        await self.pool.close()
        await self.feed.stop()
        await self.watch.stop()
        await self.redis.aclose()
        await self.drop_topics()

    async def drop_topics(self) -> None:
        """Delete every topic of this run: the embedded broker keeps records in memory until
        their topic goes, and the session's runs share it."""
        ours = await self.topics()
        if ours:
            async with self.admin() as admin:
                await admin.delete_topics(ours)

    async def topics(self) -> list[str]:
        """This run's topics on the broker: ours and the workers' own."""
        prefixes = (self.settings.topic_prefix, self.settings.app_id)
        async with self.admin() as admin:
            return [name for name in await admin.list_topics() if name.startswith(prefixes)]

    @asynccontextmanager
    async def admin(self) -> AsyncIterator[AIOKafkaAdminClient]:
        """A connected admin client of the run's broker, closed on the way out."""
        client = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka())
        await client.start()
        try:
            yield client
        finally:
            await client.close()

    @property
    def targets(self) -> dict[TopicPartition, int]:
        """Per partition, the offset after the last record we sent."""
        return dict(self.feed.sent.targets)

    async def deliver(self, lines: list[bytes]) -> None:
        """Send lines and wait until the group committed past them: control events go first
        this way, applied before any login that needs them (as `insights produce` does)."""
        await self.feed.send(lines)
        await self.watch.reach(self.targets, CONTROL_TIMEOUT_S)

    async def committed(self) -> dict[TopicPartition, int]:
        """The group's committed offsets on every partition we sent to."""
        return await self.watch.committed(self.targets)

    async def progress_after(self, since: Mapping[TopicPartition, int], timeout_s: float) -> float:
        """Seconds until every partition with records beyond `since` has committed past it."""
        started = time.monotonic()
        while True:
            committed = await self.committed()
            stalled = [
                tp
                for tp, target in self.targets.items()
                if target > since.get(tp, -1) and committed[tp] <= since.get(tp, -1)
            ]
            if not stalled:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise GroupCommitTimeoutError(f"no progress on {stalled} within {timeout_s:.0f} s")
            await asyncio.sleep(POLL_S)

    async def compare(self, expected: Expected) -> StateDiff:
        """Diff everything under the run's key prefix with the expected state."""
        return await self.checker.compare(self.settings.key_prefix, expected)
