"""The soak's rate stays within what the memory-only embedded broker can hold."""

from tests.reliability.soak_rate import (
    BROKER_BYTES_PER_PAYLOAD_BYTE,
    BROKER_SHARE_OF_FREE_MEMORY,
    broker_memory_rate,
    within_broker_memory,
)

GIB = 2**30


def test_the_bound_is_the_rate_whose_records_fill_the_brokers_share_of_free_memory() -> None:
    rate = broker_memory_rate(135.0, 1200.0, 20 * GIB)
    held = rate * 1200.0 * 135.0 * BROKER_BYTES_PER_PAYLOAD_BYTE
    assert abs(held - BROKER_SHARE_OF_FREE_MEMORY * 20 * GIB) < 1.0


def test_a_rate_the_broker_can_hold_is_kept_with_its_reason() -> None:
    assert within_broker_memory(40_000.0, "measured", 135.0, 1200.0, 20 * GIB) == (
        40_000.0,
        "measured",
    )


def test_a_fast_days_rate_is_capped_and_the_reason_says_so() -> None:
    # 2026-12-04: ~100k events/s of 135-byte events for 20 min is 16 GB, more than the broker held.
    rate, source = within_broker_memory(100_000.0, "measured", 135.0, 1200.0, 20 * GIB)
    assert rate == broker_memory_rate(135.0, 1200.0, 20 * GIB)
    assert rate < 100_000.0
    assert source.startswith("measured, capped at ")
    assert "20.0 GiB free" in source
    assert "20 min of 135-byte events" in source
