// The dashboard page: sign-in, controls, and one render of chart and tables per answer.
// The last rendered document is exposed as `window.insightsDashboard` for browser tests.

import { ApiError, getActiveUsers, getDomains } from "./api.js";
import { downloadCsv } from "./csv.js";
import { humanRange, presetRange } from "./dates.js";
import { renderLegend } from "./legend.js";
import { createLineChart } from "./linechart.js";
import { forgetToken, lastOrg, loadCredentials, saveCredentials } from "./session.js";
import { PRODUCT_LABELS } from "./series.js";
import { renderDataTable, renderDomains, renderTotals } from "./tables.js";

const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;
const $ = (id) => document.getElementById(id);
const view = { credentials: null, chart: null, inFlight: null, document: null, renders: 0 };
// What tests may read (never the credentials): the page's state and what it last drew.
window.insightsDashboard = Object.freeze({
  get state() { return view.state; },
  get document() { return view.document; },
  get params() { return view.params; },
  get domains() { return view.domains; },
  get renders() { return view.renders; },
});

/** Show one of the two screens and mark the page's state for people and tests. */
function setState(state) {
  document.body.dataset.state = state;
  view.state = state;
}

/** A line in the status region; errors are announced at once. */
function say(message, kind = "") {
  const status = $("status");
  status.textContent = message;
  status.className = `notice${kind ? ` notice-${kind}` : ""}`;
  status.setAttribute("role", kind === "error" ? "alert" : "status");
}

/** The query of the controls, as the API takes it. */
function currentParams() {
  return {
    product: $("product").value,
    start: $("start").value,
    end: $("end").value,
    interval: document.querySelector('input[name="interval"]:checked').value,
  };
}

/** Fill the dates from the chosen preset, and pick the interval that suits it if asked. */
function applyPreset({ suggestInterval = true } = {}) {
  const range = presetRange($("range").value);
  if (!range) return;
  $("start").value = range.start;
  $("end").value = range.end;
  if (suggestInterval) $(`interval-${range.interval}`).checked = true;
}

/** Back to the sign-in form, with a reason when there is one. */
function showSignIn(reason = "") {
  view.inFlight?.abort();
  view.credentials = null;
  $("dashboard").hidden = true;
  $("session").hidden = true;
  $("sign-in").hidden = false;
  $("org-input").value ||= lastOrg();
  $("sign-in-error").textContent = reason;
  $("sign-in-error").hidden = !reason;
  setState("signed-out");
  (reason ? $("token-input") : $("org-input")).focus();
}

/** Into the dashboard with these credentials, then load everything. */
function showDashboard(credentials) {
  view.credentials = credentials;
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("session").hidden = false;
  $("session-org").textContent = credentials.org;
  view.chart ??= createLineChart($("chart"));
  refresh();
}

/** What a failed request means for the user, and whether it ends the session. */
function explain(error) {
  if (error.status === 401 || error.status === 403) {
    const org = view.credentials?.org;
    forgetToken(); // a refused token is of no further use, even after a reload
    return showSignIn(error.status === 401 ? "That token is unknown or was revoked."
      : `This token may not read organization "${org}".`);
  }
  const hint = error instanceof ApiError ? "" : " Is the reader running?";
  refuse(`Could not load the data: ${error.message}.${hint}`);
}

/** The controls ask for something not shown: say so, name what the chart still shows, and
 *  offer no CSV until a new answer is drawn (the CSV is of what is shown). */
function refuse(message) {
  const shown = view.document;
  const still = shown ? ` The chart still shows ${humanRange(shown.start, shown.end)}.` : "";
  $("download-csv").disabled = true;
  say(message + still, "error");
  setState("error");
}

