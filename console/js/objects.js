// Keys, secrets and certificates of the current vault, through the Key Vault data plane.
import * as api from "./api.js";
import { h, table, field, when, badge, download, parseTags, formatTags } from "./dom.js";

const nameOf = (id) => id.split("/")[4];
const versionOf = (id) => id.split("/")[5] || "";

function needsApp(root, what) {
  if (api.signedIn().dataPlane) return false;
  root.append(h("p", { class: "empty" },
    `Sign in with an application's client id and secret, or as a user, to see ${what} (the data plane takes application and user tokens).`));
  return true;
}

// "P90D", "P1Y", "PT12H" -> milliseconds (months and years as 30 and 365 days, as an estimate).
function durationMs(text) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text || "");
  if (!m) return null;
  const [y, mo, d, hh, mi, s] = m.slice(1).map((x) => Number(x || 0));
  return ((((y * 365 + mo * 30 + d) * 24 + hh) * 60 + mi) * 60 + s) * 1000;
}

function nextRotation(policy, key) {
  for (const action of (policy && policy.lifetimeActions) || []) {
    if ((action.action.type || "").toLowerCase() !== "rotate") continue;
    const t = action.trigger || {};
    if (t.timeAfterCreate && key.attributes.created) {
      return key.attributes.created * 1000 + durationMs(t.timeAfterCreate);
    }
    if (t.timeBeforeExpiry && key.attributes.exp) return key.attributes.exp * 1000 - durationMs(t.timeBeforeExpiry);
  }
  return null;
}

