"""The soak's send rate: twice the sustained rate the performance benchmark reports, measured by
the benchmark's own code on the soak's broker and Redis just before the soak starts, and at most
what the memory-only embedded broker can hold for the whole soak.

The benchmark's sustained rate is half of one worker's single-event rate (its freshness phase),
so twice it is that single-event rate, sent to two workers as the replay's batched records.
It used to come from the newest day's `bench/results/` files; the machine's speed swings by a
third within minutes and twice over between hours, so a rate measured in a fast hour asked two
workers in a slow one for more than they could drain (the soak of 2026-12-03 fell behind at
60,340 events/s). Measured now, the soak tests what it is for: memory, lag and commits under
the load this machine sustains today.
"""

from bench.throughput import login_lines, worker_rate
from insights.embedded import StackEndpoints

# The full benchmark's single-event phase: a million one-event records (~20 s of draining).
CALIBRATION_EVENTS = 1_000_000

# Tansu's memory:// storage keeps every record until its topic is deleted (it has no retention
# and does not implement DeleteRecords), at 1.03 bytes of resident memory per payload byte with
# the soak's batched records (measured 2026-12-04: 645 MiB of records, broker +661 MiB). A fast
# hour's rate (~100k events/s, 135 bytes each) for 20 minutes is 16 GB: on 2026-12-04 the broker
# ran out of memory 20 minutes into the soak. So the broker may take half of the memory free
# when the soak starts, with a margin on its overhead; the rest is for Redis and the workers.
BROKER_SHARE_OF_FREE_MEMORY = 0.5
BROKER_BYTES_PER_PAYLOAD_BYTE = 1.25


async def soak_rate(stack: StackEndpoints, events: int = CALIBRATION_EVENTS) -> tuple[float, str]:
    """Twice the benchmark's sustained rate, measured now by one worker on `stack`, and why."""
    claims, singles = login_lines(events, 1)
    single = (await worker_rate(stack, singles, claims, events, 1))["events_per_s"]
    sustained = single / 2  # bench.throughput's freshness rate: half the worker's maximum
    return 2 * sustained, (
        f"2 x the benchmark's sustained rate: one worker drained {events:,} single-event "
        f"records at {single:,.0f} events/s on this stack just before the soak"
    )


def broker_memory_rate(payload_bytes_per_event: float, duration_s: float, free_bytes: int) -> float:
    """The highest rate whose records the memory-only broker can hold for `duration_s`."""
    budget = BROKER_SHARE_OF_FREE_MEMORY * free_bytes / BROKER_BYTES_PER_PAYLOAD_BYTE
    return budget / (payload_bytes_per_event * duration_s)


def within_broker_memory(
    rate: float, source: str, payload_bytes_per_event: float, duration_s: float, free_bytes: int
) -> tuple[float, str]:
    """`rate`, or the broker's memory bound when lower; `source` says which and why."""
    bound = broker_memory_rate(payload_bytes_per_event, duration_s, free_bytes)
    if rate <= bound:
        return rate, source
    return bound, (
        f"{source}, capped at {bound:,.0f} events/s: the memory-only broker keeps every record, "
        f"and {duration_s / 60:.0f} min of {payload_bytes_per_event:.0f}-byte events at that "
        f"rate fill half of the {free_bytes / 2**30:.1f} GiB free at the start"
    )
