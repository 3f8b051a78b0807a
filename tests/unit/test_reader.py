"""The HTTP reader over the in-memory store: document shape, CSV, auth, errors and metrics.

Events go through the real schema models, timelines and `attribute()` into
`MemoryActiveUserStore`, so the API serves what the agents would have written.
"""

import csv
import io
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from insights.embedded import free_port
from reader.app import create_reader_app
from reader.context import ReaderStore, utc_today
from reader.models import ActiveUsersDocument, DomainsDocument
from schemas.events import DomainClaim, Heartbeat, Login, PlanChange
from streams.core.attribution import observed
from streams.core.requests import parse_series_query
from streams.report import active_users
from streams.settings import Settings
from streams.tokens import TokenInfo, TokenStore
from tests.unit.memory_store import MemoryActiveUserStore

TODAY = date(2027, 1, 15)
ACME_TOKEN = "oit_acme-token"
GLOBEX_TOKEN = "oit_globex-token"
ACME = {"Authorization": f"Bearer {ACME_TOKEN}"}
ACTIVE_USERS = "/api/v1/orgs/acme/active-users"
SERIES = ("all", "free", "standard", "premium", "enterprise")


class ReaderMemoryStore(MemoryActiveUserStore):
    """The exact in-memory store plus the reader's probe; `down` simulates a Redis outage."""

    def __init__(self) -> None:
        """An empty, reachable store."""
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("simulated Redis outage")

    async def ping(self) -> bool:
        """Up unless told otherwise."""
        self._check()
        return True

    async def covered_days(self, *args: Any) -> Any:
        """Fail like Redis while down."""
        self._check()
        return await super().covered_days(*args)


@dataclass
class MemoryTokenStore:
    """Plain tokens mapped to orgs (the real store keeps hashes; the reader only resolves)."""

    orgs: dict[str, str] = field(default_factory=dict)

    async def create(self, org_id: str, label: str = "") -> tuple[str, TokenInfo]:
        """A predictable token per org."""
        token = f"oit_{org_id}-token"
        self.orgs[token] = org_id
        return token, TokenInfo(token[-12:], org_id, datetime.now(UTC), label)

    async def resolve(self, token: str) -> str | None:
        """The token's org, if known."""
        return self.orgs.get(token)

    async def list(self, org_id: str) -> list[TokenInfo]:
        """Not needed by the reader."""
        return []

    async def revoke(self, org_id: str, token_id: str) -> bool:
        """Not needed by the reader."""
        return False


def _conforms(store: ReaderMemoryStore, tokens: MemoryTokenStore) -> tuple[ReaderStore, TokenStore]:
    return store, tokens  # mypy checks the fakes against the reader's Protocols here


def event(kind: type[Login | Heartbeat | PlanChange | DomainClaim], **fields: str) -> Any:
    """One validated event."""
    return kind.model_validate(fields)


def login(user: str, at: str, product: str = "trello", domain: str = "acme.com") -> Login:
    """A login by `user` from an address on `domain`."""
    fields = {"user_id": user, "email": f"{user}@{domain}", "product": product}
    return Login.model_validate({"type": "login", **fields, "occurred_at": at})


async def ingest(store: MemoryActiveUserStore, events: Iterable[Any]) -> None:
    """Control events first, then one batch of logins and heartbeats, as the agents would."""
    observations: list[Login | Heartbeat] = []
    for item in events:
        if isinstance(item, DomainClaim):
            await store.add_domain_claim(item)
        elif isinstance(item, PlanChange):
            await store.add_plan_changes([item])
        else:
            observations.append(item)
    batch = observed(observations)
    domains, plans = await store.load_timelines(batch.domains, batch.user_products)
    await store.write_batch(batch.attribute(domains, plans, store.layout))


def december() -> list[Any]:
    """DESIGN.md's example for acme (trello: free 1-8 December, enterprise from the 9th)."""
    claim = {"type": "domain_claim", "action": "claim", "effective_at": "2026-01-01T00:00:00Z"}
    return [
        event(DomainClaim, org_id="acme", domain="acme.com", **claim),
        event(DomainClaim, org_id="globex", domain="globex.com", **claim),
        event(
            PlanChange,
            type="plan_change",
            user_id="u1",
            product="trello",
            plan="enterprise",
            effective_at="2026-12-09T00:00:00Z",
        ),
        login("u1", "2026-12-03T10:00:00Z"),
        login("u1", "2026-12-09T00:00:00Z"),
        login("u1", "2026-12-20T10:00:00+05:00"),
        login("u2", "2026-12-05T10:00:00Z", product="jira"),
        login("g1", "2026-12-05T10:00:00Z", domain="globex.com"),
        login("x1", "2027-01-14T10:00:00Z"),
    ]


