"""Microsoft's Python secrets quickstart (kv_secrets.py) against Coffre.

- kv_secrets.py: the quickstart with only the vault URL line changed (COFFRE_VAULT_URL), run with
  dev.env's environment (managed identity via IDENTITY_ENDPOINT/IDENTITY_HEADER). Run twice with
  one name: the second set_secret meets the soft-deleted secret and fails with Key Vault's 409.
- kv_secrets_unchanged.py: the byte-for-byte original, run through the server's CONNECT proxy
  (HTTPS_PROXY) so that https://dev.vault.azure.net reaches vault `dev`.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

QS_DIR = os.path.join(h.HERE, "quickstart")
RUN_TIMEOUT = 120
CONFLICT = ("Secret %s is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the secret can only be recovered or purged.")


def expected_stdout(vault, name, value):
    return [
        "Input a name for your secret > Input a value for your secret > Creating a secret in %s "
        "called '%s' with the value '%s' ..." % (vault, name, value),
        " done.",
        "Retrieving your secret from %s." % vault,
        "Your secret is '%s'." % value,
        "Deleting your secret from %s ..." % vault,
        " done.",
    ]


class SecretsQuickstartTest(h.ServerTestCase):

    def run_script(self, script, name, value, env):
        return subprocess.run([h.PYTHON, os.path.join(QS_DIR, script)],
                              input=name + "\n" + value + "\n", capture_output=True, text=True,
                              env=env, timeout=RUN_TIMEOUT, cwd=self.server.root)

    def assertQuickstartOk(self, p, vault, name, value):
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertEqual(p.stdout.splitlines(), expected_stdout(vault, name, value), detail)

    def assertDeletedInDev(self, name, host=None, proxy=False):
        r = self.server.api("GET", "/deletedsecrets/" + name, host=host, proxy=proxy)
        self.assertOk(r)
        j = r.json()
        base = "https://" + host if host else self.server.vault_url()
        self.assertEqual(j["recoveryId"], "%s/deletedsecrets/%s" % (base, name))
        self.assertNotIn("value", j)
        return j

    def test_1_quickstart_then_rerun_gets_409(self):
        name, value = "quickstart-secret", "s3cr3t-value"
        env = self.server.env()
        p = self.run_script("kv_secrets.py", name, value, env)
        self.assertQuickstartOk(p, "dev", name, value)
        self.assertDeletedInDev(name)

        p2 = self.run_script("kv_secrets.py", name, value, env)
        out = p2.stdout + p2.stderr
        self.assertNotEqual(p2.returncode, 0, out)
        self.assertEqual(p2.stdout.splitlines()[:1], expected_stdout("dev", name, value)[:1], out)
        self.assertIn(CONFLICT % name, out)
        self.assertIn("ResourceExistsError", out)

    def test_2_unchanged_quickstart_through_proxy(self):
        name, value = "quickstart-secret-proxy", "via-connect"
        env = self.server.env(HTTPS_PROXY=self.server.proxy_url, NO_PROXY="127.0.0.1,localhost",
                              KEY_VAULT_NAME="dev")
        env.pop("COFFRE_VAULT_URL", None)
        p = self.run_script("kv_secrets_unchanged.py", name, value, env)
        self.assertQuickstartOk(p, "dev", name, value)
        self.assertDeletedInDev(name)
        self.assertDeletedInDev(name, host="dev.vault.azure.net", proxy=True)

    def test_3_values_never_reach_the_log(self):
        # The quickstart above ran in this server: no value appears in its log or audit files.
        name, value = "quickstart-secret-log", "NEVER-LOG-THIS-VALUE-93f1"
        p = self.run_script("kv_secrets.py", name, value, self.server.env())
        self.assertQuickstartOk(p, "dev", name, value)
        self.assertNotIn(value, self.server.log_text())
        for root, _, files in os.walk(self.server.root):
            for f in files:
                if "audit" in root or f.endswith(".jsonl"):
                    with open(os.path.join(root, f), errors="replace") as fh:
                        self.assertNotIn(value, fh.read(), f)


if __name__ == "__main__":
    h.main()
