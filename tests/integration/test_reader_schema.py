"""Schemathesis against the served reader: generated requests never get a 5xx, and every
response conforms to /openapi.json (status, content type, headers, body schema)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from prometheus_client import CollectorRegistry
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from reader.app import create_reader_app
from schemas.events import DomainClaim, Login
from streams.core.attribution import observed
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import RedisActiveUserStore, connect_redis
from streams.tokens import RedisTokenStore
from tests.integration.test_reader import serving

pytestmark = pytest.mark.integration
MAX_EXAMPLES = 50
Operation = APIOperation[Any, Any, Any, Any]


async def seed(settings: Settings) -> str:
    """A claim, a week of acme logins through the agents' own path, and acme's token."""
    client = connect_redis(settings, fail_fast_s=2.0)
    layout = KeyLayout(settings.key_prefix)
    store = RedisActiveUserStore(client, layout, settings.retention_days)
    claimed = {"effective_at": "2020-01-01T00:00:00Z", "action": "claim", "type": "domain_claim"}
    today = datetime.now(UTC).date()
    try:
        await store.add_domain_claim(
            DomainClaim.model_validate({"org_id": "acme", "domain": "acme.com", **claimed})
        )
        logins = [
            Login.model_validate(
                {
                    "type": "login",
                    "user_id": f"u{n}",
                    "email": f"u{n}@acme.com",
                    "product": ("trello", "jira")[n % 2],
                    "occurred_at": f"{today - timedelta(days=n % 7)}T12:00:00Z",
                }
            )
            for n in range(40)
        ]
        batch = observed(logins)
        domains, plans = await store.load_timelines(batch.domains, batch.user_products)
        await store.write_batch(batch.attribute(domains, plans, layout))
        token, _ = await RedisTokenStore(client, layout).create("acme", "schemathesis")
        return token
    finally:
        await client.aclose()


# start <= end and "at most retention days" relate two parameters, which OpenAPI cannot say:
# a schema-valid request may rightly get a 400, so that one check does not apply here.
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def check_operation(operation: Operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    """Up to MAX_EXAMPLES generated requests for one operation in one mode, each validated."""

    # Positive cases ask for the token's own org, so most answers are 200s with real values;
    # negative cases may mangle the org id too. 401/403 order is pinned by the other tests.
    fixed = {"org_id": "acme"} if mode is GenerationMode.POSITIVE else {}
    path_parameters = fixed if operation.path_parameters else None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @examples(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Case[Any]) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()


def statuses_by_route(registry: CollectorRegistry) -> dict[str, set[str]]:
    """Which statuses each route answered, from the reader's own request counter."""
    seen: dict[str, set[str]] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "insights_reader_requests_total":
                seen.setdefault(sample.labels["route"], set()).add(sample.labels["status"])
    return seen


async def test_the_reader_conforms_to_its_openapi_document(settings: Settings) -> None:
    """Positive and negative requests for every operation, validated against /openapi.json."""
    headers = {"Authorization": f"Bearer {await seed(settings)}"}
    registry = CollectorRegistry()
    with serving(create_reader_app(settings, registry=registry)) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        operations: list[Operation] = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operations.append(result.ok())
        assert len(operations) == 6
        for operation in operations:
            for mode in MODES if operation.query or operation.path_parameters else MODES[:1]:
                check_operation(operation, mode, headers)
    # The run must have reached real answers and real refusals, not only one kind.
    seen = statuses_by_route(registry)
    template = "/api/v1/orgs/{org_id}/active-users"
    assert {"200", "400"} <= seen[template]
    assert {"200", "400"} <= seen[template + ".csv"]
    assert "200" in seen["/api/v1/orgs/{org_id}/domains"]
    assert not any(status.startswith("5") for statuses in seen.values() for status in statuses)