// SubjectPublicKeyInfo PEM of a public JWK, through WebCrypto.
async function pemOf(jwk) {
  const pub = jwk.kty.startsWith("RSA") ? { kty: "RSA", n: jwk.n, e: jwk.e }
    : { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  const algorithm = pub.kty === "RSA" ? { name: "RSA-OAEP", hash: "SHA-256" } : { name: "ECDSA", namedCurve: pub.crv };
  if (pub.kty === "EC" && !["P-256", "P-384", "P-521"].includes(pub.crv)) {
    throw new Error(`This browser cannot write ${pub.crv} keys as PEM; download the JWK.`);
  }
  const key = await crypto.subtle.importKey("jwk", pub, algorithm, true, pub.kty === "RSA" ? ["encrypt"] : ["verify"]);
  const der = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  const b64 = btoa(String.fromCharCode(...der)).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

function publicJwk(key) {
  const out = {};
  for (const k of ["kid", "kty", "key_ops", "n", "e", "crv", "x", "y"]) if (key[k] !== undefined) out[k] = key[k];
  return out;
}

async function keyDetail(ctx, uri, name) {
  const key = await api.vault(uri, "GET", `/keys/${name}`);
  const versions = await api.vaultList(uri, `/keys/${name}/versions`, 200);
  let policy = null;
  try {
    policy = await api.vault(uri, "GET", `/keys/${name}/rotationpolicy`);
  } catch (e) {
    if (e.status !== 403 && e.status !== 404) throw e;
  }
  const version = versionOf(key.key.kid);
  const attrs = key.attributes;
  const next = nextRotation(policy, key);
  const tags = h("input", { value: formatTags(key.tags), "aria-label": "Tags (name=value, ...)" });
  const rotateAfter = h("input", { placeholder: "P90D", value: ((policy && policy.lifetimeActions || [])
    .find((a) => (a.action.type || "").toLowerCase() === "rotate") || { trigger: {} }).trigger.timeAfterCreate || "" });
  const expiryTime = h("input", { placeholder: "P2Y", value: (policy && policy.attributes && policy.attributes.expiryTime) || "" });
  const act = (label, action, done, cls = "secondary") =>
    h("button", { type: "button", class: cls, onclick: () => ctx.run(async () => { await action(); await ctx.redraw(); }, done) }, label);
  return h("section", { class: "card", id: "key-detail", "aria-labelledby": "key-title" },
    h("h2", { id: "key-title" }, `Key ${name}`),
    h("dl", { class: "kv" },
      h("dt", {}, "Type"), h("dd", {}, key.key.kty + (key.key.crv ? " " + key.key.crv : key.key.n ? ` ${key.key.n.length * 6 - (key.key.n.length * 6) % 8}` : "")),
      h("dt", {}, "Current version"), h("dd", { class: "mono" }, version),
      h("dt", {}, "Enabled"), h("dd", {}, attrs.enabled ? badge("enabled", "ok") : badge("disabled", "bad")),
      h("dt", {}, "Operations"), h("dd", {}, (key.key.key_ops || []).join(", ")),
      h("dt", {}, "Created"), h("dd", {}, when(attrs.created)),
      h("dt", {}, "Expires"), h("dd", {}, when(attrs.exp) || "never"),
      h("dt", {}, "Not before"), h("dd", {}, when(attrs.nbf) || "-"),
      h("dt", {}, "Recovery level"), h("dd", {}, attrs.recoveryLevel || ""),
      h("dt", {}, "Next rotation"), h("dd", {}, next ? when(next / 1000) : "no rotation policy action")),
    h("div", { class: "actions" },
      act("Rotate", () => api.vault(uri, "POST", `/keys/${name}/rotate`), `Key ${name} rotated.`),
      attrs.enabled
        ? act("Disable", () => api.vault(uri, "PATCH", `/keys/${name}/${version}`, { attributes: { enabled: false } }), `Key ${name} disabled.`)
        : act("Enable", () => api.vault(uri, "PATCH", `/keys/${name}/${version}`, { attributes: { enabled: true } }), `Key ${name} enabled.`),
      h("button", { type: "button", class: "secondary", onclick: () => download(`${name}.jwk.json`, JSON.stringify(publicJwk(key.key), null, 2)) }, "Download JWK"),
      h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => download(`${name}.pem`, await pemOf(key.key), "application/x-pem-file")) }, "Download PEM"),
      h("button", { type: "button", class: "danger", onclick: () => {
        if (!confirm(`Delete key ${name}? It stays recoverable for the vault's retention period.`)) return;
        ctx.run(async () => { await api.vault(uri, "DELETE", `/keys/${name}`); ctx.selectedKey = ""; await ctx.redraw(); }, `Key ${name} deleted.`);
      } }, "Delete")),
    h("h2", {}, "Tags"),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault();
      ctx.run(async () => { await api.vault(uri, "PATCH", `/keys/${name}/${version}`, { tags: parseTags(tags.value) }); await ctx.redraw(); }, "Tags saved."); } },
      tags, h("button", { type: "submit", class: "secondary" }, "Save tags")),
    h("h2", {}, "Rotation policy"),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault();
      const lifetimeActions = [{ trigger: { timeBeforeExpiry: "P30D" }, action: { type: "Notify" } }];
      if (rotateAfter.value) lifetimeActions.unshift({ trigger: { timeAfterCreate: rotateAfter.value }, action: { type: "Rotate" } });
      ctx.run(async () => {
        await api.vault(uri, "PUT", `/keys/${name}/rotationpolicy`, { lifetimeActions,
          attributes: expiryTime.value ? { expiryTime: expiryTime.value } : {} });
        await ctx.redraw();
      }, "Rotation policy saved."); } },
      field("Rotate after (ISO 8601)", rotateAfter), field("New versions expire after", expiryTime),
      h("button", { type: "submit", class: "secondary" }, "Save policy")),
    h("h2", {}, `Versions (${versions.length})`),
    table(["Version", "Enabled", "Created", "Expires"], versions
      .sort((a, b) => (b.attributes.created || 0) - (a.attributes.created || 0))
      .map((v) => h("tr", {}, h("td", { class: "mono" }, versionOf(v.kid)),
        h("td", {}, v.attributes.enabled ? "yes" : "no"), h("td", {}, when(v.attributes.created)),
        h("td", {}, when(v.attributes.exp))))));
}

