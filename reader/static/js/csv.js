// The CSV of the document on screen, byte for byte what GET .../active-users.csv answers for
// the same parameters (reader/csv_export.py): built from the shown document rather than fetched
// again, so live traffic arriving in between cannot make the file differ from the chart.

import { SERIES } from "./series.js";

const HEADER = ["period", "plan", "active_users", "missing", "partial"];

// Python's csv module quotes only fields holding a comma, a quote or a line break.
function field(value) {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV text: header, then per period one row per series; missing values empty; CRLF. */
export function csvText(document) {
  const rows = [HEADER];
  document.periods.forEach((period, index) => {
    const flags = [String(document.missing[index]), String(document.partial[index])];
    for (const { key } of SERIES) {
      const value = document.series[key][index];
      rows.push([period, key, value === null ? "" : String(value), ...flags]);
    }
  });
  return rows.map((row) => row.map(field).join(",") + "\r\n").join("");
}

/** `<org>-<product>-<start>-<end>-<interval>.csv`, as the API's Content-Disposition names it. */
export function csvFilename(document) {
  const parts = ["org_id", "product", "start", "end", "interval"].map((key) => document[key]);
  return `${parts.join("-")}.csv`;
}

/** Offer the document's CSV as a file download (a Blob: nothing is fetched). */
export function downloadCsv(document) {
  const blob = new Blob([csvText(document)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = Object.assign(window.document.createElement("a"), {
    href: url,
    download: csvFilename(document),
  });
  window.document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
