"""Reliability suites: worker crashes, Redis faults, rebalances, out-of-order and bad input."""