function deletedSection(ctx, uri, items, kind) {
  const collection = kind === "key" ? "deletedkeys" : "deletedsecrets";
  return h("section", { class: "card", id: `deleted-${kind}s` }, h("h2", {}, `Deleted ${kind}s`),
    table(["Name", "Deleted", "Purge scheduled", ""], items.map((d) => {
      const name = nameOf(d.kid || d.id);
      return h("tr", { "data-deleted": name }, h("td", {}, name), h("td", {}, when(d.deletedDate)),
        h("td", {}, when(d.scheduledPurgeDate)),
        h("td", {}, h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => {
            await api.vault(uri, "POST", `/${collection}/${name}/recover`); await ctx.redraw(); }, `${name} recovered.`) }, "Recover"),
          h("button", { type: "button", class: "danger", onclick: () => {
            if (!confirm(`Purge ${name}? This cannot be undone.`)) return;
            ctx.run(async () => { await api.vault(uri, "DELETE", `/${collection}/${name}`); await ctx.redraw(); }, `${name} purged.`);
          } }, "Purge"))));
    }), `No deleted ${kind}s.`));
}

export async function keysPage(ctx, root) {
  root.append(h("h1", {}, `Keys in ${ctx.current}`));
  if (needsApp(root, "keys")) return;
  const uri = ctx.uri();
  const keys = await api.vaultList(uri, "/keys");
  const rows = keys.map((k) => {
    const name = nameOf(k.kid);
    return h("tr", { "data-key": name, class: ctx.selectedKey === name ? "selected" : "" },
      h("td", {}, h("a", { href: "#/keys", onclick: (e) => { e.preventDefault(); ctx.selectedKey = name; ctx.redraw(); } }, name)),
      h("td", {}, k.attributes.enabled ? badge("enabled", "ok") : badge("disabled", "bad")),
      h("td", { class: "hide-narrow" }, when(k.attributes.updated)),
      h("td", {}, when(k.attributes.exp) || "never"),
      h("td", { class: "hide-narrow" }, formatTags(k.tags)));
  });
  root.append(h("section", { class: "card", id: "key-list" },
    table(["Name", "Status", "Updated", "Expires", "Tags"], rows, "No keys in this vault.")));
  if (ctx.selectedKey && keys.some((k) => nameOf(k.kid) === ctx.selectedKey)) {
    try {
      root.append(await keyDetail(ctx, uri, ctx.selectedKey));
    } catch (e) {
      ctx.error(e);
    }
  }

  const name = h("input", { id: "new-key-name", required: true, pattern: "[0-9A-Za-z\\-]{1,127}" });
  const kty = h("select", { id: "new-key-type" }, ["RSA 2048", "RSA 3072", "RSA 4096", "EC P-256", "EC P-384", "EC P-521"]
    .map((t) => h("option", { value: t }, t)));
  const expires = h("input", { type: "date", id: "new-key-expires" });
  const tags = h("input", { id: "new-key-tags", placeholder: "team=payments" });
  root.append(h("section", { class: "card" }, h("h2", {}, "Create a key"),
    h("form", { class: "row", id: "create-key", onsubmit: (e) => {
      e.preventDefault();
      const [type, size] = kty.value.split(" ");
      const body = type === "RSA" ? { kty: "RSA", key_size: Number(size) } : { kty: "EC", crv: size };
      ctx.run(async () => {
        body.tags = parseTags(tags.value);
        if (expires.value) body.attributes = { exp: Math.floor(Date.parse(expires.value) / 1000) };
        await api.vault(uri, "POST", `/keys/${name.value}/create`, body);
        ctx.selectedKey = name.value;
        await ctx.redraw();
      }, `Key ${name.value} created.`);
    } },
      field("Name", name), field("Type", kty), field("Expires", expires), field("Tags", tags),
      h("button", { type: "submit" }, "Create key"))));

  try {
    root.append(deletedSection(ctx, uri, await api.vaultList(uri, "/deletedkeys"), "key"));
  } catch (e) {
    if (e.status !== 403) throw e;
  }
}

