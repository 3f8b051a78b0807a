"""The simulator: deterministic lines, exact stats, and a truth that obeys DESIGN.md's rules."""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.simulation import Simulation, SimulationSpec, org_ids, simulate, write_jsonl
from insights.simulation_truth import buckets, reference_answers

PRODUCTS = ("trello", "jira", "confluence", "jsm")
PLANS = ("free", "standard", "premium", "enterprise")
SERIES = ("all", *PLANS)
MAX_LINE = 64 * 1024
# Crosses a month boundary and starts on a Sunday, so week and month buckets are clipped.
SPEC = SimulationSpec(orgs=3, users=40, days=17, seed=11, end_day=date(2026, 3, 3))
REQUIRED: dict[str, dict[str, type]] = {
    "login": {"user_id": str, "email": str, "product": str, "occurred_at": str},
    "heartbeat": {"product": str, "occurred_at": str},
    "plan_change": {"user_id": str, "product": str, "plan": str, "effective_at": str},
    "domain_claim": {"org_id": str, "domain": str, "action": str, "effective_at": str},
}
INVALID = object()  # what a line that is not JSON at all parses to


def instant(text: str) -> datetime:
    """Parse an RFC 3339 timestamp to UTC (the test's own parser)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def is_aware(value: object) -> bool:
    """RFC 3339 with a zone; naive or impossible timestamps are invalid."""
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def is_valid(item: object) -> TypeGuard[dict[str, Any]]:
    """An independent, deliberately plain reading of DESIGN.md's event rules."""
    if not isinstance(item, dict) or item.get("type") not in REQUIRED:
        return False
    fields = REQUIRED[item["type"]]
    if any(not isinstance(item.get(name), kind) for name, kind in fields.items()):
        return False
    stamp = item.get("occurred_at", item.get("effective_at"))
    user_id = item.get("user_id", "x")
    local, at, domain = item.get("email", "x@y").strip().rpartition("@")
    return (
        is_aware(stamp)
        and item.get("product", "trello") in PRODUCTS
        and item.get("plan", "free") in PLANS
        and item.get("action", "claim") in ("claim", "release")
        and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", item.get("org_id", "x")) is not None
        and 1 <= len(user_id) <= 128
        and user_id.isprintable()
        and bool(local and at and domain)
    )


def items(line: bytes) -> list[object]:
    """The records a line carries: an array's elements, else the line itself."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return [INVALID]
    return list(value) if isinstance(value, list) else [value]


def valid_events(simulation: Simulation) -> list[dict[str, Any]]:
    """Every valid event in written order, duplicates included."""
    return [item for line in simulation.lines for item in items(line) if is_valid(item)]


Cell = tuple[str, str, date, str]  # org, product, UTC day, plan


def brute_force(events: list[dict[str, Any]]) -> tuple[dict[Cell, set[str]], int]:
    """A third, plain reading of attribution: active users per cell, and the managed logins."""
    claims = sorted(
        (e for e in events if e["type"] == "domain_claim"), key=lambda e: instant(e["effective_at"])
    )
    plans: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for change in sorted(
        (e for e in events if e["type"] == "plan_change"), key=lambda e: instant(e["effective_at"])
    ):
        plans[(change["user_id"], change["product"])].append(change)
    cells: dict[Cell, set[str]] = defaultdict(set)
    managed = 0
    for event in (e for e in events if e["type"] == "login"):
        at, address = instant(event["occurred_at"]), event["email"].strip().lower().rstrip(".")
        holder, plan = None, "free"
        for claim in claims:
            if instant(claim["effective_at"]) <= at and address.endswith(
                "@" + claim["domain"].lower().rstrip(".")
            ):
                holder = claim["org_id"] if claim["action"] == "claim" else None
        for change in plans[(event["user_id"], event["product"])]:
            if instant(change["effective_at"]) <= at:
                plan = change["plan"]
        if holder:
            cells[(holder, event["product"], at.date(), plan)].add(event["user_id"])
            managed += 1
    return cells, managed


def managed_users(events: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Distinct managed users per org over the whole range, by brute force."""
    users: dict[str, set[str]] = defaultdict(set)
    for (org, *_), members in brute_force(events)[0].items():
        users[org] |= members
    return users


def answers(truth: dict[str, Any], **where: str) -> Iterator[dict[str, Any]]:
    """The truth documents matching the given fields."""
    return (a for a in truth["answers"] if all(a[k] == v for k, v in where.items()))


