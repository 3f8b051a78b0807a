"""Organization Insights test suite."""
