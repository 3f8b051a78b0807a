"""Bad input for every topic: a labelled corpus, and hypothesis strategies with a decoder oracle.

Corpus labels are written by hand (what DESIGN.md's rules say the reason must be). Generated
inputs are labelled by the pure decoder (`schemas.decode`, unit-tested on its own): here the
question is whether the running pipeline delivers every rejection to the dead-letter topic.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from schemas.decode import MAX_RECORD_BYTES, Rejection, TimeBounds, decode_record
from schemas.events import DomainClaim, Heartbeat, Login, PlanChange

KINDS = ("logins", "plan_changes", "domain_claims")
ACCEPTS: dict[str, tuple[type, ...]] = {
    "logins": (Login, Heartbeat),
    "plan_changes": (PlanChange,),
    "domain_claims": (DomainClaim,),
}
# Verdicts of the claims agent on valid claims: not decoding errors, so no oracle predicts them.
CLAIM_VERDICTS = frozenset({"domain_conflict", "release_not_owner"})
# Generated inputs never touch what the canaries own (their org, users and domains), and no
# generated login uses the generated claims' domain (so generated logins stay unmanaged).
RESERVED = (b"fuzzok", b"canary")
CLAIMED_BY_GENERATED = b"hyp-claimed"
Letter = tuple[int | None, str]  # (batch index or None, reason)


@dataclass(frozen=True)
class BadInput:
    """A record the worker must dead-letter with `reason` on each topic in `kinds`."""

    name: str
    raw: bytes | None  # None: a tombstone (a record without a value)
    reason: str
    kinds: tuple[str, ...] = KINDS
    event: dict[str, Any] | None = None  # the JSON object, when it is one (for mixed batches)
    index: int | None = None  # the batch element the letter names, if any


def stamp(at: datetime) -> str:
    """RFC 3339, UTC, Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def bases(now: datetime) -> dict[str, dict[str, Any]]:
    """A valid event of each type; unmanaged, and claims that never take effect for a login."""
    yesterday = stamp(now - timedelta(days=1))
    return {
        "logins": {
            "type": "login",
            "user_id": "hyp-user",
            "email": "someone@hyp-unclaimed.example",
            "product": "jira",
            "occurred_at": yesterday,
        },
        "plan_changes": {
            "type": "plan_change",
            "user_id": "hyp-user",
            "product": "jira",
            "plan": "premium",
            "effective_at": yesterday,
        },
        "domain_claims": {
            "type": "domain_claim",
            "org_id": "hyp-org",
            "domain": "hyp-claimed.example",
            "action": "claim",
            "effective_at": "9999-01-01T00:00:00Z",
        },
    }


def raw_inputs(now: datetime) -> list[BadInput]:
    """Bytes that are not events at all: encodings, syntax, nesting, scalars, sizes."""
    login = orjson.dumps(bases(now)["logins"])
    pad = MAX_RECORD_BYTES + 1 - len(login) - len(b',"pad":""')
    oversized = login[:-1] + b',"pad":"' + b"x" * pad + b'"}'
    return [
        BadInput("random bytes", b"\x00\x9f\xfe\xff\x01garbage\xc0", "invalid_utf8"),
        BadInput(
            "invalid UTF-8 in a string", login.replace(b"hyp-user", b"\xc3\x28"), "invalid_utf8"
        ),
        BadInput("UTF-16 JSON", login.decode().encode("utf-16"), "invalid_utf8"),
        BadInput("truncated JSON", login[:-7], "invalid_json"),
        BadInput("empty value", b"", "invalid_json"),
        BadInput("tombstone (no value)", None, "invalid_json"),
        BadInput("whitespace", b" \n\t ", "invalid_json"),
        BadInput("byte order mark", b"\xef\xbb\xbf" + login, "invalid_json"),
        BadInput("lone surrogate", login.replace(b'"hyp-user"', b'"\\ud800"'), "invalid_json"),
        BadInput("NaN", login.replace(b'"jira"', b"NaN"), "invalid_json"),
        BadInput("Infinity", login.replace(b'"jira"', b"-Infinity"), "invalid_json"),
        BadInput("number overflow", login.replace(b'"jira"', b"1e400"), "invalid_json"),
        BadInput("nesting beyond the parser", b"[" * 5000 + b"]" * 5000, "invalid_json"),
        BadInput("nested arrays", b"[" * 300 + b"]" * 300, "not_an_event", index=0),
        BadInput("nested objects", b'{"a":' * 500 + b"1" + b"}" * 500, "unknown_type"),
        BadInput("JSON number", b"42", "not_an_event"),
        BadInput("JSON string", b'"login"', "not_an_event"),
        BadInput("JSON null", b"null", "not_an_event"),
        BadInput("empty batch", b"[]", "empty_batch"),
        BadInput("64 KiB + 1 byte", oversized, "too_large"),
        BadInput("512 KiB", b'"' + b"y" * (512 * 1024) + b'"', "too_large"),
        BadInput("900 KiB of binary", bytes(range(256)) * 3600, "too_large"),
    ]


