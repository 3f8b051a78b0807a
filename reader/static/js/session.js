// The reader token lives in sessionStorage: it is gone when the tab closes, it is never put
// in a URL (no query string, no fragment), and it leaves the page only in an Authorization
// header.

const ORG_KEY = "insights.org";
const TOKEN_KEY = "insights.token";

/** The stored organization and token, or null when the user has not signed in in this tab. */
export function loadCredentials() {
  const org = sessionStorage.getItem(ORG_KEY);
  const token = sessionStorage.getItem(TOKEN_KEY);
  return org && token ? { org, token } : null;
}

/** Remember the organization and token for this tab only. */
export function saveCredentials(org, token) {
  sessionStorage.setItem(ORG_KEY, org);
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forget the token (the organization is kept to pre-fill the form). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The organization last used in this tab, to pre-fill the sign-in form. */
export function lastOrg() {
  return sessionStorage.getItem(ORG_KEY) ?? "";
}
