"""The freshness probes: every probe's org count stays within what the exact sets answer."""

from bench.throughput import PROBES_PER_ORG, probe_claims, probe_org
from streams.core.keys import EXACT_LIMIT


def test_each_org_takes_only_the_probes_its_exact_set_counts_exactly() -> None:
    assert PROBES_PER_ORG <= EXACT_LIMIT
    assert probe_org(0) == ("fresh0", 1)
    assert probe_org(PROBES_PER_ORG - 1) == ("fresh0", PROBES_PER_ORG)
    assert probe_org(PROBES_PER_ORG) == ("fresh1", 1)
    assert probe_org(5 * PROBES_PER_ORG + 7) == ("fresh5", 8)


def test_every_probe_org_claims_the_domain_its_probes_log_in_from() -> None:
    claims = probe_claims(3)
    assert [
        b'"org_id":"fresh%d","domain":"fresh%d.example"' % (n, n) in c for n, c in enumerate(claims)
    ] == [True] * 3
