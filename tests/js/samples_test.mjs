// The flows of Microsoft's JS Key Vault keys samples (azure-sdk-for-js,
// sdk/keyvault/keyvault-keys/samples/v4: helloWorld, listOperations, backupAndRestore,
// purgeAllKeys / delete-and-recover, keyRotation, cryptography) with the pinned
// @azure/keyvault-keys + @azure/identity, against a Coffre server, plus cross-checks with Node's
// own crypto (publicEncrypt -> server decrypt, server signatures -> crypto.verify, Node-made keys
// imported and their signatures verified by the server).
// Run by tests/integration/test_samples_js.py with dev.env's environment (COFFRE_VAULT_URL,
// IDENTITY_ENDPOINT/IDENTITY_HEADER, NODE_EXTRA_CA_CERTS). Exits non-zero on the first mismatch.
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { DefaultAzureCredential } from "@azure/identity";
import { CryptographyClient, KeyClient } from "@azure/keyvault-keys";

const vaultUrl = process.env.COFFRE_VAULT_URL;
const suffix = process.env.COFFRE_JS_SUFFIX || String(Date.now() % 100000);
// Pollers wait intervalInMs between polls; the samples use the default (2 s). A small interval
// keeps the run short without changing the calls made.
const POLL = { intervalInMs: 100 };
let step = "start";
let credential;
let client;

