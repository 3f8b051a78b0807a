"""BatchHistogram exposes exactly what prometheus_client's Histogram would for the same values."""

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from agents.batch_histogram import BatchHistogram
from agents.metrics import LAG_BUCKETS

LAGS = st.lists(
    st.floats(min_value=-10.0, max_value=10 * 86400.0, allow_nan=False)
    | st.sampled_from([*LAG_BUCKETS, 0.0]),  # exactly on a bound: `le` is inclusive
    max_size=40,
)


def exposition(registry: CollectorRegistry) -> list[str]:
    """The scrape text without `_created` lines (only the reference histogram has them)."""
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


@given(st.lists(st.tuples(st.sampled_from(["a.logins", "b.logins"]), LAGS), max_size=5))
def test_batches_scrape_like_one_observe_per_value(batches: list[tuple[str, list[float]]]) -> None:
    """Same buckets (inclusive upper bounds), count and sum, per label value."""
    registry, batch_registry = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("lag", "Lag.", ["topic"], buckets=LAG_BUCKETS, registry=registry)
    batched = BatchHistogram("lag", "Lag.", "topic", LAG_BUCKETS, batch_registry)
    for topic, values in batches:
        for value in values:
            reference.labels(topic).observe(value)
        batched.observe_many(topic, values)
    expected = exposition(registry)
    actual = exposition(batch_registry)
    # Sums are added in a different order: compare them as numbers, the rest as text.
    assert [line for line in actual if "_sum" not in line] == [
        line for line in expected if "_sum" not in line
    ]
    for mine, theirs in zip(
        [line for line in actual if "_sum" in line],
        [line for line in expected if "_sum" in line],
        strict=True,
    ):
        assert mine.rpartition(" ")[0] == theirs.rpartition(" ")[0]
        assert abs(float(mine.rpartition(" ")[2]) - float(theirs.rpartition(" ")[2])) < 1e-3