def the_answer(truth: dict[str, Any], **where: str) -> dict[str, Any]:
    """The one truth document matching the given fields."""
    (found,) = answers(truth, **where)
    return found


@pytest.fixture(scope="module")
def sim() -> Simulation:
    """One small simulation shared by the read-only tests."""
    return simulate(SPEC)


def test_same_spec_gives_identical_bytes_and_truth(sim: Simulation) -> None:
    again = simulate(SPEC)
    assert again.lines == sim.lines
    assert orjson.dumps(again.truth) == orjson.dumps(sim.truth)
    other = simulate(SimulationSpec(SPEC.orgs, SPEC.users, SPEC.days, SPEC.seed + 1, SPEC.end_day))
    assert other.lines != sim.lines


def test_truth_is_json_and_names_the_range(sim: Simulation) -> None:
    assert orjson.loads(orjson.dumps(sim.truth)) == sim.truth
    assert (sim.truth["start"], sim.truth["end"]) == ("2026-02-15", "2026-03-03")
    assert sim.truth["orgs"] == sim.orgs == ["acme", "globex", "initech"]
    assert len(sim.truth["answers"]) == 3 * 5 * 3


def test_stats_are_exact_counts_of_the_lines(sim: Simulation) -> None:
    stats = sim.truth["stats"]
    records = [item for line in sim.lines for item in items(line)]
    valid = [item for item in records if is_valid(item)]
    kinds = Counter(item["type"] for item in valid)
    assert stats["lines"] == len(sim.lines)
    assert (stats["events_valid"], stats["events_invalid"]) == (
        len(valid),
        len(records) - len(valid),
    )
    assert stats["logins_managed"] == brute_force(valid_events(sim))[1]
    assert stats["logins_managed"] + stats["logins_unmanaged"] == kinds["login"]
    assert (stats["heartbeats"], stats["plan_changes"]) == (
        kinds["heartbeat"],
        kinds["plan_change"],
    )
    assert stats["domain_claims"] == kinds["domain_claim"]
    assert 0 < stats["logins_unmanaged"] < stats["logins_managed"]


def test_truth_follows_from_the_lines_alone(sim: Simulation) -> None:
    start, end = date.fromisoformat(sim.truth["start"]), date.fromisoformat(sim.truth["end"])
    assert reference_answers(valid_events(sim), sim.orgs, start, end) == sim.truth["answers"]


def test_totals_match_a_brute_force_count(sim: Simulation) -> None:
    users = managed_users(valid_events(sim))
    for org in sim.orgs:
        assert the_answer(sim.truth, org_id=org, product="all", interval="month")["totals"][
            "all"
        ] == len(users[org])


def test_daily_series_match_a_brute_force_count(sim: Simulation) -> None:
    cells, _ = brute_force(valid_events(sim))
    for org in sim.orgs:
        for product in PRODUCTS:
            doc = the_answer(sim.truth, org_id=org, product=product, interval="day")
            for i, label in enumerate(doc["periods"]):
                users = {
                    plan: cells[(org, product, date.fromisoformat(label), plan)] for plan in PLANS
                }
                expected = [len(set().union(*users.values()))] + [len(users[p]) for p in PLANS]
                if not doc["missing"][i]:
                    assert [doc["series"][k][i] for k in SERIES] == expected, (product, label)


def test_every_line_is_small_and_single(sim: Simulation) -> None:
    assert all(len(line) < MAX_LINE and b"\n" not in line for line in sim.lines)


def test_malformed_lines_exist_and_valid_lines_parse(sim: Simulation) -> None:
    records = [items(line) for line in sim.lines]
    assert sum(r == [INVALID] for r in records) >= 1
    assert any(
        len(r) > 1 and not all(map(is_valid, r)) and any(map(is_valid, r)) for r in records
    ), "a batched array mixing good and bad elements"
    for line, record in zip(sim.lines, records, strict=True):
        if all(map(is_valid, record)):
            orjson.loads(line)
    bad = [item for record in records for item in record if not is_valid(item)]
    assert any(isinstance(i, dict) and i.get("type") == "logout" for i in bad)
    assert any(not isinstance(i, dict) and i is not INVALID for i in bad), "JSON, not an object"


def test_control_events_come_first(sim: Simulation) -> None:
    types = [items(line)[0] for line in sim.lines]
    order = [t.get("type") if isinstance(t, dict) else None for t in types]
    last_claim = max(i for i, t in enumerate(order) if t == "domain_claim")
    first_plan = order.index("plan_change")
    last_plan = max(i for i, t in enumerate(order) if t == "plan_change")
    first_login = min(i for i, t in enumerate(order) if t in ("login", "heartbeat"))
    assert last_claim < first_plan <= last_plan < first_login


