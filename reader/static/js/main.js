// The dashboard page: sign-in, controls, and one render of chart and tables per answer.
// The last rendered document is exposed as `window.insightsDashboard` for browser tests.

import {
  ApiError, getActiveUsers, getDomains, REQUEST_TIMEOUT_S, retryDelay, timedRequest,
} from "./api.js";
import { downloadCsv } from "./csv.js";
import { humanRange } from "./dates.js";
import { renderLegend } from "./legend.js";
import { createLineChart } from "./linechart.js";
import { stateCounts } from "./periods.js";
import { applyPreset, dateProblem, followTheClock, retentionDays, stillTyping } from "./range.js";
import { forgetToken, lastOrg, loadCredentials, saveCredentials } from "./session.js";
import { PRODUCT_LABELS } from "./series.js";
import { renderDataTable, renderDomains, renderTotals } from "./tables.js";

const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TYPING_PAUSE_MS = 500; // a date typed digit by digit is loaded once, when the typing stops
// After a 503 the page asks again when the reader's Retry-After says, within these bounds.
const RETRY = { limit: 12, defaultS: 5, maxS: 60 };
const $ = (id) => document.getElementById(id);
// `session` counts sign-ins and sign-outs: an answer to an older session's request is dropped.
const view = {
  credentials: null, chart: null, inFlight: null, domainsInFlight: null, document: null,
  renders: 0, session: 0, retries: 0, retryTimer: 0, typingTimer: 0, retention: 0, blank: null,
};
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

