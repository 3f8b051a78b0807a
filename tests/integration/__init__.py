"""Integration tests: the real embedded broker and a real redis-server."""
