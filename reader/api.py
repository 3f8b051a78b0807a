"""The /api/v1 routes: active users as JSON or CSV, and the org's claimed domains."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, NamedTuple

import orjson
from fastapi import APIRouter, Depends, Request, Response

from reader.auth import RecentTokens, bearer, org_access
from reader.context import ReaderContext
from reader.csv_export import csv_filename, render_csv
from reader.errors import ERROR_RESPONSES
from reader.models import ActiveUsersDocument, DomainsDocument
from schemas.vocabulary import PRODUCTS
from streams.core.days import Interval
from streams.core.keys import ALL
from streams.core.requests import ORG_ID, parse_series_query
from streams.core.series import SeriesQuery
from streams.report import active_users, domain_activity

ACTIVE_USERS = "/orgs/{org_id}/active-users"
DAY: dict[str, Any] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """One optional query parameter as OpenAPI documents it."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {**schema, "title": name.title()},
        "description": description,
    }


# The active-users routes read their parameters themselves (see `SeriesEndpoint`), so their
# OpenAPI operation is written here: the same parameters and bearer security FastAPI would derive.
SERIES_OPERATION: dict[str, Any] = {
    "security": [{bearer.scheme_name: []}],
    "parameters": [
        {
            "name": "org_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": ORG_ID.pattern, "title": "Org Id"},
            "description": "Organization id.",
        },
        query_parameter(
            "product",
            {"type": "string", "enum": [ALL, *(p.value for p in PRODUCTS)], "default": ALL},
            "A product, or `all` (default).",
        ),
        query_parameter(
            "start",
            DAY,
            "First day, YYYY-MM-DD (default: 29 days before end, or the whole retention if "
            "shorter).",
        ),
        query_parameter("end", DAY, "Last day, inclusive (default: today, UTC)."),
        query_parameter(
            "interval",
            {
                "type": "string",
                "enum": [interval.value for interval in Interval],
                "default": Interval.DAY.value,
            },
            "`day` (default), `week` (ISO, Monday start) or `month`.",
        ),
    ],
}


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


# Where the fast path (reader.fast_path) leaves the error it met, for the route to raise it: the
# framework then answers it exactly as it answers its own, without asking Redis again.
FAST_PATH_ERROR = "insights.fast_path_error"


class SeriesEndpoint:
    """Authorize, validate and answer one active-users request: behind both routes and the
    fast path, so all of them share one token memory and one report cache."""

    def __init__(self, context: ReaderContext) -> None:
        """Bind to the app's context; token lookups are remembered as long as reports."""
        self.context = context
        self.tokens = RecentTokens(context.tokens, context.reports.ttl_s)
        self.authorize = org_access(self.tokens)

    async def request(self, request: Request) -> SeriesRequest:
        """Authorize first, then validate the parameters, as `insights query` does.

        Read from the request directly: FastAPI's dependency solving for these five parameters
        and the token cost 40% of the reader's CPU per request, more than the cached report.
        """
        failed = request.scope.pop(FAST_PATH_ERROR, None)
        if failed is not None:
            raise failed
        org_id = await self.authorize(request.path_params["org_id"], await bearer(request))
        params = request.query_params
        context = self.context
        today = context.today()
        query = parse_series_query(
            org_id,
            params.get("product"),
            params.get("start"),
            params.get("end"),
            params.get("interval"),
            today,
            context.retention_days,
        )
        return SeriesRequest(query, today)

    async def report(self, request: SeriesRequest) -> RenderedReport:
        """The one document behind both the JSON and the CSV route, with its JSON bytes."""
        store = self.context.store

        async def render() -> RenderedReport:
            document = await active_users(
                store,
                store.layout,
                request.query,
                request.today,
                retention_days=self.context.retention_days,
            )
            return RenderedReport(document, orjson.dumps(document))

        return await self.context.reports.get(request, render)

    async def json(self, request: Request) -> bytes:
        """The JSON body of a successful request; raises what the route would answer."""
        return (await self.report(await self.request(request))).json


def api_router(context: ReaderContext, series: SeriesEndpoint) -> APIRouter:
    """The API routes bound to this app's context."""
    router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    OrgId = Annotated[str, Depends(org_access(series.tokens))]  # noqa: N806

    @router.get(ACTIVE_USERS, response_model=ActiveUsersDocument, openapi_extra=SERIES_OPERATION)
    async def get_active_users(request: Request) -> Response:
        """Distinct active users per period and plan, and totals over the range."""
        # The model documents the response; validating a year of values per request would cost
        # more than computing them, and the document is built by one tested code path.
        return JsonBytes(await series.json(request))

    # response_class=Response: with CsvResponse FastAPI would document the JSON error
    # bodies as text/csv too; the 200's own content type is declared here instead.
    @router.get(
        ACTIVE_USERS + ".csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
        openapi_extra=SERIES_OPERATION,
    )
    async def get_active_users_csv(request: Request) -> CsvResponse:
        """The same document as CSV: `period,plan,active_users,missing,partial`."""
        document = (await series.report(await series.request(request))).document
        disposition = f'attachment; filename="{csv_filename(document)}"'
        return CsvResponse(render_csv(document), headers={"Content-Disposition": disposition})

    @router.get("/orgs/{org_id}/domains", response_model=DomainsDocument)
    async def get_domains(org_id: OrgId) -> dict[str, Any]:
        """Each claimed domain with its claim window and active users over the last 30 days."""
        store = context.store
        return await domain_activity(store, store.layout, org_id, context.today())

    return router
