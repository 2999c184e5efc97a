// Calls to Coffre's REST APIs with the signed-in credentials. Credentials live in this module's
// memory only (never in URLs, cookies or storage): a reload signs out, and no other tab or page
// can read them.
export const API_VERSION = "7.5";

// The client id the console names when a user signs in with a password (the token endpoint takes
// any public client id for the password and refresh_token grants; the refresh token is bound to
// it, and audit lines show it as the caller's application).
export const CONSOLE_CLIENT_ID = "coffre-console";

// app: {clientId, secret, token, expires}; user: {upn, objectId, token, refresh, expires}.
// A user's password is never kept: only the tokens it bought, renewed with the refresh token.
const session = { adminToken: "", app: null, user: null };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  toString() {
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

export function signedIn() {
  return { admin: session.adminToken !== "", app: session.app !== null,
           dataPlane: session.app !== null || session.user !== null,
           clientId: session.app ? session.app.clientId : "",
           user: session.user !== null, upn: session.user ? session.user.upn : "",
           objectId: session.user ? session.user.objectId : "" };
}

export function signOut() {
  session.adminToken = "";
  session.app = null;
  session.user = null;
}

// The resource a vault host's token is for: https://localhost:8443 for NAME.localhost:8443.
function resource() {
  const host = location.hostname;
  const dot = host.indexOf(".");
  const parent = dot > 0 && !/^[0-9.]+$/.test(host) ? host.slice(dot + 1) : host;
  return `https://${parent}${location.port ? ":" + location.port : ""}`;
}

async function tokenRequest(fields) {
  const form = new URLSearchParams({ ...fields, scope: resource() + "/.default" });
  const response = await fetch("/adfs/oauth2/token", {
    method: "POST", body: form, cache: "no-store", credentials: "omit",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, body.error || "SignInFailed",
                       body.error_description || "The sign-in was refused.");
  }
  return body;
}

function expiresAt(body) {
  return Date.now() + (Number(body.expires_in) || 3600) * 1000;
}

async function fetchAppToken(clientId, secret) {
  const body = await tokenRequest({ grant_type: "client_credentials", client_id: clientId,
                                    client_secret: secret });
  return { token: body.access_token, expires: expiresAt(body) };
}

// The claims of a token this server just issued (shown, not trusted: the server checks it).
function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function userTokens(body, upn) {
  if (!body.refresh_token) throw new ApiError(500, "SignInFailed", "The token endpoint gave no refresh token.");
  const claims = claimsOf(body.access_token);
  return { upn: claims.upn || upn, objectId: claims.oid || "", token: body.access_token,
           refresh: body.refresh_token, expires: expiresAt(body) };
}

// Password grant: the password goes into this one request and nowhere else.
async function fetchUserTokens(upn, password) {
  const body = await tokenRequest({ grant_type: "password", client_id: CONSOLE_CLIENT_ID,
                                    username: upn, password });
  return userTokens(body, upn);
}

async function refreshUserTokens(user) {
  const body = await tokenRequest({ grant_type: "refresh_token", client_id: CONSOLE_CLIENT_ID,
                                    refresh_token: user.refresh });
  return userTokens(body, user.upn);
}

// Checks each credential given before keeping it. The data plane is used either as an
// application (client id and secret) or as a user (UPN and password), not both at once.
export async function signIn(adminToken, clientId, secret, upn = "", password = "") {
  const wantsApp = Boolean(clientId || secret);
  const wantsUser = Boolean(upn || password);
  if (!adminToken && !wantsApp && !wantsUser) {
    throw new ApiError(400, "BadParameter",
                       "Give the admin token, a client id and secret, or a user name and password.");
  }
  if (wantsApp && wantsUser) {
    throw new ApiError(400, "BadParameter", "Sign in as an application or as a user, not both.");
  }
  let app = null;
  let user = null;
  if (wantsApp) {
    if (!clientId || !secret) throw new ApiError(400, "BadParameter", "Give both the client id and the secret.");
    app = { clientId, secret, ...(await fetchAppToken(clientId, secret)) };
  }
  if (wantsUser) {
    if (!upn || !password) throw new ApiError(400, "BadParameter", "Give both the user name and the password.");
    user = await fetchUserTokens(upn, password);
  }
  if (adminToken) {
    const response = await fetch("/coffre-admin/v1/vaults", {
      headers: { Authorization: "Bearer " + adminToken }, cache: "no-store" });
    if (!response.ok) await raise(response);
  }
  session.adminToken = adminToken || "";
  session.app = app;
  session.user = user;
}

async function raise(response) {
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  if (typeof error === "string") {
    throw new ApiError(response.status, error, body.error_description || error);
  }
  throw new ApiError(response.status, error.code || "Error",
                     error.message || `The server answered ${response.status}.`);
}

async function send(url, method, token, body) {
  const init = { method, headers: { Authorization: "Bearer " + token }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (!response.ok) await raise(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// The admin API (/coffre-admin/v1/PATH) with the admin token.
export function admin(method, path, body) {
  if (!session.adminToken) {
    return Promise.reject(new ApiError(401, "Unauthorized", "Sign in with the admin token for this page."));
  }
  return send("/coffre-admin/v1/" + path, method, session.adminToken, body);
}

// A vault's data plane (VAULT_URI/PATH?api-version=...) with the application's or the user's
// token, renewed (from the client secret, or the user's refresh token) when about to expire.
export async function vault(vaultUri, method, path, body, query = "") {
  const principal = session.app || session.user;
  if (!principal) {
    throw new ApiError(401, "Unauthorized",
                       "Sign in with an application's client id and secret, or as a user, to use keys and secrets.");
  }
  if (principal.expires - Date.now() < 60000) {
    if (session.app) {
      Object.assign(session.app, await fetchAppToken(session.app.clientId, session.app.secret));
    } else {
      try {
        Object.assign(session.user, await refreshUserTokens(session.user));
      } catch (e) {
        throw new ApiError(401, "Unauthorized",
                           "The session has expired (" + e.message + "): sign out and sign in again.");
      }
    }
  }
  const sep = path.includes("?") ? "&" : "?";
  return send(`${vaultUri}${path}${sep}api-version=${API_VERSION}${query}`, method, principal.token, body);
}

// Every page of a list (nextLink), up to `limit` items.
export async function vaultList(vaultUri, path, limit = 500) {
  let page = await vault(vaultUri, "GET", path);
  const items = [...(page.value || [])];
  while (page.nextLink && items.length < limit) {
    const next = new URL(page.nextLink);
    if (next.origin !== new URL(vaultUri).origin) break;  // only ever this vault
    page = await vault(vaultUri, "GET", next.pathname + next.search.replace(/([?&])api-version=[^&]*&?/, "$1"));
    items.push(...(page.value || []));
  }
  return items;
}

export function vaultUriFor(name, known) {
  const found = known.find((v) => v.name === name);
  if (found && found.uri) return found.uri;
  return `https://${name}.localhost${location.port ? ":" + location.port : ""}`;
}
