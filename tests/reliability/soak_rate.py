"""The soak's send rate: twice the sustained rate the performance benchmark reports, measured by
the benchmark's own code on the soak's broker and Redis just before the soak starts.

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


async def soak_rate(stack: StackEndpoints, events: int = CALIBRATION_EVENTS) -> tuple[float, str]:
    """Twice the benchmark's sustained rate, measured now by one worker on `stack`, and why."""
    claims, singles = login_lines(events, 1)
    single = (await worker_rate(stack, singles, claims, events, 1))["events_per_s"]
    sustained = single / 2  # bench.throughput's freshness rate: half the worker's maximum
    return 2 * sustained, (
        f"2 x the benchmark's sustained rate: one worker drained {events:,} single-event "
        f"records at {single:,.0f} events/s on this stack just before the soak"
    )
