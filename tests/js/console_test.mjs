// Drives the web console in headless Chromium (Debian's chromium, through puppeteer-core):
// signs in, creates, rotates, deletes and recovers a key, adds an access policy, finds those
// actions in the audit page, sees a 403 as the Key Vault message (as an application and as a
// user signed in with a password), and writes a screenshot of each page to COFFRE_CONSOLE_OUT. tests/integration/test_console.py starts the server and
// passes the credentials in the environment; prints "CONSOLE OK" when every step passed.
import puppeteer from "puppeteer-core";
import fs from "node:fs";
import path from "node:path";

const env = process.env;
const URL_ = env.COFFRE_CONSOLE_URL;
const OUT = env.COFFRE_CONSOLE_OUT;
const STEP_TIMEOUT = 20000;
const KEY = "console-key";
fs.mkdirSync(OUT, { recursive: true });

function check(condition, what) {
  if (!condition) throw new Error("check failed: " + what);
}

const browser = await puppeteer.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  acceptInsecureCerts: true,  // the dev server's own CA; loopback only
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--ignore-certificate-errors", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-default-apps", "--no-proxy-server"],
});
const problems = [];
let page;
let step = "start";
try {
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.setViewport({ width: 1280, height: 800 });
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("dialog", (d) => d.accept());

  const shot = async (name) => page.screenshot({ path: path.join(OUT, name + ".png"), fullPage: true });
  const ready = async (name) =>
    page.waitForSelector(`#page[data-ready="true"][data-page="${name}"]`, { visible: true });
  const go = async (name) => {
    step = "page " + name;
    await page.evaluate((n) => {
      document.getElementById("page").dataset.ready = "false";
      location.hash = "#/" + n;
    }, name);
    await ready(name);
  };
  // Clicks and waits for the message line to say `text` (class info or error).
  const expectMessage = async (kind, text) => {
    step = `message ${kind} "${text}"`;
    await page.waitForFunction((k, t) => {
      const m = document.getElementById("message");
      return !m.hidden && m.classList.contains(k) && m.textContent.includes(t);
    }, {}, kind, text);
    // and for the redraw that follows an action
    await page.waitForSelector('#page[data-ready="true"]');
  };
  const clickButton = async (scope, label) => {
    const handle = await page.waitForSelector(`${scope} ::-p-text(${label})`);
    await page.evaluate(() => { document.getElementById("message").hidden = true; });
    await handle.click();
  };
  const signIn = async (fields) => {
    await page.waitForSelector("#sign-in-form", { visible: true });
    for (const [id, value] of Object.entries(fields)) await page.type("#" + id, value);
    await page.click("#sign-in-button");
    await ready("dashboard");
  };

  // Sign-in page: the token field has the focus and Tab walks the form.
  await page.goto(URL_, { waitUntil: "load" });
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === "admin-token");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.id === "client-id"), "Tab moves to the client id");
  await shot("sign-in");
  await signIn({ "admin-token": env.ADMIN_TOKEN, "client-id": env.APP_ID, "client-secret": env.APP_SECRET });
  check(await page.evaluate(() => sessionStorage.length === 0 && localStorage.length === 0 && document.cookie === ""),
        "no credentials in storage");
  check(!(await page.evaluate(() => location.href)).includes(env.ADMIN_TOKEN), "no token in the URL");
  await shot("dashboard");

  await go("vaults");
  check(await page.$('tr[data-vault="dev"]'), "vault dev listed");
  await shot("vaults");

  // Keys: create, see it listed, rotate, delete, recover.
  await go("keys");
  await page.type("#new-key-name", KEY);
  await page.type("#new-key-tags", "team=console");
  await page.click('#create-key button[type="submit"]');
  await expectMessage("info", `Key ${KEY} created.`);
  await page.waitForSelector(`tr[data-key="${KEY}"]`);
  await page.waitForSelector("#key-detail");
  await clickButton("#key-detail", "Rotate");
  await expectMessage("info", `Key ${KEY} rotated.`);
  await page.waitForSelector("#key-detail ::-p-text(Versions (2))");
  await shot("keys");
  await clickButton("#key-detail", "Delete");
  await expectMessage("info", `Key ${KEY} deleted.`);
  check(!(await page.$(`tr[data-key="${KEY}"]`)), "deleted key leaves the list");
  await page.waitForSelector(`tr[data-deleted="${KEY}"]`);
  await clickButton(`tr[data-deleted="${KEY}"]`, "Recover");
  await expectMessage("info", `${KEY} recovered.`);
  await page.waitForSelector(`tr[data-key="${KEY}"]`);

  // Secrets: set one, its value hidden until revealed.
  await go("secrets");
  await page.type("#new-secret-name", "console-secret");
  await page.type("#new-secret-value", "s3cret-console-value");
  await clickButton("#set-secret", "Set secret");
  await expectMessage("info", "Secret console-secret set.");
  check(!(await page.evaluate(() => document.body.innerText.includes("s3cret-console-value"))), "value hidden");
  await clickButton('tr[data-secret="console-secret"]', "Reveal");
  await page.waitForFunction(() => document.body.innerText.includes("s3cret-console-value"));
  await shot("secrets");

  await go("certificates");
  await shot("certificates");

  // Access: add a policy for the reader.
  await go("access");
  await page.type("#policy-object-id", env.READER_OBJECT_ID);
  await page.type("#policy-keys", "get, list");
  await page.click('#add-policy button[type="submit"]');
  await expectMessage("info", "Access policy saved.");
  await page.waitForSelector(`tr[data-object-id="${env.READER_OBJECT_ID}"]`);
  await shot("access");

  // Audit: the actions above are there, and the chain is intact; the live tail adds lines.
  await go("audit");
  await page.waitForSelector("#chain-status ::-p-text(chain intact)");
  const operations = await page.$$eval("#audit-table tbody tr td:nth-child(3)", (tds) => tds.map((t) => t.textContent));
  for (const op of ["CreateKey", "RotateKey", "DeleteKey", "RecoverDeletedKey", "SetSecret"]) {
    check(operations.includes(op), `audit page lists ${op} (saw ${[...new Set(operations)].join(", ")})`);
  }
  check(operations.some((op) => op.includes("/accessPolicies/")), "audit page lists the access policy change");
  const before = operations.length;
  await page.click("#live-tail");
  await page.waitForFunction((n) => document.querySelectorAll("#audit-table tbody tr").length > n, {}, before);
  await page.type("#audit-operation", "RotateKey");
  await page.click('#audit-filters button[type="submit"]');
  await page.waitForFunction(() => {
    const ops = [...document.querySelectorAll("#audit-table tbody tr td:nth-child(3)")].map((t) => t.textContent);
    return ops.length > 0 && ops.every((o) => o === "RotateKey");
  });
  await shot("audit");

  // Phone width.
  await page.setViewport({ width: 390, height: 844 });
  await go("keys");
  await shot("keys-phone");
  await page.setViewport({ width: 1280, height: 800 });

  // A reader (keys get, list) is refused a delete: the Key Vault message is shown.
  await page.click("#sign-out");
  await signIn({ "client-id": env.READER_ID, "client-secret": env.READER_SECRET });
  await go("keys");
  await page.click(`tr[data-key="${KEY}"] a`);
  await page.waitForSelector("#key-detail");
  await clickButton("#key-detail", "Delete");
  await expectMessage("error", "403 ");
  const denied = await page.$eval("#message", (m) => m.textContent);
  check(denied.includes("does not have keys delete permission"), "403 message shown: " + denied);
  await shot("denied");

  // A user signs in with a UPN and password (password grant, client id coffre-console): the
  // header names the user, the password leaves the form, keys are listed and one is created;
  // the delete the user's policy lacks is refused with the Key Vault message.
  step = "user sign-in";
  await page.click("#sign-out");
  await page.waitForSelector("#sign-in-form", { visible: true });
  await page.type("#user-upn", env.USER_UPN);
  await page.type("#user-password", "not-the-password");
  await page.click("#sign-in-button");
  await page.waitForFunction(() => {
    const m = document.getElementById("message");
    return !m.hidden && m.classList.contains("error") && m.textContent.includes("invalid_grant");
  });
  check(await page.evaluate(() => document.getElementById("user-password").value === ""),
        "a refused password leaves the form");
  await page.type("#user-password", env.USER_PASSWORD);
  await page.click("#sign-in-button");
  await ready("dashboard");
  const who = await page.$eval("#who", (w) => w.textContent);
  check(who.includes("user " + env.USER_UPN), "header names the user: " + who);
  check(await page.evaluate(() => document.getElementById("user-password").value === "" &&
                                  sessionStorage.length === 0 && localStorage.length === 0 &&
                                  document.cookie === ""), "no password or token kept in the page or storage");
  await go("keys");
  await page.waitForSelector(`tr[data-key="${KEY}"]`);
  await page.type("#new-key-name", "user-key");
  await page.click('#create-key button[type="submit"]');
  await expectMessage("info", "Key user-key created.");
  await page.waitForSelector('tr[data-key="user-key"]');
  await page.waitForSelector("#key-detail");
  await shot("user-keys");
  await clickButton("#key-detail", "Delete");
  await expectMessage("error", "403 ");
  const userDenied = await page.$eval("#message", (m) => m.textContent);
  check(userDenied.includes(env.USER_OBJECT_ID) && userDenied.includes("does not have keys delete permission"),
        "user's 403 message shown: " + userDenied);
  await page.waitForSelector('tr[data-key="user-key"]');
  await shot("user-denied");

  // The admin finds the user's actions in the audit page under the user's object id.
  await page.click("#sign-out");
  await signIn({ "admin-token": env.ADMIN_TOKEN });
  await go("audit");
  await page.$eval("#audit-operation", (i) => { i.value = ""; });
  await page.type("#audit-caller", env.USER_OBJECT_ID);
  await page.click('#audit-filters button[type="submit"]');
  step = "audit by user";
  await page.waitForFunction((oid) => {
    const rows = [...document.querySelectorAll("#audit-table tbody tr")];
    const ops = rows.map((r) => r.dataset.caller + " " + r.children[2].textContent + " " + r.children[5].textContent);
    return rows.length > 0 && rows.every((r) => r.dataset.caller === oid) &&
      ops.some((o) => o.endsWith("CreateKey 200")) && ops.some((o) => o.endsWith("DeleteKey 403"));
  }, {}, env.USER_OBJECT_ID);
  await shot("user-audit");

  const csp = problems.filter((p) => /Content Security Policy|Refused to/.test(p));
  check(csp.length === 0, "no CSP violations: " + csp.join(" | "));
  const other = problems.filter((p) => !/status of 40[034]/.test(p));  // 400: the wrong password
  check(other.length === 0, "no page errors: " + other.join(" | "));
  console.log("CONSOLE OK");
} catch (e) {
  // What the page showed when a step failed.
  console.error("failed at step: " + step);
  if (page) {
    const message = await page.$eval("#message", (m) => (m.hidden ? "(none)" : m.textContent)).catch(() => "?");
    console.error("page message: " + message + "\nproblems: " + problems.join(" | "));
    await page.screenshot({ path: path.join(OUT, "failure.png"), fullPage: true }).catch(() => {});
  }
  throw e;
} finally {
  await browser.close();
}
