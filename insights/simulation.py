"""Deterministic simulated event traffic (JSONL lines) together with the exact answers it implies."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from insights.simulation_truth import PLAN_NAMES, PRODUCT_NAMES, build_truth

Event = dict[str, Any]
Item = Event | None  # None marks an item the service must reject (dead letter, never counted)
Line = tuple[bytes, list[Item]]

NAMED_ORGS = ("acme", "globex", "initech", "umbrella", "hooli")
FREEMAIL = ("gmail.com", "outlook.com")
FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
LAST = ("smith", "jones", "garcia", "kim", "nguyen", "okafor", "rossi", "tanaka", "weber", "ali")
OFFSETS = tuple(timezone(timedelta(minutes=m)) for m in (120, -300, 330, 60, -480, 840))
DAY = timedelta(days=1)
DAY_SECONDS = 86_400
# The pinned trap events all use trello, so the outage and heartbeat-only days never hide them.
PINNED_PRODUCT = "trello"


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate: org count, users per org, days ending at `end_day`, and the seed."""

    orgs: int
    users: int  # per org
    days: int
    seed: int
    end_day: date  # last simulated day; the CLI passes yesterday (UTC)

    def __post_init__(self) -> None:
        """Fail fast on a spec that cannot produce traffic."""
        for name in ("orgs", "users", "days"):
            if getattr(self, name) < 1:
                raise ValueError(f"simulation {name} must be at least 1")

    @property
    def start_day(self) -> date:
        """The first simulated day."""
        return self.end_day - timedelta(days=self.days - 1)


@dataclass(frozen=True)
class Simulation:
    """JSONL lines (control events first, then traffic in event-time order) and their truth."""

    lines: list[bytes]
    truth: dict[str, Any]
    orgs: list[str]


@dataclass(frozen=True)
class _User:
    """One simulated person: identity, address parts, products used and how active they are."""

    user_id: str
    local: str
    domain: str
    products: tuple[str, ...]
    activity: float


def _stamp(at: datetime, zone: timezone = UTC) -> str:
    """RFC 3339 with `Z` (or an offset), milliseconds only when the instant has them."""
    spec = "milliseconds" if at.microsecond else "seconds"
    return at.astimezone(zone).isoformat(timespec=spec).replace("+00:00", "Z")


def org_ids(count: int) -> list[str]:
    """Org ids: the familiar names first, then `org-6`, `org-7`, …"""
    return [NAMED_ORGS[i] if i < len(NAMED_ORGS) else f"org-{i + 1}" for i in range(count)]


