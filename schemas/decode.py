"""The single decode-and-validate entry point: record bytes in, events or rejections out (pure)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from schemas.events import AnyEvent, DomainClaim, Event, Heartbeat, Login, PlanChange
from schemas.login_fast_path import plainly_valid_login

MAX_RECORD_BYTES = 64 * 1024
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=5)

# Built once: the adapter is an immutable compiled validator, so sharing it keeps decoding pure.
_EVENTS: TypeAdapter[AnyEvent] = TypeAdapter(Event)
# Valid events go straight to their own model: the tagged union's dispatch cost a fifth of a
# login's validation. Anything the model refuses is validated again through the union, whose
# errors (an unknown tag, locations under the tag) are the ones rejections are made from.
_BY_TYPE: dict[str, TypeAdapter[AnyEvent]] = {
    "login": TypeAdapter(Login),
    "heartbeat": TypeAdapter(Heartbeat),
    "plan_change": TypeAdapter(PlanChange),
    "domain_claim": TypeAdapter(DomainClaim),
}


class RejectionReason(StrEnum):
    """Why a record or batch element went to the dead-letter topic; values are stable API."""

    TOO_LARGE = "too_large"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_EVENT = "not_an_event"
    EMPTY_BATCH = "empty_batch"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FIELD = "invalid_field"
    INVALID_EMAIL = "invalid_email"
    INVALID_DOMAIN = "invalid_domain"
    NAIVE_TIMESTAMP = "naive_timestamp"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    # Set by the agents, not by decoding: an event on another type's topic, and claim conflicts.
    WRONG_TOPIC = "wrong_topic"
    DOMAIN_CONFLICT = "domain_conflict"
    RELEASE_NOT_OWNER = "release_not_owner"


@dataclass(frozen=True, slots=True)
class Rejection:
    """One record or batch element that cannot be counted, with what to dead-letter."""

    reason: RejectionReason
    detail: str
    raw: bytes
    index: int | None
    field: str | None


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """The accepted range of `occurred_at`, both ends inclusive, in UTC."""

    earliest: datetime
    latest: datetime

    def __post_init__(self) -> None:
        """Refuse naive bounds: comparing them with aware event times would raise later."""
        if self.earliest.tzinfo is None or self.latest.tzinfo is None:
            raise ValueError("TimeBounds needs timezone-aware datetimes")

    @classmethod
    def around(
        cls,
        now: datetime,
        retention_days: int,
        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    ) -> "TimeBounds":
        """Bounds from the start of the UTC day `retention_days` before `now`'s to
        `future_tolerance` after `now`.

        Whole days, not `now` minus the retention: that day's keys live until the end of today
        and the reader serves it, so refusing its earlier hours would undercount a day shown as
        complete.
        """
        if now.tzinfo is None:
            raise ValueError("TimeBounds.around needs a timezone-aware `now`")
        now = now.astimezone(UTC)
        oldest_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(oldest_day - timedelta(days=retention_days), now + future_tolerance)


Decoded = AnyEvent | Rejection


class _Problem(NamedTuple):
    """A rejection before its dead-letter bytes are chosen (batch elements are re-encoded late)."""

    reason: RejectionReason
    detail: str
    field: str | None

    def reject(self, raw: bytes, index: int | None) -> Rejection:
        """Attach the bytes to dead-letter and the batch position."""
        return Rejection(self.reason, self.detail, raw, index, self.field)


# Pydantic messages are used only for error types whose message never repeats the input; our own
# validators (`value_error`) and the union tag can carry input, and an email must never be echoed.
_FIXED_DETAILS = {
    "email": "email must be an address with a valid domain, like name@example.com",
    "domain": "domain must be a domain name, like example.com",
    "user_id": "user_id must contain printable characters only",
    "occurred_at": "occurred_at must be a valid RFC 3339 timestamp, like 2026-12-09T08:15:00Z",
    "effective_at": "effective_at must be a valid RFC 3339 timestamp, like 2026-12-09T00:00:00Z",
}
_INPUT_ECHOING_TYPES = frozenset({"value_error", "assertion_error"})
_UNKNOWN_TYPE_DETAIL = "type must be one of login, heartbeat, plan_change, domain_claim"


def decode_record(raw: bytes, bounds: TimeBounds) -> list[Decoded]:
    """Decode one Kafka record (an event or a batch array) into events and rejections, in order."""
    if len(raw) > MAX_RECORD_BYTES:
        detail = f"record is {len(raw)} bytes; the limit is {MAX_RECORD_BYTES}"
        return [Rejection(RejectionReason.TOO_LARGE, detail, raw, None, None)]
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return [_unparsable(raw, error)]
    if isinstance(parsed, dict):
        outcome = _check(parsed, bounds)
        return [outcome.reject(raw, None) if isinstance(outcome, _Problem) else outcome]
    if isinstance(parsed, list):
        return _decode_batch(parsed, raw, bounds)
    detail = "record must be a JSON object or an array of objects"
    return [Rejection(RejectionReason.NOT_AN_EVENT, detail, raw, None, None)]


def _unparsable(raw: bytes, error: orjson.JSONDecodeError) -> Rejection:
    """Tell bytes that are not UTF-8 apart from UTF-8 text that is not JSON."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad_byte:
        detail = f"record is not valid UTF-8 (byte {bad_byte.start})"
        return Rejection(RejectionReason.INVALID_UTF8, detail, raw, None, None)
    # orjson's messages are fixed texts ("unexpected character", "depth limit exceeded") plus a
    # position; they never quote the input, so they are safe to pass on.
    detail = f"record is not valid JSON: {error.msg} at character {error.pos}"
    return Rejection(RejectionReason.INVALID_JSON, detail, raw, None, None)


