"""Topic names and their explicit creation (the embedded broker needs topics created up front)."""

from dataclasses import dataclass

from streams.settings import Settings


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The four topics of DESIGN.md under one prefix."""

    logins: str
    plan_changes: str
    domain_claims: str
    dead_letters: str

    @classmethod
    def from_prefix(cls, prefix: str) -> "TopicNames":
        """Name the topics `<prefix>.logins` and so on."""
        return cls(
            logins=f"{prefix}.logins",
            plan_changes=f"{prefix}.plan-changes",
            domain_claims=f"{prefix}.domain-claims",
            dead_letters=f"{prefix}.dead-letters",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "TopicNames":
        """The topics the settings point at."""
        return cls.from_prefix(settings.topic_prefix)

    def inputs(self) -> tuple[str, str, str]:
        """The topics the worker consumes."""
        return (self.logins, self.plan_changes, self.domain_claims)

    def all(self) -> tuple[str, str, str, str]:
        """Every topic, dead letters included."""
        return (*self.inputs(), self.dead_letters)

    def for_event_type(self, event_type: str) -> str | None:
        """The topic a producer routes an event type to, None if the type is unknown."""
        # A match, not a dict literal: `insights produce` asks once per line.
        match event_type:
            case "login" | "heartbeat":
                return self.logins
            case "plan_change":
                return self.plan_changes
            case "domain_claim":
                return self.domain_claims
            case _:
                return None
