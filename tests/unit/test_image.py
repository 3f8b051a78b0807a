"""The service image: Dockerfile, build context and the pinned runtime dependencies it installs.

No Docker engine runs on the development machines, so the image is kept correct by reading its
recipe: a pinned slim base, a non-root user, a health check, and a lock that satisfies pyproject.
"""

import re
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_builds_a_small_non_root_image_from_pinned_parts() -> None:
    """Multi-stage slim Python, the lock, a numeric non-root user, a health check, `insights`."""
    steps = dockerfile_instructions()
    bases = [args.split()[0] for op, args in steps if op == "FROM"]
    assert len(bases) == 2
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", b) for b in bases)
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert ("ENTRYPOINT", '["insights"]') in final
    assert any(op == "HEALTHCHECK" for op, _ in final)
    health = next(args for op, args in final if op == "HEALTHCHECK")
    assert health.endswith('CMD ["python", "-m", "insights.worker_probe"]')
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "pip install --requirement /src/requirements.lock" in runs
    runs_joined = [" ".join(args.split()) for op, args in steps if op == "RUN"]
    install = next(run for run in runs_joined if "/src &&" in run)
    assert "&& pip install --no-deps --no-build-isolation /src &&" in install
    assert install.endswith("&& pip check")
    # The hot path is compiled with the dev tools' mypy, which is gone again before the copy.
    dev_mypy = next(
        Requirement(t)
        for t in PYPROJECT["project"]["optional-dependencies"]["dev"]
        if t.startswith("mypy")
    )
    built_with = re.match(r"pip install --no-deps mypy==(\S+) ", install)
    assert built_with
    assert dev_mypy.specifier.contains(built_with[1])
    assert "&& pip uninstall --yes mypy " in install


def test_the_image_gets_every_package_and_the_context_excludes_the_rest() -> None:
    """Each package pyproject ships is copied, and .dockerignore lets exactly those in."""
    copied = {args.split()[0] for op, args in dockerfile_instructions() if op == "COPY"}
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert packages <= copied
    assert "*" in ignore
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert copied - {"--from=build"} <= allowed | {"pyproject.toml", "README.md", "setup.py"}
    assert allowed == packages | {"pyproject.toml", "README.md", "setup.py", "requirements.lock"}


def locked() -> dict[str, str]:
    """requirements.lock as {canonical name: version}; every line must be an exact pin."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert re.fullmatch(r"[\w.+!-]+", version), f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_runtime_dependency_within_pyproject_ranges() -> None:
    """The image installs exactly what the lock says: it must satisfy pyproject and omit dev."""
    pins = locked()
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), text
    assert "hiredis" in pins  # redis[hiredis]: the C reply parser
    dev = {
        canonicalize_name(Requirement(t).name)
        for t in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    assert dev.isdisjoint(pins), "dev tools do not belong in the image"
