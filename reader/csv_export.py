"""The active-users document as CSV: one row per period and series, nulls left empty."""

import csv
import io
from collections.abc import Mapping
from typing import Any

from streams.core.series import SERIES_NAMES

HEADER = ("period", "plan", "active_users", "missing", "partial")


def csv_rows(document: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Rows in period order, and within a period in the order all, free, ..., enterprise."""
    rows = []
    for index, period in enumerate(document["periods"]):
        missing = "true" if document["missing"][index] else "false"
        partial = "true" if document["partial"][index] else "false"
        for name in SERIES_NAMES:
            value = document["series"][name][index]
            # Empty, not 0: a missing period has no data, which is not the same as no users.
            rows.append((period, name, "" if value is None else str(value), missing, partial))
    return rows


def render_csv(document: Mapping[str, Any]) -> str:
    """The CSV text, header first, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(csv_rows(document))
    return out.getvalue()


def csv_filename(document: Mapping[str, Any]) -> str:
    """`<org>-<product>-<start>-<end>-<interval>.csv`; every part is validated, so it is safe."""
    parts = (document[key] for key in ("org_id", "product", "start", "end", "interval"))
    return "-".join(parts) + ".csv"
