"""The README's promise: `insights demo --no-traffic --env-file F`, then produce and query."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psutil
import pytest

pytestmark = pytest.mark.integration

INSIGHTS = [sys.executable, "-m", "insights"]


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as a dict."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str]]]:
    """A running `insights demo --no-traffic`, and the settings it wrote."""
    env_file, log = tmp_path / "demo.env", tmp_path / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*INSIGHTS, "demo", "--no-traffic", "--env-file", str(env_file)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while not env_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert env_file.exists(), log.read_text()
    try:
        yield process, read_env(env_file)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run an `insights` command with the demo's settings."""
    return subprocess.run(
        [*INSIGHTS, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def port_open(address: str) -> bool:
    """Whether something listens at host:port."""
    host, port = address.rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_demo_produce_query_and_clean_stop(
    demo: tuple[subprocess.Popen[bytes], dict[str, str]], tmp_path: Path
) -> None:
    """Answers DESIGN.md's query, then SIGINT stops the broker, Redis and the worker."""
    process, env = demo
    for key in (
        "INSIGHTS_KAFKA_BOOTSTRAP",
        "INSIGHTS_REDIS_URL",
        "INSIGHTS_TOPIC_PREFIX",
        "INSIGHTS_WORKER_METRICS_URL",
    ):
        assert key in env
    year = datetime.now(UTC).year - 1
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\n".join(
            orjson.dumps(e)
            for e in [
                {
                    "type": "domain_claim",
                    "org_id": "acme",
                    "domain": "acme.com",
                    "action": "claim",
                    "effective_at": f"{year}-01-01T00:00:00Z",
                },
                {
                    "type": "plan_change",
                    "user_id": "557058:1b2c",
                    "product": "trello",
                    "plan": "enterprise",
                    "effective_at": f"{year}-12-09T00:00:00Z",
                },
                {
                    "type": "login",
                    "user_id": "557058:1b2c",
                    "email": "Alice@Acme.com",
                    "product": "trello",
                    "occurred_at": f"{year}-12-02T08:15:00Z",
                },
                {
                    "type": "login",
                    "user_id": "557058:1b2c",
                    "email": "Alice@Acme.com",
                    "product": "trello",
                    "occurred_at": f"{year}-12-09T08:15:00Z",
                },
            ]
        )
    )
    produced = run(["produce", str(events), "--wait", "--timeout", "90"], env)
    assert produced.returncode == 0, produced.stderr
    assert "produced 4 records" in produced.stdout

    queried = run(
        [
            "query",
            "--org",
            "acme",
            "--product",
            "trello",
            "--start",
            f"{year}-12-01",
            "--end",
            f"{year}-12-31",
            "--interval",
            "month",
        ],
        env,
    )
    assert queried.returncode == 0, queried.stderr
    document = orjson.loads(queried.stdout)
    assert document["periods"] == [f"{year}-12-01"]
    assert document["totals"] == {"all": 1, "free": 1, "standard": 0, "premium": 0, "enterprise": 1}

    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert not port_open(env["INSIGHTS_KAFKA_BOOTSTRAP"])
    assert not port_open(env["INSIGHTS_REDIS_URL"].removeprefix("redis://").split("/")[0])


def test_sigterm_while_the_demo_starts_stops_what_it_started(tmp_path: Path) -> None:
    """Its children run in sessions of their own, so only the demo itself can stop them."""
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*INSIGHTS, "demo", "--no-traffic"], stdout=output, stderr=subprocess.STDOUT
        )
    demo = psutil.Process(process.pid)
    try:
        started: list[psutil.Process] = []
        deadline = time.monotonic() + 60
        while len(started) < 2 and process.poll() is None and time.monotonic() < deadline:
            started = demo.children(recursive=True)  # the broker and redis-server first
            time.sleep(0.05)
        assert len(started) >= 2, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 128 + signal.SIGTERM, log.read_text()
        _, alive = psutil.wait_procs(started, timeout=10)
        assert alive == [], [child.cmdline() for child in alive]
    finally:
        for child in demo.children(recursive=True) if process.poll() is None else []:
            child.kill()
        process.kill()


def test_a_demo_whose_redis_server_dies_says_so_and_stops_the_rest(
    demo: tuple[subprocess.Popen[bytes], dict[str, str]], tmp_path: Path
) -> None:
    """Not a demo that says running while its reader answers 503: one line naming the dead
    process and its log, exit 1, and the broker, worker and reader stopped."""
    process, env = demo
    redis_port = env["INSIGHTS_REDIS_URL"].removeprefix("redis://").split("/")[0].split(":")[1]
    (server,) = [
        child
        for child in psutil.Process(process.pid).children(recursive=True)
        if "redis-server" in child.name() and redis_port in " ".join(child.cmdline())
    ]
    server.kill()
    assert process.wait(30) == 1
    output = (tmp_path / "demo.log").read_text()
    assert f"insights: error: redis-server exited with status {-signal.SIGKILL}; see " in output
    assert "redis.log" in output.splitlines()[-1]
    assert not port_open(env["INSIGHTS_KAFKA_BOOTSTRAP"])
    assert not port_open(env["INSIGHTS_READER_URL"].removeprefix("http://"))


