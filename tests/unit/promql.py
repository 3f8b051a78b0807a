"""What the code exports to Prometheus, and the metric and label names a PromQL expression uses."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from agents.batch_histogram import BatchHistogram
from agents.metrics import WorkerMetrics
from reader.metrics import ReaderMetrics
from reader.server import process_registry

# Samples per metric type, as the text exposition names them (client_python adds `_created`).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}
EXTRA_LABELS = {"_bucket": ("le",), "": ()}
# Labels Prometheus adds to every scraped series, and the series it makes itself.
TARGET_LABELS = frozenset({"job", "instance"})
PROMETHEUS_SERIES = {
    "up": frozenset(),
    "ALERTS": frozenset({"alertname", "alertstate", "severity"}),
}

STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
VARIABLE = re.compile(r"\$\{?\w+\}?")  # Grafana's $__rate_interval and friends
RANGE = re.compile(r"\[[^\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}")
MATCHER_LABEL = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")
WORD = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*")
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})


def catalogue() -> dict[str, frozenset[str]]:
    """Every sample name the worker and the reader expose, with its label names."""
    names: dict[str, frozenset[str]] = {}
    reader_registry = process_registry()
    for metrics in (WorkerMetrics(CollectorRegistry()), ReaderMetrics(reader_registry)):
        for metric in vars(metrics).values():
            if isinstance(metric, MetricWrapperBase):
                names.update(_sample_names(metric))
            elif isinstance(metric, BatchHistogram):  # no `_created`: it keeps no creation time
                labels = frozenset({metric.label})
                names.update({metric.name + "_sum": labels, metric.name + "_count": labels})
                names[metric.name + "_bucket"] = labels | {"le"}
    for family in reader_registry.collect():  # process, platform and GC collectors
        for sample in family.samples:
            names[sample.name] = names.get(sample.name, frozenset()) | frozenset(sample.labels)
    return names


def _sample_names(metric: MetricWrapperBase) -> dict[str, frozenset[str]]:
    """A labelled metric has no samples until used, so its names come from its type."""
    # client_python keeps name, type and label names only in these attributes.
    base, kind, labels = metric._name, str(metric._type), frozenset(metric._labelnames)
    return {
        base + suffix: labels | frozenset(EXTRA_LABELS.get(suffix, ())) for suffix in SUFFIXES[kind]
    }


@dataclass
class Expression:
    """The names one PromQL expression refers to."""

    metrics: set[str] = field(default_factory=set)
    selectors: list[tuple[str, set[str]]] = field(default_factory=list)  # (metric, matcher labels)
    grouping: set[str] = field(default_factory=set)  # labels in by/without/on/ignoring


def parse(expr: str) -> Expression:
    """Metric names, selector labels and grouping labels of `expr` (enough for our own files)."""
    found = Expression()
    text = RANGE.sub("", VARIABLE.sub("", STRING.sub('""', expr)))
    for clause in GROUPING.findall(text):
        found.grouping |= {label.strip() for label in clause.split(",") if label.strip()}
    text = GROUPING.sub(" ", text)
    for name, matchers in SELECTOR.findall(text):
        if name:
            found.selectors.append((name, set(MATCHER_LABEL.findall(matchers))))
    text = SELECTOR.sub(lambda match: f" {match.group(1) or ''} ", text)
    for match in WORD.finditer(text):
        is_call = text[match.end() :].lstrip().startswith("(")
        if not is_call and match.group() not in KEYWORDS:
            found.metrics.add(match.group())
    return found


def problems(expr: str, exported: dict[str, frozenset[str]]) -> list[str]:
    """What in `expr` the code does not export: unknown metrics or labels."""
    known = exported | PROMETHEUS_SERIES
    found = parse(expr)
    errors = [f"unknown metric {name}" for name in sorted(found.metrics - known.keys())]
    for name, labels in found.selectors:
        allowed = known.get(name, frozenset()) | TARGET_LABELS
        errors += [f"{name} has no label {label}" for label in sorted(labels - allowed)]
    in_scope = _labels_of(known.get(name, frozenset()) for name in found.metrics)
    errors += [f"no metric here has label {label}" for label in sorted(found.grouping - in_scope)]
    return errors


def _labels_of(label_sets: Iterable[frozenset[str]]) -> frozenset[str]:
    """The union of label sets, plus the labels every scraped series carries."""
    union = set(TARGET_LABELS)
    for labels in label_sets:
        union |= labels
    return frozenset(union)