# (topic of the base event, reason, what is wrong, fields replaced; `...` deletes a field)
Break = tuple[str, str, str, dict[str, Any]]
FIXED_BREAKS: list[Break] = [
    ("logins", "unknown_type", "unknown type", {"type": "logout"}),
    ("logins", "unknown_type", "type of the wrong JSON type", {"type": 7}),
    ("logins", "unknown_type", "no type", {"type": ...}),
    ("logins", "invalid_field", "user_id a number", {"user_id": 123}),
    ("logins", "invalid_field", "user_id nested", {"user_id": {"a": [[[[[[[[]]]]]]]]}}),
    ("logins", "invalid_field", "user_id of 60,000 chars", {"user_id": "u" * 60_000}),
    ("logins", "invalid_field", "user_id with a NUL", {"user_id": "u\x00"}),
    ("logins", "invalid_field", "user_id empty", {"user_id": ""}),
    ("logins", "invalid_field", "unknown product", {"product": "bitbucket"}),
    ("logins", "invalid_field", "product in a list", {"product": ["jira"]}),
    ("logins", "invalid_field", "email missing", {"email": ...}),
    ("logins", "invalid_field", "email null", {"email": None}),
    ("logins", "invalid_email", "email without domain", {"email": "alice"}),
    ("logins", "invalid_email", "email ending in @", {"email": "alice@"}),
    ("logins", "invalid_email", "email domain not a name", {"email": "a@exa mple.com"}),
    ("logins", "invalid_field", "occurred_at as epoch", {"occurred_at": 1_700_000_000}),
    ("logins", "invalid_field", "occurred_at NaN text", {"occurred_at": "NaN"}),
    ("logins", "invalid_field", "occurred_at Feb 30", {"occurred_at": "2026-02-30T00:00:00Z"}),
    ("logins", "invalid_field", "occurred_at year 12026", {"occurred_at": "12026-01-01T00:00:00Z"}),
    (
        "logins",
        "invalid_field",
        "before year 1 in UTC",
        {"occurred_at": "0001-01-01T00:00:00+01:00"},
    ),
    ("logins", "invalid_field", "after 9999 in UTC", {"occurred_at": "9999-12-31T23:59:59-01:00"}),
    ("logins", "too_old", "occurred_at 1970", {"occurred_at": "1970-01-01T00:00:00Z"}),
    ("logins", "in_future", "occurred_at 2999", {"occurred_at": "2999-01-01T00:00:00Z"}),
    ("plan_changes", "invalid_field", "unknown plan", {"plan": "platinum"}),
    ("plan_changes", "invalid_field", "plan null", {"plan": None}),
    ("plan_changes", "invalid_field", "effective_at a list", {"effective_at": [2026]}),
    (
        "plan_changes",
        "naive_timestamp",
        "effective_at naive",
        {"effective_at": "2026-01-01T00:00:00"},
    ),
    ("domain_claims", "invalid_field", "unknown action", {"action": "steal"}),
    ("domain_claims", "invalid_field", "org_id with spaces", {"org_id": "bad org"}),
    ("domain_claims", "invalid_field", "org_id of 65 chars", {"org_id": "o" * 65}),
    ("domain_claims", "invalid_domain", "domain not a name", {"domain": "not a domain!"}),
    ("domain_claims", "invalid_domain", "domain of 300 chars", {"domain": "a" * 300 + ".com"}),
]


