"""A worker start leaves nothing in its working directory: the worker keeps no Faust tables."""

import asyncio
from pathlib import Path

import pytest

from streams.app import create_app
from streams.settings import Settings


def test_first_start_creates_no_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(Settings(kafka_bootstrap="127.0.0.1:1", app_id="no-litter"))
    asyncio.run(app.on_first_start())  # upstream makes `no-litter-data/v1/tables` here
    assert list(tmp_path.iterdir()) == []


def test_an_app_with_a_table_still_gets_its_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(Settings(kafka_bootstrap="127.0.0.1:1", app_id="with-table"))
    app.Table("counts", default=int)
    asyncio.run(app.on_first_start())
    assert (tmp_path / "with-table-data" / "v1" / "tables").is_dir()
