// The tables under the chart: totals over the range, every value per period, and domains.
// Built with DOM nodes and textContent only, so no API string is ever parsed as HTML.

import { humanDay, humanRange, periodTitle } from "./dates.js";
import { periodState, statusWord } from "./periods.js";
import { PRODUCT_LABELS, SERIES } from "./series.js";

/** A table cell (`th` for row headers) holding text. */
function cell(tag, text, className = "") {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  if (tag === "th") node.scope = "row";
  return node;
}

/** A count for people; null is "no data", never 0. */
function count(value) {
  return value === null ? "no data" : value.toLocaleString();
}

/** The totals table: distinct users per plan and in total over the whole range. */
export function renderTotals(table, doc) {
  const range = humanRange(doc.start, doc.end);
  table.caption.textContent = `Distinct active users, ${PRODUCT_LABELS[doc.product]}, ${range}`;
  const body = table.tBodies[0];
  body.replaceChildren(
    ...SERIES.map(({ key, label }) => {
      const row = document.createElement("tr");
      row.dataset.series = key;
      if (key === "all") row.className = "total-row";
      const value = doc.totals[key];
      row.append(cell("th", label), cell("td", count(value), "num"));
      row.lastChild.dataset.value = value === null ? "" : String(value);
      return row;
    }),
  );
}

/** Every value of the chart as a table (for screen readers and for copying). */
export function renderDataTable(table, doc) {
  table.caption.textContent =
    `Active users per ${doc.interval}, ${PRODUCT_LABELS[doc.product]}, ` +
    humanRange(doc.start, doc.end);
  const head = document.createElement("tr");
  head.append(
    ...["Period", "Status", ...SERIES.map((s) => s.label)].map((text, i) => {
      const th = cell("th", text, i > 1 ? "num" : "");
      th.scope = "col";
      return th;
    }),
  );
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(
    ...doc.periods.map((period, index) => {
      const row = document.createElement("tr");
      row.dataset.period = period;
      row.dataset.missing = String(doc.missing[index]);
      row.dataset.partial = String(doc.partial[index]);
      const state = periodState(doc, index);
      row.className = state === "pending" ? "missing pending" : state; // drawn as missing
      row.append(cell("th", periodTitle(doc, index)), cell("td", statusWord(doc, index)));
      for (const { key } of SERIES) row.append(cell("td", count(doc.series[key][index]), "num"));
      return row;
    }),
  );
}

/** How a domain's claim stands: held since a day, or held between two days. */
function claimText(domain) {
  const day = (instant) => (instant ? humanDay(instant.slice(0, 10)) : "unknown");
  if (domain.claimed) return `since ${day(domain.claimed_at)}`;
  return `${day(domain.claimed_at)} – ${day(domain.released_at)} (released)`;
}

/** The domains table: each claimed domain, its claim and its active users. */
export function renderDomains(table, doc) {
  table.caption.textContent =
    `Claimed email domains and their active users, ${humanRange(doc.start, doc.end)}`;
  const rows = doc.domains.map((domain) => {
    const row = document.createElement("tr");
    row.dataset.domain = domain.domain;
    if (!domain.claimed) row.className = "released";
    row.append(
      cell("th", domain.domain),
      cell("td", claimText(domain)),
      cell("td", domain.active_users.toLocaleString(), "num"),
    );
    return row;
  });
  if (rows.length === 0) {
    const empty = cell("td", "This organization has not claimed any domain yet.");
    empty.colSpan = 3;
    rows.push(Object.assign(document.createElement("tr"), { className: "empty" }));
    rows[0].append(empty);
  }
  table.tBodies[0].replaceChildren(...rows);
}