def event_inputs(now: datetime) -> list[BadInput]:
    """JSON objects that break one rule each: types, enums, timestamps, sizes, addresses."""
    old, ahead = stamp(now - timedelta(days=401)), stamp(now + timedelta(minutes=10))
    relative: list[Break] = [
        ("logins", "naive_timestamp", "occurred_at naive", {"occurred_at": old[:-1]}),
        ("logins", "too_old", "occurred_at 401 days ago", {"occurred_at": old}),
        ("logins", "in_future", "occurred_at in 10 minutes", {"occurred_at": ahead}),
    ]
    items = []
    for kind, reason, name, fields in [*FIXED_BREAKS, *relative]:
        event = {k: v for k, v in {**bases(now)[kind], **fields}.items() if v is not ...}
        items.append(BadInput(f"{kind}: {name}", orjson.dumps(event), reason, event=event))
    return items


def semantic_inputs(now: datetime, canary_domain: str) -> list[BadInput]:
    """Valid events the worker must still refuse: the wrong topic, another org's domain."""
    base = bases(now)
    rival = {"type": "domain_claim", "org_id": "fuzzrival", "domain": canary_domain}
    conflict = {**rival, "action": "claim", "effective_at": "2021-01-01T00:00:00Z"}
    release = {**rival, "action": "release", "effective_at": "2022-01-01T00:00:00Z"}
    beat = {"type": "heartbeat", "product": "trello", "occurred_at": stamp(now)}
    cases: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
        ("login on another topic", base["logins"], "wrong_topic", KINDS[1:]),
        ("heartbeat on another topic", beat, "wrong_topic", ("plan_changes",)),
        ("plan change on another topic", base["plan_changes"], "wrong_topic", KINDS[::2]),
        ("claim on another topic", base["domain_claims"], "wrong_topic", KINDS[:2]),
        ("claim of an owned domain", conflict, "domain_conflict", ("domain_claims",)),
        ("release by a non-owner", release, "release_not_owner", ("domain_claims",)),
    ]
    return [BadInput(name, orjson.dumps(e), reason, kinds) for name, e, reason, kinds in cases]


def corpus(now: datetime, canary_domain: str) -> list[BadInput]:
    """Everything hand-labelled."""
    return [*raw_inputs(now), *event_inputs(now), *semantic_inputs(now, canary_domain)]


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN: orjson would write null), nested a little."""
    numbers = st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)  # orjson writes these
    leaves = st.none() | st.booleans() | numbers | st.text()

    def nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)

    return st.recursive(leaves, nest, max_leaves=8)


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339-ish strings: any year, any offset, sometimes malformed or naive."""
    offsets = st.sampled_from(["Z", "+00:00", "+14:00", "-12:00", "+23:59", "", "z", "+5"])
    instants = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
    return st.builds(lambda at, zone: at.isoformat() + zone, instants, offsets)


def mutations(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """The base event with one field replaced, removed, or a field added; maybe in a batch."""
    fields = st.sampled_from(sorted(base))
    replaced = st.builds(lambda f, v: {**base, f: v}, fields, json_values() | timestamps())
    removed = st.builds(lambda f: {k: v for k, v in base.items() if k != f}, fields)
    added = st.builds(lambda f, v: {**base, f: v}, st.text(), json_values())
    events = replaced | removed | added
    single = events.map(orjson.dumps)
    batched = st.lists(events, min_size=1, max_size=5).map(orjson.dumps)
    return single | batched


def generated(kind: str, now: datetime, count: int, seed_value: int) -> list[bytes]:
    """`count` generated records for a topic: raw bytes and mutated events (reproducible)."""
    found: list[bytes] = []
    strategy = st.binary(max_size=200) | mutations(bases(now)[kind])

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(raw: bytes) -> None:
        reserved = (*RESERVED, CLAIMED_BY_GENERATED) if kind == "logins" else RESERVED
        if not any(word in raw for word in reserved):
            found.append(raw)

    collect()
    return found


def oracle(kind: str, raw: bytes, bounds: TimeBounds) -> tuple[list[Letter], bool]:
    """The letters decoding predicts for `raw` on `kind`'s topic, and whether valid claims may
    add claim verdicts (conflict, release by a non-owner) that decoding cannot foresee."""
    letters: list[Letter] = []
    verdicts = False
    for index, item in enumerate(decode_record(raw, bounds)):
        if isinstance(item, Rejection):
            letters.append((item.index, item.reason.value))
        elif not isinstance(item, ACCEPTS[kind]):
            batched = isinstance(orjson.loads(raw), list)  # it decoded, so it parses
            letters.append((index if batched else None, "wrong_topic"))
        elif isinstance(item, DomainClaim):
            verdicts = True
    return letters, verdicts
