"""`insights produce` routing: the msgspec fast path must route exactly like the general path."""

import orjson
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from insights.producer import Routed, default_partition, route, route_parsed
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


@given(st.binary(min_size=1, max_size=40), st.integers(min_value=1, max_value=12))
def test_partitions_match_kafkas_default_partitioner(key: bytes, count: int) -> None:
    """A key lands where the Java client and aiokafka would put it, so per-key order holds."""
    partitions = list(range(count))
    assert default_partition(key, partitions) == DefaultPartitioner()(key, partitions, partitions)
