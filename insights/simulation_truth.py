"""Independent reference answers for simulated traffic: exact Python sets, no service code."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.vocabulary import PLANS, PRODUCTS

PRODUCT_NAMES: tuple[str, ...] = tuple(p.value for p in PRODUCTS)
PLAN_NAMES: tuple[str, ...] = tuple(p.value for p in PLANS)
SERIES_KEYS: tuple[str, ...] = ("all", *PLAN_NAMES)
SCOPES: tuple[str, ...] = (*PRODUCT_NAMES, "all")
INTERVALS: tuple[str, ...] = ("day", "week", "month")

Answer = dict[str, Any]
STAT_KINDS = ("logins_managed", "logins_unmanaged", "heartbeats", "plan_changes", "domain_claims")


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 timestamp written by the simulator into an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def email_domain(email: str) -> str:
    """Normalise an email's domain as DESIGN.md says: trim, lower-case, strip one trailing dot."""
    domain = email.strip().rpartition("@")[2].lower()
    return domain[:-1] if domain.endswith(".") else domain


class _Timeline:
    """States keyed by instant; the state at t is the latest one with effective_at <= t."""

    def __init__(self) -> None:
        self._changes: list[tuple[datetime, str | None]] = []
        self._times: list[datetime] = []

    def add(self, at: datetime, state: str | None) -> None:
        """Record a change; arrival order is irrelevant because lookups sort by instant."""
        self._changes.append((at, state))
        self._times = []

    def at(self, instant: datetime) -> str | None:
        """The state in effect at `instant`, or None before the first change."""
        if not self._times:
            self._changes.sort(key=lambda change: change[0])
            self._times = [at for at, _ in self._changes]
        index = bisect_right(self._times, instant) - 1
        return self._changes[index][1] if index >= 0 else None


@dataclass
class _Ledger:
    """Everything the answers need: who was active where, and which cells are covered."""

    active: dict[tuple[str, str, date], dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    covered: set[tuple[str, date]] = field(default_factory=set)
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAT_KINDS, 0))


def _timelines(events: Sequence[Mapping[str, Any]]) -> tuple[dict[Any, _Timeline], ...]:
    """Build claim timelines per domain and plan timelines per (user, product)."""
    claims: dict[Any, _Timeline] = defaultdict(_Timeline)
    plans: dict[Any, _Timeline] = defaultdict(_Timeline)
    for event in events:
        if event["type"] == "domain_claim":
            holder = event["org_id"] if event["action"] == "claim" else None
            claims[email_domain("@" + event["domain"])].add(
                parse_instant(event["effective_at"]), holder
            )
        elif event["type"] == "plan_change":
            key = (event["user_id"], event["product"])
            plans[key].add(parse_instant(event["effective_at"]), event["plan"])
    return claims, plans


def _ledger(events: Sequence[Mapping[str, Any]]) -> _Ledger:
    """Attribute every valid event by event time, exactly as DESIGN.md defines it."""
    claims, plans = _timelines(events)
    ledger = _Ledger()
    for event in events:
        kind = event["type"]
        if kind in ("plan_change", "domain_claim"):
            ledger.stats[kind + "s"] += 1
            continue
        at = parse_instant(event["occurred_at"])
        # Any valid login or heartbeat covers its (product, UTC day), managed or not.
        ledger.covered.add((event["product"], at.date()))
        if kind == "heartbeat":
            ledger.stats["heartbeats"] += 1
            continue
        timeline = claims.get(email_domain(event["email"]))
        org = timeline.at(at) if timeline else None
        if org is None:
            ledger.stats["logins_unmanaged"] += 1
            continue
        ledger.stats["logins_managed"] += 1
        plan_timeline = plans.get((event["user_id"], event["product"]))
        plan = (plan_timeline.at(at) if plan_timeline else None) or "free"
        ledger.active[(org, event["product"], at.date())][plan].add(event["user_id"])
    return ledger


