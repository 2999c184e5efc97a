"""The C++ client library (coffre::keys) against Coffre.

Runs binaries the build made (this test builds nothing), next to $COFFRE_BIN:
- tests/client_e2e: every KeyClient / CryptographyClient method against the live server
  (paging over many pages, delete/recover operations, error mapping, local and remote crypto),
  the client-secret credential (ADFS), and the retry policy against a fault-injecting TLS server.
- tests/client_e2e secrets: every SecretClient method (versions, paging, disabled versions, delete/
  recover/purge, backup/restore, 409 on a deleted name, the 25 KB limit).
- examples/kv_keys and examples/kv_secrets: the C++ quickstarts, run end to end with stdin, once
  with COFFRE_VAULT_URL and once unchanged (https://dev.vault.azure.net) through the server's
  CONNECT proxy.

Every child gets a credential from dev.env (IDENTITY_ENDPOINT/IDENTITY_HEADER or an ADFS
principal), so nothing ever probes the cloud metadata address. All traffic stays on loopback.
"""

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

BUILD_DIR = os.path.dirname(os.path.abspath(h.COFFRE_BIN))
E2E = os.environ.get("COFFRE_CLIENT_E2E") or os.path.join(BUILD_DIR, "tests", "client_e2e")
KV_KEYS = os.environ.get("COFFRE_KV_KEYS") or os.path.join(BUILD_DIR, "examples", "kv_keys")
KV_SECRETS = (os.environ.get("COFFRE_KV_SECRETS") or
              os.path.join(BUILD_DIR, "examples", "kv_secrets"))
RUN_TIMEOUT = 300


def expected_stdout(vault, name):
    return [
        "Input a name for your key > Creating a key in %s called '%s' ..." % (vault, name),
        " done.",
        "Retrieving your key from %s." % vault,
        "Key with name '%s' was found." % name,
        "Deleting your key from %s ..." % vault,
        " done.",
    ]


def expected_secrets_stdout(vault, name, value):
    return [
        "Input a name for your secret > Input a value for your secret > Creating a secret in %s "
        "called '%s' with the value '%s' ..." % (vault, name, value),
        " done.",
        "Retrieving your secret from %s." % vault,
        "Your secret is '%s'." % value,
        "Deleting your secret from %s ..." % vault,
        " done.",
    ]


def secret_conflict_message(name):
    return ("Secret %s is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the secret can only be recovered or purged." % name)


def run(args, env, stdin=None, timeout=RUN_TIMEOUT):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, env=env,
                          timeout=timeout)


def detail(p):
    return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)


