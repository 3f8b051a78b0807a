"""The login fast path builds exactly what pydantic builds, and leaves anything doubtful to it."""

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.decode import _BY_TYPE
from schemas.events import RFC3339_TIMESTAMP, Login
from schemas.login_fast_path import plainly_valid_login, rfc3339_shaped
from tests.unit.design_examples import LOGIN

LOGINS = _BY_TYPE["login"]


def pydantic_login(candidate: dict[str, Any]) -> Login | None:
    """What the model's own validation makes of a candidate (None: it refuses it)."""
    try:
        login = LOGINS.validate_python(candidate)
    except ValidationError:
        return None
    assert isinstance(login, Login)
    return login


def assert_same_login(fast: Login, slow: Login) -> None:
    """Equal as models, and equal in everything pydantic keeps beside the fields."""
    assert fast == slow
    for name in Login.model_fields:
        assert type(getattr(fast, name)) is type(getattr(slow, name)), name
        assert getattr(fast, name) == getattr(slow, name), name
    assert fast.occurred_at.tzinfo is UTC
    assert slow.occurred_at.tzinfo is UTC
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.domain == slow.domain
    assert fast.model_dump() == slow.model_dump()
    assert repr(fast) == repr(slow)


def test_a_design_login_takes_the_fast_path_and_equals_pydantic() -> None:
    fast = plainly_valid_login(dict(LOGIN))
    slow = pydantic_login(dict(LOGIN))
    assert fast is not None
    assert slow is not None
    assert_same_login(fast, slow)
    assert "email" not in repr(fast)  # emails are never logged


def test_logins_share_their_fields_set_and_nothing_changes_it() -> None:
    first, second = plainly_valid_login(dict(LOGIN)), plainly_valid_login(dict(LOGIN))
    assert first is not None
    assert second is not None
    assert first.model_fields_set is second.model_fields_set  # one set, not one per login
    everything = set(first.model_fields_set)
    with pytest.raises(ValidationError):
        first.user_id = "someone-else"  # type: ignore[misc]  # frozen
    changed = first.model_copy(update={"user_id": "someone-else"})
    assert changed.model_fields_set is not first.model_fields_set
    assert first.model_fields_set == second.model_fields_set == everything


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "2026-12-09T08:15:00"),  # naive: pydantic names it
        ("occurred_at", "2026-13-09T08:15:00Z"),  # no such month
        ("occurred_at", 1765268100),  # a number is not a timestamp
        ("occurred_at", "0001-01-01T00:00:00+01:00"),  # overflows once in UTC
        ("email", "no-domain"),
        ("email", "alice@exa mple.com"),
        ("email", None),
        ("email", "a" * 309 + "@example.com"),  # 321 characters: over the model's limit
        ("user_id", ""),
        ("user_id", "a\nb"),
        ("user_id", "u" * 129),
        ("user_id", 42),
        ("product", "Trello"),
        ("product", ["trello"]),  # unhashable: still just "not plainly valid"
        ("type", "heartbeat"),
    ],
)
def test_anything_doubtful_is_left_to_pydantic(field: str, value: object) -> None:
    assert plainly_valid_login({**LOGIN, field: value}) is None


def test_a_missing_field_is_left_to_pydantic() -> None:
    for field in ("user_id", "email", "product", "occurred_at"):
        candidate = {k: v for k, v in LOGIN.items() if k != field}
        assert plainly_valid_login(candidate) is None


def test_extra_fields_are_ignored_as_the_model_ignores_them() -> None:
    candidate = {**LOGIN, "ip": "10.0.0.1", "plan": "enterprise"}
    fast, slow = plainly_valid_login(candidate), pydantic_login(candidate)
    assert fast is not None
    assert slow is not None
    assert_same_login(fast, slow)


TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
USER_IDS = st.one_of(TEXT, st.text(max_size=140), st.integers(), st.none())
LABEL = st.sampled_from(
    ["acme", "ACME", "xn--bcher-kva", "bücher", "a-b", "-a", "a..b", "", "ex ample"]
)
DOMAINS = st.builds(
    lambda labels, dot: ".".join(labels) + dot,
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(["", ".", ".."]),
)
EMAILS = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", TEXT, DOMAINS),
    TEXT,
    st.none(),
)
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)
TIMESTAMPS = st.one_of(
    st.builds(lambda instant: instant.isoformat(), INSTANTS),
    st.builds(lambda instant: instant.isoformat().replace("+00:00", "z"), INSTANTS),
    st.builds(lambda instant: instant.isoformat().replace("T", "t"), INSTANTS),
    st.builds(lambda instant: instant.isoformat(" ", "seconds"), INSTANTS),
    st.builds(lambda instant: instant.replace(tzinfo=None).isoformat(), INSTANTS),
    TEXT,
    st.integers(),
)
PRODUCTS = st.one_of(st.sampled_from(["trello", "jira", "confluence", "jsm", "JIRA", ""]), TEXT)


