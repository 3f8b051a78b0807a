"""Run the reader on uvicorn: `insights reader [--host H] [--port N]`."""

import uvicorn
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from insights.logs import logging_config
from reader.app import create_reader_app
from reader.listening import ReaderStartError, listen
from streams.settings import Settings

DEFAULT_HOST = "127.0.0.1"  # loopback unless asked: the API serves tenant data
DEFAULT_PORT = 8080


def process_registry() -> CollectorRegistry:
    """A registry of this process's own: request metrics plus process, platform and GC facts."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn runs the lifespan, which closes the Redis client."""
    app = create_reader_app(settings, registry=process_registry())
    listener = listen(host, port)
    # No access log: request paths carry org ids, and /metrics already counts every request.
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="info", log_config=logging_config()
    )
    server = uvicorn.Server(config)
    server.run(sockets=[listener])
    if not server.started:
        raise ReaderStartError("the reader did not start; the log line above says why")
