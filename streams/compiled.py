"""The worker's hot-path modules that mypyc compiles to C, and whether this checkout's are current.

Every login runs through these pure, strictly typed modules (decode and validate, attribute, key
names); compiled, they take a quarter less CPU (`python -m bench.hot_path`: 6.6 → 5.0 µs per login)
and the worker about 15% less in all (docs/PERFORMANCE.md, step 28). The Python sources stay the
truth: `make compile` builds the extension modules next to them, `make clean-compiled` removes them,
and without them the same code runs as plain Python. An extension module is imported in preference
to its source, so one older than its source would run old code: `refuse_stale()` names those, and
the `insights` command, the test suite and the benchmarks call it before anything else.

Standard library only: setup.py imports this before any dependency is installed.
"""

import importlib.machinery
from dataclasses import dataclass
from pathlib import Path

HOT_PATH_MODULES: tuple[str, ...] = (
    "schemas/decode.py",
    "schemas/domain_names.py",
    "schemas/login_fast_path.py",
    "agents/records.py",
    "streams/core/attribution.py",
    "streams/core/days.py",
    "streams/core/keys.py",
    "streams/core/timelines.py",
)
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CompiledState:
    """Which hot-path modules have an extension module beside their source, and which of those
    are older than the source."""

    compiled: tuple[str, ...]
    stale: tuple[str, ...]

    @property
    def summary(self) -> str:
        """One line for logs and benchmark results."""
        if not self.compiled:
            return "pure Python (make compile builds the hot path with mypyc)"
        return f"mypyc: {len(self.compiled)} of {len(HOT_PATH_MODULES)} hot-path modules compiled"


def compiled_state(root: Path = ROOT) -> CompiledState:
    """Look for each hot-path module's extension module (`<name>.cpython-311-...so`).

    Staleness is judged in a source checkout only (where setup.py is): an installed package's
    files all carry the time pip wrote them, in no particular order."""
    checkout = (root / "setup.py").exists()
    compiled: list[str] = []
    stale: list[str] = []
    for module in HOT_PATH_MODULES:
        source = root / module
        built = [
            candidate
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
            if (candidate := source.with_suffix(suffix)).exists()
        ]
        if not built:
            continue
        compiled.append(module)
        if checkout and min(path.stat().st_mtime for path in built) < source.stat().st_mtime:
            stale.append(module)
    return CompiledState(tuple(compiled), tuple(stale))


class StaleCompiledModuleError(RuntimeError):
    """An extension module older than its source: the edited source would not run."""


def refuse_stale(root: Path = ROOT) -> CompiledState:
    """The state, or an error naming the modules whose compiled copy predates their source."""
    state = compiled_state(root)
    if state.stale:
        raise StaleCompiledModuleError(
            f"compiled modules older than their sources: {', '.join(state.stale)}; "
            "run `make compile` (or `make clean-compiled` to run them as plain Python)"
        )
    return state
