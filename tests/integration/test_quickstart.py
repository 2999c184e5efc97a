"""Microsoft's Python keys quickstart (kv_keys.py) against Coffre.

- kv_keys.py: the quickstart with only the vault URL line changed (COFFRE_VAULT_URL), run with
  dev.env's environment (managed identity via IDENTITY_ENDPOINT/IDENTITY_HEADER).
- kv_keys_unchanged.py: the byte-for-byte original, run through the server's CONNECT proxy
  (HTTPS_PROXY) so that https://dev.vault.azure.net reaches vault `dev`.
- The quickstart through EnvironmentCredential (ADFS client credentials) of a principal made by
  `coffre principal create`.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

QS_DIR = os.path.join(h.HERE, "quickstart")
RUN_TIMEOUT = 120


def expected_stdout(vault, name):
    return [
        "Input a name for your key > Creating a key in %s called '%s' ..." % (vault, name),
        " done.",
        "Retrieving your key from %s." % vault,
        "Key with name '%s' was found." % name,
        "Deleting your key from %s ..." % vault,
        " done.",
    ]


class QuickstartTest(h.ServerTestCase):

    def run_script(self, script, name, env):
        p = subprocess.run([h.PYTHON, os.path.join(QS_DIR, script)], input=name + "\n",
                           capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT,
                           cwd=self.server.root)
        return p

    def assertQuickstartOk(self, p, vault, name):
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertEqual(p.stdout.splitlines(), expected_stdout(vault, name), detail)

    def assertDeletedInDev(self, name):
        r = self.server.api("GET", "/deletedkeys/" + name)
        self.assertOk(r)
        j = r.json()
        self.assertEqual(j["recoveryId"], "%s/deletedkeys/%s" % (self.server.vault_url(), name))
        # created as RSA 2048 by the quickstart
        self.assertEqual(j["key"]["kty"], "RSA")
        self.assertEqual(len(h.b64url_decode(j["key"]["n"])), 256)

    def test_1_quickstart_managed_identity(self):
        name = "quickstart-msi"
        env = self.server.env()
        p = self.run_script("kv_keys.py", name, env)
        self.assertQuickstartOk(p, "dev", name)
        self.assertDeletedInDev(name)

        # Same name again: the create hits the soft-deleted key -> 409, the script fails.
        p2 = self.run_script("kv_keys.py", name, env)
        out = p2.stdout + p2.stderr
        self.assertNotEqual(p2.returncode, 0, out)
        self.assertEqual(p2.stdout.splitlines()[:1], expected_stdout("dev", name)[:1], out)
        self.assertIn(h.conflict_message(name), out)
        self.assertIn("ResourceExistsError", out)

    def test_2_unchanged_quickstart_through_proxy(self):
        name = "quickstart-proxy"
        env = self.server.env(HTTPS_PROXY=self.server.proxy_url, NO_PROXY="127.0.0.1,localhost",
                              KEY_VAULT_NAME="dev")
        env.pop("COFFRE_VAULT_URL", None)   # the unchanged script must not need it
        p = self.run_script("kv_keys_unchanged.py", name, env)
        self.assertQuickstartOk(p, "dev", name)
        # It really went to vault `dev` of this server.
        self.assertDeletedInDev(name)
        r = self.server.api("GET", "/deletedkeys/" + name, host="dev.vault.azure.net", proxy=True)
        self.assertOk(r)
        self.assertEqual(r.json()["recoveryId"], "https://dev.vault.azure.net/deletedkeys/" + name)

    def test_3_quickstart_adfs_principal(self):
        principal = self.server.create_principal("quickstart-app")
        for field in ("appId", "password", "tenant", "displayName", "objectId"):
            self.assertIn(field, principal)
        self.assertEqual(principal["displayName"], "quickstart-app")
        # As in Microsoft's quickstart: `set-policy --key-permissions get list create delete`.
        self.server.grant(principal["objectId"], ["get", "list", "create", "delete"])
        name = "quickstart-adfs"
        env = self.server.adfs_env(principal)
        self.assertNotIn("IDENTITY_ENDPOINT", env)
        self.assertNotIn("IDENTITY_HEADER", env)
        p = self.run_script("kv_keys.py", name, env)
        self.assertQuickstartOk(p, "dev", name)
        self.assertDeletedInDev(name)

    def test_3b_quickstart_without_create_permission_gets_403(self):
        principal = self.server.create_principal("quickstart-readonly")
        self.server.grant(principal["objectId"], ["get", "list"])
        env = self.server.adfs_env(principal)
        p = self.run_script("kv_keys.py", "quickstart-denied", env)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        out = p.stdout + p.stderr
        self.assertIn("does not have keys create permission on key vault 'dev;location=local'", out)
        self.assertIn("AccessDenied", out)
        self.assertIn("appid=%s;oid=%s" % (principal["appId"], principal["objectId"]), out)

    def test_4_adfs_wrong_secret_fails_cleanly(self):
        principal = self.server.create_principal("quickstart-bad")
        bad = dict(principal, password=principal["password"] + "x")
        env = self.server.adfs_env(bad)
        p = self.run_script("kv_keys.py", "quickstart-never", env)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        r = self.server.api("GET", "/keys/quickstart-never")
        self.assertJsonError(r, 404, "KeyNotFound")


if __name__ == "__main__":
    h.main()
