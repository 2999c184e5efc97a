"""Test-harness mode, throttling as Azure does it: `--throttle <factor>` applies Azure Key Vault's
published per-vault limits (here scaled to 1/100: 40 key transactions per 10 s), with 429,
Retry-After and Key Vault's "Throttled" error; the Python and JS SDKs back off and succeed."""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

JS_DIR = os.path.join(h.SOURCE_DIR, "tests", "js")
NODE = shutil.which("node")
FACTOR = 0.01
KEY_LIMIT = 40        # Azure: 4,000 software-key transactions per 10 s, per vault
CREATE_LIMIT = 1      # Azure: 20 creates per 10 s, scaled (at least 1)
WINDOW = 10.0


class HarnessThrottleTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = h.Coffre(label=cls.__name__, extra_args=["--throttle", str(FACTOR)])
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    def vault_with_key(self, vault):
        self.server.create_vault(vault)
        host = self.server.vault_host(vault)
        r = self.server.api("POST", "/keys/k/create", {"kty": "RSA", "key_size": 2048}, host=host)
        self.assertEqual(r.status, 200, r)
        return host

    def burst(self, host, count):
        """`count` GETs on one kept-alive connection: [(status, Retry-After, error code)]."""
        s = self.server
        auth = "Bearer " + s.msi_token(s.resource_for_host(host))
        sni = host.rsplit(":", 1)[0]
        conn = h._SockConnection(lambda: s.tls_socket(sni=sni), h.REQUEST_TIMEOUT)
        out = []
        try:
            for _ in range(count):
                conn.request("GET", "/keys/k?api-version=7.4",
                             headers={"Host": host, "Authorization": auth})
                r = h.Response(*(lambda x: (x.status, x.reason, x.getheaders(), x.read()))(
                    conn.getresponse()))
                out.append((r.status, r.header("Retry-After"), r.error_code, r.error_message))
        finally:
            conn.close()
        return out

    def test_limits_are_reported(self):
        j = self.server.admin("GET", "dev/throttle").json()
        self.assertEqual(j, {"enabled": True, "windowSeconds": 10, "keyCreate": 1,
                             "keyOther": 40, "secretCreate": 3, "secretOther": 40})

    def test_burst_gets_429s_at_the_published_rate(self):
        host = self.vault_with_key("burst")
        started = time.monotonic()
        answers = self.burst(host, 100)
        took = time.monotonic() - started
        self.assertLess(took, WINDOW - 1, "the burst must fit in one window to be judged")
        ok = sum(1 for a in answers if a[0] == 200)
        self.assertGreaterEqual(ok, KEY_LIMIT * 0.9)
        self.assertLessEqual(ok, KEY_LIMIT * 1.1)
        refused = [a for a in answers if a[0] != 200]
        self.assertEqual(len(refused), 100 - ok)
        for status, retry_after, code, message in refused:
            self.assertEqual(status, 429)
            self.assertEqual(code, "Throttled")
            self.assertIn("too many requests", message)
            self.assertTrue(1 <= int(retry_after) <= WINDOW, retry_after)
        # The first refusals come right after the limit: a sliding window, not random drops.
        self.assertTrue(all(a[0] == 200 for a in answers[:ok]))
        # Another vault has its own window.
        self.assertEqual(self.burst(self.vault_with_key("burst-other"), 5)[-1][0], 200)
        # Creates have their own, smaller limit (1 per 10 s at this factor).
        r = self.server.api("POST", "/keys/k2/create", {"kty": "EC"}, host=host)
        self.assertIn(r.status, (200, 429))
        r = self.server.api("POST", "/keys/k3/create", {"kty": "EC"}, host=host)
        self.assertEqual(r.status, 429, r)
        # Once the window has slid past the burst, the vault takes the full limit again.
        time.sleep(WINDOW + 0.5)
        answers = self.burst(host, 60)
        ok = sum(1 for a in answers if a[0] == 200)
        self.assertGreaterEqual(ok, KEY_LIMIT * 0.9)
        self.assertLessEqual(ok, KEY_LIMIT * 1.1)

    def test_python_sdk_backs_off_and_succeeds(self):
        self.vault_with_key("py-sdk")
        kc = self.server.key_client("py-sdk")
        started = time.monotonic()
        for i in range(KEY_LIMIT + 20):
            self.assertEqual(kc.get_key("k").name, "k", i)
        # It waited for the window rather than failing.
        self.assertGreater(time.monotonic() - started, 1.0)
        throttled = [line for line in self.server.audit_lines()
                     if line["vault"] == "py-sdk" and line["status"] == 429]
        self.assertGreaterEqual(len(throttled), 1)
        self.assertTrue(all("(throttled)" in line["operation"] for line in throttled))

    def test_js_sdk_backs_off_and_succeeds(self):
        if NODE is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@azure", "keyvault-keys")):
            self.skipTest("tests/js/node_modules is missing: run `npm ci` in tests/js")
        self.vault_with_key("js-sdk")
        s = self.server
        env = s.env(NODE_EXTRA_CA_CERTS=s.ca_pem, COFFRE_VAULT_URL=s.vault_url("js-sdk"),
                    COFFRE_JS_KEY="k", COFFRE_JS_MODE="burst", COFFRE_JS_CALLS=str(KEY_LIMIT + 20))
        p = subprocess.run([NODE, os.path.join(JS_DIR, "harness_retry_test.mjs")],
                           capture_output=True, text=True, env=env, cwd=JS_DIR, timeout=180,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("JS RETRY OK", p.stdout)
        throttled = [line for line in self.server.audit_lines()
                     if line["vault"] == "js-sdk" and line["status"] == 429]
        self.assertGreaterEqual(len(throttled), 1)


if __name__ == "__main__":
    h.main()
