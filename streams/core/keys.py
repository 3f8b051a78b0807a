"""The Redis key layout: every key of one organization shares the hash tag `{org_id}`."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from schemas.vocabulary import Plan, Product

ALL = "all"  # the rollup over plans or over products
# HyperLogLog registers collide even for a dozen users (13 users can read as 12), so each HLL
# has an exact set beside it until it holds more than EXACT_LIMIT ids; a union whose sets are
# all still exact is counted exactly. Any union of truth < EXACT_LIMIT is therefore exact.
EXACT_LIMIT = 64
# The only member left in an exact set that outgrew EXACT_LIMIT; user ids are printable, so a
# NUL-prefixed member can never collide with one.
OVERFLOWED = "\x00overflowed"


def month_label(month: date) -> str:
    """`YYYY-MM`, the date part of a month rollup's key."""
    return month.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """Names every Redis key; an org's keys share a hash tag, so multi-key reads work on Cluster."""

    prefix: str = "ins"

    def active_users(self, org_id: str, product: Product | str, plan: Plan | str, day: date) -> str:
        """HyperLogLog of the distinct user ids of an org, product (or all), plan (or all), day."""
        return self.series_prefix(org_id, product, plan) + day.isoformat()

    def monthly_active_users(
        self, org_id: str, product: Product | str, plan: Plan | str, month: date
    ) -> str:
        """Write-time month rollup of the day keys: a long range reads ~12 months, not 365 days."""
        return self.series_prefix(org_id, product, plan) + month_label(month)

    def series_prefix(self, org_id: str, product: Product | str, plan: Plan | str) -> str:
        """What the day and month keys of one series share: a key is this plus its day or month
        label (a report names thousands of keys; the prefix is built once per series)."""
        return f"{self.prefix}:{{{org_id}}}:hll:{product}:{plan}:"

    @staticmethod
    def hash_tag(key: str) -> str:
        """The `{org}` part that puts all of an org's keys in one Redis Cluster slot."""
        start = key.index("{")
        return key[start : key.index("}", start) + 1]

    def exact_companion(self, active_users_key: str) -> str:
        """The small exact set kept beside a HyperLogLog until it outgrows EXACT_LIMIT members."""
        return active_users_key.replace(":hll:", ":set:", 1)

    def domain_users(self, org_id: str, domain: str, day: date) -> str:
        """HyperLogLog of the distinct users seen on one claimed domain of an org on a day."""
        return f"{self.prefix}:{{{org_id}}}:hll:domain={domain}:{ALL}:{day.isoformat()}"

    def token(self, digest: str) -> str:
        """Hash of one reader token (by the SHA-256 of the token): org id, creation time, label."""
        return f"{self.prefix}:token:{digest}"

    def org_tokens(self, org_id: str) -> str:
        """Hash from token id to token digest: the org's tokens, for listing and revoking."""
        return f"{self.prefix}:{{{org_id}}}:tokens"

    def coverage(self, product: Product) -> str:
        """Sorted set of the days (score = ordinal) on which the product had any valid event."""
        return f"{self.prefix}:coverage:{product}"

    def latest_logins(self) -> str:
        """Sorted set: per product, the epoch millis of the latest login processed (to tell late
        control events). Workers before 2026-12-06 kept the latest login *day* in
        `<prefix>:watermarks`; that key is left to them during a rolling upgrade (delete it once
        none runs), so neither version reads what the other wrote."""
        return f"{self.prefix}:latest-logins"

    def plan_timeline(self, user_id: str, product: Product) -> str:
        """Sorted set of one user's plan changes for one product (score = epoch millis)."""
        return f"{self.prefix}:plan:{product}:{user_id}"

    def plan_timelines(self, user_products: Iterable[tuple[str, Product]]) -> list[str]:
        """`plan_timeline` of each (user, product): a batch names one per login, so the per-product
        part is formatted once and each name is one concatenation (0.08 against 0.24 µs)."""
        prefixes = {product: self.plan_timeline("", product) for product in Product}
        return [prefixes[product] + user_id for user_id, product in user_products]

    def domain_timeline(self, domain: str) -> str:
        """Sorted set of the claims and releases of one normalised domain."""
        return f"{self.prefix}:domain:{domain}"

    def org_domains(self, org_id: str) -> str:
        """Set of the domains an org has ever claimed (for the reader's per-domain view)."""
        return f"{self.prefix}:{{{org_id}}}:domains"
