// Dashboard (request rate and latency per operation, keys nearing expiry) and vaults.
import * as api from "./api.js";
import { h, table, field, when, badge } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const EXPIRY_WINDOW_DAYS = 30;

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// Requests per minute over the last hour, all operations together, as bars.
function rateChart(summary) {
  const totals = new Array(summary.buckets).fill(0);
  for (const op of summary.operations) op.perBucket.forEach((n, i) => { totals[i] += n; });
  const width = 600, height = 200, pad = 24;
  const max = Math.max(1, ...totals);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img",
                             "aria-label": `Requests per ${summary.bucketSeconds} s over the last hour, at most ${max}` });
  chart.append(svg("line", { x1: pad, y1: height - pad, x2: width, y2: height - pad, class: "axis" }));
  const w = (width - pad) / totals.length;
  totals.forEach((n, i) => {
    const barHeight = ((height - 2 * pad) * n) / max;
    const bar = svg("rect", { x: pad + i * w + 1, y: height - pad - barHeight, width: Math.max(1, w - 2),
                              height: barHeight, class: "bar" });
    bar.append(svg("title", {}, `${n} requests`));
    chart.append(bar);
  });
  chart.append(svg("text", { x: 2, y: pad }, String(max)));
  chart.append(svg("text", { x: pad, y: height - 6 }, "-60 min"));
  chart.append(svg("text", { x: width - 30, y: height - 6 }, "now"));
  return chart;
}

async function expiringKeys(ctx) {
  const soon = Date.now() / 1000 + EXPIRY_WINDOW_DAYS * 86400;
  const rows = [];
  for (const v of ctx.vaults) {
    let keys;
    try {
      keys = await api.vaultList(api.vaultUriFor(v.name, ctx.vaults), "/keys", 1000);
    } catch (e) {
      if (e.status === 403 || e.status === 404) continue;  // not this app's vault
      throw e;
    }
    for (const k of keys) {
      const exp = k.attributes && k.attributes.exp;
      if (exp && exp < soon) {
        rows.push(h("tr", {}, h("td", {}, v.name), h("td", {}, k.kid.split("/")[4]), h("td", {}, when(exp)),
                    h("td", {}, exp < Date.now() / 1000 ? badge("expired", "bad") : badge("soon", "warn"))));
      }
    }
  }
  return table(["Vault", "Key", "Expires", ""], rows, `No key expires in the next ${EXPIRY_WINDOW_DAYS} days.`);
}

async function expiringCertificates(ctx) {
  const soon = Date.now() / 1000 + EXPIRY_WINDOW_DAYS * 86400;
  const rows = [];
  try {
    const certs = await api.vaultList(ctx.uri(), "/certificates", 500);
    for (const c of certs) {
      const exp = c.attributes && c.attributes.exp;
      if (exp && exp < soon) rows.push(h("tr", {}, h("td", {}, c.id.split("/")[4]), h("td", {}, when(exp))));
    }
  } catch (e) {
    if (e.status === 404) return h("p", { class: "empty" }, "Certificates are not available on this server.");
    throw e;
  }
  return table(["Certificate", "Expires"], rows, `No certificate needs renewal in the next ${EXPIRY_WINDOW_DAYS} days.`);
}