@dataclass
class Reader:
    """One app under test, its fakes, its own metrics registry and a client."""

    http: httpx.AsyncClient
    store: ReaderMemoryStore
    registry: CollectorRegistry

    async def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = ACME,
    ) -> httpx.Response:
        """GET with the acme token unless told otherwise."""
        return await self.http.get(path, params=dict(params or {}), headers=headers)


@pytest.fixture
async def reader() -> AsyncIterator[Reader]:
    """A reader over the December data, with a fresh registry (never the global one)."""
    store, tokens = ReaderMemoryStore(), MemoryTokenStore()
    await ingest(store, december())
    for org in ("acme", "globex"):
        await tokens.create(org)
    registry = CollectorRegistry()
    app = create_reader_app(
        Settings(key_prefix="mem"),
        store=store,
        tokens=tokens,
        registry=registry,
        today=lambda: TODAY,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reader") as http:
        yield Reader(http, store, registry)


# --- the document ------------------------------------------------------------------------------


async def test_the_json_is_the_report_document(reader: Reader) -> None:
    """The route returns active_users()'s document unchanged, and it fits the response model."""
    params = {"product": "trello", "start": "2026-12-01", "end": "2026-12-31", "interval": "month"}
    response = await reader.get(ACTIVE_USERS, params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    query = parse_series_query(
        "acme", "trello", "2026-12-01", "2026-12-31", "month", TODAY, retention_days=400
    )
    assert body == await active_users(
        reader.store, reader.store.layout, query, TODAY, retention_days=400
    )
    ActiveUsersDocument.model_validate(body)
    assert list(body) == [
        "org_id", "product", "start", "end", "interval",
        "periods", "series", "missing", "partial", "totals",
    ]  # fmt: skip
    assert body["totals"] == {"all": 1, "free": 1, "standard": 0, "premium": 0, "enterprise": 1}


async def test_missing_days_are_null_never_zero(reader: Reader) -> None:
    """Only the 9th is covered for trello between the 8th and the 10th."""
    params = {"product": "trello", "start": "2026-12-08", "end": "2026-12-10"}
    body = (await reader.get(ACTIVE_USERS, params)).json()
    assert body["periods"] == ["2026-12-08", "2026-12-09", "2026-12-10"]
    assert body["series"]["enterprise"] == [None, 1, None]
    assert body["series"]["free"] == [None, 0, None]
    assert body["missing"] == [True, False, True]


async def test_defaults_are_all_products_daily_over_the_30_days_ending_today(
    reader: Reader,
) -> None:
    """No parameters: product all, interval day, 2026-12-17..2027-01-15 with today partial."""
    body = (await reader.get(ACTIVE_USERS)).json()
    assert (body["product"], body["interval"]) == ("all", "day")
    assert (body["start"], body["end"]) == ("2026-12-17", "2027-01-15")
    assert len(body["periods"]) == 30
    assert body["series"]["all"][-2] == 1  # x1 on 14 January
    assert body["missing"][-1] is True  # nothing yet today,
    assert body["partial"][-1] is True  # and today is not over


async def test_csv_rows_match_the_json_exactly(reader: Reader) -> None:
    """One row per period per series (all, free, standard, premium, enterprise); null is empty."""
    params = {"product": "trello", "start": "2026-12-01", "end": "2026-12-21", "interval": "week"}
    document = (await reader.get(ACTIVE_USERS, params)).json()
    response = await reader.get(ACTIVE_USERS + ".csv", params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="acme-trello-2026-12-01-2026-12-21-week.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["period", "plan", "active_users", "missing", "partial"]
    expected = [
        [
            period,
            name,
            "" if document["series"][name][i] is None else str(document["series"][name][i]),
            str(document["missing"][i]).lower(),
            str(document["partial"][i]).lower(),
        ]
        for i, period in enumerate(document["periods"])
        for name in SERIES
    ]
    assert rows[1:] == expected
    assert ["2026-12-01", "enterprise", "0", "false", "true"] in rows  # 1-7 Dec: only the 3rd


async def test_csv_leaves_missing_values_empty(reader: Reader) -> None:
    """A missing day is an empty cell, not 0."""
    response = await reader.get(ACTIVE_USERS + ".csv", {"start": "2026-12-01", "end": "2026-12-01"})
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1:] == [["2026-12-01", name, "", "true", "false"] for name in SERIES]


async def test_domains_lists_each_claim_with_its_activity(reader: Reader) -> None:
    """acme.com is claimed since 1 January 2026; one user was active in the last 30 days."""
    response = await reader.get("/api/v1/orgs/acme/domains")
    assert response.status_code == 200
    body = DomainsDocument.model_validate(response.json())
    assert (body.start, body.end) == ("2026-12-17", "2027-01-15")
    assert [(d.domain, d.claimed, d.active_users) for d in body.domains] == [
        ("acme.com", True, 2)  # u1 on 20 Dec (trello) and x1 on 14 Jan
    ]


# --- auth --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status", "error"),
    [
        (ACTIVE_USERS, None, 401, "unauthorized"),
        (ACTIVE_USERS, {"Authorization": f"Basic {ACME_TOKEN}"}, 401, "unauthorized"),
        (ACTIVE_USERS, {"Authorization": "Bearer oit_unknown"}, 401, "unauthorized"),
        (ACTIVE_USERS, {"Authorization": "Bearer"}, 401, "unauthorized"),
        (ACTIVE_USERS + ".csv", None, 401, "unauthorized"),
        ("/api/v1/orgs/acme/domains", None, 401, "unauthorized"),
        # 401 comes first: without a valid token nothing is said about the org id.
        ("/api/v1/orgs/%7Bacme%7D/active-users", None, 401, "unauthorized"),
        (ACTIVE_USERS, {"Authorization": f"Bearer {GLOBEX_TOKEN}"}, 403, "forbidden"),
        (ACTIVE_USERS + ".csv", {"Authorization": f"Bearer {GLOBEX_TOKEN}"}, 403, "forbidden"),
        (
            "/api/v1/orgs/acme/domains",
            {"Authorization": f"Bearer {GLOBEX_TOKEN}"},
            403,
            "forbidden",
        ),
        ("/api/v1/orgs/initech/active-users", ACME, 403, "forbidden"),
    ],
)
async def test_tokens_decide_who_reads_what(
    reader: Reader, path: str, headers: dict[str, str] | None, status: int, error: str
) -> None:
    """401 with a Bearer challenge without a known token; 403 for another org's data."""
    response = await reader.get(path, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert ("www-authenticate" in response.headers) is (status == 401)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


async def test_403_wins_over_bad_parameters_of_another_org(reader: Reader) -> None:
    """Another org's data is refused before its parameters are looked at."""
    response = await reader.get("/api/v1/orgs/globex/active-users", {"start": "nope"})
    assert response.status_code == 403


# --- bad input ---------------------------------------------------------------------------------

LONG_ORG = "a" * 65


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (ACTIVE_USERS, {"start": "2026-02-30"}, "start"),
        (ACTIVE_USERS, {"end": "2026-02-30"}, "end"),
        (ACTIVE_USERS, {"start": "2026-1-5"}, "start"),
        (ACTIVE_USERS, {"end": "20261205"}, "end"),
        (ACTIVE_USERS, {"start": "2026-12-05", "end": "2026-12-04"}, "start"),
        (ACTIVE_USERS, {"start": "2025-12-01", "end": "2027-01-05"}, "start"),  # 401 days
        (ACTIVE_USERS, {"start": "2024-12-01"}, "start"),  # too long, with end defaulted
        (ACTIVE_USERS, {"start": "", "end": ""}, "end"),  # empty is not absent
        (ACTIVE_USERS + ".csv", {"product": ""}, "product"),
        (ACTIVE_USERS, {"interval": ""}, "interval"),
        (ACTIVE_USERS, {"product": "bitbucket"}, "product"),
        (ACTIVE_USERS, {"product": "Trello"}, "product"),
        (ACTIVE_USERS, {"interval": "year"}, "interval"),
        (ACTIVE_USERS + ".csv", {"interval": "year"}, "interval"),
        ("/api/v1/orgs/%7Bacme%7D/active-users", {}, "org_id"),
        (f"/api/v1/orgs/{LONG_ORG}/active-users", {}, "org_id"),
        (f"/api/v1/orgs/{LONG_ORG}/active-users.csv", {}, "org_id"),
        ("/api/v1/orgs/acme.com/domains", {}, "org_id"),
    ],
)
async def test_every_bad_parameter_is_a_400_naming_it(
    reader: Reader, path: str, params: dict[str, str], parameter: str
) -> None:
    """Never a 5xx for client input; the body names the parameter in one line."""
    response = await reader.get(path, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "parameter", "message"}
    assert (body["error"], body["parameter"]) == ("invalid_parameter", parameter)
    assert body["message"]
    assert "\n" not in body["message"]


