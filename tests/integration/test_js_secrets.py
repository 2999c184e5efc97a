"""The official JS secrets client (tests/js, pinned @azure/identity + @azure/keyvault-secrets)
against Coffre: tests/js/secrets_test.mjs run with node and dev.env's environment, directly and
through the CONNECT proxy, on SQLite and (direct) on PostgreSQL."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
import pg_support  # noqa: E402

JS_DIR = os.path.join(h.SOURCE_DIR, "tests", "js")
SCRIPT = os.path.join(JS_DIR, "secrets_test.mjs")
NODE = shutil.which("node")
RUN_TIMEOUT = 180


class JsSecretsMixin:

    def setUp(self):
        if NODE is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@azure", "keyvault-secrets")):
            self.skipTest("tests/js/node_modules is missing: run `npm ci` in tests/js")

    def run_node(self, env, suffix):
        env["COFFRE_JS_SUFFIX"] = suffix
        p = subprocess.run([NODE, SCRIPT], capture_output=True, text=True, env=env, cwd=JS_DIR,
                           timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertIn("JS SECRETS OK", p.stdout, detail)
        return p

    def test_js_secrets_direct(self):
        s = self.server
        env = s.env(NODE_EXTRA_CA_CERTS=s.ca_pem)
        self.run_node(env, "direct")
        r = s.api("GET", "/secrets/js-secret-direct")
        self.assertOk(r)
        self.assertEqual(r.json()["value"], "second value")
        self.assertOk(s.api("GET", "/deletedsecrets/js-secret-gone-direct"))


class JsSecretsTest(JsSecretsMixin, h.ServerTestCase):

    def test_js_secrets_through_proxy(self):
        s = self.server
        env = s.env(NODE_EXTRA_CA_CERTS=s.ca_pem, COFFRE_VAULT_URL="https://dev.vault.azure.net",
                    HTTPS_PROXY=s.proxy_url, NO_PROXY="127.0.0.1,localhost")
        self.run_node(env, "proxy")
        self.assertOk(s.api("GET", "/secrets/js-secret-proxy"))


class PostgresJsSecretsTest(JsSecretsMixin, h.ServerTestCase):
    """The same client calls with the secrets stored in PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        cls.pg = pg_support.PostgresServer().start()
        cls.key_dir = tempfile.mkdtemp(prefix="coffre-it-key-")
        cls.server = h.Coffre(label=cls.__name__, extra_args=[
            "--storage", cls.pg.create_database(),
            "--master-key-file", os.path.join(cls.key_dir, "master.key")])
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            cls.pg.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()
        shutil.rmtree(cls.key_dir, ignore_errors=True)


if __name__ == "__main__":
    h.main()
