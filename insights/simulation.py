"""Deterministic simulated event traffic (JSONL lines) with the exact answers it implies."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from insights.simulation_truth import PLAN_NAMES, PRODUCT_NAMES, build_truth

Event = dict[str, Any]
Item = Event | None  # None marks an item the service must reject (dead letter, never counted)
Line = tuple[bytes, list[Item]]
Timed = tuple[datetime, Event]  # an event and its true instant, for sorting by event time

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
        self.orgs = org_ids(spec.orgs)
        self.domains = {org: self._claimed_domains(org) for org in self.orgs}
        self.extra_domain = f"{self.orgs[0]}-labs.com"
        # Whole seconds (pinned logins land exactly on them), mid-day so the day is split.
        third = timedelta(seconds=spec.days * DAY_SECONDS // 3)
        self.claim_at = self.start + third + timedelta(hours=4, minutes=17)
        self.release_at = self.claim_at + third
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

    def claims(self) -> list[Event]:
        """Claims effective the day before the range, the mid-range claim and its release."""
        before = _stamp(self.start - DAY)
        events: list[Event] = []
        for org, domains in self.domains.items():
            for domain in domains:
                # Claims are normalised too: case and the root dot must not matter.
                shown = domain.title() + "." if org == self.orgs[-1] != self.orgs[0] else domain
                events.append(_claim_event(org, shown, "claim", before))
        for action, at in (("claim", self.claim_at), ("release", self.release_at)):
            events.append(_claim_event(self.orgs[0], self.extra_domain, action, _stamp(at)))
        return events

    def plan_changes(self) -> list[Event]:
        """Each (user, product)'s plan history: maybe an initial plan, maybe a mid-range change."""
        return [
            change for user in self.users for p in user.products for change in self._plans(user, p)
        ]

    def _plans(self, user: _User, product: str) -> list[Event]:
        """One plan history; some corrections arrive after newer changes (order by effective_at)."""
        rng = self.rng

        def change(plan: str, at: datetime) -> Event:
            return _plan_event(user.user_id, product, plan, _stamp(at))

        before = self.start - timedelta(seconds=rng.randrange(DAY_SECONDS, 20 * DAY_SECONDS))
        if user is self.users[0] and product == PINNED_PRODUCT:
            return [change("standard", before), change("enterprise", self.pin_at)]
        current, out = "free", list[Event]()
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

    def traffic(self) -> list[Timed]:
        """Logins, heartbeats and the pinned trap logins, each with its instant (unsorted)."""
        return [*self._logins(), *self._heartbeats(), *self._pinned_logins()]

    def _logins(self) -> list[Timed]:
        """A user logs in on a day with a chance set by their activity and the weekday."""
        rng, out = self.rng, list[Timed]()
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
                        out.append(self._timed_login(user, product, at))
        return out

    def _second(self) -> int:
        """A second of the UTC day: mostly working hours, some around the clock."""
        if self.rng.random() < 0.8:
            return int(self.rng.triangular(6 * 3600, 20 * 3600, 11 * 3600))
        return self.rng.randrange(DAY_SECONDS)

    def _timed_login(self, user: _User, product: str, at: datetime, exact: bool = False) -> Timed:
        """One login; some carry milliseconds or a non-UTC offset (the day is still UTC's)."""
        rng, zone = self.rng, UTC
        draw = rng.random()
        if draw < 0.02 and not exact:
            at += timedelta(milliseconds=rng.randrange(1, 1000))
        elif draw < 0.07:
            zone = rng.choice(OFFSETS)
        event = _login_event(user.user_id, self._email(user), product, _stamp(at, zone))
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

    def _heartbeats(self) -> list[Timed]:
        """Four heartbeats per product and day, none at all in the outage cell."""
        out: list[Timed] = []
        for d in range(self.spec.days):
            for product in PRODUCT_NAMES:
                if (product, d) == self.outage:
                    continue
                for slot in range(4):
                    offset = slot * DAY_SECONDS // 4 + self.rng.randrange(DAY_SECONDS // 4)
                    at = self.start + d * DAY + timedelta(seconds=offset)
                    out.append(
                        (at, {"type": "heartbeat", "product": product, "occurred_at": _stamp(at)})
                    )
        return out

    def _pinned_logins(self) -> list[Timed]:
        """Logins exactly at a plan change and around the mid-range claim and release."""
        pin_user = self.users[0]
        instants = [(pin_user, self.pin_at - timedelta(seconds=1)), (pin_user, self.pin_at)]
        if self.spec.users > 1:
            hour = timedelta(hours=1)
            labs_user = self.users[1]
            for at in (self.claim_at - hour, self.claim_at, self.release_at + hour):
                instants.append((labs_user, at))
        return [self._timed_login(user, PINNED_PRODUCT, at, exact=True) for user, at in instants]

    def control_lines(self) -> list[Line]:
        """Claims then plan changes, with a few invalid ones that would do harm if accepted."""
        user, before = self.users[0], _stamp(self.start - DAY)
        naive = self.start.strftime("%Y-%m-%dT%H:%M:%S")
        # If accepted, these would make freemail managed or change the pinned user's plan.
        bad_claims = [
            _claim_event(self.orgs[0], FREEMAIL[0], "grab", before),
            _claim_event("acme corp", FREEMAIL[1], "claim", before),
        ]
        bad_plans = [
            _plan_event(user.user_id, PINNED_PRODUCT, "gold", _stamp(self.start)),
            _plan_event(user.user_id, PINNED_PRODUCT, "premium", naive),
        ]
        claims = [_single(event) for event in self.claims()]
        claims[1:1] = [_rejected(value) for value in bad_claims]
        plans = [_single(event) for event in self.plan_changes()]
        for value in bad_plans:
            plans.insert(self.rng.randrange(len(plans) + 1), _rejected(value))
        return claims + plans

    def traffic_lines(self, events: list[Timed]) -> list[Line]:
        """Traffic in event-time order: mostly one event a line, some batched arrays of 2 to 20."""
        events.sort(key=lambda pair: pair[0])
        rng, lines, i = self.rng, list[Line](), 0
        while i < len(events):
            # The first record is always a batch so that even tiny specs contain one.
            size = rng.randint(2, 20) if not lines or rng.random() < 0.02 else 1
            chunk: list[Item] = [event for _, event in events[i : i + size]]
            lines.append((orjson.dumps(chunk if size > 1 else chunk[0]), chunk))
            i += size
        return lines

    def spoil_batches(self, lines: list[Line]) -> None:
        """Put one bad element into some batched arrays; its good neighbours must still count."""
        rng = self.rng
        batches = [i for i, (_, items) in enumerate(lines) if len(items) > 1]
        for i in rng.sample(batches, max(1, len(batches) // 20)):
            items = lines[i][1]
            product, day = rng.choice(PRODUCT_NAMES), rng.randrange(self.spec.days)
            bad = self._bad_value(rng.choice(BAD_KINDS[1:]), product, day)
            pos = rng.randrange(len(items) + 1)
            spoiled = [*items[:pos], None, *items[pos:]]
            values = [*items[:pos], bad, *items[pos:]]
            lines[i] = (orjson.dumps(values), spoiled)

    def malformed(self, count: int) -> list[Line]:
        """Rejected lines of every kind; the first round aims at the outage cell (no coverage)."""
        lines: list[Line] = []
        for n in range(count):
            kind = BAD_KINDS[n % len(BAD_KINDS)]
            product, day = self.outage
            if n >= len(BAD_KINDS):
                product, day = self.rng.choice(PRODUCT_NAMES), self.rng.randrange(self.spec.days)
            value = self._bad_value(kind, product, day)
            raw = value if isinstance(value, bytes) else orjson.dumps(value)
            lines.append((raw, [None]))
        return lines

    def _bad_value(self, kind: str, product: str, day: int) -> Any:
        """One invalid record of the given kind: bytes when not even JSON, else a JSON value."""
        rng = self.rng
        at = self.start + day * DAY + timedelta(seconds=self._second())
        naive = at.strftime("%Y-%m-%dT%H:%M:%S")
        # A managed address: wrongly accepting any of these would change a count.
        email = f"mallory@{self.domains[self.orgs[0]][0]}"
        login = _login_event(self._user_id(), email, product, _stamp(at))
        heartbeat = {"type": "heartbeat", "product": product, "occurred_at": naive}
        variants: dict[str, Any] = {
            "not_json": rng.choice(
                [
                    orjson.dumps(login)[:-12],
                    b"login mallory trello " + naive.encode(),
                    repr(heartbeat).encode(),
                ]
            ),
            "not_object": rng.choice([42, "login", None, True]),
            "unknown_product": login | {"product": "bitbucket"},
            "naive_login": login | {"occurred_at": naive},
            "naive_heartbeat": heartbeat,
            "no_domain": login | {"email": rng.choice(["mallory", "mallory@"])},
            "wrong_type": rng.choice(
                [
                    login | {"user_id": 557058},
                    login | {"product": [product]},
                    heartbeat | {"occurred_at": int(at.timestamp())},
                ]
            ),
            "unknown_type": login | {"type": "logout"},
            "missing_field": {key: value for key, value in login.items() if key != "user_id"},
            "empty_user_id": login | {"user_id": ""},
            "bad_timestamp": login | {"occurred_at": at.strftime("%Y-%m-%dT25:%M:%SZ")},
        }
        return variants[kind]

    def interleave(self, traffic: list[Line], bad: list[Line]) -> list[Line]:
        """Scatter the bad lines through the traffic and redeliver ~2% of lines verbatim."""
        rng, slots = self.rng, dict[int, list[Line]]()
        for line in bad:
            slots.setdefault(rng.randrange(len(traffic) + 1), []).append(line)
        out: list[Line] = []
        for i, line in enumerate(traffic):
            out.extend(slots.get(i, ()))
            out.append(line)
            if rng.random() < 0.02:
                out.append(line)  # at-least-once redelivery: identical bytes, counted once by users
        out.extend(slots.get(len(traffic), ()))
        return out

    def scenario(self) -> dict[str, Any]:
        """Where the traps are, so tests can find them without re-deriving the generator."""
        day = self.spec.start_day
        return {
            "outage": {"product": self.outage[0], "day": str(day + self.outage[1] * DAY)},
            "heartbeat_only": {
                "product": self.heartbeat_only[0],
                "day": str(day + self.heartbeat_only[1] * DAY),
            },
            "mid_range_domain": {
                "org_id": self.orgs[0],
                "domain": self.extra_domain,
                "claimed_at": _stamp(self.claim_at),
                "released_at": _stamp(self.release_at),
            },
            "plan_change_login": {
                "user_id": self.users[0].user_id,
                "product": PINNED_PRODUCT,
                "at": _stamp(self.pin_at),
            },
        }


BAD_KINDS = (
    "not_json", "not_object", "unknown_product", "naive_login", "naive_heartbeat", "no_domain",
    "wrong_type", "unknown_type", "missing_field", "empty_user_id", "bad_timestamp",
)  # fmt: skip
MALFORMED_SHARE = 0.005


def _claim_event(org_id: str, domain: str, action: str, effective_at: str) -> Event:
    """A domain_claim event."""
    return dict(
        type="domain_claim", org_id=org_id, domain=domain, action=action, effective_at=effective_at
    )


def _plan_event(user_id: str, product: str, plan: str, effective_at: str) -> Event:
    """A plan_change event."""
    return dict(
        type="plan_change", user_id=user_id, product=product, plan=plan, effective_at=effective_at
    )


def _login_event(user_id: str, email: str, product: str, occurred_at: str) -> Event:
    """A login event."""
    return dict(
        type="login", user_id=user_id, email=email, product=product, occurred_at=occurred_at
    )


def _single(event: Event) -> Line:
    """A valid event on its own line."""
    return orjson.dumps(event), [event]


def _rejected(value: Any) -> Line:
    """An invalid record on its own line."""
    return orjson.dumps(value), [None]


Progress = Callable[[str, int, int], None]  # (phase, done, total), as `insights produce` reports
SIMULATION_STEPS = ("claims, plan changes and logins", "malformed events", "exact answers")
WRITE_PROGRESS_EVERY = 100_000


def no_progress(phase: str, done: int, total: int) -> None:
    """The default: say nothing."""


def simulate(spec: SimulationSpec, progress: Progress = no_progress) -> Simulation:
    """Generate the JSONL lines for `spec` and the exact answers the service must give for them.

    `progress(phase, done, total)` hears of each of SIMULATION_STEPS as it starts (400 days of
    five orgs take ~45 s here)."""
    step = 0

    def starting(what: str) -> None:
        nonlocal step
        progress(f"simulating: {what}", step, len(SIMULATION_STEPS))
        step += 1

    sim = _Simulator(spec)
    starting(SIMULATION_STEPS[0])
    control = sim.control_lines()
    traffic = sim.traffic_lines(sim.traffic())
    starting(SIMULATION_STEPS[1])
    sim.spoil_batches(traffic)
    bad = sim.malformed(max(len(BAD_KINDS), round(MALFORMED_SHARE * len(traffic))))
    lines = control + sim.interleave(traffic, bad)
    starting(SIMULATION_STEPS[2])
    items = [item for _, line_items in lines for item in line_items]
    valid = [item for item in items if item is not None]
    truth = build_truth(
        valid, len(items) - len(valid), len(lines), sim.orgs, spec.start_day, spec.end_day
    )
    progress("simulating: done", step, len(SIMULATION_STEPS))
    truth["scenario"] = sim.scenario()
    return Simulation([raw for raw, _ in lines], truth, sim.orgs)


def write_jsonl(lines: Sequence[bytes], path: Path, progress: Progress = no_progress) -> int:
    """Write one line per record (newline-terminated) and return how many were written."""
    count = 0
    with path.open("wb") as out:
        for line in lines:
            out.write(line + b"\n")
            count += 1
            if count % WRITE_PROGRESS_EVERY == 0:
                progress("writing lines", count, len(lines))
    progress("writing lines", count, len(lines))
    return count
