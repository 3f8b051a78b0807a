"""The Redis store: every HyperLogLog, timeline and coverage read or write goes through here."""

import asyncio
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError, SlotNotCoveredError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas.events import DomainClaim, PlanChange
from schemas.vocabulary import Product
from streams.cluster_client import connect_cluster
from streams.core.attribution import BatchWrites, KeyGroup, UserProduct
from streams.core.days import day_end
from streams.core.keys import EXACT_LIMIT, OVERFLOWED, KeyLayout
from streams.core.series import Coverage
from streams.core.timelines import (
    DomainTimeline,
    PlanTimeline,
    claim_member,
    from_millis,
    plan_member,
    to_millis,
)
from streams.hll_scripts import ADD_MEMBERS, COUNT_UNIONS, ZRANGE_ALL
from streams.redis_packing import with_hiredis_packing
from streams.settings import Settings

RedisClient = Redis | RedisCluster
# Arguments per script call: big enough that a batch is a few calls, small enough that no call
# holds Redis (single-threaded, shared with the reader and other workers) for long. Measured on
# one Redis here: 20,000 arguments of small groups (one org, 1,920 groups of 8 new users) held
# it 50 ms per call; 5,000 hold it about 12 ms, and a batch's calls cost the worker ~20 µs each.
ARGS_PER_CALL = 5_000
KEYS_PER_READ = 5_000


def queue_script(script: AsyncScript, keys: list[str], args: list[str | int], pipe: Any) -> None:
    """Queue a Lua script on a pipeline as a raw EVALSHA; the store loads its scripts first.

    Not redis-py's script call: on a pipeline it registers the script, and every `execute`
    then asks SCRIPT EXISTS first, one more round trip per batch, waiting behind whatever Redis
    is running for the batches in flight (a cluster pipeline refuses it outright). A NOSCRIPT
    (Redis restarted or failed over, its script cache empty) fails the pipeline; the store
    marks its scripts for loading and the batch's retry loads them.
    """
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)


def _text(value: bytes | str) -> str:
    """Redis replies are bytes unless decoding was asked for."""
    return value.decode() if isinstance(value, bytes) else value


# Key groups a worker keeps writing (every batch meets the same org, product, plan and day
# groups); each entry holds nine keys, their companions and expiries, about 2 KiB.
KEY_GROUPS_REMEMBERED = 8_192


@lru_cache(maxsize=KEY_GROUPS_REMEMBERED)
def key_group_facts(
    layout: KeyLayout, keys: KeyGroup, retention: timedelta
) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """A key group's hash slot, its (HyperLogLog, exact companion set) pairs in order, and each
    key's expiry (unix seconds): its last day's end plus retention."""
    slots = {layout.hash_tag(key) for key, _ in keys}
    if len(slots) != 1:
        raise ValueError(f"a key group must lie in one hash slot, not {sorted(slots)}")
    pairs = tuple(name for key, _ in keys for name in (key, layout.exact_companion(key)))
    expiries = tuple(int((day_end(key_day) + retention).timestamp()) for _, key_day in keys)
    return slots.pop(), pairs, expiries


def non_empty(found: list[Any], first: int = 0) -> dict[int, Any]:
    """ZRANGE_ALL's reply (a key's position from 1, its members, ...: only the non-empty ones) as
    position (from `first`) to members; most keys asked for are missing, and a list per key cost
    the worker 3.5% of its time."""
    return {first + found[index] - 1: found[index + 1] for index in range(0, len(found), 2)}


def non_empty_zranges(replies: list[Any]) -> dict[int, Any]:
    """One ZRANGE reply per key as position to members, for the keys that have any."""
    return {position: members for position, members in enumerate(replies) if members}


class RedisUnavailableError(RuntimeError):
    """Redis could not be reached; the message says where we tried."""

    @classmethod
    def at(cls, url: str, error: Exception) -> "RedisUnavailableError":
        """The one wording every command uses for a Redis it cannot reach."""
        return cls(f"cannot reach Redis at {url}: {error}")


