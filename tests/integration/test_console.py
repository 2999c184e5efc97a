"""The web console (/console/): its static files and headers, the admin API's audit routes it
reads, the CORS answers its cross-origin calls need, and the console itself driven in headless
Chromium by tests/js/console_test.mjs (screenshots in the test's output directory)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

JS_DIR = os.path.join(h.SOURCE_DIR, "tests", "js")
SCRIPT = os.path.join(JS_DIR, "console_test.mjs")
NODE = shutil.which("node")
CHROMIUM = shutil.which("chromium")
RUN_TIMEOUT = 300
USER_UPN = "console.user@example.test"
USER_PASSWORD = "console-user-Pa55word"
# Screenshots: COFFRE_CONSOLE_OUT, or the build tree's test output directory.
OUT_DIR = os.environ.get("COFFRE_CONSOLE_OUT") or os.path.join(
    os.path.dirname(h.COFFRE_BIN), "test-output", "console")


class ConsoleTest(h.ServerTestCase):

    def console_get(self, path, host=None):
        s = self.server
        return s.request("GET", path, host=host or "localhost:%d" % s.port, token=None, sni="localhost")

    def test_static_files_and_headers(self):
        r = self.console_get("/console/")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'<script type="module" src="js/app.js">', r.body)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        csp = r.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertIn("style-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn("https://*.localhost:%d" % self.server.port, csp)
        self.assertEqual(r.header("X-Frame-Options"), "DENY")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        js = self.console_get("/console/js/app.js")
        self.assertEqual(js.status, 200)
        self.assertTrue(js.header("Content-Type").startswith("text/javascript"))
        css = self.console_get("/console/css/console.css")
        self.assertTrue(css.header("Content-Type").startswith("text/css"))
        # No inline script or style in the page itself.
        self.assertNotIn(b"<script>", r.body)
        self.assertNotIn(b"style=", r.body)
        self.assertEqual(self.console_get("/console/nope.js").status, 404)
        self.assertEqual(self.console_get("/console/../coffre-admin/v1/vaults").status, 404)
        redirect = self.console_get("/console")
        self.assertEqual(redirect.status, 301)
        self.assertEqual(redirect.header("Location"), "/console/")
        post = self.server.request("POST", "/console/", host="localhost:%d" % self.server.port,
                                   token=None, sni="localhost", body=b"{}")
        self.assertEqual(post.status, 405)
        # Only over HTTPS: the loopback HTTP port does not serve it.
        self.assertEqual(self.server.http_get("/console/").status, 404)

    def test_api_routes_need_a_token(self):
        s = self.server
        for path in ("audit", "audit/summary", "audit/verify", "vaults", "principals",
                     "roleAssignments", "vaults/dev/accessPolicies"):
            r = s.admin("GET", path, token=None)
            self.assertJsonError(r, 401, message="The admin API requires the admin token.")
            r = s.admin("GET", path, token="not-the-admin-token")
            self.assertEqual(r.status, 401, path)
        # A data-plane token is not an admin credential either.
        r = s.admin("GET", "audit", token=s.msi_token(s.local_resource))
        self.assertEqual(r.status, 401)
        for path in ("/keys", "/secrets", "/deletedkeys", "/certificates"):
            r = s.api("GET", path, token=None)
            self.assertEqual(r.status, 401, path)

    def test_audit_route(self):
        s = self.server
        secret_value = "audit-must-not-show-this-%d" % time.time_ns()
        self.assertOk(s.api("PUT", "/secrets/audit-route-secret", body={"value": secret_value}))
        self.assertOk(s.api("POST", "/keys/audit-route-key/create", body={"kty": "EC"}))
        r = s.admin("GET", "audit?vault=dev&top=1000&verify=true")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(secret_value.encode(), r.body)
        page = r.json()
        ops = [line["operation"] for line in page["value"]]
        self.assertIn("SetSecret", ops)
        self.assertIn("CreateKey", ops)
        self.assertTrue(all(line["vault"] == "dev" for line in page["value"]))
        self.assertTrue(all("mac" not in line and "prev" not in line for line in page["value"]))
        self.assertTrue(page["chain"]["intact"], page["chain"])
        self.assertTrue(page["chain"]["keyed"])
        self.assertGreater(page["lastSeq"], 0)
        seqs = [line["seq"] for line in page["value"]]
        self.assertEqual(seqs, sorted(seqs))
        # Filters: operation (substring), status class, top, after.
        r = s.admin("GET", "audit?operation=createkey&status=2xx").json()
        self.assertTrue(r["value"] and all(l["operation"] == "CreateKey" for l in r["value"]))
        r = s.admin("GET", "audit?top=1").json()
        self.assertEqual(len(r["value"]), 1)
        self.assertTrue(r["more"])
        r = s.admin("GET", "audit?after=%d" % page["lastSeq"]).json()
        self.assertTrue(all(l["seq"] > page["lastSeq"] for l in r["value"]))
        self.assertTrue(r["value"], "the previous audit read itself is a newer line")
        future = int(time.time() * 1000) + 3600 * 1000
        self.assertEqual(s.admin("GET", "audit?since=%d" % future).json()["value"], [])
        r = s.admin("GET", "audit?status=401&top=1000").json()
        self.assertTrue(all(l["status"] == 401 for l in r["value"]))
        # Bad parameters are AKV-shaped 400s.
        for query in ("top=0", "top=5000", "since=yesterday", "status=4x", "vault=" + "v" * 300):
            self.assertJsonError(s.admin("GET", "audit?" + query), 400, code="BadParameter")
        self.assertEqual(s.admin("POST", "audit").status, 405)
        self.assertEqual(s.admin("GET", "audit/nope").status, 404)
        # The chain status alone, and the per-operation summary.
        chain = s.admin("GET", "audit/verify").json()
        self.assertTrue(chain["intact"])
        self.assertGreater(chain["lines"], 0)
        verify = s.audit_verify()
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        summary = s.admin("GET", "audit/summary?bucket=60").json()
        self.assertEqual(summary["buckets"], 60)
        by_op = {o["operation"]: o for o in summary["operations"]}
        self.assertGreaterEqual(by_op["CreateKey"]["count"], 1)
        self.assertEqual(sum(by_op["CreateKey"]["perBucket"]), by_op["CreateKey"]["count"])
        self.assertGreaterEqual(by_op["CreateKey"]["p95LatencyMs"], 0)

    def test_cors_for_this_servers_origins_only(self):
        s = self.server
        own = "https://localhost:%d" % s.port
        pre = s.request("OPTIONS", "/keys?api-version=7.5", token=None,
                        headers={"Origin": own, "Access-Control-Request-Method": "GET"})
        self.assertEqual(pre.status, 204)
        self.assertEqual(pre.header("Access-Control-Allow-Origin"), own)
        self.assertIn("authorization", pre.header("Access-Control-Allow-Headers"))
        # A real call from the console's origin: answered with the origin, still authenticated.
        r = s.api("GET", "/keys", token=None, headers={"Origin": own})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), own)
        for evil in ("https://evil.example", "http://localhost:%d" % s.port,
                     "https://localhost:%d" % (s.port + 1), "https://localhost.evil.example"):
            pre = s.request("OPTIONS", "/keys?api-version=7.5", token=None,
                            headers={"Origin": evil, "Access-Control-Request-Method": "DELETE"})
            self.assertIsNone(pre.header("Access-Control-Allow-Origin"), evil)
            self.assertIsNone(pre.header("Access-Control-Allow-Methods"), evil)
            r = s.api("GET", "/keys", headers={"Origin": evil})
            self.assertIsNone(r.header("Access-Control-Allow-Origin"), evil)

    def test_console_in_chromium(self):
        if NODE is None or CHROMIUM is None:
            self.skipTest("node or chromium is not installed (bash scripts/deps.sh)")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "puppeteer-core")):
            self.skipTest("tests/js/node_modules is missing: run `npm ci` in tests/js")
        s = self.server
        app = s.admin_principal("console-app")
        reader = s.admin_principal("console-reader")
        for principal in (app,):
            r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % principal["objectId"],
                        {"permissions": {"keys": ["all"], "secrets": ["all"]}})
            self.assertEqual(r.status, 200, r)
        # A user who signs in with a password: may get, list and create keys, not delete them.
        pw_file = os.path.join(s.data_dir, "console-user.password")
        with open(pw_file, "w") as f:
            f.write(USER_PASSWORD + "\n")
        os.chmod(pw_file, 0o600)
        p = s.cli("user", "create", "--upn", USER_UPN, "--password-file", pw_file,
                  "--data-dir", s.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        user = json.loads(p.stdout)
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % user["objectId"],
                    {"permissions": {"keys": ["get", "list", "create"]}})
        self.assertEqual(r.status, 200, r)
        shutil.rmtree(OUT_DIR, ignore_errors=True)
        home = tempfile.mkdtemp(prefix="coffre-chromium-")
        env = h.clean_env()
        env.update({
            "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home, "CHROMIUM": CHROMIUM,
            "COFFRE_CONSOLE_URL": "https://localhost:%d/console/" % s.port,
            "COFFRE_CONSOLE_OUT": OUT_DIR, "ADMIN_TOKEN": s.admin_token,
            "APP_ID": app["appId"], "APP_SECRET": app["password"],
            "READER_ID": reader["appId"], "READER_SECRET": reader["password"],
            "READER_OBJECT_ID": reader["objectId"],
            "USER_UPN": USER_UPN, "USER_PASSWORD": USER_PASSWORD, "USER_OBJECT_ID": user["objectId"],
        })
        try:
            p = subprocess.run([NODE, SCRIPT], capture_output=True, text=True, env=env, cwd=JS_DIR,
                               timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertIn("CONSOLE OK", p.stdout, detail)
        for name in ("sign-in", "dashboard", "vaults", "keys", "secrets", "certificates", "access",
                     "audit", "keys-phone", "denied", "user-keys", "user-denied", "user-audit"):
            shot = os.path.join(OUT_DIR, name + ".png")
            self.assertTrue(os.path.getsize(shot) > 1000, shot)
        # What the console did is in the audit log as the application's calls.
        lines = s.audit_lines()
        console_ops = {l["operation"] for l in lines if l.get("callerAppId") == app["appId"]}
        for op in ("CreateKey", "RotateKey", "DeleteKey", "RecoverDeletedKey"):
            self.assertIn(op, console_ops)
        denied = [l for l in lines if l.get("callerAppId") == reader["appId"] and l["status"] == 403]
        self.assertTrue(denied, "the reader's refused delete is audited")
        # The user's calls are audited under the user's object id, through the console's client id.
        by_user = [l for l in lines if l.get("callerObjectId") == user["objectId"]]
        self.assertTrue(by_user and all(l["callerAppId"] == "coffre-console" for l in by_user), by_user)
        user_ops = {(l["operation"], l["status"]) for l in by_user}
        self.assertIn(("CreateKey", 200), user_ops)
        self.assertIn(("GetKeys", 200), user_ops)
        self.assertIn(("DeleteKey", 403), user_ops)
        self.assertNotIn(("DeleteKey", 200), user_ops)
        # The password went to the token endpoint only: never into the audit log.
        self.assertTrue(s.audit_files())
        for name in s.audit_files():
            with open(name, "rb") as f:
                self.assertNotIn(USER_PASSWORD.encode(), f.read(), name)


if __name__ == "__main__":
    h.main()
