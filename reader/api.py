"""The /api/v1 routes: active users as JSON or CSV, and the org's claimed domains."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, NamedTuple

import orjson
from fastapi import APIRouter, Depends, Query, Response
from pydantic import WithJsonSchema

from reader.auth import RecentTokens, org_access
from reader.context import ReaderContext
from reader.csv_export import csv_filename, render_csv
from reader.errors import ERROR_RESPONSES
from reader.models import ActiveUsersDocument, DomainsDocument
from schemas.vocabulary import PRODUCTS
from streams.core.days import Interval
from streams.core.keys import ALL
from streams.core.requests import parse_series_query
from streams.core.series import SeriesQuery
from streams.report import active_users, domain_activity

ACTIVE_USERS = "/orgs/{org_id}/active-users"
# Plain strings reach parse_series_query (the same rules and messages as `insights query`);
# WithJsonSchema documents them in /openapi.json without FastAPI's `anyOf: [..., null]`.
DAY: dict[str, Any] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

ProductParam = Annotated[
    str | None,
    Query(description="A product, or `all` (default)."),
    WithJsonSchema({"type": "string", "enum": [ALL, *(p.value for p in PRODUCTS)]}),
]
StartParam = Annotated[
    str | None,
    Query(description="First day, YYYY-MM-DD (default: 29 days before end)."),
    WithJsonSchema(DAY),
]
EndParam = Annotated[
    str | None,
    Query(description="Last day, inclusive (default: today, UTC)."),
    WithJsonSchema(DAY),
]
IntervalParam = Annotated[
    str | None,
    Query(description="`day` (default), `week` (ISO, Monday start) or `month`."),
    WithJsonSchema({"type": "string", "enum": [interval.value for interval in Interval]}),
]


class SeriesRequest(NamedTuple):
    """A validated query and the day it was asked on (one clock reading per request)."""

    query: SeriesQuery
    today: date


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """A report document and its JSON, serialised once however many requests share it."""

    document: dict[str, Any]
    json: bytes


class JsonBytes(Response):
    """A JSON body serialised once with orjson."""

    media_type = "application/json"


class CsvResponse(Response):
    """A CSV body (Starlette adds `; charset=utf-8`)."""

    media_type = "text/csv"


def api_router(context: ReaderContext) -> APIRouter:
    """The API routes bound to this app's context."""
    router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    tokens = RecentTokens(context.tokens, context.reports.ttl_s)
    OrgId = Annotated[str, Depends(org_access(tokens))]  # noqa: N806

    async def series_request(
        org_id: OrgId,
        product: ProductParam = None,
        start: StartParam = None,
        end: EndParam = None,
        interval: IntervalParam = None,
    ) -> SeriesRequest:
        """Authorize first (dependency order), then validate the parameters."""
        today = context.today()
        query = parse_series_query(
            org_id, product, start, end, interval, today, context.retention_days
        )
        return SeriesRequest(query, today)

    Series = Annotated[SeriesRequest, Depends(series_request)]  # noqa: N806

    async def report(request: SeriesRequest) -> RenderedReport:
        """The one document behind both the JSON and the CSV route, with its JSON bytes."""
        store = context.store

        async def render() -> RenderedReport:
            document = await active_users(store, store.layout, request.query, request.today)
            return RenderedReport(document, orjson.dumps(document))

        return await context.reports.get(request, render)

    @router.get(ACTIVE_USERS, response_model=ActiveUsersDocument)
    async def get_active_users(request: Series) -> Response:
        """Distinct active users per period and plan, and totals over the range."""
        # The model documents the response; validating a year of values per request would cost
        # more than computing them, and the document is built by one tested code path.
        return JsonBytes((await report(request)).json)

    # response_class=Response: with CsvResponse FastAPI would document the JSON error
    # bodies as text/csv too; the 200's own content type is declared here instead.
    @router.get(
        ACTIVE_USERS + ".csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def get_active_users_csv(request: Series) -> CsvResponse:
        """The same document as CSV: `period,plan,active_users,missing,partial`."""
        document = (await report(request)).document
        disposition = f'attachment; filename="{csv_filename(document)}"'
        return CsvResponse(render_csv(document), headers={"Content-Disposition": disposition})

    @router.get("/orgs/{org_id}/domains", response_model=DomainsDocument)
    async def get_domains(org_id: OrgId) -> dict[str, Any]:
        """Each claimed domain with its claim window and active users over the last 30 days."""
        store = context.store
        return await domain_activity(store, store.layout, org_id, context.today())

    return router
