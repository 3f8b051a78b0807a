"""Suite 4, out of order: logins processed before the plan change or claim that precedes them in
event time, late plan changes and late claims, next to timely ones.

The README's policy ("Cross-topic order"): a login is attributed with the timelines known when it
is processed; a late control event does not rewrite it, and is counted in
`insights_late_control_events_total` (late = effective more than a minute before the latest login
already processed). Phases, each fully processed before the next: the org's own claim; logins;
control events; logins.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from schemas.vocabulary import Plan, Product
from streams.core.keys import KeyLayout
from streams.core.timelines import claim_member, plan_member, to_millis
from tests.reliability.figures import Figures, ci_and_full
from tests.reliability.harness import Harness
from tests.reliability.replay import Cells, Expected, stamp

SUITE = "4. out-of-order control events"
ORG = "ooo"
HOME = "ooo.example"
PRODUCT = "jira"
SETUP, BEFORE, CONTROL, AFTER = range(4)  # the phases


@dataclass(frozen=True)
class OrderScale:
    """Users per group and how many domains are claimed late."""

    users: int
    late_domains: int


CI = OrderScale(users=20, late_domains=3)
FULL = OrderScale(users=500, late_domains=25)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """An instant on a UTC day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Story:
    """The three phases' lines, and the state and late counts the policy implies."""

    layout: KeyLayout
    today: date
    phases: list[list[bytes]] = field(default_factory=lambda: [[], [], [], []])
    cells: Cells = field(default_factory=dict)
    expected: Expected = field(default_factory=Expected)
    late_plans: int = 0
    late_claims: int = 0
    days: set[date] = field(default_factory=set)
    latest: datetime | None = None  # the latest login's instant: the watermark

    def login(self, phase: int, user: str, domain: str, when: datetime, plan: str | None) -> None:
        """A login; `plan` is what it must be attributed to (None: unmanaged, not counted)."""
        event = {"type": "login", "user_id": user, "email": f"{user}@{domain}"}
        self.add(phase, {**event, "product": PRODUCT, "occurred_at": stamp(when)})
        self.days.add(when.date())
        self.latest = when if self.latest is None else max(self.latest, when)
        if plan is not None:
            index = (when.date() - self.first_day).days
            self.cells.setdefault((ORG, PRODUCT, plan, index, domain), set()).add(user)

    def plan_change(self, user: str, plan: str, effective: datetime, late: bool) -> None:
        """A plan change in the control phase."""
        event = {"type": "plan_change", "user_id": user, "product": PRODUCT, "plan": plan}
        self.add(CONTROL, {**event, "effective_at": stamp(effective)})
        key = self.layout.plan_timeline(user, Product(PRODUCT))
        self.expected.zsets[key][plan_member(effective, Plan(plan))] = to_millis(effective)
        self.late_plans += late

    def claim(self, phase: int, domain: str, effective: datetime, late: bool) -> None:
        """A claim by the org."""
        event = {"type": "domain_claim", "org_id": ORG, "domain": domain, "action": "claim"}
        self.add(phase, {**event, "effective_at": stamp(effective)})
        member = claim_member(effective, "claim", ORG)
        self.expected.zsets[self.layout.domain_timeline(domain)][member] = to_millis(effective)
        self.expected.sets.setdefault(self.layout.org_domains(ORG), set()).add(domain)
        self.late_claims += late

    def add(self, phase: int, event: dict[str, Any]) -> None:
        """One record."""
        self.phases[phase].append(orjson.dumps(event))

    @property
    def first_day(self) -> date:
        """Day 0 of the cells."""
        return self.today - timedelta(days=30)

    def finish(self) -> Expected:
        """Keys from the cells, coverage of every login day, and the watermark (the latest
        login's instant, in millis)."""
        self.expected.add_cells(self.cells, self.first_day, self.layout)
        coverage = self.expected.zsets[self.layout.coverage(Product(PRODUCT))]
        for day in self.days:
            coverage[day.isoformat()] = day.toordinal()
        assert self.latest is not None
        latest_millis = int(self.latest.timestamp()) * 1000
        self.expected.zsets[self.layout.latest_logins()] = {PRODUCT: latest_millis}
        return self.expected


def story(scale: OrderScale, layout: KeyLayout) -> Story:
    """Four groups: A late plan change, B late claim, C timely plan change, E timely claim."""
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    tale = Story(layout, today)
    tale.claim(SETUP, HOME, at(today - timedelta(days=60)), late=False)
    for n in range(scale.users):
        a, b, c, e = (f"{group}-{n:04d}" for group in "abce")
        late_domain = f"late-{n % scale.late_domains}.example"
        tale.login(BEFORE, a, HOME, at(yesterday - timedelta(days=3), 10), "free")
        tale.login(BEFORE, a, HOME, at(yesterday - timedelta(days=1), 10), "free")
        tale.plan_change(a, "premium", at(yesterday - timedelta(days=5)), late=True)
        tale.login(AFTER, a, HOME, at(yesterday - timedelta(days=3), 11), "premium")  # known now
        tale.login(BEFORE, b, late_domain, at(yesterday - timedelta(days=2), 9), None)  # unclaimed
        tale.login(AFTER, b, late_domain, at(yesterday - timedelta(days=2), 10), "free")
        tale.login(BEFORE, c, HOME, at(yesterday, 10), "free")
        tale.plan_change(c, "enterprise", at(today), late=False)  # after every login day seen
        tale.login(AFTER, c, HOME, at(today), "enterprise")
        tale.login(AFTER, e, "new-e.example", at(today), "free")
    for n in range(scale.late_domains):
        tale.claim(CONTROL, f"late-{n}.example", at(yesterday - timedelta(days=10)), late=True)
    tale.claim(CONTROL, "new-e.example", at(today), late=False)
    return tale


@pytest.mark.parametrize("scale", ci_and_full(CI, FULL, (180, 600)))
async def test_late_control_events_keep_attribution_and_are_counted(
    harness: Harness, scale: OrderScale, figures: Figures
) -> None:
    """Logins keep the attribution known when processed; late control events are counted."""
    tale = story(scale, harness.layout)
    worker = harness.pool.start()
    for lines in tale.phases:
        await harness.deliver(lines)  # sent, and processed before the next phase
    await harness.pool.scrape(worker)
    diff = await harness.compare(tale.finish())
    names = harness.feed.names
    late = {
        "plans": worker.late.get(names.plan_changes),
        "claims": worker.late.get(names.domain_claims),
    }
    figures.fault, figures.faults = (
        "late plan changes and claims",
        tale.late_plans + tale.late_claims,
    )
    figures.events = sum(len(lines) for lines in tale.phases)
    figures.notes.append(
        f"{scale.users} users in each of four groups: A, a plan change effective before logins "
        "already processed; B, logins from a domain claimed only afterwards (back-dated); C, a "
        "plan change effective today; E, a domain claimed from today; 1 worker"
    )
    figures.lost, figures.double_counted = diff.lost, diff.inflated
    figures.notes.append(
        f"late plan changes {late['plans']:.0f} (expected {tale.late_plans}), late claims "
        f"{late['claims']:.0f} (expected {tale.late_claims}); timely ones not counted"
    )
    assert diff.exact, diff.examples
    assert late == {"plans": tale.late_plans, "claims": tale.late_claims}
