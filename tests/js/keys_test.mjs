// The official JS clients (@azure/identity + @azure/keyvault-keys, pinned in package-lock.json)
// against a Coffre server. Run by tests/integration/test_js_sdk.py with dev.env's environment:
// COFFRE_VAULT_URL, IDENTITY_ENDPOINT/IDENTITY_HEADER (managed identity), NODE_EXTRA_CA_CERTS.
// Exits non-zero with a clear message on the first mismatch.
import { DefaultAzureCredential } from "@azure/identity";
import { KeyClient } from "@azure/keyvault-keys";

const vaultUrl = process.env.COFFRE_VAULT_URL;
const suffix = process.env.COFFRE_JS_SUFFIX || String(Date.now() % 100000);

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

function kidRe(name) {
  return new RegExp(`^${escapeRe(vaultUrl)}/keys/${escapeRe(name)}/[0-9a-f]{32}$`);
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
  const client = new KeyClient(vaultUrl, new DefaultAzureCredential());

  const rsaName = `js-rsa-${suffix}`;
  const ecName = `js-ec-${suffix}`;
  const goneName = `js-gone-${suffix}`;

  // create RSA
  const rsa = await client.createRsaKey(rsaName, { keySize: 2048 });
  eq(rsa.name, rsaName, "rsa name");
  check(kidRe(rsaName).test(rsa.id), `rsa kid ${rsa.id} does not match ${kidRe(rsaName)}`);
  eq(rsa.keyType, "RSA", "rsa keyType");
  eq(rsa.key.n.length, 256, "rsa modulus length");
  eq(Array.from(rsa.key.e), [1, 0, 1], "rsa exponent");
  eq([...rsa.keyOperations].sort(), ["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"],
    "rsa key_ops");
  eq(rsa.properties.enabled, true, "rsa enabled");
  eq(rsa.properties.recoveryLevel, "Recoverable+Purgeable", "rsa recoveryLevel");
  eq(rsa.properties.recoverableDays, 90, "rsa recoverableDays");
  check(rsa.properties.createdOn instanceof Date &&
    Math.abs(rsa.properties.createdOn.getTime() - Date.now()) < 120000, "rsa createdOn");

  // create EC
  const ec = await client.createEcKey(ecName, { curve: "P-384", tags: { lang: "js" } });
  check(kidRe(ecName).test(ec.id), `ec kid ${ec.id}`);
  eq(ec.keyType, "EC", "ec keyType");
  eq(ec.key.crv, "P-384", "ec crv");
  eq(ec.key.x.length, 48, "ec x length");
  eq(ec.key.y.length, 48, "ec y length");
  eq([...ec.keyOperations].sort(), ["sign", "verify"], "ec key_ops");
  eq(ec.properties.tags, { lang: "js" }, "ec tags");

  // get latest / by version
  const got = await client.getKey(rsaName);
  eq(got.id, rsa.id, "getKey id");
  eq(Buffer.from(got.key.n).toString("hex"), Buffer.from(rsa.key.n).toString("hex"), "getKey modulus");
  const rsa2 = await client.createRsaKey(rsaName, { keySize: 2048 });
  check(rsa2.properties.version !== rsa.properties.version, "second version has a new id");
  const old = await client.getKey(rsaName, { version: rsa.properties.version });
  eq(old.id, rsa.id, "getKey by version");
  eq((await client.getKey(rsaName)).id, rsa2.id, "latest after second create");

  // lists
  const names = [];
  for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
  check(names.includes(rsaName) && names.includes(ecName), `list lacks the keys: ${names}`);
  eq(new Set(names).size, names.length, "no duplicates in list");
  const versions = [];
  for await (const p of client.listPropertiesOfKeyVersions(rsaName)) versions.push(p.version);
  eq(versions.sort(), [rsa.properties.version, rsa2.properties.version].sort(), "versions");

  // delete (polls GET /deletedkeys every 2 s until found)
  const poller = await client.beginDeleteKey(rsaName);
  const deleted = await poller.pollUntilDone();
  eq(deleted.name, rsaName, "deleted name");
  eq(deleted.properties.recoveryId, `${vaultUrl}/deletedkeys/${rsaName}`, "recoveryId");
  check(deleted.properties.deletedOn instanceof Date, "deletedOn");
  eq(deleted.properties.scheduledPurgeDate.getTime() - deleted.properties.deletedOn.getTime(),
    90 * 86400 * 1000, "scheduledPurgeDate - deletedOn");
  const gd = await client.getDeletedKey(rsaName);
  eq(gd.id, rsa2.id, "getDeletedKey id");
  const deletedNames = [];
  for await (const d of client.listDeletedKeys()) deletedNames.push(d.name);
  check(deletedNames.includes(rsaName), `listDeletedKeys lacks ${rsaName}: ${deletedNames}`);
  await expectRestError(client.getKey(rsaName), 404, "KeyNotFound", "was not found in this key vault",
    "getKey of a deleted key");

  // purge, then the name is free again
  await client.purgeDeletedKey(rsaName);
  await expectRestError(client.getDeletedKey(rsaName), 404, "KeyNotFound",
    `Deleted Key not found: ${rsaName}`, "getDeletedKey after purge");
  const again = await client.createRsaKey(rsaName, { keySize: 2048 });
  check(![rsa.properties.version, rsa2.properties.version].includes(again.properties.version),
    "create after purge makes a new version");

  // 409 on re-creating a deleted (not purged) name
  await client.createEcKey(goneName);
  await (await client.beginDeleteKey(goneName)).pollUntilDone();
  await expectRestError(client.createEcKey(goneName), 409, "Conflict",
    `Key ${goneName} is currently in a deleted but recoverable state, and its name cannot be reused`,
    "create over a deleted key");

  // unknown key
  await expectRestError(client.getKey(`js-missing-${suffix}`), 404, "KeyNotFound",
    `A key with (name/id) js-missing-${suffix} was not found in this key vault.`, "getKey unknown");

  console.log(`JS SDK OK against ${vaultUrl}`);
}

main().catch((err) => {
  console.error("FAIL: unexpected error:", err && err.stack ? err.stack : err);
  if (err && err.statusCode) console.error("statusCode:", err.statusCode, "code:", err.code);
  process.exit(1);
});
