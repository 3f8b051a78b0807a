"""Benchmarks: figures are measured here, never asserted by timed tests."""