# Stand-ins in an argument list for what the `awkward_inputs` fixture makes.
OVERSIZED = "<oversized.jsonl>"
TAKEN_PORT = "<taken port>"


@pytest.fixture
def awkward_inputs(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A file holding a good line, then one no Kafka record can hold; and a loopback port
    another server listens on."""
    oversized = tmp_path / "oversized.jsonl"
    oversized.write_bytes(b'{"type": "heartbeat"}\n{"pad": "' + b"x" * 1_000_000 + b'"}\n')
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield {OVERSIZED: str(oversized), TAKEN_PORT: str(other.getsockname()[1])}


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["query", "--org", "ac me"], "--org"),
        (["token", "create", "--org", "ac me"], "--org"),
        (["token", "list", "--org", "ac me"], "--org"),
        (["token", "revoke", "--org", "ac me", "--id", "t1"], "--org"),
        (["query", "--org", "acme", "--start", "2026-02-30"], "--start"),
        (["query", "--org", "acme", "--product", "bitbucket"], "--product"),
        (["query", "--org", "acme", "--interval", "year"], "--interval"),
        (["simulate", "--out", "/dev/null", "--end", "2026-13-01"], "--end"),
        (["simulate", "--out", "/dev/null", "--days", "5000"], "--days"),
        (["simulate", "--out", "/dev/null", "--end", "2999-01-01"], "--end"),
        (["simulate", "--out", "/dev/null", "--end", str(datetime.now(UTC).date())], "--end"),
        (["produce", __file__, "--timeout", "nan"], "--timeout"),
        (["produce", __file__, "--timeout", "0"], "--timeout"),
        (["produce", __file__, "--topic", "insights.dead-letters", "--wait"], "--topic"),
        (["demo", "--port", "70000"], "--port"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_naming_it(args: list[str], option: str) -> None:
    """README: a bad value gets the usage and the reason, and exit status 2, before anything
    connects (none of these settings points anywhere reachable)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
    env = {
        **clean,
        "INSIGHTS_REDIS_URL": "redis://127.0.0.1:9",
        "INSIGHTS_KAFKA_BOOTSTRAP": "127.0.0.1:9",
    }
    result = subprocess.run([*INSIGHTS, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Usage: " in result.stderr
    assert f"Invalid value for {option}" in " ".join(result.stderr.split()).replace("'", ""), (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["worker"], {}, "INSIGHTS_KAFKA_BOOTSTRAP is not set"),
        (
            ["worker"],
            {
                "INSIGHTS_KAFKA_BOOTSTRAP": "127.0.0.1:9",
                "INSIGHTS_REDIS_URL": "redis://127.0.0.1:9",
            },
            "cannot reach Kafka at 127.0.0.1:9",
        ),
        (
            ["produce", "/no/such/file.jsonl"],
            {"INSIGHTS_KAFKA_BOOTSTRAP": "127.0.0.1:9"},
            "cannot read /no/such/file.jsonl",
        ),
        (["produce", __file__], {"INSIGHTS_KAFKA_BOOTSTRAP": "127.0.0.1:9"}, "cannot reach Kafka"),
        (
            ["query", "--org", "acme"],
            {"INSIGHTS_REDIS_URL": "redis://127.0.0.1:9"},
            "cannot reach Redis",
        ),
        (
            ["query", "--org", "acme"],
            {"INSIGHTS_RETENTION_DAYS": "many"},
            "INSIGHTS_RETENTION_DAYS",
        ),
        (
            ["token", "list", "--org", "acme"],
            {"INSIGHTS_REDIS_URL": "redis://127.0.0.1:9"},
            "cannot reach Redis at redis://127.0.0.1:9",
        ),
        (
            ["token", "list", "--org", "acme"],
            {"INSIGHTS_REDIS_URL": "http://127.0.0.1:9"},
            "INSIGHTS_REDIS_URL is invalid",
        ),
        (["produce", OVERSIZED], {"INSIGHTS_KAFKA_BOOTSTRAP": "127.0.0.1:9"}, "line 2 is"),
        (
            ["demo", "--port", TAKEN_PORT],
            {},
            f"cannot listen on 127.0.0.1:{TAKEN_PORT} (--port): Address already in use",
        ),
    ],
)
def test_failures_end_with_one_clear_line(
    args: list[str], env: dict[str, str], message: str, awkward_inputs: dict[str, str]
) -> None:
    """Every failure: non-zero exit and one line on stderr that says what was wrong."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
    args = [awkward_inputs.get(arg, arg) for arg in args]
    message = message.replace(TAKEN_PORT, awkward_inputs[TAKEN_PORT])
    result = subprocess.run(
        [*INSIGHTS, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