/** A line in the status region; errors are announced at once unless `urgent` is false. */
function say(message, kind = "", { urgent = kind === "error" } = {}) {
  const status = $("status");
  status.textContent = message;
  status.className = `notice${kind ? ` notice-${kind}` : ""}`;
  status.setAttribute("role", urgent ? "alert" : "status");
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

/** Whether two queries ask for the same document. */
function sameParams(a, b) {
  return ["product", "start", "end", "interval"].every((key) => a[key] === b[key]);
}

/** Remember the empty page's texts, so a new session starts from them. */
function rememberBlank() {
  const ids = ["chart-title", "chart-subtitle", "data-caption", "totals-caption"];
  const texts = [...ids, "domains-caption"].map((id) => [id, $(id).textContent]);
  view.blank = {
    texts: Object.fromEntries(texts),
    chartLabel: $("chart").getAttribute("aria-label"),
  };
}

/** Forget everything the last session drew: chart, tables, domains, document and its CSV. */
function clearView() {
  view.chart?.clear();
  for (const [id, text] of Object.entries(view.blank.texts)) $(id).textContent = text;
  $("chart").setAttribute("aria-label", view.blank.chartLabel);
  delete $("chart").dataset.missingPeriods;
  for (const id of ["totals", "data-table", "domains"]) $(id).tBodies[0].replaceChildren();
  $("data-table").tHead.replaceChildren();
  for (const key of ["product", "start", "end", "interval"]) delete $("dashboard").dataset[key];
  $("download-csv").disabled = true;
  Object.assign(view, { document: null, params: null, domains: null });
  say("");
}

/** End the current session's work: its requests, pending retry and typing timers, and view. */
function endSession() {
  view.session += 1;
  view.inFlight?.abort();
  view.domainsInFlight?.abort();
  Object.assign(view, { inFlight: null, domainsInFlight: null });
  clearTimeout(view.retryTimer);
  clearTimeout(view.typingTimer);
  view.retries = 0;
  clearView();
}

/** Back to the sign-in form, with a reason when there is one. */
function showSignIn(reason = "") {
  endSession();
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

/** Into the dashboard with these credentials, then load everything; `focus` after a sign-in
 *  moves focus to the dashboard's heading (the form that had it is gone). */
function showDashboard(credentials, { focus = false } = {}) {
  endSession();
  view.credentials = credentials;
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("session").hidden = false;
  $("session-org").textContent = credentials.org;
  view.chart ??= createLineChart($("chart"));
  if (focus) $("dashboard-title").focus();
  refresh();
}

/** After a 503, ask again once the reader says it may answer: a bounded number of times, and
 *  only while the same session still wants the same document. The delay, or 0 for none. */
function scheduleRetry(error, params) {
  if (view.retries >= RETRY.limit) return 0;
  const seconds = retryDelay(error.retryAfter, RETRY);
  const session = view.session;
  view.retries += 1;
  view.retryTimer = setTimeout(() => {
    if (session !== view.session || !sameParams(params, currentParams())) return;
    load({ automatic: true });
    if (!view.domains) loadDomains();
  }, seconds * 1000);
  return seconds;
}

/** What a failed request means for the user, and whether it ends the session. */
function explain(error, params) {
  if (error.status === 401 || error.status === 403) {
    const org = view.credentials?.org;
    forgetToken(); // a refused token is of no further use, even after a reload
    return showSignIn(error.status === 401 ? "That token is unknown or was revoked."
      : `This token may not read organization "${org}".`);
  }
  if (error.name === "TimeoutError") {
    return refuse(`The reader did not answer within ${REQUEST_TIMEOUT_S} s: the network or the ` +
      "reader may be down. Use Refresh to try again.");
  }
  if (!(error instanceof ApiError)) {
    return refuse(`Could not load the data: ${error.message}. Is the reader running?`);
  }
  if (error.status !== 503) return refuse(`Could not load the data: ${error.message}.`);
  const seconds = scheduleRetry(error, params);
  if (!seconds) {
    return refuse(`Could not load the data: ${error.message}. Use Refresh to try again.`);
  }
  // Announced once; the later "retrying" notices update the status politely.
  refuse(`Could not load the data: ${error.message}. Retrying in ${seconds} s.`,
    { urgent: view.retries === 1 });
}

/** The controls ask for something not shown: say so, name what the chart still shows, and
 *  offer no CSV until a new answer is drawn (the CSV is of what is shown). */
function refuse(message, { urgent = true } = {}) {
  const shown = view.document;
  const still = shown ? ` The chart still shows ${humanRange(shown.start, shown.end)}.` : "";
  $("download-csv").disabled = true;
  say(message + still, "error", { urgent });
  setState("error");
}

/** Chart, subtitle, tables and the canvas's text alternative for one document. */
function render(doc, params) {
  view.chart.draw(doc);
  const counts = stateCounts(doc);
  const missing = counts.missing + counts.pending; // both are drawn as missing
  const product = PRODUCT_LABELS[doc.product];
  const range = humanRange(doc.start, doc.end);
  $("chart-title").textContent = `Active users per ${doc.interval} · ${product}`;
  const notes = [range + " (UTC days)"];
  if (counts.missing) {
    notes.push(`${counts.missing} missing ${counts.missing === 1 ? "period" : "periods"}`);
  }
  if (counts.pending) notes.push(`${counts.pending} not over, no data yet`);
  if (counts.partial) notes.push(`${counts.partial} partial`);
  $("chart-subtitle").textContent = notes.join(" · ");
  $("chart").setAttribute(
    "aria-label",
    `Line chart of active users per plan and for all plans, ${product}, ${range}, per ` +
      `${doc.interval}; ${missing} missing and ${counts.partial + counts.pending} partial ` +
      "periods. The values are listed in the table below the chart.",
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

/** Ask for the document of the current controls and render it (a newer request wins).
 *  `automatic` loads (retries) keep counting toward the retry limit; the user's restart it. */
async function load({ automatic = false } = {}) {
  clearTimeout(view.typingTimer);
  clearTimeout(view.retryTimer);
  if (!automatic) view.retries = 0;
  view.inFlight?.abort();
  view.inFlight = null;
  $("download-csv").disabled = true; // until this answer is drawn: the CSV is of what is shown
  const params = currentParams();
  const problem = dateProblem(params, view.retention);
  if (problem) {
    refuse(problem);
    return;
  }
  const request = timedRequest();
  view.inFlight = request.controller;
  const session = view.session;
  const current = () => view.inFlight === request.controller && view.session === session;
  setState("loading");
  say("Loading…");
  try {
    const doc = await getActiveUsers(view.credentials, params, request.signal);
    if (!current()) return; // answered just before a newer request or a sign-out aborted it
    render(doc, params);
    setState("ready");
    view.retries = 0;
  } catch (error) {
    if (current() && error.name !== "AbortError") explain(error, params);
  } finally {
    request.done();
  }
}

/** The claimed domains (they do not depend on the controls); only this session's are shown. */
async function loadDomains() {
  view.domainsInFlight?.abort();
  const request = timedRequest();
  view.domainsInFlight = request.controller;
  const session = view.session;
  try {
    const domains = await getDomains(view.credentials, request.signal);
    if (session !== view.session) return;
    view.domains = domains;
    renderDomains($("domains"), domains);
  } catch (error) {
    if (session !== view.session || error.name === "AbortError") return;
    if (!(error instanceof ApiError && [401, 403].includes(error.status))) {
      const reason = error.name === "TimeoutError" ? `no answer in ${REQUEST_TIMEOUT_S} s`
        : error.message;
      $("domains").caption.textContent = `Could not load the domains: ${reason}.`;
    }
  } finally {
    request.done();
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
  showDashboard({ org, token }, { focus: true });
}

/** A date was edited: load once the typing pauses, and only a complete date (typing a year
 *  digit by digit changes the input at each digit, through years like 0002 and 0202). */
function datesEdited() {
  $("range").value = "custom";
  clearTimeout(view.typingTimer);
  view.typingTimer = setTimeout(() => {
    if (stillTyping()) say("Enter both dates in full to update the chart.");
    else load();
  }, TYPING_PAUSE_MS);
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
    applyPreset(view.retention);
    load();
  });
  for (const id of ["start", "end"]) $(id).addEventListener("change", datesEdited);
  $("product").addEventListener("change", () => load());
  for (const radio of document.querySelectorAll('input[name="interval"]')) {
    radio.addEventListener("change", () => load());
  }
  $("refresh").addEventListener("click", () => {
    followTheClock(view.retention); // "last 7 days" and today's bounds move on with the clock
    applyPreset(view.retention, { suggestInterval: false });
    refresh();
  });
  $("download-csv").addEventListener("click", () => view.document && downloadCsv(view.document));
}

/** Draw the legend, fit the dates to the retention, open the dashboard if this tab signed in. */
function start() {
  view.retention = retentionDays();
  rememberBlank();
  renderLegend($("legend"));
  followTheClock(view.retention);
  applyPreset(view.retention);
  wireControls();
  const credentials = loadCredentials();
  if (credentials) showDashboard(credentials);
  else showSignIn();
}

start();
