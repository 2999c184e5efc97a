// Access (access policies, role assignments) and the audit log, through the admin API.
import * as api from "./api.js";
import { h, table, field, badge, when } from "./dom.js";

const ROLES = [
  "Key Vault Administrator", "Key Vault Reader", "Key Vault Crypto Officer", "Key Vault Crypto User",
  "Key Vault Crypto Service Encryption User", "Key Vault Crypto Service Release User",
  "Key Vault Secrets Officer", "Key Vault Secrets User", "Key Vault Certificates Officer",
  "Key Vault Certificate User",
];

function needsAdmin(root, what) {
  if (api.signedIn().admin) return false;
  root.append(h("p", { class: "empty" }, `Sign in with the admin token to see ${what}.`));
  return true;
}

const list = (text) => text.split(/[\s,]+/).filter(Boolean);

export async function accessPage(ctx, root) {
  root.append(h("h1", {}, `Access to ${ctx.current}`));
  if (needsAdmin(root, "access policies and role assignments")) return;
  const vault = await api.admin("GET", `vaults/${ctx.current}`);
  const principals = (await api.admin("GET", "principals")).value;
  const nameOf = (id) => (principals.find((p) => p.objectId === id) || {}).displayName || "";
  root.append(h("p", {}, "Permission model: ",
    vault.enableRbacAuthorization ? badge("RBAC (role assignments apply)", "ok") : badge("access policies apply", "ok"),
    " (change it on the Vaults page)"));
  const datalist = h("datalist", { id: "principal-ids" },
    principals.map((p) => h("option", { value: p.objectId }, `${p.displayName} (${p.appId})`)));
  root.append(datalist);

  const policies = (await api.admin("GET", `vaults/${ctx.current}/accessPolicies`)).value;
  root.append(h("section", { class: "card", id: "access-policies" }, h("h2", {}, "Access policies"),
    table(["Object id", "Principal", "Keys", "Secrets", "Certificates", ""], policies.map((p) =>
      h("tr", { "data-object-id": p.objectId },
        h("td", { class: "mono" }, p.objectId + (p.applicationId ? ` (app ${p.applicationId})` : "")),
        h("td", {}, nameOf(p.objectId)),
        h("td", {}, p.permissions.keys.join(", ")), h("td", {}, p.permissions.secrets.join(", ")),
        h("td", {}, p.permissions.certificates.join(", ")),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => ctx.run(async () => {
          const q = p.applicationId ? `?applicationId=${encodeURIComponent(p.applicationId)}` : "";
          await api.admin("DELETE", `vaults/${ctx.current}/accessPolicies/${encodeURIComponent(p.objectId)}${q}`);
          await ctx.redraw();
        }, "Access policy removed.") }, "Remove")))), "No access policies.")));

  const objectId = h("input", { id: "policy-object-id", list: "principal-ids", required: true });
  const keys = h("input", { id: "policy-keys", placeholder: "get, list, create (or all)" });
  const secrets = h("input", { id: "policy-secrets", placeholder: "get, list" });
  const certificates = h("input", { id: "policy-certificates", placeholder: "get" });
  root.append(h("section", { class: "card" }, h("h2", {}, "Add or replace an access policy"),
    h("form", { class: "row", id: "add-policy", onsubmit: (e) => {
      e.preventDefault();
      const permissions = {};
      if (keys.value.trim()) permissions.keys = list(keys.value);
      if (secrets.value.trim()) permissions.secrets = list(secrets.value);
      if (certificates.value.trim()) permissions.certificates = list(certificates.value);
      ctx.run(async () => {
        await api.admin("PUT", `vaults/${ctx.current}/accessPolicies/${encodeURIComponent(objectId.value.trim())}`, { permissions });
        await ctx.redraw();
      }, "Access policy saved.");
    } }, field("Object id", objectId), field("Key permissions", keys), field("Secret permissions", secrets),
      field("Certificate permissions", certificates), h("button", { type: "submit" }, "Save policy"))));

  const scopePrefix = `/vaults/${ctx.current}`;
  const assignments = (await api.admin("GET", "roleAssignments")).value
    .filter((a) => a.scope === "/" || a.scope === scopePrefix || a.scope.startsWith(scopePrefix + "/"));
  root.append(h("section", { class: "card", id: "role-assignments" }, h("h2", {}, "Role assignments"),
    table(["Role", "Principal", "Scope", "Created", ""], assignments.map((a) =>
      h("tr", {}, h("td", {}, a.roleName), h("td", { class: "mono" }, `${a.principalId} ${nameOf(a.principalId)}`),
        h("td", { class: "mono" }, a.scope), h("td", { class: "hide-narrow" }, when(a.created)),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => ctx.run(async () => {
          await api.admin("DELETE", `roleAssignments/${encodeURIComponent(a.id)}`); await ctx.redraw();
        }, "Role assignment removed.") }, "Remove")))), "No role assignments for this vault.")));
  const role = h("select", {}, ROLES.map((r) => h("option", { value: r }, r)));
  const principal = h("input", { list: "principal-ids", required: true });
  const scope = h("input", { value: scopePrefix, required: true });
  root.append(h("section", { class: "card" }, h("h2", {}, "Assign a role"),
    h("form", { class: "row", onsubmit: (e) => {
      e.preventDefault();
      ctx.run(async () => {
        await api.admin("POST", "roleAssignments", { roleName: role.value, principalId: principal.value.trim(), scope: scope.value.trim() });
        await ctx.redraw();
      }, "Role assigned.");
    } }, field("Role", role), field("Principal object id", principal), field("Scope", scope),
      h("button", { type: "submit" }, "Assign"))));
}

