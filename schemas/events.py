"""Typed models of the four event types that DESIGN.md defines."""

import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from schemas.domain_names import email_domain, normalise_domain
from schemas.vocabulary import Plan, Product


def _printable(value: str) -> str:
    """Reject user ids with control or other non-printable characters."""
    if not value.isprintable():
        raise ValueError("user_id must contain printable characters only")
    return value


def _has_domain(value: str) -> str:
    """Reject emails without a usable domain; the address itself is never kept elsewhere."""
    email_domain(value)
    return value


# RFC 3339 date-time. The offset is optional here only so that a missing one is reported as a
# naive timestamp (by AwareDatetime), not a malformed one. ASCII digits: `\d` matches any script.
RFC3339_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _parse_rfc3339(value: object) -> object:
    """Parse RFC 3339 strings; decoded JSON only has strings, and strict mode wants a datetime."""
    if not isinstance(value, str):
        return value  # a datetime passes through; anything else fails the strict datetime check
    if not RFC3339_TIMESTAMP.fullmatch(value):
        raise ValueError("expected an RFC 3339 timestamp such as 2026-12-09T08:15:00Z")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as error:  # e.g. month 13, or an offset of 24 hours
        raise ValueError("timestamp is not a valid date and time") from error


def _to_utc(value: datetime) -> datetime:
    """Keep every instant in UTC so that `.date()` is the UTC day that DESIGN.md counts by."""
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("timestamp is out of range once converted to UTC") from error


UserId = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable)]
OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
DomainName = Annotated[str, AfterValidator(normalise_domain)]
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_has_domain)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_parse_rfc3339), AfterValidator(_to_utc)]
# Vocabulary fields accept their string values even in strict mode: JSON decoded with orjson has no
# enum instances, and the values are still checked against the closed set.
ProductName = Annotated[Product, Field(strict=False)]
PlanName = Annotated[Plan, Field(strict=False)]


class _Event(BaseModel):
    """Common model configuration: immutable, extra fields ignored, no type coercion."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class Login(_Event):
    """A user signed in to a product; counted if the email's domain is claimed."""

    type: Literal["login"]
    user_id: UserId
    email: Email = Field(repr=False)
    product: ProductName
    occurred_at: Timestamp

    @cached_property
    def domain(self) -> str:
        """The normalised email domain (the only part of the email the service uses)."""
        return email_domain(self.email)


class Heartbeat(_Event):
    """A product bus is alive: marks the product's day as covered even with no logins."""

    type: Literal["heartbeat"]
    product: ProductName
    occurred_at: Timestamp


class PlanChange(_Event):
    """A user's plan for one product changes at `effective_at`."""

    type: Literal["plan_change"]
    user_id: UserId
    product: ProductName
    plan: PlanName
    effective_at: Timestamp


class DomainClaim(_Event):
    """An organization claims or releases an email domain at `effective_at`."""

    type: Literal["domain_claim"]
    org_id: OrgId
    domain: DomainName
    action: Literal["claim", "release"]
    effective_at: Timestamp


Event = Annotated[Login | Heartbeat | PlanChange | DomainClaim, Field(discriminator="type")]
AnyEvent = Login | Heartbeat | PlanChange | DomainClaim


def event_time(event: AnyEvent) -> datetime:
    """The instant an event speaks about: `occurred_at` or `effective_at`."""
    if isinstance(event, Login | Heartbeat):
        return event.occurred_at
    return event.effective_at