class _Simulator:
    """Holds the seeded RNG and the simulated world; each method writes one part of the stream."""

    def __init__(self, spec: SimulationSpec) -> None:
        self.rng = random.Random(spec.seed)
        self.spec = spec
        self.start = datetime.combine(spec.start_day, datetime.min.time(), UTC)
        self.span = timedelta(days=spec.days)
        self.orgs = org_ids(spec.orgs)
        self.domains = {org: self._claimed_domains(org) for org in self.orgs}
        self.extra_domain = f"{self.orgs[0]}-labs.com"
        # Whole seconds, so a pinned login can land exactly on these instants.
        self.claim_at = self.start + timedelta(seconds=spec.days * DAY_SECONDS // 3)
        self.release_at = self.start + timedelta(seconds=spec.days * DAY_SECONDS * 2 // 3)
        self.pin_at = self.start + timedelta(days=spec.days // 2, hours=13, minutes=37)
        self._ids: set[str] = set()
        self.users = [self._user(o, i) for o in range(spec.orgs) for i in range(spec.users)]
        outage, quiet = self.rng.sample([p for p in PRODUCT_NAMES if p != PINNED_PRODUCT], 2)
        self.outage = (outage, self.rng.randrange(spec.days))
        self.heartbeat_only = (quiet, self.rng.randrange(spec.days))

    def _claimed_domains(self, org: str) -> list[str]:
        """One to three domains per org; the first is the primary one."""
        return [f"{org}.com", f"{org}.io", f"{org}-corp.net"][: self.rng.randint(1, 3)]

    def _user_id(self) -> str:
        """A globally unique Atlassian-style account id."""
        while (user_id := f"557058:{self.rng.getrandbits(96):024x}") in self._ids:
            pass
        self._ids.add(user_id)
        return user_id

    def _user(self, org_index: int, index: int) -> _User:
        """A user of one org; users 0 and 1 of the first org carry the pinned traps."""
        rng, org = self.rng, self.orgs[org_index]
        local = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randrange(1, 1000)}"
        products = set(rng.sample(PRODUCT_NAMES, rng.choices((1, 2, 3, 4), (35, 30, 20, 15))[0]))
        pinned = org_index == 0 and index < 2
        if pinned:
            products.add(PINNED_PRODUCT)
        draw = rng.random()
        if pinned:
            domain = self.domains[org][0] if index == 0 else self.extra_domain
        elif draw < 0.05:
            domain = rng.choice(FREEMAIL)
        elif draw < 0.08:
            domain = "eu." + self.domains[org][0]  # a subdomain: exact match only, so unmanaged
        elif draw < 0.14 and org_index == 0:
            domain = self.extra_domain
        else:
            domain = rng.choice(self.domains[org])
        ordered = tuple(p for p in PRODUCT_NAMES if p in products)
        return _User(self._user_id(), local, domain, ordered, rng.uniform(0.04, 0.5))

    def claims(self) -> list[Item]:
        """Claims effective the day before the range, the mid-range claim and its release."""
        before = _stamp(self.start - DAY)
        events: list[Item] = []
        for org, domains in self.domains.items():
            for domain in domains:
                # Claims are normalised too: case and the root dot must not matter.
                shown = domain.title() + "." if org == self.orgs[-1] != self.orgs[0] else domain
                events.append({"type": "domain_claim", "org_id": org, "domain": shown,
                               "action": "claim", "effective_at": before})  # fmt: skip
        for action, at in (("claim", self.claim_at), ("release", self.release_at)):
            events.append({"type": "domain_claim", "org_id": self.orgs[0],
                           "domain": self.extra_domain, "action": action,
                           "effective_at": _stamp(at)})  # fmt: skip
        return events

    def plan_changes(self) -> list[Item]:
        """Each (user, product)'s plan history: maybe an initial plan, maybe a mid-range change."""
        return [change for user in self.users for p in user.products for change in self._plans(user, p)]

    def _plans(self, user: _User, product: str) -> list[Item]:
        """One plan history; some corrections arrive after newer changes (order by effective_at)."""
        rng = self.rng

        def change(plan: str, at: datetime) -> Item:
            return {"type": "plan_change", "user_id": user.user_id, "product": product,
                    "plan": plan, "effective_at": _stamp(at)}  # fmt: skip

        before = self.start - timedelta(seconds=rng.randrange(DAY_SECONDS, 20 * DAY_SECONDS))
        if user is self.users[0] and product == PINNED_PRODUCT:
            return [change("standard", before), change("enterprise", self.pin_at)]
        current, out = "free", list[Item]()
        if rng.random() < 0.65:  # the rest have no known plan: free
            current = rng.choices(PLAN_NAMES, (25, 40, 22, 13))[0]
            out.append(change(current, before))
            if rng.random() < 0.05:
                older = before - timedelta(days=rng.randint(1, 10))
                out.append(change(rng.choice([p for p in PLAN_NAMES if p != current]), older))
        if rng.random() < 0.10:
            at = self.start + timedelta(seconds=rng.randrange(self.spec.days * DAY_SECONDS))
            out.append(change(rng.choice([p for p in PLAN_NAMES if p != current]), at))
        return out

    def traffic(self) -> list[tuple[datetime, Event]]:
        """Logins, heartbeats and the pinned trap logins, each with its instant (unsorted)."""
        return [*self._logins(), *self._heartbeats(), *self._pinned_logins()]

    def _logins(self) -> list[tuple[datetime, Event]]:
        """A user logs in on a day with a chance set by their activity and the weekday."""
        rng, out = self.rng, list[tuple[datetime, Event]]()
        day_starts = [self.start + d * DAY for d in range(self.spec.days)]
        # Weekends see about a third of weekday traffic.
        weights = [0.3 if day.weekday() >= 5 else 1.0 for day in day_starts]
        silent = {self.outage, self.heartbeat_only}
        for user in self.users:
            for product in user.products:
                for d, day_start in enumerate(day_starts):
                    if rng.random() >= user.activity * weights[d] or (product, d) in silent:
                        continue
                    for _ in range(1 + (rng.random() < 0.35)):
                        at = day_start + timedelta(seconds=self._second())
                        out.append(self._login(user, product, at))
        return out

    def _second(self) -> int:
        """A second of the UTC day: mostly working hours, some around the clock."""
        if self.rng.random() < 0.8:
            return int(self.rng.triangular(6 * 3600, 20 * 3600, 11 * 3600))
        return self.rng.randrange(DAY_SECONDS)

    def _login(self, user: _User, product: str, at: datetime, exact: bool = False) -> tuple[datetime, Event]:  # fmt: skip
        """One login; some carry milliseconds or a non-UTC offset (the day is still UTC's)."""
        rng, zone = self.rng, UTC
        draw = rng.random()
        if draw < 0.02 and not exact:
            at += timedelta(milliseconds=rng.randrange(1, 1000))
        elif draw < 0.07:
            zone = rng.choice(OFFSETS)
        event: Event = {"type": "login", "user_id": user.user_id, "email": self._email(user),
                        "product": product, "occurred_at": _stamp(at, zone)}  # fmt: skip
        if rng.random() < 0.03:
            event["client"] = "mobile"  # unknown extra fields must be ignored
        return at, event

    def _email(self, user: _User) -> str:
        """The user's address as some producer wrote it: case, padding and root dot vary."""
        draw, address = self.rng.random(), f"{user.local}@{user.domain}"
        if draw < 0.84:
            return address
        if draw < 0.90:
            return f"{user.local.capitalize()}@{user.domain.upper()}"
        if draw < 0.94:
            return f" {address} "
        if draw < 0.97:
            return address + "."
        return f" {user.local.title()}@{user.domain.title()}."

    def _heartbeats(self) -> list[tuple[datetime, Event]]:
        """Four heartbeats per product and day, none at all in the outage cell."""
        out: list[tuple[datetime, Event]] = []
        for d in range(self.spec.days):
            for product in PRODUCT_NAMES:
                if (product, d) == self.outage:
                    continue
                for slot in range(4):
                    offset = slot * DAY_SECONDS // 4 + self.rng.randrange(DAY_SECONDS // 4)
                    at = self.start + d * DAY + timedelta(seconds=offset)
                    out.append((at, {"type": "heartbeat", "product": product,
                                     "occurred_at": _stamp(at)}))  # fmt: skip
        return out

    def _pinned_logins(self) -> list[tuple[datetime, Event]]:
        """Logins exactly at a plan change and around the mid-range claim and release."""
        pin_user = self.users[0]
        instants = [(pin_user, self.pin_at - timedelta(seconds=1)), (pin_user, self.pin_at)]
        if self.spec.users > 1:
            hour = timedelta(hours=1)
            labs_user = self.users[1]
            for at in (self.claim_at - hour, self.claim_at, self.release_at + hour):
                instants.append((labs_user, at))
        return [self._login(user, PINNED_PRODUCT, at, exact=True) for user, at in instants]