function auditRow(line) {
  const status = line.status >= 400 ? badge(String(line.status), "bad") : badge(String(line.status), "ok");
  // The object id says who (an application or a user); a user's line also names the client
  // they signed in through (e.g. coffre-console).
  const caller = line.callerObjectId && line.callerAppId && line.callerAppId !== line.callerObjectId
    ? `${line.callerObjectId} (app ${line.callerAppId})` : line.callerObjectId || line.callerAppId;
  return h("tr", { "data-seq": line.seq, "data-caller": line.callerObjectId || "" },
    h("td", { class: "mono" }, line.time.replace("T", " ").replace("Z", "")),
    h("td", {}, line.vault), h("td", {}, line.operation), h("td", {}, line.keyName),
    h("td", { class: "mono hide-narrow" }, caller), h("td", {}, status),
    h("td", { class: "hide-narrow" }, (line.latencyUs / 1000).toFixed(1)),
    h("td", { class: "hide-narrow" }, line.clientAddress));
}

const auditFilters = { since: "", until: "", vault: "", caller: "", operation: "", status: "", top: "200" };

export async function auditPage(ctx, root) {
  root.append(h("h1", {}, "Audit log"));
  if (needsAdmin(root, "the audit log")) return;
  const inputs = {
    since: h("input", { type: "datetime-local", value: auditFilters.since }),
    until: h("input", { type: "datetime-local", value: auditFilters.until }),
    vault: h("input", { id: "audit-vault", value: auditFilters.vault }),
    caller: h("input", { id: "audit-caller", value: auditFilters.caller, placeholder: "object or app id" }),
    operation: h("input", { id: "audit-operation", value: auditFilters.operation, placeholder: "e.g. CreateKey" }),
    status: h("input", { value: auditFilters.status, placeholder: "403 or 4xx" }),
    top: h("input", { type: "number", min: 1, max: 1000, value: auditFilters.top }),
  };
  const query = () => {
    const q = new URLSearchParams();
    for (const [k, input] of Object.entries(inputs)) {
      auditFilters[k] = input.value;
      if (!input.value) continue;
      // datetime-local is the browser's local time; the API takes unix milliseconds.
      q.set(k, k === "since" || k === "until" ? String(new Date(input.value).getTime()) : input.value.trim());
    }
    return q;
  };
  const chain = h("span", { id: "chain-status" }, "checking...");
  const tail = h("input", { type: "checkbox", id: "live-tail" });
  const body = h("tbody", {});
  const more = h("p", { class: "hint" });
  let lastSeq = 0;
  const load = async () => {
    const page = await api.admin("GET", "audit?" + query());
    body.replaceChildren(...page.value.reverse().map(auditRow));
    lastSeq = page.lastSeq;
    more.textContent = page.more ? "Older lines matched too: narrow the filters or raise the count." : "";
  };
  const poll = async () => {
    const q = query();
    q.set("after", String(lastSeq));
    const page = await api.admin("GET", "audit?" + q);
    for (const line of page.value) body.prepend(auditRow(line));
    lastSeq = Math.max(lastSeq, page.lastSeq);
  };
  const verify = async () => {
    const c = await api.admin("GET", "audit/verify");
    chain.replaceChildren(c.intact
      ? badge(`chain intact: ${c.lines} lines${c.anchoredSeq ? `, anchored at ${c.anchoredSeq}` : ""}${c.keyed ? "" : " (unkeyed)"}`, "ok")
      : badge(`chain damaged: ${c.problem}`, "bad"));
  };
  root.append(h("section", { class: "card" },
    h("p", {}, "Chain verification: ", chain, " ", h("button", { type: "button", class: "secondary",
      onclick: () => ctx.run(verify) }, "Verify again")),
    h("form", { class: "row", id: "audit-filters", onsubmit: (e) => { e.preventDefault(); ctx.run(load); } },
      field("Since", inputs.since), field("Until", inputs.until), field("Vault", inputs.vault),
      field("Caller", inputs.caller), field("Operation", inputs.operation), field("Status", inputs.status),
      field("Lines", inputs.top), h("button", { type: "submit" }, "Filter")),
    h("p", {}, h("label", { for: "live-tail" }, tail, " Live tail (new lines every 2 s)"))));
  root.append(h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { id: "audit-table" },
    h("thead", {}, h("tr", {}, ["Time (UTC)", "Vault", "Operation", "Key or secret", "Caller", "Status", "ms", "Client"]
      .map((t, i) => h("th", { scope: "col", class: [4, 6, 7].includes(i) ? "hide-narrow" : undefined }, t)))), body)), more));
  await load();
  await verify().catch((e) => ctx.error(e));
  ctx.timers.push(setInterval(() => { if (tail.checked) poll().catch((e) => ctx.error(e)); }, 2000));
}
