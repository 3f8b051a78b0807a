"""The domain-claims agent: keep one owner per domain at a time, reject conflicting claims."""

import time
from collections.abc import Sequence
from typing import Any

from agents.batches import register_batch_agent
from agents.persistence import until_written
from agents.processor import BatchProcessor, is_late, latest_of_any
from agents.records import DeadLetter, SourceRecord, decode_batch, element_source
from schemas.decode import Rejection, RejectionReason
from schemas.events import DomainClaim
from streams.core.claims import ClaimVerdict, judge_claim


class DomainClaimProcessor(BatchProcessor):
    """Judge each claim against the domain's timeline, in order, and record the accepted ones."""

    async def __call__(self, records: Sequence[SourceRecord]) -> None:
        """Claims are keyed by domain, so one partition sees a domain's claims in order."""
        started = time.perf_counter()
        claims, rejected = self.decode(records)
        redis_seconds = self.metrics.redis_seconds.labels("domain_claims")

        async def write() -> tuple[list[DeadLetter], int]:
            with redis_seconds.time():
                return await self.judge(claims)

        conflicts, late = await until_written(write, "domain_claims", self.metrics)
        topic = records[0].topic if records else "domain-claims"
        await self.reject(topic, [*rejected, *conflicts])
        self.metrics.events.labels(topic, "recorded").inc(len(claims) - len(conflicts))
        self.metrics.late_control_events.labels(topic).inc(late)
        self.observe_batch("domain_claims", len(records), started)

    def decode(
        self, records: Sequence[SourceRecord]
    ) -> tuple[list[tuple[DomainClaim, SourceRecord, int]], list[DeadLetter]]:
        """Each claim with its record and its index there, and the records' dead letters."""
        # A conflict is dead-lettered as its own element of a batched record, so re-publishing
        # it does not resend the accepted ones.
        claims: list[tuple[DomainClaim, SourceRecord, int]] = []
        rejected: list[DeadLetter] = []
        for record in records:
            positions: list[int] = []
            events, dead = decode_batch(
                [record], DomainClaim, self.retention_days, positions=positions
            )
            claims.extend(
                (claim, record, index) for claim, index in zip(events, positions, strict=True)
            )
            rejected.extend(dead)
        return claims, rejected

    async def judge(
        self, claims: Sequence[tuple[DomainClaim, SourceRecord, int]]
    ) -> tuple[list[DeadLetter], int]:
        """Record the accepted claims in order: the conflicts, and how many accepted were late."""
        conflicts: list[DeadLetter] = []
        late = 0
        latest = latest_of_any(await self.store.latest_logins())
        for claim, source, index in claims:
            decision = judge_claim(await self.store.domain_timeline(claim.domain), claim)
            if decision.verdict is ClaimVerdict.ACCEPT:
                await self.store.add_domain_claim(claim)
                late += is_late(claim.effective_at, latest)
            elif decision.verdict is not ClaimVerdict.DUPLICATE:
                reason = RejectionReason(decision.verdict.value)
                payload, position = element_source(source, index)
                rejection = Rejection(reason, decision.detail, payload, position, "domain")
                conflicts.append(DeadLetter(rejection, source))
        return conflicts, late


def register_claim_agent(app: Any, topic: Any, process: DomainClaimProcessor) -> Any:
    """Attach the domain-claims agent to the Faust app; its late events are counted from 0, so
    the first one shows in rate()."""
    process.metrics.late_control_events.labels(topic.get_topic_name())
    return register_batch_agent(app, topic, "judge_domain_claims", process)