def _decode_batch(elements: list[Any], raw: bytes, bounds: TimeBounds) -> list[Decoded]:
    """Check each element of a batched record on its own, so one bad element spoils nothing else."""
    if not elements:
        detail = "batched record is an empty array; send at least one event"
        return [Rejection(RejectionReason.EMPTY_BATCH, detail, raw, None, None)]
    results: list[Decoded] = []
    for index, element in enumerate(elements):
        if isinstance(element, dict):
            outcome = _check(element, bounds)
        else:
            detail = "each element of a batched record must be a JSON object"
            outcome = _Problem(RejectionReason.NOT_AN_EVENT, detail, None)
        if isinstance(outcome, _Problem):
            results.append(outcome.reject(_element_bytes(element, raw), index))
        else:
            results.append(outcome)
    return results


def _element_bytes(element: object, raw: bytes) -> bytes:
    """Re-encode a rejected batch element for the dead-letter topic."""
    try:
        return orjson.dumps(element)
    except orjson.JSONEncodeError:
        # orjson encodes at most 254 levels of nesting but parses 1024; keep the whole record then,
        # so the dead letter still holds what the producer sent.
        return raw


def _check(candidate: dict[str, Any], bounds: TimeBounds) -> AnyEvent | _Problem:
    """Validate one decoded JSON object and hold its event time to the bounds."""
    kind = candidate.get("type")
    event: AnyEvent | None = plainly_valid_login(candidate) if kind == "login" else None
    if event is None:
        model = _BY_TYPE.get(kind) if isinstance(kind, str) else None
        try:
            event = (model or _EVENTS).validate_python(candidate)
        except ValidationError:
            return _problem_from(_union_errors(candidate))
    # Only observations are bounded: control events (plan changes, claims) may be back-dated freely.
    if isinstance(event, Login | Heartbeat):
        if event.occurred_at < bounds.earliest:
            detail = f"occurred_at is before {bounds.earliest.isoformat()}, outside retention"
            return _Problem(RejectionReason.TOO_OLD, detail, "occurred_at")
        if event.occurred_at > bounds.latest:
            detail = f"occurred_at is after {bounds.latest.isoformat()}, too far in the future"
            return _Problem(RejectionReason.IN_FUTURE, detail, "occurred_at")
    return event


def _union_errors(candidate: dict[str, Any]) -> list[ErrorDetails]:
    """The tagged union's errors for a candidate its own model refused."""
    try:
        _EVENTS.validate_python(candidate)
    except ValidationError as error:
        return error.errors(include_url=False, include_context=False)
    raise AssertionError("the union accepted an event that its own model refused")


def _problem_from(errors: list[ErrorDetails]) -> _Problem:
    """Map pydantic's first structured error (type and location) to a reason and a safe detail."""
    first = errors[0]
    kind = first["type"]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return _Problem(RejectionReason.UNKNOWN_TYPE, _UNKNOWN_TYPE_DETAIL, "type")
    # loc is (event type tag, field, ...) below the discriminated union.
    loc = first["loc"]
    field = str(loc[1]) if len(loc) > 1 else None
    reason = _reason_for(kind, field)
    if kind in _INPUT_ECHOING_TYPES or field is None:
        message = _FIXED_DETAILS.get(field or "", "invalid value")
    else:
        message = f"{field}: {first['msg']}"
    more = len(errors) - 1
    detail = f"{message} (and {more} more problem{'s' if more > 1 else ''})" if more else message
    return _Problem(reason, detail, field)


def _reason_for(kind: str, field: str | None) -> RejectionReason:
    """Choose the most specific reason for one pydantic error."""
    if kind == "timezone_aware":
        return RejectionReason.NAIVE_TIMESTAMP
    # A missing or non-string email is a malformed event; a string without a domain is a bad email.
    if field == "email" and kind not in ("missing", "string_type"):
        return RejectionReason.INVALID_EMAIL
    if field == "domain" and kind == "value_error":
        return RejectionReason.INVALID_DOMAIN
    return RejectionReason.INVALID_FIELD