async def test_a_range_of_exactly_the_retention_is_served(reader: Reader) -> None:
    """400 days is the longest range served; 401 days is refused (in the table above)."""
    response = await reader.get(ACTIVE_USERS, {"start": "2025-12-01", "end": "2027-01-04"})
    assert response.status_code == 200
    assert len(response.json()["periods"]) == 400


async def test_fastapis_own_validation_errors_are_400s_too(reader: Reader) -> None:
    """Should a route ever declare a typed parameter, its validation error is our 400 body."""
    app = create_reader_app(Settings(), store=reader.store, tokens=MemoryTokenStore())

    @app.get("/typed")
    async def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reader") as http:
        response = await http.get("/typed", params={"limit": "many"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert response.json()["parameter"] == "limit"


async def test_unknown_routes_answer_in_the_same_error_shape(reader: Reader) -> None:
    """404 and 405 are JSON like every other error."""
    missing = await reader.get("/api/v2/nothing")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = await reader.http.post(ACTIVE_USERS, headers=ACME)
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    assert wrong.headers["Allow"] == "GET, HEAD"  # HEAD is answered wherever GET is


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/", "/openapi.json", ACTIVE_USERS, ACTIVE_USERS + ".csv"]
)
async def test_head_is_get_without_the_body(reader: Reader, path: str) -> None:
    """Monitors probe with HEAD (RFC 9110: servers must support it): GET's status and headers."""
    got = await reader.get(path)
    head = await reader.http.head(path, headers=ACME)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.status_code == 200
    for header in ("content-type", "content-length"):
        assert head.headers[header] == got.headers[header]
    counted = [
        labels["method"]
        for labels, _ in samples(reader.registry, "insights_reader_requests_total")
        if labels["route"] != "unmatched"
    ]
    assert sorted(counted) == ["GET", "HEAD"]  # under the route's template, as HEAD


async def test_head_refuses_what_get_refuses(reader: Reader) -> None:
    """A HEAD without a token is the GET's 401, headers and all, without the JSON body."""
    head = await reader.http.head(ACTIVE_USERS)
    assert (head.status_code, head.content) == (401, b"")
    assert head.headers["www-authenticate"] == "Bearer"


# --- Redis away --------------------------------------------------------------------------------


async def test_an_outage_is_a_503_and_passes_when_the_store_answers(reader: Reader) -> None:
    """503 redis_unavailable with Retry-After; /healthz stays up; recovery needs no restart."""
    reader.store.down = True
    response = await reader.get(ACTIVE_USERS)
    assert response.status_code == 503
    assert response.json()["error"] == "redis_unavailable"
    assert response.headers["retry-after"] == "5"
    assert (await reader.get("/readyz")).status_code == 503
    assert (await reader.get("/healthz")).json() == {"status": "ok"}
    reader.store.down = False
    assert (await reader.get(ACTIVE_USERS)).status_code == 200
    assert (await reader.get("/readyz")).json() == {"status": "ready"}


async def test_default_wiring_fails_fast_without_redis() -> None:
    """Built from settings alone, a dead Redis gives 503 within the short socket timeout."""
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_reader_app(settings, registry=CollectorRegistry())
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://reader") as http,
    ):
        started = time.monotonic()
        ready = await http.get("/readyz")
        api = await http.get(ACTIVE_USERS, headers=ACME)
        elapsed = time.monotonic() - started
        assert (ready.status_code, api.status_code) == (503, 503)
        assert elapsed < 2.0
        assert (await http.get("/healthz")).status_code == 200