export async function dashboardPage(ctx, root) {
  const signed = api.signedIn();
  root.append(h("h1", {}, "Dashboard"));
  const grid = h("div", { class: "grid" });
  root.append(grid);
  if (signed.admin) {
    const since = Date.now() - 3600 * 1000;
    const summary = await api.admin("GET", `audit/summary?since=${since}&bucket=60`);
    const ops = summary.operations.sort((a, b) => b.count - a.count);
    grid.append(h("section", { class: "card", "aria-labelledby": "rate-title" },
      h("h2", { id: "rate-title" }, "Requests per minute (last hour)"), rateChart(summary)));
    grid.append(h("section", { class: "card wide", "aria-labelledby": "ops-title" },
      h("h2", { id: "ops-title" }, "Per operation"),
      table(["Operation", "Requests", "Errors", "Mean ms", "p95 ms"], ops.slice(0, 15).map((o) =>
        h("tr", {}, h("td", {}, o.operation), h("td", {}, o.count), h("td", {}, o.errors),
          h("td", {}, o.meanLatencyMs.toFixed(1)), h("td", {}, o.p95LatencyMs.toFixed(1)))),
        "No requests in the last hour.")));
  } else {
    grid.append(h("section", { class: "card" }, h("h2", {}, "Requests"),
      h("p", { class: "empty" }, "Sign in with the admin token to see request rates (read from the audit log).")));
  }
  if (signed.dataPlane) {
    grid.append(h("section", { class: "card" }, h("h2", {}, "Keys nearing expiry"), await expiringKeys(ctx)));
    grid.append(h("section", { class: "card" }, h("h2", {}, `Certificates nearing renewal (${ctx.current})`),
      await expiringCertificates(ctx)));
  }
}

export async function vaultsPage(ctx, root) {
  root.append(h("h1", {}, "Vaults"));
  if (!api.signedIn().admin) {
    root.append(h("p", { class: "empty" }, "Sign in with the admin token to list and manage vaults."));
    return;
  }
  const vaults = (await api.admin("GET", "vaults")).value;
  ctx.vaults = vaults;
  const rows = vaults.map((v) => {
    const retention = h("input", { type: "number", min: v.retentionDays, max: 90, value: v.retentionDays,
                                   "aria-label": `Retention days of ${v.name}` });
    const purge = h("input", { type: "checkbox", checked: v.enablePurgeProtection, disabled: v.enablePurgeProtection,
                               "aria-label": `Purge protection of ${v.name}` });
    const rbac = h("select", { "aria-label": `Permission model of ${v.name}` },
      h("option", { value: "false", selected: !v.enableRbacAuthorization }, "Access policies"),
      h("option", { value: "true", selected: v.enableRbacAuthorization }, "RBAC"));
    return h("tr", { "data-vault": v.name },
      h("td", {}, h("a", { href: "#/keys", onclick: () => { ctx.current = v.name; } }, v.name)),
      h("td", { class: "mono hide-narrow" }, v.uri),
      h("td", {}, rbac), h("td", {}, retention), h("td", {}, purge), h("td", { class: "hide-narrow" }, when(v.created)),
      h("td", {}, h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => {
          await api.admin("PATCH", "vaults/" + v.name, { retentionDays: Number(retention.value),
            enablePurgeProtection: purge.checked, enableRbacAuthorization: rbac.value === "true" });
          await ctx.redraw();
        }, `Vault ${v.name} updated.`) }, "Save"),
        h("button", { type: "button", class: "danger", onclick: () => {
          if (!confirm(`Delete vault ${v.name}? It must hold no keys or secrets.`)) return;
          ctx.run(async () => { await api.admin("DELETE", "vaults/" + v.name); await ctx.redraw(); }, `Vault ${v.name} deleted.`);
        } }, "Delete"))));
  });
  root.append(h("section", { class: "card" },
    table(["Name", "URI", "Permission model", "Retention (days)", "Purge protection", "Created", ""], rows)));

  const name = h("input", { required: true, pattern: "[A-Za-z][A-Za-z0-9\\-]{2,23}" });
  const retention = h("input", { type: "number", min: 7, max: 90, value: 90 });
  const purge = h("input", { type: "checkbox" });
  const rbac = h("input", { type: "checkbox" });
  root.append(h("section", { class: "card" }, h("h2", {}, "Create a vault"),
    h("form", { class: "row", onsubmit: (e) => {
      e.preventDefault();
      ctx.run(async () => {
        await api.admin("POST", "vaults", { name: name.value, retentionDays: Number(retention.value),
          enablePurgeProtection: purge.checked, enableRbacAuthorization: rbac.checked });
        await ctx.redraw();
      }, `Vault ${name.value} created.`);
    } },
      field("Name", name), field("Retention days", retention), field("Purge protection", purge),
      field("RBAC", rbac), h("button", { type: "submit" }, "Create"))));
}