function fail(msg) {
  console.error(`FAIL [${step}]: ${msg}`);
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

function hex(u8) {
  return Buffer.from(u8).toString("hex");
}

function b64url(u8) {
  return Buffer.from(u8).toString("base64url");
}

async function expectRestError(promise, status, code, what) {
  try {
    await promise;
  } catch (err) {
    eq(err.statusCode, status, `${what}: statusCode (${err.message})`);
    if (code) eq(err.code, code, `${what}: error code`);
    return err;
  }
  fail(`${what}: expected HTTP ${status}, but the call succeeded`);
}

function rsaPublicKey(key) {
  return createPublicKey({ key: { kty: "RSA", n: b64url(key.key.n), e: b64url(key.key.e) }, format: "jwk" });
}

function ecPublicKey(key) {
  return createPublicKey({
    key: { kty: "EC", crv: key.key.crv, x: b64url(key.key.x), y: b64url(key.key.y) },
    format: "jwk",
  });
}

function jwkFromNode(jwk, extra = {}) {
  // Node exports base64url strings; the SDK's JsonWebKey wants bytes
  const out = { ...extra };
  for (const [k, v] of Object.entries(jwk)) {
    out[k] = k === "kty" || k === "crv" ? v : Buffer.from(v, "base64url");
  }
  return out;
}

// ---- helloWorld ----------------------------------------------------------------------------

async function helloWorld() {
  step = "helloWorld";
  const keyName = `sample-key-${suffix}`;
  const ecKeyName = `sample-ec-key-${suffix}`;
  const rsaKeyName = `sample-rsa-key-${suffix}`;

  const result = await client.createKey(keyName, "EC");
  eq(result.keyType, "EC", "createKey EC keyType");
  eq(result.key.crv, "P-256", "default curve");
  const ecResult = await client.createEcKey(ecKeyName, { curve: "P-256" });
  eq(ecResult.key.x.length, 32, "P-256 x length");
  const rsaResult = await client.createRsaKey(rsaKeyName, { keySize: 2048 });
  eq(rsaResult.key.n.length, 256, "RSA 2048 modulus");

  const key = await client.getKey(keyName);
  eq(key.id, result.id, "getKey id");

  const listed = [];
  for await (const keyProperties of client.listPropertiesOfKeys()) {
    const k = await client.getKey(keyProperties.name);
    listed.push(k.name);
  }
  for (const n of [keyName, ecKeyName, rsaKeyName]) check(listed.includes(n), `listPropertiesOfKeys lacks ${n}`);

  const updatedKey = await client.updateKeyProperties(keyName, result.properties.version, { enabled: false });
  eq(updatedKey.properties.enabled, false, "updated enabled");

  const deletePoller = await client.beginDeleteKey(keyName, POLL);
  const deleted = await deletePoller.pollUntilDone();
  eq(deleted.name, keyName, "deleted name");
  const deletedKey = await client.getDeletedKey(keyName);
  eq(deletedKey.id, result.id, "getDeletedKey id");
  eq(deletedKey.properties.recoveryId, `${vaultUrl}/deletedkeys/${keyName}`, "recoveryId");
  await client.purgeDeletedKey(keyName);
  await expectRestError(client.getDeletedKey(keyName), 404, "KeyNotFound", "getDeletedKey after purge");
}

// ---- listOperations ------------------------------------------------------------------------

async function listOperations() {
  step = "listOperations";
  const ecName = `list-ec-${suffix}`;
  const rsaName = `list-rsa-${suffix}`;
  const ec = await client.createEcKey(ecName);
  const rsa = await client.createRsaKey(rsaName);
  const names = [];
  for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
  check(names.includes(ecName) && names.includes(rsaName), `list lacks the keys: ${names}`);
  const rsa2 = await client.createRsaKey(rsaName, { keySize: 3072 });
  eq(rsa2.key.n.length, 384, "new version is 3072-bit");
  const versions = [];
  for await (const p of client.listPropertiesOfKeyVersions(rsaName)) versions.push(p.version);
  eq(versions.sort(), [rsa.properties.version, rsa2.properties.version].sort(), "versions");
  // beginDeleteKey performs the DELETE before it resolves
  await client.beginDeleteKey(ecName);
  await client.beginDeleteKey(rsaName);
  const deleted = {};
  for await (const d of client.listDeletedKeys()) deleted[d.name] = d;
  check(deleted[ecName] && deleted[rsaName], `listDeletedKeys lacks the keys: ${Object.keys(deleted)}`);
  eq(deleted[ecName].properties.recoveryId, `${vaultUrl}/deletedkeys/${ecName}`, "deleted recoveryId");
  check(ec.id !== rsa.id, "distinct ids");
}

// ---- backupAndRestore ----------------------------------------------------------------------

async function backupAndRestore() {
  step = "backupAndRestore";
  const keyName = `backup-key-${suffix}`;
  const created = await client.createKey(keyName, "RSA", { tags: { sample: "backup" } });
  const backup = await client.backupKey(keyName);
  check(backup instanceof Uint8Array && backup.length > 100, "backupKey returned no blob");
  const poller = await client.beginDeleteKey(keyName, POLL);
  await poller.pollUntilDone();
  await client.purgeDeletedKey(keyName);
  await expectRestError(client.getKey(keyName), 404, "KeyNotFound", "getKey after purge");
  const restored = await client.restoreKeyBackup(backup);
  eq(restored.id, created.id, "restored id");
  eq(hex(restored.key.n), hex(created.key.n), "restored modulus");
  eq(restored.properties.tags, { sample: "backup" }, "restored tags");
  await expectRestError(client.restoreKeyBackup(backup), 409, null, "restore over an existing key");
  await expectRestError(client.restoreKeyBackup(new Uint8Array(randomBytes(300))), 400, "BadParameter",
    "restore of garbage");
}

// ---- delete / recover / purge ----------------------------------------------------------------

async function deleteAndRecover() {
  step = "deleteAndRecover";
  const keyName = `recover-key-${suffix}`;
  const created = await client.createRsaKey(keyName);
  const deletePoller = await client.beginDeleteKey(keyName, POLL);
  await deletePoller.pollUntilDone();
  await expectRestError(client.getKey(keyName), 404, "KeyNotFound", "getKey of a deleted key");
  const recoverPoller = await client.beginRecoverDeletedKey(keyName, POLL);
  const recovered = await recoverPoller.pollUntilDone();
  eq(recovered.id, created.id, "recovered id");
  eq((await client.getKey(keyName)).id, created.id, "getKey after recover");
}

// ---- keyRotation -----------------------------------------------------------------------------

async function keyRotation() {
  step = "keyRotation/createRotationPolicyAndRotate";
  let keyName = `key-rotation-sample-key-${suffix}`;
  const key = await client.createKey(keyName, "EC");
  const policy = await client.updateKeyRotationPolicy(key.name, {
    lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P30D" }],
  });
  eq(policy.id, `${vaultUrl}/keys/${keyName}/rotationpolicy`, "policy id");
  eq(policy.lifetimeActions, [{ action: "Rotate", timeAfterCreate: "P30D" }], "created policy");
  check(policy.createdOn instanceof Date && policy.updatedOn instanceof Date, "policy created/updated dates");
  const currentPolicy = await client.getKeyRotationPolicy(key.name);
  eq(currentPolicy.lifetimeActions, policy.lifetimeActions, "fetched policy");
  const updatedPolicy = await client.updateKeyRotationPolicy(key.name, {
    lifetimeActions: [{ action: "Notify", timeBeforeExpiry: "P30D" }],
    expiresIn: "P90D",
  });
  eq(updatedPolicy.lifetimeActions, [{ action: "Notify", timeBeforeExpiry: "P30D" }], "updated policy");
  eq(updatedPolicy.expiresIn, "P90D", "updated expiresIn");
  const newKeyVersion = await client.rotateKey(key.name);
  check(newKeyVersion.properties.version !== key.properties.version, "rotateKey made a new version");
  eq(newKeyVersion.keyType, "EC", "rotated keyType");
  eq(newKeyVersion.key.crv, key.key.crv, "rotated curve");

  step = "keyRotation/getAKeyRotationPolicy";
  keyName = `MyKeyName-${suffix}`;
  await client.createKey(keyName, "EC");
  const defaultPolicy = await client.getKeyRotationPolicy(keyName);
  eq(defaultPolicy.lifetimeActions, [{ action: "Notify", timeBeforeExpiry: "P30D" }], "default policy actions");
  eq(defaultPolicy.expiresIn, undefined, "default policy expiresIn");

  step = "keyRotation/updateAKeyRotationPolicy";
  // The sample PUTs the fetched default policy straight back; the service accepts it.
  const putBack = await client.updateKeyRotationPolicy(keyName, defaultPolicy);
  eq(putBack.lifetimeActions, defaultPolicy.lifetimeActions, "default policy written back");
  // Round-tripping a complete policy works.
  await client.updateKeyRotationPolicy(keyName, {
    lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P60D" }, { action: "Notify", timeBeforeExpiry: "P10D" }],
    expiresIn: "P1Y",
  });
  const myPolicy = await client.getKeyRotationPolicy(keyName);
  const setPolicy = await client.updateKeyRotationPolicy(keyName, myPolicy);
  eq(setPolicy.lifetimeActions, myPolicy.lifetimeActions, "round-tripped policy actions");
  eq(setPolicy.expiresIn, "P1Y", "round-tripped expiresIn");

  step = "keyRotation/rotateAKey";
  await client.updateKeyRotationPolicy(keyName, {
    lifetimeActions: [{ action: "Rotate", timeBeforeExpiry: "P30D" }],
    expiresIn: "P90D",
  });
  const current = await client.getKeyRotationPolicy(keyName);
  eq(current.lifetimeActions, [{ action: "Rotate", timeBeforeExpiry: "P30D" }], "rotate-before-expiry policy");
  eq(current.expiresIn, "P90D", "rotate-before-expiry expiresIn");
  const before = Date.now();
  const rotatedKey = await client.rotateKey(keyName);
  check(rotatedKey.properties.expiresOn instanceof Date, "rotated version has an expiry from the policy");
  const delta = rotatedKey.properties.expiresOn.getTime() - (before + 90 * 86400 * 1000);
  check(Math.abs(delta) < 120000, `rotated expiresOn off by ${delta} ms`);
}

// ---- cryptography ----------------------------------------------------------------------------

async function cryptography() {
  step = "cryptography/encryptAndDecrypt";
  let myWorkKey = await client.createKey(`crypto-sample-key-ed-${suffix}`, "RSA");
  let cryptoClient = new CryptographyClient(myWorkKey.id, credential);
  const encrypt = await cryptoClient.encrypt({ algorithm: "RSA-OAEP-256", plaintext: Buffer.from("My Message") });
  eq(encrypt.result.length, 256, "RSA-OAEP-256 ciphertext length");
  eq(encrypt.keyID, myWorkKey.id, "encrypt keyID");
  const decrypt = await cryptoClient.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: encrypt.result });
  eq(Buffer.from(decrypt.result).toString(), "My Message", "RSA-OAEP-256 round trip");
  for (const algorithm of ["RSA-OAEP", "RSA1_5"]) {
    const e = await cryptoClient.encrypt({ algorithm, plaintext: Buffer.from("My Message") });
    const d = await cryptoClient.decrypt({ algorithm, ciphertext: e.result });
    eq(Buffer.from(d.result).toString(), "My Message", `${algorithm} round trip`);
  }

  step = "cryptography/signAndVerify";
  myWorkKey = await client.createKey(`crypto-sample-key-sv-${suffix}`, "RSA");
  cryptoClient = new CryptographyClient(myWorkKey.id, credential);
  const digest = createHash("sha256").update("MySignature").digest();
  const signature = await cryptoClient.sign("RS256", digest);
  eq(signature.result.length, 256, "RS256 signature length");
  const verifyResult = await cryptoClient.verify("RS256", digest, signature.result);
  eq(verifyResult.result, true, "RS256 verify");
  const bad = Buffer.from(signature.result);
  bad[10] ^= 1;
  eq((await cryptoClient.verify("RS256", digest, bad)).result, false, "RS256 verify of a bad signature");

  step = "cryptography/wrapAndUnwrapKey";
  myWorkKey = await client.createKey(`crypto-sample-key-wu-${suffix}`, "RSA");
  cryptoClient = new CryptographyClient(myWorkKey.id, credential);
  const wrapped = await cryptoClient.wrapKey("RSA-OAEP-256", Buffer.from("My Message"));
  const unwrapped = await cryptoClient.unwrapKey("RSA-OAEP-256", wrapped.result);
  eq(Buffer.from(unwrapped.result).toString(), "My Message", "RSA-OAEP-256 wrap round trip");

  step = "cryptography/dataSigning (KeyVaultKey client)";
  const myKey = await client.createKey(`sample-key-data-${suffix}`, "RSA");
  const cryptographyClient = new CryptographyClient(myKey, credential);
  const e15 = await cryptographyClient.encrypt({ algorithm: "RSA1_5", plaintext: Buffer.from("My Message") });
  const d15 = await cryptographyClient.decrypt({ algorithm: "RSA1_5", ciphertext: e15.result });
  eq(Buffer.from(d15.result).toString(), "My Message", "RSA1_5 (local encrypt) -> server decrypt");
  const hash = createHash("sha256").update("My Message").digest();
  const signResult = await cryptographyClient.sign("RS256", hash);
  eq((await cryptographyClient.verify("RS256", hash, signResult.result)).result, true, "verify a digest signature");
  const buffer = Buffer.from("My Message");
  const signData = await cryptographyClient.signData("RS256", buffer);
  eq(hex(signData.result), hex(signResult.result), "signData == sign(sha256(data)) for RS256");
  eq((await cryptographyClient.verifyData("RS256", buffer, signData.result)).result, true, "verifyData RS256");
  eq((await cryptographyClient.verifyData("RS256", Buffer.from("other"), signData.result)).result, false,
    "verifyData RS256 of other data");
  const wrapResult = await cryptographyClient.wrapKey("RSA-OAEP", Buffer.from("My Key"));
  const unwrapResult = await cryptographyClient.unwrapKey("RSA-OAEP", wrapResult.result);
  eq(Buffer.from(unwrapResult.result).toString(), "My Key", "RSA-OAEP wrap (local) -> unwrap (server)");

  step = "cryptography/ES256";
  const ecKey = await client.createEcKey(`sample-ec-sign-${suffix}`, { curve: "P-256" });
  const ecClient = new CryptographyClient(ecKey, credential);
  const ecDigest = createHash("sha256").update("EC message").digest();
  const ecSig = await ecClient.sign("ES256", ecDigest);
  eq(ecSig.result.length, 64, "ES256 raw r||s length");
  eq((await ecClient.verify("ES256", ecDigest, ecSig.result)).result, true, "ES256 verify");
  const ecData = await ecClient.signData("ES256", Buffer.from("EC message"));
  eq((await ecClient.verifyData("ES256", Buffer.from("EC message"), ecData.result)).result, true, "ES256 verifyData");
  eq((await ecClient.verifyData("ES256", Buffer.from("EC other"), ecData.result)).result, false,
    "ES256 verifyData of other data");
  return { rsaKey: myKey, rsaClient: cryptographyClient, ecKey, ecClient, ecSig: ecData.result };
}

