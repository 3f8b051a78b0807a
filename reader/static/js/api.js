// Reads from the reader API with the bearer token; the token is only ever a header.

/** A non-2xx answer: the status, the API's one-line message and any Retry-After header. */
export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(body?.message ?? `the reader answered HTTP ${status}`);
    this.status = status;
    this.parameter = body?.parameter ?? null;
    this.retryAfter = retryAfter;
  }
}

// A stalled network ends in a message after this long, not in "Loading…" for ever.
export const REQUEST_TIMEOUT_S = 30;

/** A request that gives up after REQUEST_TIMEOUT_S with a TimeoutError; `done()` once answered.
 *  A timer of the page's own rather than AbortSignal.timeout: one controller takes both the
 *  user's aborts and the timeout's, and tests can fast-forward the page's clock past it. */
export function timedRequest() {
  const controller = new AbortController();
  const reason = () => new DOMException(`no answer in ${REQUEST_TIMEOUT_S} s`, "TimeoutError");
  const timer = setTimeout(() => controller.abort(reason()), REQUEST_TIMEOUT_S * 1000);
  return { controller, signal: controller.signal, done: () => clearTimeout(timer) };
}

/** Whole seconds to wait before asking again, from a Retry-After header (seconds or an HTTP
 *  date); `defaultS` without one, and never less than 1 or more than `maxS`. */
export function retryDelay(header, { defaultS, maxS }) {
  const text = header ?? "";
  const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
  const wanted = Number.isFinite(seconds) ? Math.ceil(seconds) : defaultS;
  return Math.min(maxS, Math.max(1, wanted));
}

/** GET a JSON document from /api/v1/orgs/{org}/{path} with the query parameters. */
export async function getJson(credentials, path, params = {}, signal = undefined) {
  const query = new URLSearchParams(params).toString();
  const org = encodeURIComponent(credentials.org);
  const url = `/api/v1/orgs/${org}/${path}${query ? `?${query}` : ""}`;
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${credentials.token}`, Accept: "application/json" },
    cache: "no-store",
    credentials: "omit",
    signal,
  });
  const body = await response.json().catch(() => null);
  // An abort while the body was read ends in `null` above: report the abort, not a null body.
  signal?.throwIfAborted();
  if (!response.ok) throw new ApiError(response.status, body, response.headers.get("Retry-After"));
  return body;
}

/** The active-users document for the product, range and interval. */
export function getActiveUsers(credentials, params, signal) {
  return getJson(credentials, "active-users", params, signal);
}

/** The org's claimed domains with their last-30-day activity. */
export function getDomains(credentials, signal) {
  return getJson(credentials, "domains", {}, signal);
}
