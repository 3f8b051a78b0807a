"""The harness's freshness phase alone, repeated: how often a probe is late, not just the p99.

A quick run's phase sends 100-180 probes, so its p99 is one of its two slowest probes and a rare
outlier (a one-second wait once in a few hundred probes) sets it in one run and not the next.
Repeating the phase, each time on a fresh embedded stack as the harness does, counts them:

    python -m bench.freshness --runs 16 --seconds 20 --rate 50000

Each run prints its p50 / p99 / max and how many probes took over SLOW_PROBE_S; the last line
sums every run.
"""

import argparse
import asyncio

from bench.throughput import SLOW_PROBE_S, freshness, freshness_line
from insights.embedded import embedded_stack


def main() -> None:
    """Run the phase `--runs` times and print each run and the total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="phases, each on a fresh stack")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument(
        "--rate",
        type=float,
        default=50_000,
        help="background logins per second (the harness uses half the worker's rate)",
    )
    args = parser.parse_args()
    probes = slow = unseen = 0
    slowest = 0.0
    for run in range(1, args.runs + 1):
        with embedded_stack() as stack:
            result = asyncio.run(freshness(stack, args.rate, args.seconds))
        probes += int(result["probes"])
        slow += int(result["slow"])
        unseen += int(result["unseen"])
        slowest = max(slowest, result["max_s"])
        print(f"run {run}: p50 / p99 / max {freshness_line(result)}", flush=True)
    print(
        f"{args.runs} runs: {probes} probes, {slow} over {SLOW_PROBE_S} s, {unseen} unseen, "
        f"slowest {slowest} s"
    )


if __name__ == "__main__":
    main()
