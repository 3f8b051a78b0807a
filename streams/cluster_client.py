"""The Redis Cluster client the service uses: redis-py's, made cheaper for batches of scripts.

A profile of one worker draining logins into a 3-master cluster (py-spy, 2026-12-03, after the
per-node timeline reads) put 11% of its samples in redis-py packing commands in Python and 9% in
hashing keys to route scripts: for every EVALSHA, redis-py hashes each of its keys to check they
share one slot, and a batch's ADD_MEMBERS calls carry thousands of keys.
"""

from typing import Any

from redis.asyncio import RedisCluster
from redis.asyncio.connection import Connection

from streams.redis_packing import with_hiredis_packing


class BatchingRedisCluster(RedisCluster):
    """Routes a script by its first key, and packs commands with hiredis on every node."""

    async def _determine_slot(self, command: str, *args: Any) -> int:
        # Every script call of the store addresses one org's hash slot (key_group_facts checks
        # it) and Redis refuses one whose keys span slots (CROSSSLOT), so the first key routes
        # it as well as all of them would. redis-py's own check hashes every key.
        evalsha = isinstance(command, str) and command.upper() == "EVALSHA"
        if evalsha and len(args) > 2 and int(args[1]) > 1:
            return self.keyslot(args[2])
        return await super()._determine_slot(command, *args)


def hiredis_packing_cluster(client: RedisCluster) -> RedisCluster:
    """Make every node's connections, known and discovered later, pack with hiredis.

    `RedisCluster.from_url` drops a `connection_class` argument, so it is set where the nodes
    read it: the nodes manager's shared connection arguments and the nodes made already.
    """
    manager = client.nodes_manager
    packing = with_hiredis_packing(manager.connection_kwargs.get("connection_class", Connection))
    manager.connection_kwargs["connection_class"] = packing
    for node in [*manager.startup_nodes.values(), *manager.nodes_cache.values()]:
        node.connection_class = packing
    return client


def connect_cluster(url: str, **options: Any) -> RedisCluster:
    """A lazily connecting cluster client for `url` (any node)."""
    return hiredis_packing_cluster(BatchingRedisCluster.from_url(url, **options))
