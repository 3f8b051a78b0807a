"""Organization Insights: composition root (CLI and embedded dev stack)."""
