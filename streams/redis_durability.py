"""Whether Redis keeps every write it acknowledged when its process crashes.

The worker commits a batch's Kafka offsets once Redis acknowledged the batch's writes, so a write
Redis acknowledges and then loses is a count lost for good: no redelivery brings it back. Only
`appendonly yes` with `appendfsync always` rules that out. With `everysec` Redis answers before
its append-only file has the write, and while the previous second's fsync is still running it
may hold the write in memory for up to two more seconds: measured here, SIGKILL under disk load
lost acknowledged writes (docs/operations.md, "Redis persistence").
"""

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.redis_errors import describe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Durability:
    """One node's persistence settings, and what a crash of that node can lose."""

    appendonly: str
    appendfsync: str

    @property
    def crash_safe(self) -> bool:
        """True when every acknowledged write survives a crash of the process or the machine."""
        return self.appendonly == "yes" and self.appendfsync == "always"

    @property
    def risk(self) -> str:
        """What a crash loses, in words an operator can act on."""
        if self.appendonly != "yes":
            return "no append-only file: a restart loses every count since the last snapshot"
        if self.appendfsync != "always":
            return (
                f"appendfsync {self.appendfsync}: a crash can lose the last seconds of writes "
                "whose offsets are already committed"
            )
        return "none"


def durability_of(config: dict[Any, Any]) -> Durability:
    """The persistence settings in a CONFIG GET reply (bytes or text keys and values)."""
    text = {_text(key): _text(value) for key, value in config.items()}
    return Durability(text.get("appendonly", "no"), text.get("appendfsync", "everysec"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def node_durabilities(client: Any) -> list[Durability]:
    """Each primary's persistence settings (one for a single node); raises RedisError when
    CONFIG is refused, as managed Redis services often do."""
    if isinstance(client, RedisCluster):
        await client.initialize()  # a client that has sent nothing yet knows no primaries
        replies = [
            await client.execute_command("CONFIG GET", "append*", target_nodes=node)
            for node in client.get_primaries()
        ]
    else:
        replies = [await client.execute_command("CONFIG GET", "append*")]
    return [durability_of(_as_dict(reply)) for reply in replies]


def _as_dict(reply: Any) -> dict[Any, Any]:
    """CONFIG GET answers a flat list in RESP2 (a dict once redis-py parsed it)."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


class DurabilityWatch:
    """Reads the settings now and then, and logs each change of what a crash could lose."""

    SAFE, AT_RISK, UNKNOWN = 1, 0, -1  # the values of the insights_redis_crash_safe gauge

    def __init__(self, client: Any) -> None:
        """Nothing is read before the first `check`."""
        self.client = client
        self.last: tuple[str, ...] | None = None  # each primary's risk at the last reading

    async def check(self) -> int | None:
        """SAFE when every primary is crash-safe, AT_RISK when one is not, UNKNOWN when CONFIG is
        refused; None while Redis is unreachable (the batches' retries report outages)."""
        try:
            nodes = await node_durabilities(self.client)
        except (RedisConnectionError, RedisTimeoutError, RedisClusterException, OSError):
            # RedisClusterException (no node reachable) is not a RedisError; an exception here
            # would end the worker, whose batches already wait out outages.
            return None
        except RedisError as error:
            if self.last != ():
                log.info(
                    "cannot read redis persistence settings: make sure it runs with "
                    "appendonly yes and appendfsync always",
                    extra={"error": describe(error)},
                )
            self.last = ()
            return self.UNKNOWN
        if not nodes:  # a cluster client that knows no primary yet
            return None
        risks = tuple(node.risk for node in nodes)
        at_risk = sorted({node.risk for node in nodes if not node.crash_safe})
        if risks != self.last:
            if at_risk:
                log.warning("redis can lose acknowledged writes", extra={"risks": at_risk})
            else:
                log.info("redis keeps every acknowledged write (appendfsync always)")
        self.last = risks
        return self.AT_RISK if at_risk else self.SAFE
