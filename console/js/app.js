// The console shell: sign-in, navigation (#/page), the vault picker and the message line.
// Each page is a function (ctx, root) that fills `root`; pages live in their own modules.
import * as api from "./api.js";
import { h } from "./dom.js";
import { dashboardPage, vaultsPage } from "./overview.js";
import { keysPage, secretsPage, certificatesPage } from "./objects.js";
import { accessPage, auditPage } from "./governance.js";

const pages = {
  dashboard: dashboardPage, vaults: vaultsPage, keys: keysPage, secrets: secretsPage,
  certificates: certificatesPage, access: accessPage, audit: auditPage,
};

const $ = (id) => document.getElementById(id);

// What pages share: the vault list, the current vault, messages, and a way to redraw.
const ctx = {
  vaults: [],       // [{name, uri, ...}] from the admin API (or just names typed in)
  current: "",
  timers: [],       // intervals a page started; cleared when the page changes
  uri() { return api.vaultUriFor(this.current, this.vaults); },
  info(text) { showMessage(text, "info"); },
  error(e) { showMessage(e instanceof api.ApiError ? e.toString() : String(e.message || e), "error"); },
  clear() { $("message").hidden = true; },
  redraw() { render(); },
  // Runs an action, showing its error; returns whether it succeeded.
  async run(action, done) {
    try {
      this.clear();
      await action();
      if (done) this.info(done);
      return true;
    } catch (e) {
      this.error(e);
      return false;
    }
  },
};

function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = "message " + kind;
  box.hidden = false;
}

async function loadVaults() {
  const who = api.signedIn();
  if (who.admin) {
    try {
      ctx.vaults = (await api.admin("GET", "vaults")).value;
    } catch (e) {
      ctx.error(e);
    }
  }
  if (ctx.vaults.length === 0) ctx.vaults = [{ name: "dev" }];
  fillPicker();
}

function fillPicker() {
  if (ctx.vaults.length === 0) return;
  if (!ctx.vaults.some((v) => v.name === ctx.current)) ctx.current = ctx.vaults[0].name;
  const select = $("vault-select");
  select.replaceChildren(...ctx.vaults.map((v) => h("option", { value: v.name }, v.name)));
  select.value = ctx.current;
}

async function render() {
  for (const t of ctx.timers) clearInterval(t);
  ctx.timers = [];
  const signed = api.signedIn();
  const inside = signed.admin || signed.dataPlane;
  $("sign-in-page").hidden = inside;
  $("nav").hidden = !inside;
  $("session").hidden = !inside;
  $("page").hidden = !inside;
  if (!inside) {
    $("admin-token").focus();
    return;
  }
  $("who").textContent = [signed.admin ? "admin" : "", signed.app ? "app " + signed.clientId : "",
                           signed.user ? "user " + signed.upn : ""].filter(Boolean).join(" + ");
  $("who").title = signed.user ? "object id " + signed.objectId : "";
  let name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!pages[name]) name = "dashboard";
  for (const a of $("nav").querySelectorAll("a")) {
    if (a.getAttribute("href") === "#/" + name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `Coffre console: ${name}`;
  const root = $("page");
  root.replaceChildren(h("p", { class: "empty" }, "Loading..."));
  root.dataset.page = name;
  root.dataset.ready = "false";
  const fresh = h("div", {});
  try {
    await pages[name](ctx, fresh);
  } catch (e) {
    ctx.error(e);
  }
  root.replaceChildren(fresh);
  fillPicker();  // a page may have changed the vault list
  root.dataset.ready = "true";
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("sign-in-button");
  button.disabled = true;
  const password = $("user-password");
  const ok = await ctx.run(() => api.signIn($("admin-token").value.trim(), $("client-id").value.trim(),
                                            $("client-secret").value, $("user-upn").value.trim(),
                                            password.value));
  // The password served this one request: it leaves the form whether or not it was accepted.
  password.value = "";
  button.disabled = false;
  if (!ok) return;
  for (const id of ["admin-token", "client-id", "client-secret", "user-upn"]) $(id).value = "";
  await loadVaults();
  if (!location.hash || location.hash === "#/") location.hash = "#/dashboard";
  await render();
  $("main").focus();
});

$("sign-out").addEventListener("click", () => {
  api.signOut();
  ctx.vaults = [];
  ctx.clear();
  location.hash = "";
  render();
});

$("vault-select").addEventListener("change", (event) => {
  ctx.current = event.target.value;
  render();
});

window.addEventListener("hashchange", () => { ctx.clear(); render(); });
render();