def buckets(start: date, end: date, interval: str) -> list[list[date]]:
    """Split start..end into day, ISO-week (Monday) or calendar-month buckets, clipped."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")

    def key(day: date) -> tuple[int, ...]:
        if interval == "week":
            return tuple(day.isocalendar()[:2])
        return (day.year, day.month) if interval == "month" else (day.toordinal(),)

    result: list[list[date]] = []
    day = start
    while day <= end:
        if result and key(result[-1][0]) == key(day):
            result[-1].append(day)
        else:
            result.append([day])
        day += timedelta(days=1)
    return result


def _distinct(ledger: _Ledger, org: str, scope: Sequence[str], days: Iterable[date]) -> Answer:
    """Distinct users per plan and over all plans: unions over days and products, never sums."""
    per_plan: dict[str, set[str]] = {plan: set() for plan in PLAN_NAMES}
    for day in days:
        for product in scope:
            for plan, users in ledger.active.get((org, product, day), {}).items():
                per_plan[plan] |= users
    counts = {plan: len(users) for plan, users in per_plan.items()}
    return {"all": len(set().union(*per_plan.values())), **counts}


def _answer(
    ledger: _Ledger, org: str, product: str, interval: str, span: tuple[date, date], today: date
) -> Answer:
    """One API document shaped exactly like DESIGN.md's 200 response."""
    scope = PRODUCT_NAMES if product == "all" else (product,)
    periods = buckets(*span, interval)
    series: dict[str, list[int | None]] = {key: [] for key in SERIES_KEYS}
    missing: list[bool] = []
    partial: list[bool] = []
    for days in periods:
        covered = sum((p, d) in ledger.covered for p in scope for d in days)
        missing.append(covered == 0)
        # A period still running (last day >= today) is partial, even with no data yet; a past
        # one is partial when only some of its cells are covered.
        partial.append(days[-1] >= today or 0 < covered < len(scope) * len(days))
        values = None if covered == 0 else _distinct(ledger, org, scope, days)
        for key in SERIES_KEYS:
            series[key].append(None if values is None else values[key])
    totals: dict[str, int | None] = dict.fromkeys(SERIES_KEYS)
    if not all(missing):
        totals = _distinct(ledger, org, scope, [d for days in periods for d in days])
    return {
        "org_id": org,
        "product": product,
        "start": span[0].isoformat(),
        "end": span[1].isoformat(),
        "interval": interval,
        "periods": [days[0].isoformat() for days in periods],
        "series": series,
        "missing": missing,
        "partial": partial,
        "totals": totals,
    }


def reference_answers(
    events: Sequence[Mapping[str, Any]],
    orgs: Sequence[str],
    start: date,
    end: date,
    today: date | None = None,
) -> list[Answer]:
    """Answers for every (org, product incl. all, interval) over start..end from valid events."""
    return _answers(_ledger(events), orgs, start, end, today)


def _answers(
    ledger: _Ledger, orgs: Sequence[str], start: date, end: date, today: date | None
) -> list[Answer]:
    """Every answer from one ledger; `today` defaults to the day after the range (all over)."""
    now = today or end + timedelta(days=1)
    return [
        _answer(ledger, org, product, interval, (start, end), now)
        for org in orgs
        for product in SCOPES
        for interval in INTERVALS
    ]


def build_truth(
    events: Sequence[Mapping[str, Any]],
    invalid: int,
    lines: int,
    orgs: Sequence[str],
    start: date,
    end: date,
) -> dict[str, Any]:
    """The JSON-serialisable truth document: range, orgs, exact stats and every answer."""
    ledger = _ledger(events)
    stats = {"lines": lines, "events_valid": len(events), "events_invalid": invalid}
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "orgs": list(orgs),
        "stats": stats | ledger.stats,
        "answers": _answers(ledger, orgs, start, end, None),
    }