def test_a_login_lands_exactly_on_a_plan_change(sim: Simulation) -> None:
    events = valid_events(sim)
    changes = {
        (e["user_id"], e["product"], instant(e["effective_at"]))
        for e in events
        if e["type"] == "plan_change"
    }
    start = datetime.combine(date.fromisoformat(sim.truth["start"]), datetime.min.time(), UTC)
    assert any(
        (e["user_id"], e["product"], instant(e["occurred_at"])) in changes
        for e in events
        if e["type"] == "login" and instant(e["occurred_at"]) >= start
    )


def test_mid_range_domain_has_unmanaged_logins_on_both_sides(sim: Simulation) -> None:
    extra = sim.truth["scenario"]["mid_range_domain"]
    claimed, released = instant(extra["claimed_at"]), instant(extra["released_at"])
    times = [
        instant(e["occurred_at"])
        for e in valid_events(sim)
        if e["type"] == "login" and e["email"].strip().lower().rstrip(".").endswith(extra["domain"])
    ]
    assert min(times) < claimed <= max(times)
    assert any(t > released for t in times)


def test_emails_vary_in_case_padding_and_root_dot(sim: Simulation) -> None:
    emails = [e["email"] for e in valid_events(sim) if e["type"] == "login"]
    assert any(e != e.strip() for e in emails)
    assert any(e.endswith(".") for e in emails)
    assert any(e != e.lower() for e in emails)
    assert any(e.endswith("@gmail.com") for e in emails)
    assert any("@eu." in e.lower() for e in emails)


def check_document(doc: dict[str, Any]) -> None:
    """Shape and union invariants of one answer."""
    periods, series, missing, partial = (
        doc["periods"],
        doc["series"],
        doc["missing"],
        doc["partial"],
    )
    assert set(series) == set(SERIES)
    assert all(len(series[k]) == len(periods) for k in SERIES)
    assert len(missing) == len(partial) == len(periods)
    for i, is_missing in enumerate(missing):
        values = {k: series[k][i] for k in SERIES}
        if is_missing:
            assert set(values.values()) == {None}
            assert not partial[i]
            continue
        plans = [values[p] for p in PLANS]
        assert max(plans) <= values["all"] <= sum(plans)
    totals = doc["totals"]
    if all(missing):
        assert set(totals.values()) == {None}
        return
    assert max(totals[p] for p in PLANS) <= totals["all"] <= sum(totals[p] for p in PLANS)
    for k in SERIES:
        assert totals[k] >= max(v for v in series[k] if v is not None)


def test_every_answer_obeys_union_and_missing_rules(sim: Simulation) -> None:
    for doc in sim.truth["answers"]:
        check_document(doc)


def test_product_all_is_a_union_of_products(sim: Simulation) -> None:
    for doc in answers(sim.truth, product="all"):
        where = {"org_id": doc["org_id"], "interval": doc["interval"]}
        parts = [the_answer(sim.truth, product=p, **where) for p in PRODUCTS]
        for i, value in enumerate(doc["series"]["all"]):
            known = [p["series"]["all"][i] for p in parts if p["series"]["all"][i] is not None]
            assert value is None or max(known) <= value <= sum(known)


def test_weeks_are_unions_of_their_days(sim: Simulation) -> None:
    for org in sim.orgs:
        for product in (*PRODUCTS, "all"):
            days = the_answer(sim.truth, org_id=org, product=product, interval="day")
            weeks = the_answer(sim.truth, org_id=org, product=product, interval="week")
            labels = weeks["periods"] + ["9999-12-31"]
            for w, value in enumerate(weeks["series"]["all"]):
                inside = [
                    v
                    for d, v in zip(days["periods"], days["series"]["all"], strict=True)
                    if labels[w] <= d < labels[w + 1] and v is not None
                ]
                assert value is None or max(inside) <= value <= sum(inside)


def test_outage_day_is_missing_for_its_product_and_partial_for_all(sim: Simulation) -> None:
    outage = sim.truth["scenario"]["outage"]
    for org in sim.orgs:
        day = the_answer(sim.truth, org_id=org, product=outage["product"], interval="day")
        i = day["periods"].index(outage["day"])
        assert day["missing"][i]
        assert not day["partial"][i]
        assert all(day["series"][k][i] is None for k in SERIES)
        every = the_answer(sim.truth, org_id=org, product="all", interval="day")
        assert not every["missing"][i]
        assert every["partial"][i]
        month = the_answer(sim.truth, org_id=org, product=outage["product"], interval="month")
        m = max(j for j, label in enumerate(month["periods"]) if label <= outage["day"])
        assert month["partial"][m]
        assert not month["missing"][m]


