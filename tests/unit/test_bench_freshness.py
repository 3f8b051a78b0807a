"""The freshness probes: every org count within what the exact sets answer, and their summary."""

from bench.throughput import (
    PROBES_PER_ORG,
    SLOW_PROBE_S,
    delay_summary,
    freshness_line,
    probe_claims,
    probe_org,
)
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


def test_the_summary_counts_the_one_second_outlier_the_p99_of_a_short_phase_hides() -> None:
    delays = [0.05] * 150 + [1.02] + [0.1] * 49
    summary = delay_summary(delays)
    assert summary == {"p50_s": 0.05, "p99_s": 0.1, "max_s": 1.02, "probes": 200, "slow": 1}


def test_a_probe_at_the_slow_bound_is_not_slow() -> None:
    assert delay_summary([SLOW_PROBE_S, 0.01])["slow"] == 0
    assert delay_summary([SLOW_PROBE_S + 0.001])["slow"] == 1


def test_the_printed_line_names_every_figure_of_the_phase() -> None:
    result = {**delay_summary([0.05, 1.02]), "unseen": 0, "rate_per_s": 1000.0}
    expected = "0.535 / 1.02 / 1.02 s (2 probes, 1 over 0.5 s, 0 unseen in 30 s)"
    assert freshness_line(result) == expected