def connect_redis(settings: Settings, *, fail_fast_s: float | None = None) -> RedisClient:
    """A lazily connecting client: single node, or cluster when INSIGHTS_REDIS_CLUSTER is true.

    On a single node, a command unanswered after INSIGHTS_REDIS_TIMEOUT_S raises redis's
    TimeoutError, which the worker logs and retries as an outage; a cluster client first retries
    on its own (redis-py's cluster retries), so an outage surfaces later there.

    With `fail_fast_s`, sockets time out after that many seconds and commands are not retried:
    the reader answers 503 at once on a dead Redis instead of hanging in redis-py's backoff,
    and the pool reconnects on the next request once Redis is back.
    """
    timeout_s = settings.redis_timeout_s if fail_fast_s is None else fail_fast_s
    options: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    if fail_fast_s is not None:
        options["retry"] = Retry(NoBackoff(), 0)
    if settings.redis_cluster:
        return connect_cluster(settings.redis(), **options)
    client = Redis.from_url(settings.redis(), health_check_interval=10, **options)
    pool = client.connection_pool
    pool.connection_class = with_hiredis_packing(pool.connection_class)
    return client


def primary_of(client: RedisCluster, key: str) -> ClusterNode | None:
    """The primary the client's slot map names for `key`; None when the map has no such slot."""
    try:
        return client.get_node_from_key(key)
    except SlotNotCoveredError:
        return None


