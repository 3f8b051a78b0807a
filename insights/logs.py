"""Logging setup: JSON lines when stderr is not a terminal, plain text on a terminal."""

import sys
from typing import Any

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(level: str = "INFO", json: bool | None = None) -> dict[str, Any]:
    """A dictConfig for the worker and reader; JSON unless a person is watching a terminal."""
    as_json = (not sys.stderr.isatty()) if json is None else json
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if as_json
        else {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # Faust prints ASCII tables at INFO on every rebalance: useful on a terminal only.
            "faust": {"level": "INFO" if not as_json else "WARNING"},
            "mode": {"level": "INFO" if not as_json else "WARNING"},
            "aiokafka": {"level": "WARNING"},
        },
    }
