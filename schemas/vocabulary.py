"""The closed vocabularies of DESIGN.md: products and pricing plans."""

from enum import StrEnum


class Product(StrEnum):
    """A product whose event bus publishes logins."""

    TRELLO = "trello"
    JIRA = "jira"
    CONFLUENCE = "confluence"
    JSM = "jsm"


class Plan(StrEnum):
    """A pricing plan; `free` is the plan of a user with no known plan change.

    Declared from the lowest plan to the highest: of two changes effective in the same
    millisecond, plan timelines keep the later-declared one (streams/core/timelines.py)."""

    FREE = "free"
    STANDARD = "standard"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"


PRODUCTS: tuple[Product, ...] = tuple(Product)
PLANS: tuple[Plan, ...] = tuple(Plan)