/** Chart, subtitle, tables and the canvas's text alternative for one document. */
function render(doc, params) {
  view.chart.draw(doc);
  const missing = doc.missing.filter(Boolean).length;
  const partial = doc.partial.filter(Boolean).length;
  const product = PRODUCT_LABELS[doc.product];
  const range = humanRange(doc.start, doc.end);
  $("chart-title").textContent = `Active users per ${doc.interval} · ${product}`;
  const notes = [range + " (UTC days)"];
  if (missing) notes.push(`${missing} missing ${missing === 1 ? "period" : "periods"}`);
  if (partial) notes.push(`${partial} partial`);
  $("chart-subtitle").textContent = notes.join(" · ");
  $("chart").setAttribute(
    "aria-label",
    `Line chart of active users per plan and for all plans, ${product}, ${range}, per ` +
      `${doc.interval}; ${missing} missing and ${partial} partial periods. ` +
      "The values are listed in the table below the chart.",
  );
  $("chart").dataset.missingPeriods = doc.periods.filter((_, i) => doc.missing[i]).join(" ");
  renderTotals($("totals"), doc);
  renderDataTable($("data-table"), doc);
  $("download-csv").disabled = false;
  Object.assign(view, { document: doc, params, renders: view.renders + 1 });
  // What is on screen, as attributes: tests wait on them without evaluating script.
  Object.assign($("dashboard").dataset, {
    product: doc.product, start: doc.start, end: doc.end, interval: doc.interval,
  });
  const empty = doc.totals.all === null;
  const updated = `Updated ${new Date().toLocaleTimeString()}.`;
  say(empty ? "No data has arrived for this range yet." : updated);
}

/** Ask for the document of the current controls and render it (a newer request wins). */
async function load() {
  const params = currentParams();
  if (!params.start || !params.end || params.start > params.end) {
    refuse("Choose a start date on or before the end date.");
    return;
  }
  view.inFlight?.abort();
  const controller = new AbortController();
  view.inFlight = controller;
  setState("loading");
  say("Loading…");
  try {
    const doc = await getActiveUsers(view.credentials, params, controller.signal);
    render(doc, params);
    setState("ready");
  } catch (error) {
    if (error.name !== "AbortError") explain(error);
  }
}

/** The claimed domains (they do not depend on the controls). */
async function loadDomains() {
  try {
    view.domains = await getDomains(view.credentials);
    renderDomains($("domains"), view.domains);
  } catch (error) {
    if (!(error instanceof ApiError && [401, 403].includes(error.status))) {
      $("domains").caption.textContent = `Could not load the domains: ${error.message}.`;
    }
  }
}

/** Reload the chart, the tables and the domains. */
function refresh() {
  load();
  loadDomains();
}

/** Read the sign-in form, keep the credentials for this tab, open the dashboard. */
function signIn(event) {
  event.preventDefault();
  const org = $("org-input").value.trim();
  const token = $("token-input").value.trim();
  if (!ORG_ID.test(org) || !token) {
    showSignIn("Enter an organization id (letters, digits, _ or -) and a token.");
    return;
  }
  $("token-input").value = "";
  saveCredentials(org, token);
  showDashboard({ org, token });
}

/** Every control reloads what it changes; the form itself never submits anywhere. */
function wireControls() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => {
    forgetToken();
    showSignIn();
  });
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("range").addEventListener("change", () => {
    applyPreset();
    load();
  });
  for (const id of ["start", "end"]) {
    $(id).addEventListener("change", () => {
      $("range").value = "custom";
      load();
    });
  }
  $("product").addEventListener("change", load);
  for (const radio of document.querySelectorAll('input[name="interval"]')) {
    radio.addEventListener("change", load);
  }
  $("refresh").addEventListener("click", () => {
    applyPreset({ suggestInterval: false }); // "last 7 days" moves on with the clock
    refresh();
  });
  $("download-csv").addEventListener("click", () => view.document && downloadCsv(view.document));
}

/** Draw the legend, fill the default range, and open the dashboard if this tab signed in. */
function start() {
  renderLegend($("legend"));
  applyPreset();
  wireControls();
  const credentials = loadCredentials();
  if (credentials) showDashboard(credentials);
  else showSignIn();
}

start();
