"""The worker group's committed offsets, polled through one long-lived (never joining) consumer."""

import asyncio
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

POLL_S = 0.25


class GroupCommitTimeoutError(AssertionError):
    """The group did not commit up to the targets in time."""


def behind(committed: Mapping[TopicPartition, int], targets: Mapping[TopicPartition, int]) -> int:
    """Records between the committed offsets and the targets, over all partitions."""
    return sum(max(0, target - max(committed.get(tp, -1), 0)) for tp, target in targets.items())


class CommitWatch:
    """OffsetFetch for a group without joining it (committed() never subscribes)."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        """Nothing connects before `start`."""
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
        )

    async def start(self) -> None:
        """Connect."""
        await self.consumer.start()

    async def stop(self) -> None:
        """Disconnect."""
        await self.consumer.stop()

    async def committed(
        self, partitions: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """The committed offset of each partition (-1 when none yet)."""
        offsets = {}
        for tp in partitions:
            offset = await self.consumer.committed(tp)
            offsets[tp] = -1 if offset is None else offset
        return offsets

    async def reach(self, targets: Mapping[TopicPartition, int], timeout_s: float) -> float:
        """Wait until every partition's commit reaches its target; the seconds it took."""
        started = time.monotonic()
        while True:
            committed = await self.committed(targets)
            remaining = behind(committed, targets)
            if remaining == 0:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise GroupCommitTimeoutError(
                    f"{remaining} records still uncommitted after {timeout_s:.0f} s: {committed}"
                )
            await asyncio.sleep(POLL_S)