class FaultServer:
    """HTTPS on 127.0.0.1 with the Coffre dev certificate. Answers the bodiless probe with a Key
    Vault challenge, then plays `script` (a list of (status, headers, body)) for authenticated
    requests, repeating the last entry."""

    def __init__(self, server, script):
        self.script = list(script)
        self.attempts = []      # (time, authorization header) of each request
        fault = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive, like the real service

            def log_message(self, *args):
                pass

            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                auth = self.headers.get("Authorization")
                fault.attempts.append((time.monotonic(), auth, self.path))
                host = "127.0.0.1:%d" % fault.port
                if not auth:
                    status, headers, body = 401, {
                        "WWW-Authenticate": 'Bearer authorization="https://%s/tenant", '
                                            'resource="https://%s"' % (host, host)}, {
                        "error": {"code": "Unauthorized", "message": "AKV10000: missing token"}}
                else:
                    index = min(len([a for a in fault.attempts if a[1]]) - 1,
                                len(fault.script) - 1)
                    status, headers, body = fault.script[index]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("x-ms-request-id", "fault-%d" % len(fault.attempts))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(server.data_dir, "server.pem"),
                            os.path.join(server.data_dir, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def authenticated(self):
        return [a for a in self.attempts if a[1]]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def key_bundle(host, name, version):
    return {"key": {"kid": "https://%s/keys/%s/%s" % (host, name, version), "kty": "EC",
                    "key_ops": ["sign", "verify"], "crv": "P-256",
                    "x": "v6N9vJ3vMmP4Uv2pLq8l3R2-J4ZX1pKFv6c2kGJtW0E",
                    "y": "bACuLcJZtF4Qh2cG3xWn7v2J8a1Dq3zSxR9YlKHq0_c"},
            "attributes": {"enabled": True, "created": 1628110564, "updated": 1628110564,
                           "recoveryLevel": "CustomizedRecoverable+Purgeable",
                           "recoverableDays": 7}}


class ClientCppTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        for path in (E2E, KV_KEYS, KV_SECRETS):
            if not os.access(path, os.X_OK):
                raise h.HarnessError("%s is not built (make build builds it)" % path)
        super().setUpClass()

    # ---- the library against the live server ---------------------------------------------

    def test_1_every_client_method(self):
        p = run([E2E, "all"], self.server.env())
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertNotIn("not ok", p.stdout, detail(p))
        self.assertRegex(p.stdout, r"(\d+)/\1 checks passed")

    def test_2_client_secret_credential_adfs(self):
        principal = self.server.create_principal("cpp-client")
        self.server.grant(principal["objectId"], ["list"])
        env = self.server.adfs_env(principal)
        self.assertNotIn("IDENTITY_ENDPOINT", env)
        p = run([E2E, "adfs"], env)
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertIn("ok - listed", p.stdout)
        bad = dict(principal, password=principal["password"] + "x")
        p = run([E2E, "adfs-bad"], self.server.adfs_env(bad))
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertIn("authentication failed", p.stdout)

    # ---- retries against a fault-injecting server ----------------------------------------

    def test_3_retry_429_then_503_then_200(self):
        fault = FaultServer(self.server, [])
        try:
            host = "127.0.0.1:%d" % fault.port
            fault.script = [
                (429, {"Retry-After": "1"}, {"error": {"code": "Throttled", "message": "slow down"}}),
                (503, {}, {"error": {"code": "ServiceUnavailable", "message": "busy"}}),
                (200, {}, key_bundle(host, "retry-key", "0123456789abcdef0123456789abcdef")),
            ]
            start = time.monotonic()
            p = run([E2E, "retry", fault.url], self.server.env())
            elapsed = time.monotonic() - start
            self.assertEqual(p.returncode, 0, detail(p))
            self.assertEqual(p.stdout.strip(), "GOT retry-key 0123456789abcdef0123456789abcdef",
                             detail(p))
            self.assertEqual(len(fault.attempts), 4, fault.attempts)   # probe + 3 attempts
            self.assertIsNone(fault.attempts[0][1])
            auth = fault.authenticated()
            self.assertEqual(len(auth), 3)
            self.assertTrue(all(a[1] == "Bearer static-token" for a in auth), auth)
            self.assertTrue(all(a[2] == "/keys/retry-key/?api-version=7.5" for a in auth), auth)
            # Retry-After: 1 was honoured between the 429 and the next attempt.
            self.assertGreaterEqual(auth[1][0] - auth[0][0], 0.95)
            self.assertLess(elapsed, 30)
        finally:
            fault.close()

    def test_4_retry_gives_up_after_max_retries(self):
        fault = FaultServer(self.server, [
            (503, {}, {"error": {"code": "ServiceUnavailable", "message": "down"}})])
        try:
            p = run([E2E, "retry-exhaust", fault.url], self.server.env())
            self.assertEqual(p.returncode, 0, detail(p))
            self.assertRegex(p.stdout.strip(), r"^FAILED 503 ServiceUnavailable fault-\d+$")
            self.assertEqual(len(fault.authenticated()), 4)   # 1 + MaxRetries (3)
        finally:
            fault.close()

    # ---- the C++ quickstart ----------------------------------------------------------------

    def assertQuickstartOk(self, p, vault, name):
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertEqual(p.stdout.splitlines(), expected_stdout(vault, name), detail(p))

    def assertDeletedInDev(self, name):
        r = self.server.api("GET", "/deletedkeys/" + name)
        j = self.assertOk(r)
        self.assertEqual(j["recoveryId"], "%s/deletedkeys/%s" % (self.server.vault_url(), name))
        self.assertEqual(j["key"]["kty"], "RSA")
        self.assertEqual(len(h.b64url_decode(j["key"]["n"])), 256)

    def test_5_quickstart_with_vault_url(self):
        name = "cpp-quickstart"
        env = self.server.env()
        p = run([KV_KEYS], env, stdin=name + "\n")
        self.assertQuickstartOk(p, "dev", name)
        self.assertDeletedInDev(name)

        # Same name again: the soft-deleted key blocks the create (409), the example fails.
        p = run([KV_KEYS], env, stdin=name + "\n")
        self.assertNotEqual(p.returncode, 0, detail(p))
        self.assertEqual(p.stdout.splitlines(), expected_stdout("dev", name)[:1], detail(p))
        self.assertIn("409", p.stderr)
        self.assertIn(h.conflict_message(name), p.stderr)

    def test_6_unchanged_quickstart_through_proxy(self):
        name = "cpp-quickstart-proxy"
        env = self.server.env(HTTPS_PROXY=self.server.proxy_url, NO_PROXY="127.0.0.1,localhost",
                              KEY_VAULT_NAME="dev", COFFRE_VAULT_URL=None)
        self.assertNotIn("COFFRE_VAULT_URL", env)
        p = run([KV_KEYS], env, stdin=name + "\n")
        self.assertQuickstartOk(p, "dev", name)
        self.assertDeletedInDev(name)
        r = self.server.api("GET", "/deletedkeys/" + name, host="dev.vault.azure.net", proxy=True)
        self.assertOk(r)
        self.assertEqual(r.json()["recoveryId"], "https://dev.vault.azure.net/deletedkeys/" + name)


    # ---- secrets -------------------------------------------------------------------------

    def test_7_every_secret_client_method(self):
        p = run([E2E, "secrets"], self.server.env())
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertNotIn("not ok", p.stdout, detail(p))
        self.assertRegex(p.stdout, r"(\d+)/\1 checks passed")
        # The wire never carried the values in a list, and the server kept what the client sent.
        r = self.server.api("GET", "/secrets/e2e-secret/")
        self.assertEqual(self.assertOk(r)["value"], "second value")

    def assertDeletedSecretInDev(self, name):
        j = self.assertOk(self.server.api("GET", "/deletedsecrets/" + name))
        self.assertEqual(j["recoveryId"],
                         "%s/deletedsecrets/%s" % (self.server.vault_url(), name))
        self.assertNotIn("value", j)

    def test_8_secrets_quickstart_with_vault_url(self):
        name, value = "cpp-secret-quickstart", "s3cr3t value"
        env = self.server.env()
        p = run([KV_SECRETS], env, stdin="%s\n%s\n" % (name, value))
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertEqual(p.stdout.splitlines(), expected_secrets_stdout("dev", name, value),
                         detail(p))
        self.assertDeletedSecretInDev(name)

        # Rerun: the soft-deleted secret blocks the set (409), the example fails.
        p = run([KV_SECRETS], env, stdin="%s\n%s\n" % (name, value))
        self.assertNotEqual(p.returncode, 0, detail(p))
        self.assertEqual(p.stdout.splitlines(), expected_secrets_stdout("dev", name, value)[:1],
                         detail(p))
        self.assertIn("409", p.stderr)
        self.assertIn(secret_conflict_message(name), p.stderr)
        self.assertNotIn(value, p.stderr)

    def test_9_unchanged_secrets_quickstart_through_proxy(self):
        name, value = "cpp-secret-quickstart-proxy", "via proxy"
        env = self.server.env(HTTPS_PROXY=self.server.proxy_url, NO_PROXY="127.0.0.1,localhost",
                              KEY_VAULT_NAME="dev", COFFRE_VAULT_URL=None)
        p = run([KV_SECRETS], env, stdin="%s\n%s\n" % (name, value))
        self.assertEqual(p.returncode, 0, detail(p))
        self.assertEqual(p.stdout.splitlines(), expected_secrets_stdout("dev", name, value),
                         detail(p))
        self.assertDeletedSecretInDev(name)


if __name__ == "__main__":
    h.main()
