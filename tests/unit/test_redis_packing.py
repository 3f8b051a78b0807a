"""hiredis packing writes exactly the bytes redis-py's own asyncio packer writes."""

import pytest
from redis.asyncio.connection import Connection, UnixDomainSocketConnection

from streams.redis_packing import with_hiredis_packing

COMMANDS = [
    ("PING",),
    ("SCRIPT LOAD", "return 1"),
    (b"CLIENT SETNAME", b"insights"),
    ("EVALSHA", "f" * 40, 2, "ins:{acme}:hll:jira:all:2026-12-09", "k2", 64, "\x00overflowed"),
    ("ZADD", "ins:coverage:jira", 739_000, "2026-12-09"),
    ("SET", "ünïcode", "é" * 10_000),  # over redis-py's 6,000-byte buffer cutoff
    ("ZRANGE", "k", 0, -1, "WITHSCORES"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: str(command[0]))
def test_hiredis_packing_matches_redis_py(command: tuple[object, ...]) -> None:
    """Same RESP bytes, whether redis-py splits them into chunks or hiredis writes one buffer."""
    python_packer = Connection()
    hiredis_packer = with_hiredis_packing(Connection)()
    expected = b"".join(python_packer.pack_command(*command))  # type: ignore[arg-type]
    assert b"".join(hiredis_packer.pack_command(*command)) == expected  # type: ignore[arg-type]


def test_the_connection_kind_is_kept() -> None:
    """A Unix-socket pool stays a Unix-socket pool; wrapping twice changes nothing."""
    packing = with_hiredis_packing(UnixDomainSocketConnection)
    assert issubclass(packing, UnixDomainSocketConnection)
    assert with_hiredis_packing(packing) is packing