def test_today_is_the_utc_day() -> None:
    """The reader's default clock reads UTC, as DESIGN.md's days are UTC."""
    before = datetime.now(UTC).date()
    assert utc_today() in {before, datetime.now(UTC).date()}


# --- metrics and openapi -----------------------------------------------------------------------


def samples(registry: CollectorRegistry, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of one metric name."""
    return [
        (sample.labels, sample.value)
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == name
    ]


async def test_metrics_label_route_templates_never_org_ids(reader: Reader) -> None:
    """Requests are counted by template, method and status; no raw path reaches a label."""
    await reader.get(ACTIVE_USERS)
    await reader.get(ACTIVE_USERS + ".csv")
    await reader.get("/api/v1/orgs/globex/active-users")
    await reader.get(f"/api/v1/orgs/{LONG_ORG}/active-users")
    await reader.get("/api/v1/orgs/acme/secret-path")
    await reader.get("/openapi.json")
    counts = {
        (labels["route"], labels["method"], labels["status"]): value
        for labels, value in samples(reader.registry, "insights_reader_requests_total")
    }
    template = "/api/v1/orgs/{org_id}/active-users"
    assert counts == {
        (template, "GET", "200"): 1,
        (template + ".csv", "GET", "200"): 1,
        (template, "GET", "403"): 1,
        (template, "GET", "400"): 1,
        ("unmatched", "GET", "404"): 1,
        ("/openapi.json", "GET", "200"): 1,
    }
    latency = samples(reader.registry, "insights_reader_request_duration_seconds_count")
    assert {labels["route"]: value for labels, value in latency}[template] == 3
    exposition = (await reader.get("/metrics")).text
    assert "insights_reader_requests_total" in exposition
    for org in ("acme", "globex", LONG_ORG, "secret-path"):
        assert org not in exposition


async def test_a_fresh_registry_starts_empty(reader: Reader) -> None:
    """Each app counts on the registry it was given: nothing leaks between tests."""
    assert samples(reader.registry, "insights_reader_requests_total") == []


async def test_metrics_are_prometheus_text(reader: Reader) -> None:
    """The exposition content type, with the request families declared."""
    response = await reader.get("/metrics", headers=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE insights_reader_request_duration_seconds histogram" in response.text


async def test_openapi_documents_the_models_and_no_422(reader: Reader) -> None:
    """Schemathesis validates responses against these; FastAPI's 422 is never sent."""
    spec = (await reader.get("/openapi.json", headers=None)).json()
    operation = spec["paths"]["/api/v1/orgs/{org_id}/active-users"]["get"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "503"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ActiveUsersDocument"}
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert params["product"]["enum"] == ["all", "trello", "jira", "confluence", "jsm"]
    assert (params["product"]["default"], params["interval"]["default"]) == ("all", "day")
    assert params["org_id"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_healthz_touches_no_store(reader: Reader) -> None:
    """Liveness only: no token needed, and it answers while the store is down."""
    reader.store.down = True
    response = await reader.get("/healthz", headers=None)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# --- the fast path -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params", "headers"),
    [
        ("GET", ACTIVE_USERS, {}, ACME),
        ("GET", ACTIVE_USERS, {"start": "2026-12-01", "end": "2026-12-31"}, ACME),
        ("GET", ACTIVE_USERS, {"product": "jira", "interval": "week"}, ACME),
        ("GET", ACTIVE_USERS, {"start": "2026-02-30"}, ACME),
        ("GET", ACTIVE_USERS, {}, None),
        ("GET", ACTIVE_USERS, {}, {"Authorization": "Bearer nope"}),
        ("GET", "/api/v1/orgs/globex/active-users", {}, ACME),
        ("GET", f"/api/v1/orgs/{LONG_ORG}/active-users", {}, ACME),
        ("GET", "/api/v1/orgs/acme/active-users/", {}, ACME),
        ("GET", ACTIVE_USERS + ".csv", {}, ACME),
        ("HEAD", ACTIVE_USERS, {}, ACME),
        ("POST", ACTIVE_USERS, {}, ACME),
    ],
)
async def test_the_fast_path_answers_exactly_as_the_framework(
    method: str, path: str, params: dict[str, str], headers: dict[str, str] | None
) -> None:
    """Same status, headers and body with and without the fast path, success or not."""
    store, tokens = ReaderMemoryStore(), MemoryTokenStore()
    await ingest(store, december())
    for org in ("acme", "globex"):
        await tokens.create(org)
    answers = []
    for fast_path in (True, False):
        app = create_reader_app(
            Settings(key_prefix="mem"),
            store=store,
            tokens=tokens,
            registry=CollectorRegistry(),
            today=lambda: TODAY,
            fast_path=fast_path,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reader") as http:
            response = await http.request(method, path, params=params, headers=headers)
        answers.append((response.status_code, response.headers.raw, response.content))
    assert answers[0] == answers[1]


async def test_the_fast_path_is_counted_under_the_route_template(reader: Reader) -> None:
    """Requests it answers appear in the request metrics like the framework's."""
    assert (await reader.get(ACTIVE_USERS)).status_code == 200
    assert (await reader.get(ACTIVE_USERS, headers=None)).status_code == 401
    labels = {"route": "/api/v1/orgs/{org_id}/active-users", "method": "GET"}
    for status in ("200", "401"):
        value = reader.registry.get_sample_value(
            "insights_reader_requests_total", {**labels, "status": status}
        )
        assert value == 1.0, status
