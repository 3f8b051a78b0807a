"""Unit tests: pure rules, no services."""