export async function secretsPage(ctx, root) {
  root.append(h("h1", {}, `Secrets in ${ctx.current}`));
  if (needsApp(root, "secrets")) return;
  const uri = ctx.uri();
  const secrets = await api.vaultList(uri, "/secrets");
  const rows = secrets.filter((s) => !s.managed).map((s) => {
    const name = nameOf(s.id);
    const value = h("span", { class: "secret-value", "aria-live": "polite" }, "••••••••");
    let shown = null;
    const reveal = h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => {
      if (shown !== null) { shown = null; value.textContent = "••••••••"; reveal.textContent = "Reveal"; return; }
      shown = (await api.vault(uri, "GET", `/secrets/${name}`)).value;
      value.textContent = shown;
      reveal.textContent = "Hide";
    }) }, "Reveal");
    return h("tr", { "data-secret": name }, h("td", {}, name), h("td", {}, value),
      h("td", { class: "hide-narrow" }, s.contentType || ""), h("td", { class: "hide-narrow" }, when(s.attributes.updated)),
      h("td", {}, h("div", { class: "actions" }, reveal,
        h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => {
          const secret = (await api.vault(uri, "GET", `/secrets/${name}`)).value;
          await navigator.clipboard.writeText(secret);
        }, `The value of ${name} is on the clipboard.`) }, "Copy"),
        h("button", { type: "button", class: "danger", onclick: () => {
          if (!confirm(`Delete secret ${name}?`)) return;
          ctx.run(async () => { await api.vault(uri, "DELETE", `/secrets/${name}`); await ctx.redraw(); }, `Secret ${name} deleted.`);
        } }, "Delete"))));
  });
  root.append(h("section", { class: "card" }, table(["Name", "Value", "Content type", "Updated", ""], rows, "No secrets in this vault.")));
  const name = h("input", { id: "new-secret-name", required: true, pattern: "[0-9A-Za-z\\-]{1,127}" });
  const value = h("input", { id: "new-secret-value", type: "password", required: true, autocomplete: "off" });
  const contentType = h("input", { placeholder: "text/plain" });
  root.append(h("section", { class: "card" }, h("h2", {}, "Set a secret"),
    h("form", { class: "row", id: "set-secret", onsubmit: (e) => {
      e.preventDefault();
      ctx.run(async () => {
        const body = { value: value.value };
        if (contentType.value) body.contentType = contentType.value;
        await api.vault(uri, "PUT", `/secrets/${name.value}`, body);
        await ctx.redraw();
      }, `Secret ${name.value} set.`);
    } }, field("Name", name), field("Value", value), field("Content type", contentType),
      h("button", { type: "submit" }, "Set secret"))));
  try {
    root.append(deletedSection(ctx, uri, await api.vaultList(uri, "/deletedsecrets"), "secret"));
  } catch (e) {
    if (e.status !== 403) throw e;
  }
}

// Ready for the certificates API: lists what GET /certificates returns, or says it is not there.
export async function certificatesPage(ctx, root) {
  root.append(h("h1", {}, `Certificates in ${ctx.current}`));
  if (needsApp(root, "certificates")) return;
  const uri = ctx.uri();
  let certs;
  try {
    certs = await api.vaultList(uri, "/certificates");
  } catch (e) {
    if (e.status === 404) {
      root.append(h("p", { class: "empty", id: "certificates-unavailable" }, "Certificates are not available on this server."));
      return;
    }
    throw e;
  }
  root.append(h("section", { class: "card" }, table(["Name", "Thumbprint", "Enabled", "Expires", ""], certs.map((c) => {
    const name = nameOf(c.id);
    return h("tr", {}, h("td", {}, name), h("td", { class: "mono hide-narrow" }, c.x5t || ""),
      h("td", {}, c.attributes && c.attributes.enabled ? "yes" : "no"), h("td", {}, when(c.attributes && c.attributes.exp)),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => ctx.run(async () => {
        const cert = await api.vault(uri, "GET", `/certificates/${name}`);
        const b64 = (cert.cer || "").replace(/(.{64})/g, "$1\n");
        download(`${name}.pem`, `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, "application/x-pem-file");
      }) }, "Download")));
  }), "No certificates in this vault.")));
}