class RedisActiveUserStore:
    """HyperLogLog counts, plan and claim timelines, coverage and watermarks in Redis."""

    def __init__(self, client: RedisClient, layout: KeyLayout, retention_days: int) -> None:
        """Wrap a client; nothing connects until the first command."""
        self.client = client
        self.layout = layout
        self.retention = timedelta(days=retention_days)
        self.add_members = client.register_script(ADD_MEMBERS)
        self.count_unions_script = client.register_script(COUNT_UNIONS)
        self.zrange_all = client.register_script(ZRANGE_ALL)
        # Loaded before the first pipeline that runs them (see queue_script).
        self.scripts_loaded = False

    async def ensure_scripts_loaded(self) -> None:
        """Load the scripts on every primary unless they are known to be there."""
        if not self.scripts_loaded:
            await self.load_scripts()

    async def load_scripts(self) -> None:
        """SCRIPT LOAD on every primary (a RedisCluster client sends it to all of them)."""
        for script in (self.add_members, self.count_unions_script, self.zrange_all):
            await self.client.script_load(script.script)
        self.scripts_loaded = True

    async def load_timelines(
        self, domains: Iterable[str], user_products: Iterable[UserProduct]
    ) -> tuple[dict[str, DomainTimeline], dict[UserProduct, PlanTimeline]]:
        """Fetch the domain and plan timelines a batch needs, in one round trip."""
        domain_list, pair_list = list(domains), list(user_products)
        keys = [self.layout.domain_timeline(domain) for domain in domain_list]
        keys.extend(self.layout.plan_timelines(pair_list))
        found = await self.sorted_sets(keys)
        domain_count = len(domain_list)
        domain_timelines: dict[str, DomainTimeline] = {}
        plans: dict[UserProduct, PlanTimeline] = {}
        for position, members in found.items():
            if position < domain_count:
                domain_timelines[domain_list[position]] = DomainTimeline.decode(members)
            else:
                plans[pair_list[position - domain_count]] = PlanTimeline.decode(members)
        return domain_timelines, plans

    async def sorted_sets(self, keys: list[str]) -> dict[int, Any]:
        """The members, in order, of each sorted set of `keys` that exists, by its position in
        `keys` (from 0).

        On a single node one script call reads thousands of keys (a pipeline of one ZRANGE per
        key costs redis-py ~20 µs per command, ~45 µs through its cluster pipeline).
        """
        if isinstance(self.client, RedisCluster):
            return await self.cluster_sorted_sets(self.client, keys)
        await self.ensure_scripts_loaded()
        # Every chunk in one pipeline: one round trip, not one per chunk, each waiting behind
        # the writes of the other batches in flight.
        starts = range(0, len(keys), KEYS_PER_READ)
        async with self.client.pipeline(transaction=False) as pipe:
            for start in starts:
                queue_script(self.zrange_all, keys[start : start + KEYS_PER_READ], [], pipe)
            replies = await self.execute_scripts(pipe)
        found: dict[int, Any] = {}
        for start, reply in zip(starts, replies, strict=True):
            found.update(non_empty(reply, start))
        return found

    async def cluster_sorted_sets(self, client: RedisCluster, keys: list[str]) -> dict[int, Any]:
        """On a cluster: per node, one script call per KEYS_PER_READ of the keys that node serves.

        User keys spread over every slot, and one call may not declare keys of several slots, so
        the keys go in as arguments of ZRANGE_ALL to the node the client's slot map names.
        A call that fails (a slot moved since the map was read, a primary that lost its scripts or
        is failing over) is read again as one pipelined ZRANGE per key, which follows MOVED and
        ASK and retries on a fresh slot map; errors from that read propagate.
        """
        await self.ensure_scripts_loaded()
        by_node: dict[str, tuple[ClusterNode | None, list[int]]] = {}
        for index, key in enumerate(keys):
            node = primary_of(client, key)
            by_node.setdefault(node.name if node else "", (node, []))[1].append(index)
        found: dict[int, Any] = {}

        async def read_node(node: ClusterNode | None, indexes: list[int]) -> None:
            for start in range(0, len(indexes), KEYS_PER_READ):
                chunk = indexes[start : start + KEYS_PER_READ]
                names = [keys[index] for index in chunk]
                values = None if node is None else await self.read_on_node(client, node, names)
                if values is None:
                    values = non_empty_zranges(await self.pipelined_zranges(client, names))
                found.update((chunk[position], members) for position, members in values.items())

        async with asyncio.TaskGroup() as reads:  # one failing node cancels the others' reads
            for node, indexes in by_node.values():
                reads.create_task(read_node(node, indexes))
        return found

    async def read_on_node(
        self, client: RedisCluster, node: ClusterNode, keys: list[str]
    ) -> dict[int, Any] | None:
        """ZRANGE_ALL on `node`, keys as arguments; None when it failed (then read per key).

        A command sent to a named node is not retried by redis-py, so a connection error (a
        primary failing over) also falls back: the per-key pipeline refreshes the slot map and
        retries, and raises only if Redis stays unreachable.
        """
        sha = self.zrange_all.sha
        try:
            found = await client.execute_command("EVALSHA", sha, 0, *keys, target_nodes=node)
            return non_empty(found)
        except (ResponseError, RedisConnectionError, RedisTimeoutError) as error:
            if isinstance(error, NoScriptError):
                self.scripts_loaded = False
            return None

    @staticmethod
    async def pipelined_zranges(client: RedisCluster, keys: list[str]) -> list[Any]:
        """One ZRANGE per key through the cluster pipeline (routes each key, follows redirects)."""
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrange(key, 0, -1)
            return list(await pipe.execute())

    async def write_batch(self, writes: BatchWrites) -> None:
        """PFADD each key's members, set expiry, mark coverage and watermarks: one pipeline."""
        await self.ensure_scripts_loaded()
        # `async with`: a pipeline that failed is reset and its connection returned at once.
        async with self.client.pipeline(transaction=False) as pipe:
            # PFADD and SADD are idempotent: a redelivered batch sets the same registers again.
            for keys, args in self.add_members_calls(writes):
                queue_script(self.add_members, keys, args, pipe)
            for product, day in writes.covered:
                pipe.zadd(self.layout.coverage(product), {day.isoformat(): day.toordinal()})
            for product, seconds in writes.latest_login_s.items():
                millis = round(seconds * 1000)  # round, not int: 0.999... ms is the next one
                pipe.zadd(self.layout.latest_logins(), {product.value: millis}, gt=True)
            await self.execute_scripts(pipe)

    async def execute_scripts(self, pipe: Any) -> list[Any]:
        """Run a pipeline of scripts; on NOSCRIPT, mark the scripts for loading before the retry."""
        try:
            return list(await pipe.execute())
        except NoScriptError:
            # A restarted Redis, or a primary promoted or added since the load, starts with an
            # empty script cache: load again on the retry; re-running a batch is harmless
            # (reads, and idempotent writes).
            self.scripts_loaded = False
            raise

    def add_members_calls(self, writes: BatchWrites) -> list[tuple[list[str], list[str | int]]]:
        """ADD_MEMBERS calls for a batch: per hash slot (one org's keys), up to ARGS_PER_CALL."""
        calls: list[tuple[list[str], list[str | int]]] = []
        open_calls: dict[str, tuple[list[str], list[str | int]]] = {}
        for keys, members in writes.key_groups:
            slot, pairs, expiries = key_group_facts(self.layout, keys, self.retention)
            call = open_calls.get(slot)
            if call is None or len(call[1]) + len(expiries) + len(members) > ARGS_PER_CALL:
                call = open_calls[slot] = ([], [EXACT_LIMIT, OVERFLOWED])
                calls.append(call)
            call[0].extend(pairs)
            args = call[1]
            args.append(len(expiries))
            args.extend(expiries)
            args.append(len(members))
            args.extend(members)
        return calls

    async def add_plan_changes(self, changes: Iterable[PlanChange]) -> None:
        """Record plan changes; ZADD of the same member is a no-op, so redelivery is harmless."""
        async with self.client.pipeline(transaction=False) as pipe:
            for change in changes:
                key = self.layout.plan_timeline(change.user_id, change.product)
                member = plan_member(change.effective_at, change.plan)
                pipe.zadd(key, {member: to_millis(change.effective_at)})
            await pipe.execute()

    async def domain_timeline(self, domain: str) -> DomainTimeline:
        """The recorded claims and releases of one domain."""
        members: Any = await self.client.zrange(self.layout.domain_timeline(domain), 0, -1)
        return DomainTimeline.decode(members)

    async def add_domain_claim(self, claim: DomainClaim) -> None:
        """Record an accepted claim or release, and remember the domain under its org."""
        member = claim_member(claim.effective_at, claim.action, claim.org_id)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(
                self.layout.domain_timeline(claim.domain), {member: to_millis(claim.effective_at)}
            )
            pipe.sadd(self.layout.org_domains(claim.org_id), claim.domain)
            await pipe.execute()

    async def org_domains(self, org_id: str) -> dict[str, DomainTimeline]:
        """Every domain the org ever claimed, with its timeline."""
        domains = sorted(
            _text(d) for d in await self.client.smembers(self.layout.org_domains(org_id))
        )
        found = await self.sorted_sets([self.layout.domain_timeline(d) for d in domains])
        return {d: DomainTimeline.decode(found.get(i, [])) for i, d in enumerate(domains)}

    async def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(await self.client.ping())

    async def latest_logins(self) -> dict[Product, datetime]:
        """Per product, the latest login `occurred_at` processed (to spot late control events)."""
        pairs: Any = await self.client.zrange(self.layout.latest_logins(), 0, -1, withscores=True)
        return {Product(_text(name)): from_millis(int(score)) for name, score in pairs}

    async def covered_days(self, products: tuple[Product, ...], start: date, end: date) -> Coverage:
        """The covered (product, day) cells in [start, end]."""
        async with self.client.pipeline(transaction=False) as pipe:
            for product in products:
                pipe.zrange(
                    self.layout.coverage(product), start.toordinal(), end.toordinal(), byscore=True
                )
            replies = await pipe.execute()
        return {
            (product, date.fromisoformat(_text(day)))
            for product, days in zip(products, replies, strict=True)
            for day in days
        }

    async def count_unions(self, key_groups: list[list[str]]) -> list[int]:
        """The union count of each group, in one script call: every key must be one org's."""
        if not key_groups:
            return []
        keys: list[str] = []
        sizes: list[str | int] = [OVERFLOWED]
        for group in key_groups:
            keys.extend(group)
            keys.extend(self.layout.exact_companion(key) for key in group)
            sizes.append(len(group))
        counts = await self.count_unions_script(keys=keys, args=sizes)
        return [int(count) for count in counts]
