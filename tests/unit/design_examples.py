"""The example events of DESIGN.md's Events section, shared by the decoder and schema tests."""

from typing import Any

LOGIN: dict[str, Any] = {
    "type": "login",
    "user_id": "557058:1b2c",
    "email": "Alice@Acme.com",
    "product": "trello",
    "occurred_at": "2026-12-09T08:15:00Z",
}
HEARTBEAT: dict[str, Any] = {
    "type": "heartbeat",
    "product": "trello",
    "occurred_at": "2026-12-09T08:20:00Z",
}
PLAN_CHANGE: dict[str, Any] = {
    "type": "plan_change",
    "user_id": "557058:1b2c",
    "product": "trello",
    "plan": "enterprise",
    "effective_at": "2026-12-09T00:00:00Z",
}
CLAIM: dict[str, Any] = {
    "type": "domain_claim",
    "org_id": "acme",
    "domain": "acme.com",
    "action": "claim",
    "effective_at": "2026-01-01T00:00:00Z",
}
