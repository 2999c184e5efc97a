// The official JS secrets client (@azure/identity + @azure/keyvault-secrets, pinned in
// package-lock.json) against a Coffre server: every operation of the secrets API and the error
// cases Key Vault answers. Run by tests/integration/test_js_secrets.py with dev.env's
// environment: COFFRE_VAULT_URL, IDENTITY_ENDPOINT/IDENTITY_HEADER (managed identity),
// NODE_EXTRA_CA_CERTS. Exits non-zero with a clear message on the first mismatch.
import { DefaultAzureCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

const vaultUrl = process.env.COFFRE_VAULT_URL;
const suffix = process.env.COFFRE_JS_SUFFIX || String(Date.now() % 100000);
const poll = { intervalInMs: 100 };

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function sidRe(name) {
  return new RegExp(`^${escapeRe(vaultUrl)}/secrets/${escapeRe(name)}/[0-9a-f]{32}$`);
}

async function expectRestError(promise, status, code, messagePart, what) {
  try {
    await promise;
  } catch (err) {
    eq(err.statusCode, status, `${what}: statusCode (${err.message})`);
    if (code) eq(err.code, code, `${what}: error code`);
    if (messagePart) check(String(err.message).includes(messagePart),
      `${what}: message ${JSON.stringify(err.message)} lacks ${JSON.stringify(messagePart)}`);
    return err;
  }
  fail(`${what}: expected HTTP ${status}, but the call succeeded`);
}

async function main() {
  check(vaultUrl, "COFFRE_VAULT_URL is not set");
  check(process.env.IDENTITY_ENDPOINT || process.env.AZURE_CLIENT_ID,
    "no credential configured (refusing to let DefaultAzureCredential probe IMDS)");
  const client = new SecretClient(vaultUrl, new DefaultAzureCredential());

  const name = `js-secret-${suffix}`;
  const goneName = `js-secret-gone-${suffix}`;
  const offName = `js-secret-off-${suffix}`;

  // set, versions, get
  const first = await client.setSecret(name, "first value", {
    contentType: "text/plain", tags: { env: "js" } });
  eq(first.name, name, "set name");
  eq(first.value, "first value", "set value");
  check(sidRe(name).test(first.properties.id), `id ${first.properties.id}`);
  eq(first.properties.contentType, "text/plain", "contentType");
  eq(first.properties.tags, { env: "js" }, "tags");
  eq(first.properties.enabled, true, "enabled");
  eq(first.properties.recoveryLevel, "Recoverable+Purgeable", "recoveryLevel");
  eq(first.properties.recoverableDays, 90, "recoverableDays");
  const second = await client.setSecret(name, "second value");
  check(second.properties.version !== first.properties.version, "a new version per set");
  eq((await client.getSecret(name)).value, "second value", "latest");
  eq((await client.getSecret(name, { version: first.properties.version })).value, "first value",
    "get by version");

  // update never touches the value
  const expiresOn = new Date(Date.now() + 86400000);
  expiresOn.setMilliseconds(0);
  const updated = await client.updateSecretProperties(name, first.properties.version, {
    contentType: "application/json", tags: { a: "b" }, expiresOn });
  eq(updated.contentType, "application/json", "updated contentType");
  eq(updated.tags, { a: "b" }, "updated tags");
  eq(updated.expiresOn.getTime(), expiresOn.getTime(), "updated expiresOn");
  eq((await client.getSecret(name, { version: first.properties.version })).value, "first value",
    "value unchanged by update");

  // lists
  let found = false;
  for await (const p of client.listPropertiesOfSecrets()) {
    if (p.name === name) found = true;
    check(p.value === undefined, "lists carry no value");
  }
  check(found, "listPropertiesOfSecrets finds the secret");
  const versions = [];
  for await (const p of client.listPropertiesOfSecretVersions(name)) versions.push(p.version);
  eq(versions.sort(), [first.properties.version, second.properties.version].sort(), "versions");
  let pages = 0;
  for await (const page of client.listPropertiesOfSecretVersions(name).byPage({ maxPageSize: 1 })) {
    check(page.length <= 1, "page size");
    pages++;
  }
  eq(pages, 2, "pages of one version");

  // disabled
  await client.setSecret(offName, "hidden", { enabled: false });
  const disabled = await expectRestError(client.getSecret(offName), 403, "Forbidden",
    "Operation get is not allowed on a disabled secret.", "disabled get");
  check(!String(disabled.message).includes("hidden"), "no value in the error");

  // backup, delete, recover, purge, restore
  const backup = await client.backupSecret(name);
  check(backup instanceof Uint8Array && backup.length > 0, "backup blob");
  await expectRestError(client.restoreSecretBackup(backup), 409, undefined, undefined,
    "restore over an existing name");
  const deleted = await (await client.beginDeleteSecret(name, poll)).pollUntilDone();
  eq(deleted.name, name, "deleted name");
  eq(deleted.recoveryId, `${vaultUrl}/deletedsecrets/${name}`, "recoveryId");
  check(deleted.deletedOn instanceof Date, "deletedOn");
  check(deleted.scheduledPurgeDate instanceof Date, "scheduledPurgeDate");
  await expectRestError(client.setSecret(name, "again"), 409, "Conflict",
    `Secret ${name} is currently in a deleted but recoverable state`, "set on a deleted name");
  eq((await client.getDeletedSecret(name)).name, name, "getDeletedSecret");
  let deletedListed = false;
  for await (const d of client.listDeletedSecrets()) if (d.name === name) deletedListed = true;
  check(deletedListed, "listDeletedSecrets");
  const recovered = await (await client.beginRecoverDeletedSecret(name, poll)).pollUntilDone();
  eq(recovered.name, name, "recovered");
  eq((await client.getSecret(name)).value, "second value", "value after recover");
  await (await client.beginDeleteSecret(name, poll)).pollUntilDone();
  await client.purgeDeletedSecret(name);
  await expectRestError(client.getDeletedSecret(name), 404, "SecretNotFound", undefined,
    "purged");
  const restored = await client.restoreSecretBackup(backup);
  eq(restored.name, name, "restored name");
  eq((await client.getSecret(name)).value, "second value", "value after restore");

  // errors
  await expectRestError(client.getSecret(`js-missing-${suffix}`), 404, "SecretNotFound",
    "was not found in this key vault", "missing secret");
  await expectRestError(client.setSecret(`js-big-${suffix}`, "x".repeat(25601)), 400,
    "BadParameter", undefined, "oversized value");
  const bad = new Uint8Array(backup);
  bad[Math.floor(bad.length / 2)] ^= 1;
  await expectRestError(client.restoreSecretBackup(bad), 400, undefined, undefined,
    "tampered backup");

  // left for the python side to check: one deleted secret
  await client.setSecret(goneName, "bye");
  await (await client.beginDeleteSecret(goneName, poll)).pollUntilDone();
  console.log("JS SECRETS OK");
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
