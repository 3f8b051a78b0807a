"""Which hot-path modules are compiled, and the refusal of a compiled copy older than its source."""

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.compiled import (
    HOT_PATH_MODULES,
    StaleCompiledModuleError,
    compiled_state,
    refuse_stale,
)

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def checkout(root: Path, compiled: dict[str, float], *, source_mtime: float = 1000.0) -> None:
    """A source tree with every hot-path module, and an extension module (of the given mtime)
    beside each module named in `compiled`."""
    (root / "setup.py").write_text("")
    for module in HOT_PATH_MODULES:
        source = root / module
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("")
        os.utime(source, (source_mtime, source_mtime))
        if module in compiled:
            built = source.with_suffix(SUFFIX)
            built.write_bytes(b"")
            os.utime(built, (compiled[module], compiled[module]))


def test_plain_sources_are_pure_python(tmp_path: Path) -> None:
    checkout(tmp_path, {})
    state = refuse_stale(tmp_path)
    assert state.compiled == state.stale == ()
    assert state.summary.startswith("pure Python")


def test_compiled_copies_newer_than_their_sources_are_used(tmp_path: Path) -> None:
    checkout(tmp_path, dict.fromkeys(HOT_PATH_MODULES, 2000.0))
    state = refuse_stale(tmp_path)
    assert state.compiled == HOT_PATH_MODULES
    assert (
        state.summary
        == f"mypyc: {len(HOT_PATH_MODULES)} of {len(HOT_PATH_MODULES)} hot-path modules compiled"
    )


def test_a_compiled_copy_older_than_its_source_is_refused_by_name(tmp_path: Path) -> None:
    edited = HOT_PATH_MODULES[2]
    checkout(tmp_path, {**dict.fromkeys(HOT_PATH_MODULES, 2000.0), edited: 500.0})
    assert compiled_state(tmp_path).stale == (edited,)
    with pytest.raises(StaleCompiledModuleError, match=f"older than their sources: {edited};"):
        refuse_stale(tmp_path)


def test_an_installed_package_is_never_called_stale(tmp_path: Path) -> None:
    """pip writes an installed package's files in no set order: no setup.py, no staleness."""
    checkout(tmp_path, dict.fromkeys(HOT_PATH_MODULES, 500.0))
    (tmp_path / "setup.py").unlink()
    assert refuse_stale(tmp_path).stale == ()


def test_every_hot_path_module_exists() -> None:
    root = Path(__file__).resolve().parents[2]
    assert all((root / module).is_file() for module in HOT_PATH_MODULES)


def test_the_hot_path_imports_from_outside_the_checkout(tmp_path: Path) -> None:
    """As the `insights` script imports it: from any directory, through the installed package
    (mypyc's shared runtime library once sat at the checkout's root, out of that path's reach)."""
    probe = "import streams.core.attribution as module; print(module.__file__)"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    compiled = "streams/core/attribution.py" in compiled_state().compiled
    assert found.stdout.strip().endswith(SUFFIX if compiled else ".py")
