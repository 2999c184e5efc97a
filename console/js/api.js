// Calls to Coffre's REST APIs with the signed-in credentials. Credentials live in this module's
// memory only (never in URLs, cookies or storage): a reload signs out, and no other tab or page
// can read them.
export const API_VERSION = "7.5";

const session = { adminToken: "", app: null };  // app: {clientId, secret, token, expires}

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
           clientId: session.app ? session.app.clientId : "" };
}

export function signOut() {
  session.adminToken = "";
  session.app = null;
}

// The resource a vault host's token is for: https://localhost:8443 for NAME.localhost:8443.
function resource() {
  const host = location.hostname;
  const dot = host.indexOf(".");
  const parent = dot > 0 && !/^[0-9.]+$/.test(host) ? host.slice(dot + 1) : host;
  return `https://${parent}${location.port ? ":" + location.port : ""}`;
}

async function fetchAppToken(clientId, secret) {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId,
                                     client_secret: secret, scope: resource() + "/.default" });
  const response = await fetch("/adfs/oauth2/token", {
    method: "POST", body: form, cache: "no-store",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, body.error || "SignInFailed",
                       body.error_description || "The sign-in was refused.");
  }
  return { token: body.access_token, expires: Date.now() + (Number(body.expires_in) || 3600) * 1000 };
}

// Checks each credential given before keeping it.
export async function signIn(adminToken, clientId, secret) {
  if (!adminToken && !(clientId && secret)) {
    throw new ApiError(400, "BadParameter", "Give the admin token, or a client id and secret, or both.");
  }
  let app = null;
  if (clientId || secret) {
    if (!clientId || !secret) throw new ApiError(400, "BadParameter", "Give both the client id and the secret.");
    app = { clientId, secret, ...(await fetchAppToken(clientId, secret)) };
  }
  if (adminToken) {
    const response = await fetch("/coffre-admin/v1/vaults", {
      headers: { Authorization: "Bearer " + adminToken }, cache: "no-store" });
    if (!response.ok) await raise(response);
  }
  session.adminToken = adminToken || "";
  session.app = app;
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

// A vault's data plane (VAULT_URI/PATH?api-version=...) with the application's token, renewed
// from the client secret when it is about to expire.
export async function vault(vaultUri, method, path, body, query = "") {
  if (!session.app) {
    throw new ApiError(401, "Unauthorized",
                       "Sign in with an application's client id and secret to use keys and secrets.");
  }
  if (session.app.expires - Date.now() < 60000) {
    Object.assign(session.app, await fetchAppToken(session.app.clientId, session.app.secret));
  }
  const sep = path.includes("?") ? "&" : "?";
  return send(`${vaultUri}${path}${sep}api-version=${API_VERSION}${query}`, method, session.app.token, body);
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