@settings(max_examples=600, deadline=None)
@given(
    user_id=USER_IDS,
    email=EMAILS,
    product=PRODUCTS,
    occurred_at=TIMESTAMPS,
    kind=st.sampled_from(["login", "login", "heartbeat"]),
)
@example(
    user_id="u1",
    email="A@Bücher.Example.",
    product="jsm",
    occurred_at="2026-12-09t08:15:00.5z",
    kind="login",
)
def test_the_fast_path_accepts_only_what_pydantic_accepts_and_builds_the_same(
    user_id: object, email: object, product: object, occurred_at: object, kind: str
) -> None:
    candidate = {
        "type": kind,
        "user_id": user_id,
        "email": email,
        "product": product,
        "occurred_at": occurred_at,
    }
    fast = plainly_valid_login(candidate)
    slow = pydantic_login(candidate) if kind == "login" else None
    if fast is not None:
        assert slow is not None, candidate
        assert_same_login(fast, slow)


@settings(max_examples=300, deadline=None)
@given(
    user_id=st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=128),
    local=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=20),
    domain=st.sampled_from(["acme.com", "ACME.com.", "bücher.example", "eu.acme.com"]),
    product=st.sampled_from(["trello", "jira", "confluence", "jsm"]),
    instant=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
    ),
)
def test_plainly_valid_logins_take_the_fast_path(
    user_id: str, local: str, domain: str, product: str, instant: datetime
) -> None:
    candidate = {
        "type": "login",
        "user_id": user_id,
        "email": f"{local}@{domain}",
        "product": product,
        "occurred_at": instant.isoformat(),
    }
    fast, slow = plainly_valid_login(candidate), pydantic_login(candidate)
    assert fast is not None, candidate
    assert slow is not None
    assert_same_login(fast, slow)


TIMESTAMP_SAMPLES = (
    "2026-12-09T08:15:00Z",
    "2026-12-09T08:15:00.123+01:00",
    "2026-12-09T08:15:00.123456-05:30",
)
EDITS = ("", "0", "9", "٣", "x", "-", ":", ".", "Z", "z", "t", " ", "+", "00")


def test_the_timestamp_shape_set_agrees_with_the_pattern_on_every_near_miss() -> None:
    """Every sample with one character replaced by, or followed by, each edit (or dropped)."""
    for sample in TIMESTAMP_SAMPLES:
        for at in range(len(sample) + 1):
            for edit in EDITS:
                for text in (
                    sample[:at] + edit + sample[at + 1 :],
                    sample[:at] + edit + sample[at:],
                ):
                    assert rfc3339_shaped(text) == bool(RFC3339_TIMESTAMP.fullmatch(text)), text


@settings(max_examples=1000)
@given(st.from_regex(RFC3339_TIMESTAMP, fullmatch=True) | st.text(max_size=40))
@example("2026-12-09T08:15:00.1234567Z")
@example("2026-12-09t08:15:00z")
@example("٢٠٢٦-12-09T08:15:00Z")  # Arabic-Indic digits: not ASCII, so not RFC 3339
def test_the_timestamp_shape_set_agrees_with_the_pattern(text: str) -> None:
    assert rfc3339_shaped(text) == (RFC3339_TIMESTAMP.fullmatch(text) is not None)


def test_the_common_timestamp_shapes_are_found_without_the_pattern(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The set, not the pattern, answers for what producers send (the point of the set)."""
    import schemas.login_fast_path as fast_path

    class NoPattern:
        def fullmatch(self, text: str) -> None:
            raise AssertionError(f"the pattern was asked about {text!r}")

    monkeypatch.setattr(fast_path, "RFC3339_TIMESTAMP", NoPattern())
    for text in (
        "2026-12-09T08:15:00Z",
        "2026-12-09T08:15:00.123+01:00",
        "2026-12-09T08:15:00.075598-05:30",
    ):
        assert fast_path.rfc3339_shaped(text)
