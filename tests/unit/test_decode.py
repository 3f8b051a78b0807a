"""decode_record: every DESIGN.md rule as a table, and properties over arbitrary input."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.decode import _EVENTS as EVENTS_UNION
from schemas.decode import (
    MAX_RECORD_BYTES,
    Decoded,
    Rejection,
    RejectionReason,
    TimeBounds,
    decode_record,
)
from schemas.decode import _check as check_candidate
from schemas.decode import _problem_from as problem_from
from schemas.events import AnyEvent, DomainClaim, Heartbeat, Login, PlanChange
from schemas.vocabulary import Plan, Product
from tests.unit.design_examples import CLAIM, HEARTBEAT, LOGIN, PLAN_CHANGE

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
BOUNDS = TimeBounds.around(NOW, retention_days=400)
ANY_TIME = TimeBounds(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
R = RejectionReason

# Reasons that only the agents assign (routing and the claim registry), never decode_record.
AGENT_REASONS = {R.WRONG_TOPIC, R.DOMAIN_CONFLICT, R.RELEASE_NOT_OWNER}


def encode(value: object) -> bytes:
    """JSON bytes of a Python value."""
    return orjson.dumps(value)


def stamp(instant: datetime) -> str:
    """RFC 3339 text of an aware instant."""
    return instant.isoformat()


def decode_one(raw: bytes) -> Decoded:
    """Decode a single-event record, which always yields exactly one result."""
    results = decode_record(raw, BOUNDS)
    assert len(results) == 1
    return results[0]


def decode_event(value: object) -> AnyEvent:
    """Decode a value that must be accepted."""
    result = decode_one(encode(value))
    assert not isinstance(result, Rejection), result
    return result


def decode_rejection(raw: bytes) -> Rejection:
    """Decode a single-event record that must be rejected."""
    result = decode_one(raw)
    assert isinstance(result, Rejection), result
    return result


def with_json(base: dict[str, Any], key: str, text: bytes) -> bytes:
    """Encode `base` with `key` set to literal JSON text that orjson would not produce."""
    return encode({**base, key: None}).replace(
        f'"{key}":null'.encode(), f'"{key}":'.encode() + text
    )


def padded_heartbeat(size: int) -> bytes:
    """A valid heartbeat padded with an ignored extra field to exactly `size` bytes."""
    base = encode({**HEARTBEAT, "pad": ""})
    raw = base[:-2] + b"x" * (size - len(base)) + b'"}'
    assert len(raw) == size
    return raw


DESIGN_EXAMPLES = [
    pytest.param(LOGIN, Login, id="login"),
    pytest.param(HEARTBEAT, Heartbeat, id="heartbeat"),
    pytest.param(PLAN_CHANGE, PlanChange, id="plan_change"),
    pytest.param(CLAIM, DomainClaim, id="domain_claim"),
]


@pytest.mark.parametrize(("value", "model"), DESIGN_EXAMPLES)
def test_design_examples_decode(value: dict[str, Any], model: type[AnyEvent]) -> None:
    event = decode_event(value)
    assert isinstance(event, model)
    assert event.model_dump(mode="json") == value


def test_design_login_fields() -> None:
    event = decode_event(LOGIN)
    assert isinstance(event, Login)
    assert (event.user_id, event.product, event.domain) == (
        "557058:1b2c",
        Product.TRELLO,
        "acme.com",
    )
    assert event.occurred_at == datetime(2026, 12, 9, 8, 15, tzinfo=UTC)


REJECTIONS = [
    pytest.param(padded_heartbeat(MAX_RECORD_BYTES + 1), R.TOO_LARGE, None, id="64KiB+1"),
    pytest.param(b'{"type": "heartbeat", "product": "jira\xff"}', R.INVALID_UTF8, None, id="utf8"),
    pytest.param(b"\xed\xa0\x80", R.INVALID_UTF8, None, id="utf8-surrogate"),
    pytest.param(b'{"type": "login"', R.INVALID_JSON, None, id="truncated"),
    pytest.param(b'{"type": "heartbeat", "n": NaN}', R.INVALID_JSON, None, id="nan"),
    pytest.param(b'{"type": "heartbeat", "n": Infinity}', R.INVALID_JSON, None, id="infinity"),
    pytest.param(b'{"type": "heartbeat", "n": 1e400}', R.INVALID_JSON, None, id="overflow"),
    pytest.param(with_json(HEARTBEAT, "n", b"9" * 400), R.INVALID_JSON, None, id="int-overflow"),
    pytest.param(encode(HEARTBEAT) + b" {}", R.INVALID_JSON, None, id="trailing"),
    pytest.param(b"", R.INVALID_JSON, None, id="empty"),
    pytest.param(b"[" * 1100 + b"]" * 1100, R.INVALID_JSON, None, id="too-deep"),
    pytest.param(b'"login"', R.NOT_AN_EVENT, None, id="string"),
    pytest.param(b"42", R.NOT_AN_EVENT, None, id="number"),
    pytest.param(b"null", R.NOT_AN_EVENT, None, id="null"),
    pytest.param(b"[]", R.EMPTY_BATCH, None, id="empty-batch"),
    pytest.param(b"{}", R.UNKNOWN_TYPE, "type", id="no-type"),
    pytest.param(encode({**LOGIN, "type": "logout"}), R.UNKNOWN_TYPE, "type", id="logout"),
    pytest.param(encode({**LOGIN, "type": 5}), R.UNKNOWN_TYPE, "type", id="type-int"),
    pytest.param(encode({**LOGIN, "type": None}), R.UNKNOWN_TYPE, "type", id="type-null"),
    pytest.param(
        encode({**LOGIN, "product": "bitbucket"}), R.INVALID_FIELD, "product", id="product"
    ),
    pytest.param(
        encode({**LOGIN, "product": ["trello"]}), R.INVALID_FIELD, "product", id="product-list"
    ),
    pytest.param(encode({**PLAN_CHANGE, "plan": "gold"}), R.INVALID_FIELD, "plan", id="plan"),
    pytest.param(encode({**CLAIM, "org_id": "acme.com"}), R.INVALID_FIELD, "org_id", id="org-id"),
    pytest.param(encode({**CLAIM, "action": "steal"}), R.INVALID_FIELD, "action", id="action"),
    pytest.param(encode({**LOGIN, "user_id": 557058}), R.INVALID_FIELD, "user_id", id="user-int"),
    pytest.param(encode({**LOGIN, "user_id": ""}), R.INVALID_FIELD, "user_id", id="user-empty"),
    pytest.param(encode({**LOGIN, "user_id": "a\tb"}), R.INVALID_FIELD, "user_id", id="user-tab"),
    pytest.param(
        encode({**LOGIN, "user_id": "a\u200bb"}), R.INVALID_FIELD, "user_id", id="user-zwsp"
    ),
    pytest.param(
        with_json(LOGIN, "user_id", b"1" * 30), R.INVALID_FIELD, "user_id", id="user-huge"
    ),
    pytest.param(
        encode({k: v for k, v in LOGIN.items() if k != "email"}),
        R.INVALID_FIELD,
        "email",
        id="no-email",
    ),
    pytest.param(encode({**LOGIN, "email": None}), R.INVALID_FIELD, "email", id="email-null"),
    pytest.param(
        encode({**LOGIN, "occurred_at": 1765268100}), R.INVALID_FIELD, "occurred_at", id="unix"
    ),
    pytest.param(
        encode({**LOGIN, "occurred_at": "2026-12-09"}), R.INVALID_FIELD, "occurred_at", id="date"
    ),
    pytest.param(
        encode({**LOGIN, "occurred_at": "2026-12-09T25:00:00Z"}),
        R.INVALID_FIELD,
        "occurred_at",
        id="hour",
    ),
    pytest.param(
        encode({**LOGIN, "occurred_at": "2026-12-09T08:15:00+0200"}),
        R.INVALID_FIELD,
        "occurred_at",
        id="offset-no-colon",
    ),
    pytest.param(
        encode({**CLAIM, "effective_at": "0001-01-01T00:00:00+01:00"}),
        R.INVALID_FIELD,
        "effective_at",
        id="before-year-1-utc",
    ),
    pytest.param(encode({**LOGIN, "email": "alice"}), R.INVALID_EMAIL, "email", id="email-no-at"),
    pytest.param(
        encode({**LOGIN, "email": "alice@"}), R.INVALID_EMAIL, "email", id="email-no-domain"
    ),
    pytest.param(
        encode({**LOGIN, "email": "@acme.com"}), R.INVALID_EMAIL, "email", id="email-no-local"
    ),
    pytest.param(
        encode({**LOGIN, "email": "alice@acme..com"}), R.INVALID_EMAIL, "email", id="email-dots"
    ),
    pytest.param(
        encode({**LOGIN, "email": "alice@ac me.com"}), R.INVALID_EMAIL, "email", id="email-space"
    ),
    pytest.param(encode({**LOGIN, "email": "a" * 321}), R.INVALID_EMAIL, "email", id="email-long"),
    pytest.param(
        encode({**CLAIM, "domain": "acme!.com"}), R.INVALID_DOMAIN, "domain", id="domain-bang"
    ),
    pytest.param(
        encode({**CLAIM, "domain": "-acme.com"}), R.INVALID_DOMAIN, "domain", id="domain-hyphen"
    ),
    pytest.param(encode({**CLAIM, "domain": " "}), R.INVALID_DOMAIN, "domain", id="domain-blank"),
    pytest.param(
        encode({**CLAIM, "domain": "😀.com"}), R.INVALID_DOMAIN, "domain", id="domain-emoji"
    ),
    pytest.param(
        encode({**CLAIM, "domain": "a" * 64 + ".com"}), R.INVALID_DOMAIN, "domain", id="label"
    ),
    pytest.param(
        encode({**LOGIN, "occurred_at": "2026-12-09T08:15:00"}),
        R.NAIVE_TIMESTAMP,
        "occurred_at",
        id="naive-login",
    ),
    pytest.param(
        encode({**PLAN_CHANGE, "effective_at": "2026-12-09T00:00:00"}),
        R.NAIVE_TIMESTAMP,
        "effective_at",
        id="naive-plan",
    ),
    pytest.param(
        encode({**HEARTBEAT, "occurred_at": "2020-01-01T00:00:00Z"}),
        R.TOO_OLD,
        "occurred_at",
        id="old",
    ),
    pytest.param(
        encode({**LOGIN, "occurred_at": "2027-01-01T00:00:00Z"}),
        R.IN_FUTURE,
        "occurred_at",
        id="future",
    ),
]


@pytest.mark.parametrize(("raw", "reason", "field"), REJECTIONS)
def test_rejection_reason(raw: bytes, reason: RejectionReason, field: str | None) -> None:
    rejection = decode_rejection(raw)
    assert (rejection.reason, rejection.field, rejection.index) == (reason, field, None)
    assert rejection.raw == raw  # the original bytes, untouched, for the dead-letter topic
    assert rejection.detail
    assert "\n" not in rejection.detail


def test_every_decoder_reason_has_a_concrete_input() -> None:
    covered = {param.values[1] for param in REJECTIONS}
    assert covered == set(RejectionReason) - AGENT_REASONS


def test_reason_codes_are_stable() -> None:
    assert [reason.value for reason in RejectionReason] == [
        "too_large",
        "invalid_utf8",
        "invalid_json",
        "not_an_event",
        "empty_batch",
        "unknown_type",
        "invalid_field",
        "invalid_email",
        "invalid_domain",
        "naive_timestamp",
        "too_old",
        "in_future",
        "wrong_topic",
        "domain_conflict",
        "release_not_owner",
    ]


def test_exactly_64_kib_is_accepted() -> None:
    assert isinstance(decode_one(padded_heartbeat(MAX_RECORD_BYTES)), Heartbeat)


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        (" Alice@ACME.com. ", "acme.com"),
        ("ALICE@EXAMPLE.COM", "example.com"),
        ("bob@Bücher.example", "xn--bcher-kva.example"),
        ("bob@xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("carol@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", "example.com"),
        ('"a@b"@acme.com', "acme.com"),
    ],
)
def test_email_domain_is_normalised(email: str, domain: str) -> None:
    event = decode_event({**LOGIN, "email": email})
    assert isinstance(event, Login)
    assert event.domain == domain


@pytest.mark.parametrize(
    ("raw", "domain"), [(" ACME.com. ", "acme.com"), ("Bücher.example", "xn--bcher-kva.example")]
)
def test_claim_domain_is_normalised(raw: str, domain: str) -> None:
    event = decode_event({**CLAIM, "domain": raw})
    assert isinstance(event, DomainClaim)
    assert event.domain == domain


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-09T10:15:00+02:00",
        "2026-12-09T03:15:00-05:00",
        "2026-12-09t08:15:00z",
        "2026-12-09 08:15:00Z",
        "2026-12-09T08:15:00-00:00",
        "2026-12-09T08:15:00.000000000Z",
    ],
)
def test_rfc3339_offsets_give_the_utc_instant(text: str) -> None:
    event = decode_event({**LOGIN, "occurred_at": text})
    assert isinstance(event, Login)
    assert event.occurred_at == datetime(2026, 12, 9, 8, 15, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_the_day_of_an_offset_timestamp_is_its_utc_day() -> None:
    event = decode_event({**LOGIN, "occurred_at": "2026-12-10T01:00:00+02:00"})
    assert isinstance(event, Login)
    assert event.occurred_at.date() == date(2026, 12, 9)


def test_batch_with_a_bad_element_in_the_middle() -> None:
    bad = {**LOGIN, "product": "bitbucket"}
    login, bad_field, not_object, heartbeat = decode_record(
        encode([LOGIN, bad, "login", HEARTBEAT]), BOUNDS
    )
    assert (login, heartbeat) == (decode_event(LOGIN), decode_event(HEARTBEAT))
    assert isinstance(bad_field, Rejection)
    assert isinstance(not_object, Rejection)
    # Each rejected element carries its own bytes, re-encoded, and its position.
    assert (bad_field.reason, bad_field.raw, bad_field.index, bad_field.field) == (
        R.INVALID_FIELD,
        encode(bad),
        1,
        "product",
    )
    assert (not_object.reason, not_object.raw, not_object.index) == (R.NOT_AN_EVENT, b'"login"', 2)


def test_nested_array_is_not_an_event() -> None:
    results = decode_record(encode([[LOGIN], LOGIN]), BOUNDS)
    assert isinstance(results[0], Rejection)
    assert (results[0].reason, results[0].index, results[0].raw) == (
        R.NOT_AN_EVENT,
        0,
        encode([LOGIN]),
    )
    assert isinstance(results[1], Login)


def test_element_too_deep_to_re_encode_keeps_the_whole_record() -> None:
    raw = b'[{"type": "x", "deep": ' + b"[" * 300 + b"]" * 300 + b"}]"
    [rejection] = decode_record(raw, BOUNDS)
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.index, rejection.raw) == (R.UNKNOWN_TYPE, 0, raw)


@pytest.mark.parametrize(
    "extra",
    [
        {"email_verified": True},
        {"nested": {"a": [1, 2.5, None]}},
        {"deep": orjson.loads(b"[" * 200 + b"]" * 200)},
        {"TYPE": "heartbeat", "Product": "nope"},
    ],
)
def test_extra_fields_are_ignored(extra: dict[str, Any]) -> None:
    assert decode_event({**LOGIN, **extra}) == decode_event(LOGIN)


@pytest.mark.parametrize(
    "text", [b"[" * 1000 + b"]" * 1000, b"1" * 30, b"-1e-400", b'"\\u0000\\ud83d\\ude00"']
)
def test_extra_fields_at_json_limits_are_ignored(text: bytes) -> None:
    assert decode_one(with_json(LOGIN, "extra", text)) == decode_event(LOGIN)


@pytest.mark.parametrize(
    ("user_id", "accepted"),
    [
        ("u" * 128, True),
        ("u" * 129, False),
        ("é" * 128, True),
        ("with space", True),
        ("bell\x07", False),
        ("del\x7f", False),
        ("nbsp\u00a0", False),
        ("line\u2028", False),
    ],
)
def test_user_id_length_and_printability(user_id: str, accepted: bool) -> None:
    result = decode_one(encode({**PLAN_CHANGE, "user_id": user_id}))
    assert isinstance(result, PlanChange) is accepted


@pytest.mark.parametrize(
    ("org_id", "accepted"),
    [
        ("acme", True),
        ("A-b_9", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("ac me", False),
        ("äcme", False),
        ("acme\n", False),
    ],
)
def test_org_id_pattern(org_id: str, accepted: bool) -> None:
    result = decode_one(encode({**CLAIM, "org_id": org_id}))
    assert isinstance(result, DomainClaim) is accepted


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        # NOW is noon: the whole UTC day 400 days back is kept, from its midnight.
        (-timedelta(days=400, seconds=1), None),
        (-timedelta(days=400, hours=12), None),
        (-timedelta(days=400, hours=12, microseconds=1), R.TOO_OLD),
        (-timedelta(days=401), R.TOO_OLD),
        (timedelta(minutes=5), None),
        (timedelta(minutes=5, seconds=1), R.IN_FUTURE),
        (timedelta(0), None),
    ],
)
@pytest.mark.parametrize("base", [LOGIN, HEARTBEAT])
def test_time_bound_edges(
    base: dict[str, Any], offset: timedelta, reason: RejectionReason | None
) -> None:
    result = decode_one(encode({**base, "occurred_at": stamp(NOW + offset)}))
    assert (result.reason if isinstance(result, Rejection) else None) == reason


@pytest.mark.parametrize("base", [PLAN_CHANGE, CLAIM])
@pytest.mark.parametrize("when", ["1990-01-01T00:00:00Z", "2099-01-01T00:00:00Z"])
def test_effective_at_is_not_bounded(base: dict[str, Any], when: str) -> None:
    decode_event({**base, "effective_at": when})


def test_time_bounds_around() -> None:
    bounds = TimeBounds.around(
        datetime(2026, 12, 10, 14, 0, tzinfo=timezone(timedelta(hours=2))), 1
    )
    # The whole day one day before 2026-12-10 (UTC) is kept, from its midnight.
    assert bounds == TimeBounds(
        datetime(2026, 12, 9, tzinfo=UTC), datetime(2026, 12, 10, 12, 5, tzinfo=UTC)
    )
    assert bounds.earliest.tzinfo is UTC


def test_time_bounds_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeBounds.around(datetime(2026, 12, 10), 400)
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeBounds(datetime(2026, 12, 10), NOW)


@pytest.mark.parametrize(
    "email",
    ["secret.local", "secret.local@", "secret.local@bad!.com", "secret@xn--bad!.com", "x" * 400],
)
@pytest.mark.parametrize("product", ["trello", "nope"])
def test_detail_never_echoes_the_email(email: str, product: str) -> None:
    rejection = decode_rejection(encode({**LOGIN, "email": email, "product": product}))
    assert "secret" not in rejection.detail
    assert "bad!" not in rejection.detail  # not even the part after the @
    assert email not in rejection.detail


def test_first_problem_is_reported_and_the_rest_counted() -> None:
    raw = encode({**LOGIN, "product": "nope", "occurred_at": "2026-12-09T08:15:00"})
    rejection = decode_rejection(raw)
    assert (rejection.reason, rejection.field) == (R.INVALID_FIELD, "product")
    assert rejection.detail.startswith("product: ")
    assert rejection.detail.endswith("(and 1 more problem)")


# --- properties -------------------------------------------------------------------------------

KEYS = sorted({*LOGIN, *HEARTBEAT, *PLAN_CHANGE, *CLAIM})
TYPES = ["login", "heartbeat", "plan_change", "domain_claim"]
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children)
    ),
    max_leaves=20,
)
# Values that look like what the fields want, so validation gets past the first field more often.
FIELD_LIKE = JSON_VALUES | st.sampled_from(
    [*TYPES, *Product, *Plan, "claim", "release", "acme", "acme.com", "a@acme.com", stamp(NOW)]
)


def assert_well_formed(results: list[Decoded]) -> None:
    """Every result is an event or a rejection with bytes and a one-line detail."""
    assert results
    for result in results:
        if isinstance(result, Rejection):
            assert isinstance(result.raw, bytes)
            assert result.detail
            assert "\n" not in result.detail
        else:
            assert isinstance(result, Login | Heartbeat | PlanChange | DomainClaim)


@given(st.binary(max_size=512))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    assert_well_formed(decode_record(raw, BOUNDS))


@given(JSON_VALUES)
def test_never_raises_on_arbitrary_json(value: object) -> None:
    results = decode_record(encode(value), BOUNDS)
    assert_well_formed(results)
    # One result per batch element; a lone value or an empty batch is one rejection.
    assert len(results) == (len(value) if isinstance(value, list) and value else 1)


@given(st.dictionaries(st.sampled_from(KEYS), FIELD_LIKE), st.sampled_from([*TYPES, None]))
def test_never_raises_on_random_field_values(
    fields: dict[str, Any], event_type: str | None
) -> None:
    if event_type is not None:
        fields = {**fields, "type": event_type}
    assert_well_formed(decode_record(encode(fields), BOUNDS))
    assert_well_formed(decode_record(encode([fields, fields]), BOUNDS))


LOCAL_PARTS = st.text(min_size=1, max_size=20).map(lambda text: "Secret." + text)


@given(
    LOCAL_PARTS,
    st.text(max_size=20) | st.sampled_from(["acme.com", "bad!.com", "", "Bücher.example"]),
    st.dictionaries(st.sampled_from(KEYS), FIELD_LIKE, max_size=3),
    st.booleans(),
)
def test_detail_never_contains_the_email(
    local: str, domain: str, noise: dict[str, Any], with_at: bool
) -> None:
    email = f"{local}@{domain}" if with_at else local
    fields = {**LOGIN, **noise, "email": email}
    for result in decode_record(encode([fields]), BOUNDS) + decode_record(encode(fields), BOUNDS):
        if isinstance(result, Rejection):
            assert email not in result.detail
            assert local not in result.detail
            assert "Secret." not in result.detail


PRINTABLE_IDS = st.text(
    st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
    | st.just(" "),
    min_size=1,
    max_size=128,
).filter(str.isprintable)
LOCALS = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True)
DOMAINS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)
OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Instants inside the bounds, shown in any offset: decoding must land on the same instant.
INSTANTS = st.datetimes(
    min_value=BOUNDS.earliest.replace(tzinfo=None),
    max_value=BOUNDS.latest.replace(tzinfo=None),
    timezones=st.just(UTC),
)
SHOWN_INSTANTS = st.builds(lambda instant, zone: instant.astimezone(zone), INSTANTS, OFFSETS)
EVENTS: st.SearchStrategy[AnyEvent] = st.one_of(
    st.builds(
        Login,
        type=st.just("login"),
        user_id=PRINTABLE_IDS,
        email=st.builds("{}@{}".format, LOCALS, DOMAINS),
        product=st.sampled_from(Product),
        occurred_at=SHOWN_INSTANTS,
    ),
    st.builds(
        Heartbeat,
        type=st.just("heartbeat"),
        product=st.sampled_from(Product),
        occurred_at=SHOWN_INSTANTS,
    ),
    st.builds(
        PlanChange,
        type=st.just("plan_change"),
        user_id=PRINTABLE_IDS,
        product=st.sampled_from(Product),
        plan=st.sampled_from(Plan),
        # Far from datetime.min/max, where a non-UTC offset cannot be converted to UTC.
        effective_at=st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=OFFSETS),
    ),
    st.builds(
        DomainClaim,
        type=st.just("domain_claim"),
        org_id=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        domain=DOMAINS,
        action=st.sampled_from(["claim", "release"]),
        effective_at=SHOWN_INSTANTS,
    ),
)


@given(SHOWN_INSTANTS)
def test_any_offset_decodes_to_the_same_instant(shown: datetime) -> None:
    event = decode_event({**LOGIN, "occurred_at": stamp(shown)})
    assert isinstance(event, Login)
    assert event.occurred_at == shown
    assert event.occurred_at.tzinfo is UTC


@given(EVENTS)
def test_valid_event_round_trips(event: AnyEvent) -> None:
    assert decode_record(event.model_dump_json().encode(), BOUNDS) == [event]


@given(st.lists(EVENTS, min_size=1, max_size=5))
def test_valid_batch_round_trips(events: list[AnyEvent]) -> None:
    raw = encode([event.model_dump(mode="json") for event in events])
    assert decode_record(raw, BOUNDS) == events


@given(
    st.sampled_from([LOGIN, HEARTBEAT, PLAN_CHANGE, CLAIM]),
    st.dictionaries(st.sampled_from(KEYS), FIELD_LIKE, max_size=2),
)
def test_dispatch_by_type_decodes_exactly_like_the_tagged_union(
    example: dict[str, Any], changes: dict[str, Any]
) -> None:
    """Valid events skip the union's dispatch; the outcome (event or rejection) is the union's."""
    fields = {**example, **changes}
    try:
        expected: object = EVENTS_UNION.validate_python(fields)
    except ValidationError as error:
        expected = problem_from(error.errors(include_url=False, include_context=False))
    assert check_candidate(fields, ANY_TIME) == expected
