// Reads from the reader API with the bearer token; the token is only ever a header.

/** A non-2xx answer: the status and the API's one-line message. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `the reader answered HTTP ${status}`);
    this.status = status;
    this.parameter = body?.parameter ?? null;
  }
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
  if (!response.ok) throw new ApiError(response.status, body);
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
