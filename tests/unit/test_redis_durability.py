"""What a crash of Redis can lose, read off its CONFIG GET reply."""

import pytest

from streams.redis_durability import durability_of


@pytest.mark.parametrize(
    ("config", "crash_safe", "risk_starts"),
    [
        ({b"appendonly": b"yes", b"appendfsync": b"always"}, True, "none"),
        ({"appendonly": "yes", "appendfsync": "always", "appendfilename": "a"}, True, "none"),
        ({b"appendonly": b"yes", b"appendfsync": b"everysec"}, False, "appendfsync everysec"),
        ({b"appendonly": b"yes", b"appendfsync": b"no"}, False, "appendfsync no"),
        ({b"appendonly": b"no", b"appendfsync": b"always"}, False, "no append-only file"),
        ({}, False, "no append-only file"),
    ],
)
def test_only_an_aof_fsynced_before_each_reply_is_crash_safe(
    config: dict[bytes | str, bytes | str], crash_safe: bool, risk_starts: str
) -> None:
    """appendonly yes and appendfsync always, nothing less."""
    durability = durability_of(config)
    assert durability.crash_safe is crash_safe
    assert durability.risk.startswith(risk_starts)
