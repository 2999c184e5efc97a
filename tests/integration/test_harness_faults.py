"""Test-harness mode, faults: `coffre dev fault add|list|clear` and /coffre-admin/v1/dev/faults
make the next matching requests fail (status with Retry-After, delay, closed connection); each
injected fault is an audit line; the Python and JS SDKs retry through them and succeed."""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.core.pipeline.policies import RetryPolicy  # noqa: E402
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm  # noqa: E402

JS_DIR = os.path.join(h.SOURCE_DIR, "tests", "js")
NODE = shutil.which("node")


class HarnessFaultsTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc = cls.server.key_client()
        cls.key = cls.kc.create_rsa_key("fault-key", size=2048)

    def tearDown(self):
        self.assertEqual(self.server.admin("DELETE", "dev/faults").status, 204)

    def cli(self, *args, expect=0):
        p = subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60, env=self.server.env())
        self.assertEqual(p.returncode, expect, "coffre %s: %s%s" % (args, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def fault_lines(self):
        return [line for line in self.server.audit_lines()
                if "injected fault" in line.get("operation", "")]

    def crypto(self, **kw):
        from azure.identity import ManagedIdentityCredential
        self.server.apply_env()
        return CryptographyClient(self.key, ManagedIdentityCredential(), **kw)

    def test_add_list_clear(self):
        added = self.cli("dev", "fault", "add", "--operation", "sign", "--status", "503",
                         "--count", "3", "--retry-after", "2")
        self.assertEqual(added["operation"], "Sign")
        self.assertEqual(added["remaining"], 3)
        self.cli("dev", "fault", "add", "--operation", "getSecret", "--vault", "dev",
                 "--delay-ms", "100")
        listed = self.cli("dev", "fault", "list")
        self.assertEqual([f["operation"] for f in listed], ["Sign", "GetSecret"])
        self.cli("dev", "fault", "clear", "--id", added["id"])
        self.assertEqual([f["operation"] for f in self.cli("dev", "fault", "list")], ["GetSecret"])
        self.cli("dev", "fault", "clear")
        self.assertEqual(self.cli("dev", "fault", "list"), [])
        # Bad input: an unknown operation, a status that is no error.
        self.cli("dev", "fault", "add", "--operation", "juggle", "--status", "503", expect=1)
        r = self.server.admin("POST", "dev/faults", {"operation": "Sign", "status": 200})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_code, "BadParameter")

    def test_status_fault_answers_the_next_n_requests_then_stops(self):
        self.server.admin("POST", "dev/faults",
                          {"operation": "GetKey", "status": 503, "retryAfter": 7, "count": 2})
        before = len(self.fault_lines())
        for _ in range(2):
            r = self.server.api("GET", "/keys/fault-key")
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.error_code, "ServiceUnavailable")
            self.assertEqual(r.header("Retry-After"), "7")
        self.assertOk(self.server.api("GET", "/keys/fault-key"))
        lines = self.fault_lines()[before:]
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(all(line["status"] == 503 for line in lines), lines)
        self.assertTrue(all(line["vault"] == "dev" for line in lines), lines)

    def test_vault_filter(self):
        self.server.admin("POST", "dev/faults", {"operation": "GetKey", "vault": "elsewhere",
                                                 "status": 500})
        self.assertOk(self.server.api("GET", "/keys/fault-key"))
        self.assertEqual(len(self.server.admin("GET", "dev/faults").json()["value"]), 1)

    def test_python_sdk_retries_through_429_and_503(self):
        self.cli("dev", "fault", "add", "--operation", "sign", "--status", "429", "--count", "3")
        self.cli("dev", "fault", "add", "--operation", "getKey", "--status", "503",
                 "--retry-after", "1", "--count", "3")
        before = len(self.fault_lines())
        started = time.monotonic()
        result = self.crypto().sign(SignatureAlgorithm.rs256, b"\x02" * 32)
        self.assertEqual(len(result.signature), 256)
        self.assertEqual(self.kc.get_key("fault-key").name, "fault-key")
        self.assertGreaterEqual(time.monotonic() - started, 3.0)  # it honoured Retry-After
        self.assertEqual(self.cli("dev", "fault", "list"), [])
        self.assertEqual(len(self.fault_lines()) - before, 6)

    def test_python_sdk_gives_up_past_its_retries(self):
        self.cli("dev", "fault", "add", "--operation", "sign", "--status", "503",
                 "--retry-after", "0", "--count", "10")
        crypto = self.crypto(retry_policy=RetryPolicy(retry_total=2, retry_backoff_factor=0.01))
        with self.assertRaises(HttpResponseError) as caught:
            crypto.sign(SignatureAlgorithm.rs256, b"\x02" * 32)
        self.assertEqual(caught.exception.status_code, 503)

    def test_delay_and_closed_connection(self):
        self.cli("dev", "fault", "add", "--operation", "getKey", "--delay-ms", "700")
        started = time.monotonic()
        self.assertOk(self.server.api("GET", "/keys/fault-key"))
        self.assertGreaterEqual(time.monotonic() - started, 0.7)
        # A closed connection: a raw request gets no answer; the SDK reconnects and succeeds.
        self.cli("dev", "fault", "add", "--operation", "getKey", "--close-connection")
        with self.assertRaises(Exception):
            self.server.api("GET", "/keys/fault-key")
        self.cli("dev", "fault", "add", "--operation", "getKey", "--close-connection")
        self.assertEqual(self.kc.get_key("fault-key").name, "fault-key")
        self.assertEqual(self.cli("dev", "fault", "list"), [])
        closed = [line for line in self.fault_lines() if "connection closed" in line["operation"]]
        self.assertEqual(len(closed), 2, closed)

    def test_js_sdk_retries_through_429_and_503(self):
        if NODE is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@azure", "keyvault-keys")):
            self.skipTest("tests/js/node_modules is missing: run `npm ci` in tests/js")
        self.cli("dev", "fault", "add", "--operation", "getKey", "--status", "503",
                 "--retry-after", "1", "--count", "3")
        self.cli("dev", "fault", "add", "--operation", "sign", "--status", "429", "--count", "3")
        s = self.server
        env = s.env(NODE_EXTRA_CA_CERTS=s.ca_pem, COFFRE_JS_KEY="fault-key",
                    COFFRE_JS_MODE="faults")
        p = subprocess.run([NODE, os.path.join(JS_DIR, "harness_retry_test.mjs")],
                           capture_output=True, text=True, env=env, cwd=JS_DIR, timeout=180,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("JS RETRY OK", p.stdout)
        self.assertEqual(self.cli("dev", "fault", "list"), [])


if __name__ == "__main__":
    h.main()
