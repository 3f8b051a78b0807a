"""`insights produce` routing: the msgspec fast path must route exactly like the general path."""

import orjson
from hypothesis import given
from hypothesis import strategies as st

from insights.producer import Routed, control_first, route, route_parsed, route_split
from streams.topics import TopicNames

NAMES = TopicNames.from_prefix("t")


def line(**fields: object) -> bytes:
    """One JSON line."""
    return orjson.dumps(fields)


def test_each_type_goes_to_its_topic_with_its_design_key() -> None:
    """DESIGN.md: user_id keys logins and plan changes, product heartbeats, domain claims."""
    login = line(type="login", user_id="u1", product="jira")
    assert route(login, NAMES, None) == Routed("t.logins", b"u1", login, False)
    beat = line(type="heartbeat", product="jira", user_id="u1")
    assert route(beat, NAMES, None) == Routed("t.logins", b"jira", beat, False)
    plan = line(type="plan_change", user_id="u2", product="jira")
    assert route(plan, NAMES, None) == Routed("t.plan-changes", b"u2", plan, True)
    claim = line(type="domain_claim", domain="acme.com", org_id="acme")
    assert route(claim, NAMES, None) == Routed("t.domain-claims", b"acme.com", claim, True)


def test_a_claim_is_keyed_by_its_domain_as_the_worker_normalises_it() -> None:
    """Spellings of one domain must share a partition: it orders that domain's claims."""
    for spelling in ("Acme.COM", " acme.com. "):
        single = line(type="domain_claim", domain=spelling, org_id="acme")
        assert route(single, NAMES, None).key == b"acme.com"
        batch = orjson.dumps([{"type": "domain_claim", "domain": spelling, "org_id": "acme"}])
        assert route(batch, NAMES, None).key == b"acme.com"
    international = line(type="domain_claim", domain="Bücher.example", org_id="acme")
    assert route(international, NAMES, None).key == b"xn--bcher-kva.example"
    broken = line(type="domain_claim", domain="not a domain", org_id="acme")
    assert route(broken, NAMES, None).key == b"not a domain"  # dead-lettered by the worker


def test_junk_and_unknown_types_go_to_logins_to_be_dead_lettered() -> None:
    """Unparsable lines, unknown types and non-string keys reach the worker, which explains them."""
    for junk in (b"not json", b"[]", b"42", line(type="nope", user_id="u"), line(user_id=7)):
        routed = route(junk, NAMES, None)
        assert (routed.topic, routed.control) == ("t.logins", False)
    assert route(line(type="nope", user_id="u"), NAMES, None).key == b"u"
    assert route(line(type="login", user_id=7), NAMES, None).key is None


def test_a_batch_goes_where_its_first_event_goes() -> None:
    """A JSON array of events is one record, routed (and keyed) by its first element."""
    batch = orjson.dumps([{"type": "plan_change", "user_id": "u3"}, {"type": "login"}])
    assert route(batch, NAMES, None) == Routed("t.plan-changes", b"u3", batch, True)


def test_a_batch_mixing_topics_is_split_into_one_batch_per_topic_in_order() -> None:
    """Each event reaches its own topic: a claim in a batch of logins is not dead-lettered as
    wrong_topic on the logins topic."""
    events = [
        {"type": "login", "user_id": "u1"},
        {"type": "domain_claim", "domain": "Acme.com", "org_id": "acme"},
        {"type": "heartbeat", "product": "jira"},
        {"type": "plan_change", "user_id": "u2"},
        {"type": "domain_claim", "domain": "b.com", "org_id": "b"},
        "junk",
    ]
    parts = route_split(orjson.dumps(events), NAMES)
    assert [(part.topic, part.key, orjson.loads(part.value), part.control) for part in parts] == [
        ("t.logins", b"u1", [events[0], events[2], events[5]], False),
        ("t.domain-claims", b"acme.com", [events[1], events[4]], True),
        ("t.plan-changes", b"u2", [events[3]], True),
    ]
    control, rest = control_first([orjson.dumps(events)], NAMES, None)
    assert control == parts[1:]
    assert list(rest) == parts[:1]


def test_a_batch_for_one_topic_goes_as_written() -> None:
    batch = b'[ {"type": "login", "user_id": "u1"},{"type":"heartbeat","product":"jira"} ]'
    assert route_split(batch, NAMES) == [route(batch, NAMES, None)]
    assert route_split(b"not json", NAMES) == [route(b"not json", NAMES, None)]


def test_a_forced_topic_takes_every_line_unkeyed() -> None:
    """--topic sends each line as it is, with no key and no control ordering."""
    claim = line(type="domain_claim", domain="acme.com")
    assert route(claim, NAMES, "raw") == Routed("raw", None, claim, False)


VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["login", "heartbeat", "plan_change", "domain_claim", "jira", "acme.com"]),
    st.lists(st.booleans(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
)
FIELDS = st.sampled_from(["type", "user_id", "product", "domain", "email", "extra"])


@given(st.dictionaries(FIELDS, VALUES, max_size=6))
def test_the_fast_path_routes_every_object_like_the_general_path(event: dict[str, object]) -> None:
    """Whatever the field types, the struct decoder and the dict path agree on topic and key."""
    raw = orjson.dumps(event)
    assert route(raw, NAMES, None) == route_parsed(raw, NAMES)


def escaped(kind: str) -> bytes:
    """A line whose type is spelled with a JSON escape: its bytes never contain the name."""
    spelled = kind.replace("_", "\\u005f")
    return b'{"type": "' + spelled.encode() + b'", "user_id": "u9", "domain": "acme.com"}'


KINDS = st.sampled_from(["login", "heartbeat", "plan_change", "domain_claim", "other"])
LINES = st.one_of(
    st.builds(lambda kind, user: line(type=kind, user_id=user, domain="d.com"), KINDS, st.text()),
    st.builds(lambda kind: orjson.dumps([{"type": kind, "user_id": "u1"}]), KINDS),
    st.builds(  # a batch that may mix topics
        lambda kinds: orjson.dumps(
            [{"type": kind, "user_id": f"u{i}"} for i, kind in enumerate(kinds)]
        ),
        st.lists(KINDS, min_size=2, max_size=4),
    ),
    st.builds(escaped, KINDS),
    st.builds(lambda user: line(type="login", user_id=f"plan_change {user}"), st.text()),
    st.binary(max_size=30),
)


@given(st.lists(LINES, max_size=30), st.integers(min_value=1, max_value=8))
def test_control_events_go_first_and_the_rest_keeps_its_order(
    lines: list[bytes], chunk: int
) -> None:
    """The same split as routing every line (a batch mixing topics as one batch per topic) and
    sorting control events first (stable), however the lines are split into chunks for the
    search."""
    control, rest = control_first(lines, NAMES, None, chunk)
    routed = [part for raw in lines for part in route_split(raw, NAMES)]
    assert control == [r for r in routed if r.control]
    assert list(rest) == [r for r in routed if not r.control]


def test_an_escaped_type_is_still_found_to_be_a_control_event() -> None:
    control, rest = control_first([escaped("login"), escaped("plan_change")], NAMES, None)
    assert [r.topic for r in control] == ["t.plan-changes"]
    assert [r.topic for r in rest] == ["t.logins"]


def test_a_forced_topic_takes_every_line_in_order_without_keys() -> None:
    lines = [line(type="plan_change", user_id="u1"), b"junk"]
    control, rest = control_first(lines, NAMES, "raw")
    assert control == []
    assert list(rest) == [Routed("raw", None, lines[0], False), Routed("raw", None, b"junk", False)]
