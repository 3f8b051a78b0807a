"""The deploy files agree with the code: compose, Dockerfile, lock, Prometheus and Grafana.

No Docker engine runs on the development machines, so these checks (and the real Prometheus in
tests/integration/test_prometheus.py) are what keep docker-compose.yml and its configs correct.
"""

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.settings import Settings
from streams.topics import TopicNames
from tests.unit.promql import catalogue, problems

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = {"kafka", "kafka-init", "redis", "worker", "reader", "prometheus", "grafana"}
BUILT = ("worker", "reader")  # the services that run this project's image


def load_yaml(path: Path) -> Any:
    """One YAML document (compose anchors and merge keys resolved)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


COMPOSE: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")
PROMETHEUS: dict[str, Any] = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
ALERTS: dict[str, Any] = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
DASHBOARD: dict[str, Any] = json.loads((DEPLOY / "grafana/dashboards/insights.json").read_text())
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXPORTED = catalogue()


def service(name: str) -> dict[str, Any]:
    """One compose service."""
    found: dict[str, Any] = COMPOSE["services"][name]
    return found


def environment(name: str) -> dict[str, str]:
    """A service's environment as strings (compose's mapping form)."""
    return {key: str(value) for key, value in service(name).get("environment", {}).items()}


def scrape_job(name: str) -> dict[str, Any]:
    """One scrape config of deploy/prometheus/prometheus.yml."""
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    found: dict[str, Any] = jobs[name]
    return found


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of alerts.yml."""
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def dashboard_targets() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of the dashboard."""
    return [
        (panel["title"], target["expr"])
        for panel in DASHBOARD["panels"]
        for target in panel.get("targets", [])
    ]


# --- PromQL names against what the code exports ---


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum by (topic) (rate(insights_events_consumed_total[5m]))", []),
        ("rate(insights_events_consumed[5m])", ["unknown metric insights_events_consumed"]),
        ('insights_worker_ready{product="jira"}', ["insights_worker_ready has no label product"]),
        ("sum by (org_id) (insights_redis_errors_total)", ["no metric here has label org_id"]),
        ('absent(up{job="insights-worker"} == 1)', []),
        ("histogram_quantile(0.9, sum by (le) (rate(insights_event_lag_seconds_bucket[1m])))", []),
    ],
)
def test_the_promql_check_tells_known_names_from_unknown_ones(
    expr: str, expected: list[str]
) -> None:
    """The check below would catch a renamed metric, a wrong label or a missing suffix."""
    assert problems(expr, EXPORTED) == expected


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: str(rule["alert"]))
def test_alert_rules_use_only_exported_metrics_and_labels(rule: dict[str, Any]) -> None:
    """A typo in an alert expression would silently never fire."""
    assert problems(rule["expr"], EXPORTED) == []
    assert rule["labels"]["severity"] in {"warning", "critical"}
    anchor = rule["alert"].lower()
    assert rule["annotations"]["runbook"] == f"docs/operations.md#{anchor}"
    assert f"### {rule['alert']}" in (ROOT / "docs/operations.md").read_text()


@pytest.mark.parametrize(("title", "expr"), dashboard_targets(), ids=lambda v: str(v)[:40])
def test_dashboard_queries_use_only_exported_metrics_and_labels(title: str, expr: str) -> None:
    """A panel querying a metric nobody exports would stay empty forever."""
    assert problems(expr, EXPORTED) == [], title


def test_every_worker_metric_is_on_the_dashboard_or_in_an_alert() -> None:
    """New metrics get a panel; none is exported for nobody."""
    used = " ".join([expr for _, expr in dashboard_targets()] + [r["expr"] for r in alert_rules()])
    worker = {name for name in EXPORTED if name.startswith("insights_")}
    unused = {name for name in worker if not name.endswith("_created") and name not in used}
    bases = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in unused}
    assert {base for base in bases if base not in used} == set()


# --- docker-compose.yml ---


def test_compose_has_the_production_like_services() -> None:
    """Kafka (KRaft), topic init, Redis, workers, reader, Prometheus, Grafana."""
    assert set(COMPOSE["services"]) == SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str) -> None:
    """No `latest` and no bare names: an upgrade is a reviewed change."""
    image = service(name)["image"]
    repository, _, tag = image.rpartition(":")
    assert repository, image
    assert re.fullmatch(r"v?\d+\.\d+\.\d+(-[\w.]+)?", tag), image
    if name in BUILT:
        assert service(name)["build"]["context"] == "."
        assert image == f"organization-insights:{PYPROJECT['project']['version']}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_insights_variable_is_a_setting_with_a_valid_value(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt INSIGHTS_* would be ignored silently (extra="ignore"); a bad value fails here."""
    variables = {k: v for k, v in environment(name).items() if k.startswith("INSIGHTS_")}
    fields = {f"INSIGHTS_{field.upper()}" for field in Settings.model_fields}
    assert set(variables) <= fields
    for key in Settings.model_fields:
        monkeypatch.delenv(f"INSIGHTS_{key.upper()}", raising=False)
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    Settings()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_start_up_waits_on_health_checks_and_completed_init(name: str) -> None:
    """depends_on always names a condition the dependency can meet."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    for dependency, rule in service(name).get("depends_on", {}).items():
        target = service(dependency)
        condition = rule["condition"]
        if condition == "service_healthy":
            assert "healthcheck" in target or ("build" in target and "HEALTHCHECK" in dockerfile)
        else:
            assert condition in {"service_completed_successfully", "service_started"}
        if condition == "service_completed_successfully":
            assert target.get("restart") == "no"


def test_workers_scale_and_expose_metrics_to_prometheus() -> None:
    """`--scale worker=N` needs no fixed name or host port; Prometheus finds each by DNS."""
    worker, env = service("worker"), environment("worker")
    assert "ports" not in worker
    assert "container_name" not in worker
    assert worker["deploy"]["replicas"] >= 2
    assert worker["command"] == ["worker"]
    assert env["INSIGHTS_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert worker["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    (discovery,) = scrape_job("insights-worker")["dns_sd_configs"]
    assert discovery["names"] == ["worker"]
    # A gone replica drops out of DNS, so InsightsWorkerDown counts against compose's replicas.
    (down,) = [rule for rule in alert_rules() if rule.get("alert") == "InsightsWorkerDown"]
    expected = re.match(r'(\d+) - count\(up\{job="insights-worker"\} == 1\) > 0\n', down["expr"])
    assert expected, down["expr"]
    assert int(expected[1]) == worker["deploy"]["replicas"]
    assert discovery["type"] == "A"
    assert discovery["port"] == int(env["INSIGHTS_WORKER_METRICS_PORT"])


def test_prometheus_scrapes_the_reader_where_it_listens() -> None:
    """The reader's --host/--port, its /readyz health check and the scrape target agree."""
    command = service("reader")["command"]
    port = command[command.index("--port") + 1]
    assert command[:1] == ["reader"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    (static,) = scrape_job("insights-reader")["static_configs"]
    assert static["targets"] == [f"reader:{port}"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(service("reader")["healthcheck"]["test"])
    assert service("reader")["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_kafka_runs_kraft_and_advertises_the_bootstrap_the_services_use() -> None:
    """One broker-controller; its PLAINTEXT listener is what INSIGHTS_KAFKA_BOOTSTRAP says."""
    kafka = environment("kafka")
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{kafka['KAFKA_NODE_ID']}@kafka:9093"
    for name in ("kafka-init", *BUILT):
        bootstrap = environment(name)["INSIGHTS_KAFKA_BOOTSTRAP"]
        assert f"PLAINTEXT://{bootstrap}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "/var/lib/kafka/data" in " ".join(service("kafka")["volumes"])


def test_kafka_init_creates_every_topic_with_partitions_and_replayable_retention() -> None:
    """The topics of streams/topics.py; control topics kept forever, logins for the window."""
    script = " ".join(service("kafka-init")["command"])
    loop = re.search(r"for spec in ([^;]+);", script)
    assert loop is not None, "kafka-init no longer loops over the topics"
    retention = dict(spec.split(":") for spec in loop.group(1).split())
    assert list(retention) == [t.removeprefix(".") for t in TopicNames.from_prefix("").all()]
    assert retention["plan-changes"] == retention["domain-claims"] == "-1"
    assert retention["logins"] == "$${logins_ms}"
    assert "logins_ms=$$(( $${INSIGHTS_RETENTION_DAYS} * 86400000 ))" in script
    assert '--topic "$${INSIGHTS_TOPIC_PREFIX}.$${topic}"' in script
    assert '--partitions "$${INSIGHTS_TOPIC_PARTITIONS}"' in script
    init, worker = environment("kafka-init"), environment("worker")
    for key in ("INSIGHTS_TOPIC_PREFIX", "INSIGHTS_TOPIC_PARTITIONS", "INSIGHTS_RETENTION_DAYS"):
        assert init[key] == worker[key]


def test_kafka_init_script_runs_under_a_posix_shell() -> None:
    """The script itself, with compose's `$$` unescaped and kafka-topics.sh replaced by echo."""
    script = service("kafka-init")["command"][0].replace("$$", "$")
    script = script.replace("/opt/kafka/bin/kafka-topics.sh", "echo")
    env = {"PATH": os.environ["PATH"], **environment("kafka-init")}
    done = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=10, check=True
    )
    created = re.findall(r"--topic (\S+) .*--config retention\.ms=(\S+)", done.stdout)
    prefix, days = env["INSIGHTS_TOPIC_PREFIX"], int(env["INSIGHTS_RETENTION_DAYS"])
    assert dict(created) == {
        f"{prefix}.logins": str(days * 86_400_000),
        f"{prefix}.plan-changes": "-1",
        f"{prefix}.domain-claims": "-1",
        f"{prefix}.dead-letters": str(30 * 86_400_000),
    }


def test_redis_persists_with_an_append_only_file() -> None:
    """The counts live only in Redis: an AOF fsynced before each reply, a volume, no eviction."""
    redis = service("redis")
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync always" in command
    assert "--maxmemory-policy noeviction" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_mounts_exist_and_named_volumes_are_declared() -> None:
    """Every ./path mounted exists in the repository; every named volume is declared."""
    for name in SERVICES:
        for volume in service(name).get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in COMPOSE["volumes"], f"{name} uses undeclared volume {source}"


def test_prometheus_in_compose_loads_this_config() -> None:
    """The mounted directory is where --config.file points, and rule files sit beside it."""
    prometheus = service("prometheus")
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    for rule_file in PROMETHEUS["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).is_file()
    assert {job["job_name"] for job in PROMETHEUS["scrape_configs"]} == {
        "insights-worker",
        "insights-reader",
        "prometheus",
    }


# --- Grafana ---


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboard() -> None:
    """The datasource points at the compose Prometheus; the provider reads the mounted folder."""
    (source,) = load_yaml(DEPLOY / "grafana/provisioning/datasources/prometheus.yml")["datasources"]
    (provider,) = load_yaml(DEPLOY / "grafana/provisioning/dashboards/insights.yml")["providers"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in service("prometheus")["ports"]
    assert (
        f"./deploy/grafana/dashboards:{provider['options']['path']}:ro"
        in service("grafana")["volumes"]
    )
    assert {p["datasource"]["uid"] for p in DASHBOARD["panels"] if "datasource" in p} == {
        source["uid"]
    }


def test_dashboard_panels_are_well_formed_and_do_not_overlap() -> None:
    """Unique ids and refIds, every query has an expression, panels tile the 24-column grid."""
    panels = DASHBOARD["panels"]
    assert DASHBOARD["uid"]
    assert DASHBOARD["id"] is None
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
        targets = panel.get("targets", [])
        assert panel["type"] == "row" or targets, panel["title"]
        assert len({target["refId"] for target in targets}) == len(targets)
        assert all(target["expr"].strip() for target in targets)


def test_the_operations_guide_documents_exactly_the_settings() -> None:
    """A new setting gets a row in docs/operations.md; a removed one loses it."""
    guide = (ROOT / "docs/operations.md").read_text()
    documented = set(re.findall(r"`(INSIGHTS_[A-Z_]+)`", guide))
    assert documented == {f"INSIGHTS_{field.upper()}" for field in Settings.model_fields}
