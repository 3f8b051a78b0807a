"""The image's health check: fetch the worker's /metrics where its own settings serve it.

`python -m insights.worker_probe` exits 0 when /metrics answers, 1 otherwise. It reads the same
variables as the worker (a port or host set in compose is followed), asks loopback when the
worker binds every address, and passes with INSIGHTS_WORKER_METRICS_PORT=0 (metrics off):
there is nothing to probe, and failing would get a working worker restarted.
"""

import sys
import urllib.request

from streams.settings import Settings, load_settings

# What to ask when the worker listens on every address of a family.
LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def metrics_url(settings: Settings) -> str | None:
    """The URL the worker serves /metrics on, from inside its container; None when off."""
    if not settings.worker_metrics_port:
        return None
    host = LOOPBACK.get(settings.worker_metrics_host, settings.worker_metrics_host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.worker_metrics_port}/metrics"


def main() -> int:
    """0 when the worker's /metrics answers (or is off), 1 with the reason otherwise."""
    url = metrics_url(load_settings())
    if url is None:
        print("INSIGHTS_WORKER_METRICS_PORT=0: metrics off, nothing to probe")
        return 0
    try:
        with urllib.request.urlopen(url, timeout=4):
            return 0
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
