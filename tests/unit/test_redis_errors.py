"""Redis errors and URLs as they appear in log and error lines."""

import pytest
from redis.exceptions import ResponseError

from streams.redis_errors import describe, without_password


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@redis:6379/0", "redis://:***@redis:6379/0"),
        ("rediss://app:s3cret@redis:6380/1", "rediss://app:***@redis:6380/1"),
        ("redis://redis:6379/0?password=s3cret&db=2", "redis://redis:6379/0?password=***&db=2"),
        ("unix:///run/redis.sock?password=s3cret", "unix:///run/redis.sock?password=***"),
    ],
)
def test_a_password_is_never_shown(url: str, shown: str) -> None:
    assert without_password(url) == shown


def test_an_error_reads_as_its_class_and_message() -> None:
    assert describe(ResponseError("DB index is out of range")) == (
        "ResponseError: DB index is out of range"
    )
    assert describe(TimeoutError()) == "TimeoutError"
