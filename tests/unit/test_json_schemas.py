"""The hand-written JSON Schema files are valid and agree with the decoder."""

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import BaseModel
from referencing import Registry, Resource

import schemas
from schemas.decode import Rejection, TimeBounds, decode_record
from schemas.events import DomainClaim, Heartbeat, Login, PlanChange
from schemas.vocabulary import Plan, Product
from tests.unit.design_examples import CLAIM, HEARTBEAT, LOGIN, PLAN_CHANGE

SCHEMA_DIR = Path(schemas.__file__).parent / "json"
EVENT_SCHEMAS: dict[str, type[BaseModel]] = {
    "login": Login,
    "heartbeat": Heartbeat,
    "plan_change": PlanChange,
    "domain_claim": DomainClaim,
}
SCHEMA_NAMES = [*EVENT_SCHEMAS, "record"]
# Wide open bounds: time bounds depend on the clock, which a static schema cannot express.
ANY_TIME = TimeBounds(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def load(name: str) -> dict[str, Any]:
    """Read one schema file."""
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))
    return schema


@cache
def validator(name: str) -> Any:
    """A validator for one schema, resolving the record schema's references to its siblings."""
    resources = [(load(n)["$id"], Resource.from_contents(load(n))) for n in SCHEMA_NAMES]
    return Draft202012Validator(load(name), registry=Registry().with_resources(resources))


def decoder_accepts(name: str, instance: object) -> bool:
    """True when the decoder accepts the encoded instance as what the named schema describes."""
    results = decode_record(orjson.dumps(instance), ANY_TIME)
    if name == "record":
        return not any(isinstance(result, Rejection) for result in results)
    return len(results) == 1 and isinstance(results[0], EVENT_SCHEMAS[name])


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_file_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json")
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_examples_are_valid_and_decode(name: str) -> None:
    examples = load(name)["examples"]
    assert examples
    for example in examples:
        assert validator(name).is_valid(example)
        assert decoder_accepts(name, example)


@pytest.mark.parametrize(("name", "model"), EVENT_SCHEMAS.items())
def test_schema_fields_match_the_model(name: str, model: type[BaseModel]) -> None:
    schema = load(name)
    assert set(schema["properties"]) == set(model.model_fields)
    required = {field for field, info in model.model_fields.items() if info.is_required()}
    assert set(schema["required"]) == required
    assert schema["properties"]["type"] == {"const": name}
    # Unknown extra fields are ignored by the decoder, so the schema must allow them too.
    assert schema["additionalProperties"] is True


@pytest.mark.parametrize("name", ["login", "heartbeat", "plan_change"])
def test_product_enum_is_the_vocabulary(name: str) -> None:
    assert load(name)["properties"]["product"]["enum"] == [p.value for p in Product]


def test_plan_enum_is_the_vocabulary() -> None:
    assert load("plan_change")["properties"]["plan"]["enum"] == [p.value for p in Plan]


def test_record_schema_offers_every_event_schema() -> None:
    refs = [option["$ref"] for option in load("record")["$defs"]["event"]["oneOf"]]
    assert refs == [f"{name}.schema.json" for name in EVENT_SCHEMAS]


VALID_SAMPLES: list[tuple[str, object]] = [
    ("login", LOGIN),
    ("login", {**LOGIN, "email": " Alice@ACME.com. ", "extra": {"nested": [1, 2]}}),
    ("login", {**LOGIN, "email": "bob@Bücher.example", "user_id": "u" * 128}),
    # The address is trimmed and split at its last @; the domain is trimmed again.
    ("login", {**LOGIN, "email": "r@ RevOrg.com "}),
    ("login", {**LOGIN, "email": " r @\tacme.com"}),
    ("login", {**LOGIN, "email": "a@b@acme.com"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09T10:15:00.25+02:00"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09t08:15:00z"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09 08:15:00-05:00"}),
    ("heartbeat", HEARTBEAT),
    ("plan_change", PLAN_CHANGE),
    ("plan_change", {**PLAN_CHANGE, "plan": "free", "effective_at": "2001-01-01T00:00:00Z"}),
    ("domain_claim", CLAIM),
    ("domain_claim", {**CLAIM, "action": "release", "org_id": "A-b_9" + "x" * 59}),
    ("domain_claim", {**CLAIM, "domain": " Bücher.example. "}),
    ("record", LOGIN),
    ("record", [LOGIN, HEARTBEAT, PLAN_CHANGE, CLAIM]),
    ("record", [CLAIM]),
]

# Only what JSON Schema can express: not time bounds, IDNA, the 64 KiB limit or NaN.
INVALID_SAMPLES: list[tuple[str, object]] = [
    ("login", {k: v for k, v in LOGIN.items() if k != "email"}),
    ("login", {**LOGIN, "type": "heartbeat"}),
    ("login", {**LOGIN, "user_id": ""}),
    ("login", {**LOGIN, "user_id": "u" * 129}),
    ("login", {**LOGIN, "user_id": "bad\x00id"}),
    ("login", {**LOGIN, "user_id": 42}),
    ("login", {**LOGIN, "email": "alice"}),
    ("login", {**LOGIN, "email": "alice@"}),
    ("login", {**LOGIN, "email": "@acme.com"}),
    ("login", {**LOGIN, "email": " @ acme.com"}),
    ("login", {**LOGIN, "email": "alice@acme.com@"}),
    ("login", {**LOGIN, "email": "alice@ "}),
    ("login", {**LOGIN, "email": "a" * 310 + "@example.com"}),
    ("login", {**LOGIN, "product": "bitbucket"}),
    ("login", {**LOGIN, "product": "Trello"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09T08:15:00"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09T08:15Z"}),
    ("login", {**LOGIN, "occurred_at": "2026-12-09T08:15:00+0200"}),
    ("login", {**LOGIN, "occurred_at": 1765268100}),
    ("heartbeat", {**HEARTBEAT, "product": None}),
    ("heartbeat", {"type": "heartbeat", "product": "jira"}),
    ("plan_change", {**PLAN_CHANGE, "plan": "gold"}),
    ("plan_change", {**PLAN_CHANGE, "effective_at": "2026-12-09T00:00:00"}),
    ("domain_claim", {**CLAIM, "org_id": ""}),
    ("domain_claim", {**CLAIM, "org_id": "x" * 65}),
    ("domain_claim", {**CLAIM, "org_id": "acme.com"}),
    ("domain_claim", {**CLAIM, "org_id": "äcme"}),
    ("domain_claim", {**CLAIM, "action": "steal"}),
    ("domain_claim", {**CLAIM, "domain": "acme com"}),
    ("domain_claim", {**CLAIM, "domain": "alice@acme.com"}),
    ("domain_claim", {**CLAIM, "domain": ""}),
    ("record", []),
    ("record", "login"),
    ("record", [LOGIN, [HEARTBEAT]]),
    ("record", [LOGIN, {**HEARTBEAT, "product": "bamboo"}]),
    ("record", {"type": "logout"}),
    ("record", {}),
]


@pytest.mark.parametrize(("name", "instance"), VALID_SAMPLES)
def test_schema_and_decoder_accept(name: str, instance: object) -> None:
    assert validator(name).is_valid(instance)
    assert decoder_accepts(name, instance)


@pytest.mark.parametrize(("name", "instance"), INVALID_SAMPLES)
def test_schema_and_decoder_reject(name: str, instance: object) -> None:
    assert not validator(name).is_valid(instance)
    assert not decoder_accepts(name, instance)