// ---- Node crypto cross-checks ----------------------------------------------------------------

async function nodeCrossChecks(keys) {
  step = "nodeCrossChecks/publicEncrypt";
  const pub = rsaPublicKey(keys.rsaKey);
  const data = randomBytes(48);
  const cases = [
    ["RSA-OAEP-256", { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }],
    ["RSA-OAEP", { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }],
    ["RSA1_5", { padding: constants.RSA_PKCS1_PADDING }],
  ];
  for (const [algorithm, opts] of cases) {
    const ct = publicEncrypt({ key: pub, ...opts }, data);
    const d = await keys.rsaClient.decrypt({ algorithm, ciphertext: ct });
    eq(hex(d.result), hex(data), `Node publicEncrypt ${algorithm} -> server decrypt`);
    const u = await keys.rsaClient.unwrapKey(algorithm, ct);
    eq(hex(u.result), hex(data), `Node publicEncrypt ${algorithm} -> server unwrapKey`);
  }

  step = "nodeCrossChecks/verify server signatures";
  const msg = Buffer.from("signed by the server");
  for (const [alg, hashName, opts] of [
    ["RS256", "sha256", {}], ["RS384", "sha384", {}], ["RS512", "sha512", {}],
    ["PS256", "sha256", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
    ["PS384", "sha384", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
    ["PS512", "sha512", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  ]) {
    const sig = await keys.rsaClient.signData(alg, msg);
    check(nodeVerify(hashName, msg, { key: pub, ...opts }, sig.result), `crypto.verify of a server ${alg} signature`);
  }
  check(nodeVerify("sha256", Buffer.from("EC message"), { key: ecPublicKey(keys.ecKey), dsaEncoding: "ieee-p1363" },
    keys.ecSig), "crypto.verify of a server ES256 signature");
  const p384 = await client.createEcKey(`node-p384-${suffix}`, { curve: "P-384" });
  const p384Client = new CryptographyClient(p384, credential);
  const sig384 = await p384Client.signData("ES384", msg);
  eq(sig384.result.length, 96, "ES384 raw r||s length");
  check(nodeVerify("sha384", msg, { key: ecPublicKey(p384), dsaEncoding: "ieee-p1363" }, sig384.result),
    "crypto.verify of a server ES384 signature");

  step = "nodeCrossChecks/imported Node keys";
  const rsaPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const rsaJwk = rsaPair.privateKey.export({ format: "jwk" });
  const importedRsa = await client.importKey(`node-rsa-${suffix}`, jwkFromNode(rsaJwk, { keyOps: ["sign", "verify", "decrypt", "encrypt"] }));
  eq(importedRsa.keyType, "RSA", "imported RSA keyType");
  eq(b64url(importedRsa.key.n), rsaJwk.n, "imported RSA modulus");
  const impRsaClient = new CryptographyClient(importedRsa.id, credential);
  const nodeSig = nodeSign("sha256", msg, rsaPair.privateKey);
  eq((await impRsaClient.verifyData("RS256", msg, nodeSig)).result, true, "server verifies a Node RS256 signature");
  const serverSig = await impRsaClient.signData("RS256", msg);
  eq(hex(serverSig.result), hex(nodeSig), "RS256 signatures of the same key and data are identical");
  const ecPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ecJwk = ecPair.privateKey.export({ format: "jwk" });
  const importedEc = await client.importKey(`node-ec-${suffix}`, jwkFromNode(ecJwk), { hardwareProtected: true });
  eq(importedEc.keyType, "EC-HSM", "imported EC keyType with hardwareProtected");
  const impEcClient = new CryptographyClient(importedEc.id, credential);
  const nodeEcSig = nodeSign("sha256", msg, { key: ecPair.privateKey, dsaEncoding: "ieee-p1363" });
  eq((await impEcClient.verifyData("ES256", msg, nodeEcSig)).result, true, "server verifies a Node ES256 signature");
  const srvEcSig = await impEcClient.signData("ES256", msg);
  check(nodeVerify("sha256", msg, { key: ecPair.publicKey, dsaEncoding: "ieee-p1363" }, srvEcSig.result),
    "Node verifies the imported key's server signature");
}

// ---- purgeAllKeys ----------------------------------------------------------------------------

async function purgeAllKeys() {
  step = "purgeAllKeys";
  for (let round = 0; round < 3; round++) {
    const names = [];
    for await (const properties of client.listPropertiesOfKeys()) names.push(properties.name);
    if (names.length === 0) break;
    for (const name of names) {
      try {
        await client.beginDeleteKey(name);
      } catch (e) {
        // the sample ignores errors: it only cleans up
      }
    }
  }
  for (let round = 0; round < 3; round++) {
    const deleted = [];
    for await (const deletedKey of client.listDeletedKeys()) deleted.push(deletedKey.name);
    if (deleted.length === 0) break;
    for (const name of deleted) {
      try {
        await client.purgeDeletedKey(name);
      } catch (e) {
        // ignored, as in the sample
      }
    }
  }
  const left = [];
  for await (const p of client.listPropertiesOfKeys()) left.push(p.name);
  eq(left, [], "keys left after purgeAllKeys");
  const leftDeleted = [];
  for await (const d of client.listDeletedKeys()) leftDeleted.push(d.name);
  eq(leftDeleted, [], "deleted keys left after purgeAllKeys");
}

async function main() {
  check(vaultUrl, "COFFRE_VAULT_URL is not set");
  check(process.env.IDENTITY_ENDPOINT && process.env.IDENTITY_HEADER,
    "no managed identity configured (refusing to let DefaultAzureCredential probe IMDS)");
  credential = new DefaultAzureCredential();
  client = new KeyClient(vaultUrl, credential);
  const t0 = Date.now();
  await helloWorld();
  await listOperations();
  await backupAndRestore();
  await deleteAndRecover();
  await keyRotation();
  const keys = await cryptography();
  await nodeCrossChecks(keys);
  await purgeAllKeys();
  console.log(`JS SAMPLES OK against ${vaultUrl} in ${Date.now() - t0} ms`);
}

main().catch((err) => {
  console.error(`FAIL [${step}]: unexpected error:`, err && err.stack ? err.stack : err);
  if (err && err.statusCode) console.error("statusCode:", err.statusCode, "code:", err.code);
  process.exit(1);
});
