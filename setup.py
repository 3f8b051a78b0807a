"""Build the worker's hot path with mypyc when it is installed (`make compile`, the image).

Everything else about the project is in pyproject.toml. Without mypy in the build environment (an
isolated `pip install -e .`), or with INSIGHTS_PURE_PYTHON=1, the package installs as plain
Python: the same sources, with about 15% more worker CPU per login (streams/compiled.py).
"""

import os
import sys
from pathlib import Path

from setuptools import setup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streams.compiled import HOT_PATH_MODULES  # stdlib only: importable before any dependency

ext_modules = []
if os.environ.get("INSIGHTS_PURE_PYTHON") != "1":
    try:
        from mypyc.build import mypycify
    except ImportError:
        pass
    else:
        # The mypy configuration of pyproject.toml (strict, the pydantic plugin) applies. The
        # modules share one runtime library; named inside a package, it sits in streams/, where
        # every import finds it: at the top level (mypyc's default) an editable install's
        # `insights` script could not import it, only code run from the checkout's root could.
        ext_modules = mypycify(list(HOT_PATH_MODULES), opt_level="3", group_name="streams.hot_path")

setup(ext_modules=ext_modules)
