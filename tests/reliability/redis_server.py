"""A redis-server with an append-only file that we can stop, crash, pause, restart and snapshot.

Production requires AOF persistence with `appendfsync always` (docs/operations.md): a Redis that
restarts without an AOF has lost its counts, and one on `everysec` can lose the writes of its last
seconds, whose offsets the worker already committed (bench/aof_crash.py shows it). The faults here
use the production setting, so a crash keeps every write Redis acknowledged.
"""

import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from insights.embedded import free_port, redis_server_binary, stop_process, wait_for_redis

START_TIMEOUT_S = 30.0


class PersistentRedis:
    """One redis-server on a fixed loopback port whose data survives restarts (AOF in `data`)."""

    def __init__(self, data: Path, port: int | None = None, options: tuple[str, ...] = ()) -> None:
        """Nothing starts before `start`; `options` are added to (and override) the defaults."""
        self.data = data
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None
        data.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """The URL clients use; unchanged across restarts."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) on the same port and directory; returns once it answers PING."""
        command = [
            redis_server_binary(),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data)),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            *("--daemonize", "no", "--maxmemory-policy", "noeviction"),
            *self.options,
        ]
        with (self.data / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        wait_for_redis(self.url, START_TIMEOUT_S, process=self.process, log=self.data / "redis.log")

    def stop(self) -> None:
        """A clean shutdown: SIGTERM (Redis flushes the AOF), then wait for the exit."""
        if self.process is not None:
            stop_process(self.process, grace_s=30.0)

    def crash(self) -> None:
        """SIGKILL: no shutdown; with `always` the AOF has every write before its reply."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: connections stay open, commands hang unanswered."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def snapshot(self, destination: Path) -> Path:
        """Copy the data directory (call while Redis is stopped or paused: a frozen state)."""
        shutil.copytree(self.data, destination, ignore=shutil.ignore_patterns("*.log", "temp-*"))
        return destination


@contextmanager
def persistent_redis(data: Path, options: tuple[str, ...] = ()) -> Iterator[PersistentRedis]:
    """A started PersistentRedis, always stopped (and resumed first if paused) on the way out."""
    server = PersistentRedis(data, options=options)
    server.start()
    try:
        yield server
    finally:
        server.resume()
        server.stop()
