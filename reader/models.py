"""Pydantic models of the reader's JSON responses, so /openapi.json documents them exactly."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Count = int | None  # None: the period is missing (no covered day), never 0


class _Document(BaseModel):
    """Responses are closed: an unexpected field is a bug, not an extension."""

    model_config = ConfigDict(extra="forbid")


class SeriesValues(_Document):
    """One value per period for all plans together and for each plan."""

    all: list[Count]
    free: list[Count]
    standard: list[Count]
    premium: list[Count]
    enterprise: list[Count]


class Totals(_Document):
    """Distinct users over the whole range (unions, never sums); null when nothing is covered."""

    all: Count
    free: Count
    standard: Count
    premium: Count
    enterprise: Count


class ActiveUsersDocument(_Document):
    """Distinct active users of one org per period and plan, as DESIGN.md's reader API fixes it."""

    org_id: str
    product: Literal["all", "trello", "jira", "confluence", "jsm"]
    start: str = Field(description="First day of the range, YYYY-MM-DD (UTC).")
    end: str = Field(description="Last day of the range, inclusive.")
    interval: Literal["day", "week", "month"]
    periods: list[str] = Field(description="First day of each period, clipped to the range.")
    series: SeriesValues
    missing: list[bool] = Field(description="No covered day in the period: values are null.")
    partial: list[bool] = Field(description="The period is not over or only partly covered.")
    totals: Totals


class DomainActivity(_Document):
    """One claimed domain: its claim window and distinct active users over the window."""

    domain: str
    claimed_at: str | None
    released_at: str | None
    claimed: bool = Field(description="Whether the org holds the claim now.")
    active_users: int


class DomainsDocument(_Document):
    """Every domain the org ever claimed, with activity over the last 30 days."""

    org_id: str
    start: str
    end: str
    domains: list[DomainActivity]


class ErrorBody(_Document):
    """Every error response: a machine-readable code, and a one-line message for people."""

    error: str = Field(description="invalid_parameter, unauthorized, forbidden, redis_unavailable…")
    parameter: str | None = Field(default=None, description="The bad parameter (400 only).")
    message: str


class Health(_Document):
    """The answer of /healthz and /readyz."""

    status: Literal["ok", "ready"]
