// The official JS clients against a Coffre test harness that fails or throttles on purpose:
// run by tests/integration/test_harness_faults.py and test_harness_throttle.py, which set the
// faults or the throttle first. Every call must succeed through the SDK's own retries.
// COFFRE_JS_MODE: "faults" (GetKey and Sign fail a few times) or "burst" (COFFRE_JS_CALLS
// sequential getKey calls against a throttled vault). Prints "JS RETRY OK" at the end.
import { DefaultAzureCredential } from "@azure/identity";
import { CryptographyClient, KeyClient } from "@azure/keyvault-keys";
import { createHash } from "node:crypto";

const vaultUrl = process.env.COFFRE_VAULT_URL;
const keyName = process.env.COFFRE_JS_KEY;
const mode = process.env.COFFRE_JS_MODE || "faults";

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

async function main() {
  if (!vaultUrl || !keyName) fail("COFFRE_VAULT_URL and COFFRE_JS_KEY must be set");
  if (!process.env.IDENTITY_ENDPOINT) fail("no managed identity configured");
  const credential = new DefaultAzureCredential();
  const client = new KeyClient(vaultUrl, credential);
  const started = Date.now();
  if (mode === "faults") {
    const key = await client.getKey(keyName);
    if (key.name !== keyName) fail(`getKey returned ${key.name}`);
    const crypto = new CryptographyClient(key.id, credential);
    const digest = createHash("sha256").update("harness").digest();
    const signed = await crypto.sign("RS256", digest);
    if (!signed.result || signed.result.length !== 256) fail("sign returned no RS256 signature");
  } else {
    const calls = Number(process.env.COFFRE_JS_CALLS || "10");
    for (let i = 0; i < calls; i++) {
      const key = await client.getKey(keyName);
      if (key.name !== keyName) fail(`call ${i}: getKey returned ${key.name}`);
    }
  }
  console.log(`JS RETRY OK in ${Date.now() - started} ms`);
}

main().catch((err) => fail(`${err.statusCode || ""} ${err.code || ""} ${err.message}`));
