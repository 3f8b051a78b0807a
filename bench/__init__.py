"""Benchmarks: figures are measured here, never asserted by timed tests."""

from streams.compiled import refuse_stale

# Some benchmarks run the hot path in their own process (bench.hot_path, bench.memory), where the
# `insights` command's check does not reach: never time an edited module's older compiled copy.
refuse_stale()
