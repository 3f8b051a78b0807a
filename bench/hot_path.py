"""The worker's pure per-login work, in process, without Kafka or Redis: µs per login per stage.

Run: `.venv/bin/python -m bench.hot_path [--per-record 50] [--events 200000] [--rounds 5]`.

The end-to-end figures of `bench.throughput` and `bench.profile_worker` move by a third between
runs of identical code on this shared machine (the broker, Redis and the harness take turns on two
cores), which hides a change worth 10%. This replays the same batches through the stages the
logins agent runs between a fetch and its Redis calls (decode and validate, the timelines a batch
needs and their key names, attribution, the per-batch metrics) with the worker's garbage collector
setting, and prints the median of `--rounds` for each stage. The batches are
`bench.throughput`'s (20 orgs, 200,000 users, 30 days), cut at INSIGHTS_FETCH_MAX_RECORDS's
default as a worker with a backlog takes them; every domain is claimed and no user has a plan
change, as in that harness.
"""

import argparse
import gc
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import cast

import orjson
from prometheus_client import CollectorRegistry

from agents.logins import LoginBatchProcessor
from agents.metrics import WorkerMetrics
from agents.records import SourceRecord, decode_batch
from bench.throughput import login_lines
from insights.worker import tune_garbage_collection
from schemas.events import DomainClaim, Heartbeat, Login
from streams.compiled import compiled_state
from streams.core.attribution import ObservedBatch, UserProduct
from streams.core.keys import KeyLayout
from streams.core.timelines import DomainTimeline, PlanTimeline, claim_member
from streams.settings import Settings

BATCH_LOGINS = Settings.model_fields["fetch_max_records"].default  # in events
RETENTION_DAYS = 400


def record_batches(events: int, per_record: int) -> list[list[SourceRecord]]:
    """The harness's login records, cut into the batches a worker would process."""
    _, lines = login_lines(events, per_record)
    records = [SourceRecord(line, "insights.logins", 0, n) for n, line in enumerate(lines)]
    per_batch = max(1, BATCH_LOGINS // per_record)
    return [records[start : start + per_batch] for start in range(0, len(records), per_batch)]


def domain_timelines() -> dict[str, DomainTimeline]:
    """Every harness org's domain, claimed since 2025 (as `bench.throughput` claims them)."""
    claims, _ = login_lines(0, 1)
    timelines: dict[str, DomainTimeline] = {}
    for line in claims:
        claim = DomainClaim.model_validate(orjson.loads(line))
        member = claim_member(claim.effective_at, claim.action, claim.org_id)
        timelines[claim.domain] = DomainTimeline.decode([member])
    return timelines


class Stages:
    """Seconds spent per stage over one pass of every batch."""

    def __init__(self) -> None:
        """All stages at zero."""
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the duration of the block to `stage`."""
        started = time.perf_counter()
        yield
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


def one_pass(batches: list[list[SourceRecord]], domains: dict[str, DomainTimeline]) -> Stages:
    """Every batch through decode, observe (the lookups and what needs no timeline), timeline
    keys, attribution and the batch metrics, as `LoginBatchProcessor.__call__` runs them."""
    layout = KeyLayout()
    processor = LoginBatchProcessor.__new__(LoginBatchProcessor)
    processor.metrics = WorkerMetrics(CollectorRegistry())
    processor.latest_event = {}
    plans: dict[UserProduct, PlanTimeline] = {}  # nobody has a plan change, as in the harness
    stages = Stages()
    now = datetime.now(UTC)
    for records in batches:
        with stages.timed("decode"):
            decoded, _ = decode_batch(records, (Login, Heartbeat), RETENTION_DAYS, now)
        with stages.timed("observe"):
            batch = ObservedBatch()
            batch.observe(cast(list[Login | Heartbeat], decoded))
        with stages.timed("timeline_keys"):
            [layout.domain_timeline(domain) for domain in batch.domains]
            layout.plan_timelines(batch.user_products)
        with stages.timed("attribute"):
            writes = batch.attribute(domains, plans, layout)
        with stages.timed("count"):
            processor.count("insights.logins", len(records), batch, writes)
    return stages


def main() -> None:
    """Replay, time, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-record", type=int, default=50)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    batches = record_batches(args.events, args.per_record)
    domains = domain_timelines()
    tune_garbage_collection()
    one_pass(batches[:2], domains)  # warm the caches the worker keeps warm (domains, key groups)
    rounds = []
    for _ in range(args.rounds):
        gc.collect()
        rounds.append(one_pass(batches, domains).seconds)
    print(f"{args.events:,} logins, {args.per_record} per record, median of {args.rounds} rounds")
    print(f"hot path: {compiled_state().summary}")
    total = 0.0
    for stage in rounds[0]:
        per_login = statistics.median(r[stage] for r in rounds) / args.events * 1e6
        total += per_login
        print(f"{stage:>14} {per_login:6.2f} µs per login")
    print(f"{'total':>14} {total:6.2f} µs per login")


if __name__ == "__main__":
    main()
