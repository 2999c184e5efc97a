"""The flows of Microsoft's JS keys samples (helloWorld, listOperations, backupAndRestore,
delete/recover, keyRotation, cryptography, purgeAllKeys) with the pinned @azure/keyvault-keys and
@azure/identity, plus Node crypto cross-checks: tests/js/samples_test.mjs run with node and
dev.env's environment."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

JS_DIR = os.path.join(h.SOURCE_DIR, "tests", "js")
SCRIPT = os.path.join(JS_DIR, "samples_test.mjs")
NODE = shutil.which("node")
RUN_TIMEOUT = 180


class JsSamplesTest(h.ServerTestCase):

    def setUp(self):
        if NODE is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@azure", "keyvault-keys")):
            self.skipTest("tests/js/node_modules is missing: run `npm ci` in tests/js")

    def test_js_samples(self):
        s = self.server
        env = s.env(NODE_EXTRA_CA_CERTS=s.ca_pem, COFFRE_JS_SUFFIX="s1")
        self.assertTrue(env.get("IDENTITY_ENDPOINT") and env.get("IDENTITY_HEADER"))
        self.assertEqual(env["COFFRE_VAULT_URL"], s.vault_url())
        p = subprocess.run([NODE, SCRIPT], capture_output=True, text=True, env=env, cwd=JS_DIR,
                           timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-5000:], p.stderr[-5000:])
        self.assertEqual(p.returncode, 0, detail)
        self.assertIn("JS SAMPLES OK", p.stdout, detail)
        # the script ends with purgeAllKeys: the vault is empty, live and deleted
        j = self.assertOk(s.api("GET", "/keys"))
        self.assertEqual(j["value"], [], j)
        j = self.assertOk(s.api("GET", "/deletedkeys"))
        self.assertEqual(j["value"], [], j)
        # and the server saw (and audited) the samples' calls
        operations = {line.get("operation") for line in s.audit_lines() if line.get("status") == 200}
        for operation in ("BackupKey", "RestoreKey", "UpdateKeyRotationPolicy", "RotateKey", "Decrypt",
                          "Sign", "Verify", "UnwrapKey", "RecoverDeletedKey"):
            self.assertIn(operation, operations, "no successful %s in the audit log" % operation)


if __name__ == "__main__":
    h.main()