def test_invalid_records_aim_at_the_outage_cell(sim: Simulation) -> None:
    outage = sim.truth["scenario"]["outage"]
    bad = [item for line in sim.lines for item in items(line) if not is_valid(item)]
    assert any(
        isinstance(b, dict)
        and b.get("product") == outage["product"]
        and str(b.get("occurred_at")).startswith(outage["day"])
        for b in bad
    )


def test_heartbeat_only_day_is_zero_not_null(sim: Simulation) -> None:
    quiet = sim.truth["scenario"]["heartbeat_only"]
    for org in sim.orgs:
        day = the_answer(sim.truth, org_id=org, product=quiet["product"], interval="day")
        i = day["periods"].index(quiet["day"])
        assert not day["missing"][i]
        assert not day["partial"][i]
        assert [day["series"][k][i] for k in SERIES] == [0] * len(SERIES)


def test_unfinished_periods_are_partial(sim: Simulation) -> None:
    start, end = date.fromisoformat(sim.truth["start"]), date.fromisoformat(sim.truth["end"])
    docs = reference_answers(valid_events(sim), sim.orgs, start, end, today=end)
    for doc in docs:
        assert doc["partial"][-1] or doc["missing"][-1]
        if doc["product"] == "trello":  # never the outage product: finished periods are whole
            assert not any(doc["partial"][:-1])


@pytest.mark.parametrize(
    ("interval", "labels"),
    [
        ("week", ["2026-02-15", "2026-02-16", "2026-02-23", "2026-03-02"]),
        ("month", ["2026-02-15", "2026-03-01"]),
        ("day", [str(date(2026, 2, 15) + timedelta(days=n)) for n in range(17)]),
    ],
)
def test_buckets_are_clipped_iso_weeks_and_months(
    sim: Simulation, interval: str, labels: list[str]
) -> None:
    assert [str(b[0]) for b in buckets(date(2026, 2, 15), date(2026, 3, 3), interval)] == labels
    assert (
        the_answer(sim.truth, org_id="acme", product="jira", interval=interval)["periods"] == labels
    )


def test_write_jsonl_round_trips(sim: Simulation, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert write_jsonl(sim.lines, path) == len(sim.lines)
    assert path.read_bytes().split(b"\n") == [*sim.lines, b""]


def test_org_ids_and_spec_validation() -> None:
    assert org_ids(7) == ["acme", "globex", "initech", "umbrella", "hooli", "org-6", "org-7"]
    with pytest.raises(ValueError, match="users"):
        SimulationSpec(orgs=1, users=0, days=1, seed=0, end_day=date(2026, 1, 1))


@settings(max_examples=12, deadline=None)
@given(
    orgs=st.integers(1, 6),
    users=st.integers(1, 8),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    end_day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_any_small_spec_is_consistent(
    orgs: int, users: int, days: int, seed: int, end_day: date
) -> None:
    sim = simulate(SimulationSpec(orgs, users, days, seed, end_day))
    records = [item for line in sim.lines for item in items(line)]
    assert sim.truth["stats"]["events_valid"] == sum(map(is_valid, records))
    assert sim.truth["stats"]["events_invalid"] == len(records) - sum(map(is_valid, records))
    for doc in sim.truth["answers"]:
        check_document(doc)
    outage = sim.truth["scenario"]["outage"]
    day = the_answer(sim.truth, org_id="acme", product=outage["product"], interval="day")
    assert day["missing"][day["periods"].index(outage["day"])]


def test_simulate_and_write_report_their_progress(tmp_path: Path) -> None:
    """DESIGN.md: long commands show progress; each step is announced, then every line written."""
    heard: list[tuple[str, int, int]] = []
    spec = SimulationSpec(orgs=1, users=5, days=3, seed=1, end_day=date(2026, 12, 1))
    result = simulate(spec, lambda *report: heard.append(report))
    written = write_jsonl(result.lines, tmp_path / "events.jsonl", lambda *r: heard.append(r))
    assert heard == [
        ("simulating: claims, plan changes and logins", 0, 3),
        ("simulating: malformed events", 1, 3),
        ("simulating: exact answers", 2, 3),
        ("simulating: done", 3, 3),
        ("writing lines", written, written),
    ]
