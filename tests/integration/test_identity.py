"""Identity side of Coffre: dev.env, TLS names, MSI endpoint, ADFS client credentials,
token validation on the data plane, the 401 challenge and the CONNECT proxy."""

import os
import re
import socket
import ssl
import stat
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

CHALLENGE_RE = re.compile(r'^Bearer authorization="([^",=]+)",\s*resource="([^",=]+)"$')


class IdentityTest(h.ServerTestCase):
    VAULTS = ("other",)

    # ---- helpers --------------------------------------------------------------------------

    def challenge(self, r):
        self.assertEqual(r.status, 401, r)
        v = r.header("WWW-Authenticate")
        self.assertIsNotNone(v, "401 without WWW-Authenticate: %r" % r)
        m = CHALLENGE_RE.match(v.strip())
        self.assertIsNotNone(m, "challenge header has the wrong shape: %r" % v)
        authorization, resource = m.group(1), m.group(2)
        self.assertRegex(authorization, r"^https://[^/]+/[^/]+$")
        return authorization, resource

    def adfs_token_request(self, client_id, secret, scope=None, query=""):
        s = self.server
        cfg = s.request("GET", "/adfs/.well-known/openid-configuration", token=None,
                        host="localhost:%d" % s.port).json()
        u = urllib.parse.urlsplit(cfg["token_endpoint"])
        form = urllib.parse.urlencode({
            "client_id": client_id,
            "grant_type": "client_credentials",
            "client_info": "1",
            "client_secret": secret,
            "claims": '{"access_token":{"xms_cc":{"values":["CP1"]}}}',
            "scope": (scope or s.local_resource) + "/.default",
        })
        path = u.path + ("?" + u.query if u.query else "") + query
        return s.request("POST", path, body=form, token=None, host=u.netloc,
                         content_type="application/x-www-form-urlencoded")

    # ---- dev.env and files -----------------------------------------------------------------

    def test_devenv_contents(self):
        s = self.server
        env = s.devenv
        for k in h.REQUIRED_DEVENV:
            self.assertIn(k, env)
        ddir = os.path.realpath(s.data_dir)
        self.assertEqual(env["IDENTITY_ENDPOINT"], "http://127.0.0.1:%d/msi/token" % s.http_port)
        self.assertGreaterEqual(len(env["IDENTITY_HEADER"]), 16)
        bundle = env["REQUESTS_CA_BUNDLE"]
        self.assertTrue(os.path.isabs(bundle), bundle)
        self.assertEqual(os.path.realpath(bundle), os.path.join(ddir, "ca-bundle.pem"))
        self.assertEqual(env["CURL_CA_BUNDLE"], bundle)
        self.assertEqual(env["SSL_CERT_FILE"], bundle)
        self.assertTrue(os.path.isabs(env["NODE_EXTRA_CA_CERTS"]))
        self.assertEqual(os.path.realpath(env["NODE_EXTRA_CA_CERTS"]), os.path.join(ddir, "ca.pem"))
        self.assertEqual(env["KEY_VAULT_NAME"], "dev")
        self.assertEqual(env["COFFRE_VAULT_URL"], "https://dev.localhost:%d" % s.port)
        commented = h.commented_env_lines(s.devenv_text)
        self.assertEqual(commented.get("HTTPS_PROXY"), "http://127.0.0.1:%d" % s.http_port)
        self.assertIn("NO_PROXY", commented)
        # stdout names where dev.env and admin.token are, never a credential (CI logs keep it)
        out = s.log_text()
        self.assertIn("/dev.env", out)
        self.assertIn("/admin.token", out)
        self.assertNotIn(env["IDENTITY_HEADER"], out)
        self.assertNotIn("COFFRE_ADMIN_TOKEN=", out)
        with open(os.path.join(ddir, "admin.token")) as f:
            self.assertNotIn(f.read().strip(), out)

    def test_ca_files_and_master_key(self):
        s = self.server
        with open(s.ca_pem) as f:
            ca = f.read()
        with open(s.ca_bundle) as f:
            bundle = f.read()
        self.assertIn("BEGIN CERTIFICATE", ca)
        ca_body = ca.strip().split("-----BEGIN CERTIFICATE-----")[1].split("-----END")[0].strip()
        self.assertIn(ca_body.replace("\n", ""), bundle.replace("\n", ""), "dev CA not in ca-bundle.pem")
        self.assertGreater(bundle.count("BEGIN CERTIFICATE"), 1, "ca-bundle.pem lacks the system CAs")
        mk = os.path.join(s.data_dir, "master.key")
        self.assertTrue(os.path.isfile(mk), "master.key missing")
        self.assertEqual(stat.S_IMODE(os.stat(mk).st_mode), 0o600)

    def test_tls_names_verify(self):
        s = self.server
        for sni in ("dev.localhost", "other.localhost", "localhost", "dev.vault.azure.net",
                    "anything.vault.azure.net"):
            with self.subTest(sni=sni):
                sock = s.tls_socket(sni=sni)
                self.assertIn(sock.version(), ("TLSv1.2", "TLSv1.3"))
                sock.close()
        sock = s.tls_socket(sni="127.0.0.1")
        sock.close()
        if socket.has_ipv6:
            sock = s.tls_socket(sni="::1", family=6)
            sock.close()
        # the bundle (system CAs + dev CA) also verifies the server
        ctx = ssl.create_default_context(cafile=s.ca_bundle)
        sock = s.tls_socket(sni="dev.localhost", context=ctx)
        sock.close()
        # a name the cert does not cover fails verification
        with self.assertRaises(ssl.SSLCertVerificationError):
            s.tls_socket(sni="example.com").close()

    def test_healthz_both_families(self):
        self.assertEqual(self.server.http_get("/healthz").status, 200)
        if socket.has_ipv6:
            self.assertEqual(self.server.http_get("/healthz", family=6).status, 200)

    def test_https_on_ipv6_loopback(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6 on this machine")
        r = self.server.api("GET", "/keys", family=6)
        self.assertOk(r)

    # ---- MSI ------------------------------------------------------------------------------

    def test_msi_good(self):
        s = self.server
        r = s.msi_raw(resource=s.local_resource)
        j = self.assertOk(r)
        for k in ("access_token", "expires_on", "resource", "token_type", "client_id"):
            self.assertIn(k, j)
        self.assertEqual(j["token_type"], "Bearer")
        self.assertEqual(j["resource"], s.local_resource)
        exp = int(j["expires_on"])
        self.assertGreater(exp, time.time() + 300)
        self.assertLess(exp, time.time() + 7 * 86400)
        # the token works on the data plane
        r = s.api("GET", "/keys", token=j["access_token"])
        self.assertOk(r)

    def test_msi_wrong_header(self):
        r = self.server.msi_raw(resource=self.server.local_resource, header="not-the-secret")
        self.assertEqual(r.status, 401, r)

    def test_msi_missing_header(self):
        r = self.server.msi_raw(resource=self.server.local_resource, header=None)
        self.assertEqual(r.status, 401, r)

    def test_msi_missing_resource(self):
        r = self.server.msi_raw(query="api-version=2019-08-01")
        self.assertTrue(400 <= r.status < 500, r)
        self.assertNotIn(b"access_token", r.body)

    def test_msi_js_style(self):
        s = self.server
        q = "api-version=2019-08-01&resource=" + urllib.parse.quote(s.local_resource, safe="")
        r = s.msi_raw(query=q, extra_headers={"Content-Type": "application/x-www-form-urlencoded"})
        j = self.assertOk(r)
        self.assertEqual(j["resource"], s.local_resource)
        self.assertOk(s.api("GET", "/keys", token=j["access_token"]))

    def test_msi_with_client_id(self):
        s = self.server
        first = s.msi_raw(resource=s.local_resource).json()
        q = "api-version=2019-08-01&resource=%s&client_id=%s" % (s.local_resource, first["client_id"])
        r = s.msi_raw(query=q)
        self.assertOk(r)

    def test_msi_not_on_https_port(self):
        # The HTTPS port may face a network (--bind): managed-identity tokens are loopback HTTP only.
        s = self.server
        r = s.msi_raw(resource=s.local_resource, https=True)
        self.assertEqual(r.status, 404, r)
        self.assertNotIn(b"access_token", r.body)

    def test_msi_python_credential(self):
        from azure.identity import ManagedIdentityCredential
        s = self.server
        s.apply_env()
        tok = ManagedIdentityCredential().get_token(s.local_resource + "/.default")
        self.assertGreater(tok.expires_on, time.time())
        self.assertOk(s.api("GET", "/keys", token=tok.token))

    # ---- ADFS -----------------------------------------------------------------------------

    def test_adfs_openid_configuration(self):
        s = self.server
        r = s.request("GET", "/adfs/.well-known/openid-configuration", token=None,
                      host="localhost:%d" % s.port)
        j = self.assertOk(r)
        self.assertIn("authorization_endpoint", j)
        self.assertIn("token_endpoint", j)
        self.assertTrue(j["token_endpoint"].startswith("https://localhost:%d/" % s.port), j)

    def test_adfs_token_good(self):
        s = self.server
        p = s.create_principal("identity-app")
        for field in ("appId", "password", "tenant", "displayName", "objectId"):
            self.assertIn(field, p)
        s.grant(p["objectId"], ["list"])
        r = self.adfs_token_request(p["appId"], p["password"])
        j = self.assertOk(r)
        self.assertEqual(j["token_type"], "Bearer")
        self.assertGreater(int(j["expires_in"]), 60)
        self.assertOk(s.api("GET", "/keys", token=j["access_token"]))
        # JS appends ?client-request-id=...
        r = self.adfs_token_request(p["appId"], p["password"],
                                    query="?client-request-id=5c2b0a52-8b7a-4d0a-a1d5-3e0f7c1b9a11")
        self.assertOk(r)

    def test_adfs_wrong_secret(self):
        p = self.server.create_principal("identity-wrong")
        r = self.adfs_token_request(p["appId"], p["password"] + "x")
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(b"access_token", r.body)

    def test_adfs_unknown_client(self):
        r = self.adfs_token_request("00000000-0000-0000-0000-000000000000", "whatever")
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(b"access_token", r.body)

    def test_adfs_python_client_secret_credential(self):
        from azure.identity import ClientSecretCredential
        s = self.server
        p = s.create_principal("identity-sdk")
        s.grant(p["objectId"], ["list"])
        s.apply_env()
        cred = ClientSecretCredential("adfs", p["appId"], p["password"], authority=s.local_resource)
        tok = cred.get_token(s.local_resource + "/.default")
        self.assertOk(s.api("GET", "/keys", token=tok.token))

    # ---- tokens on the data plane ---------------------------------------------------------

    def test_wrong_audience(self):
        s = self.server
        tok = s.msi_token("https://management.azure.com")
        r = s.api("GET", "/keys", token=tok)
        self.challenge(r)
        self.assertJsonError(r, 401, "Unauthorized", message_prefix="AKV10022: Invalid audience.")

    def test_garbage_tokens(self):
        s = self.server
        good = s.msi_token()
        parts = good.split(".")
        tampered = None
        if len(parts) == 3:
            sig = parts[2]
            tampered = ".".join(parts[:2] + [("A" if sig[0] != "A" else "B") + sig[1:]])
        for tok in ("garbage", "a.b.c", "Bearer", tampered):
            if tok is None:
                continue
            with self.subTest(token=tok[:20]):
                r = s.api("GET", "/keys", token="Bearer " + tok)
                self.challenge(r)
                self.assertJsonError(r, 401, "Unauthorized")
        r = s.api("GET", "/keys", token="Basic dXNlcjpwYXNz")
        self.challenge(r)

    def test_no_token_challenge_dev(self):
        s = self.server
        r = s.api("POST", "/keys/challenged/create", token=None, body=None,
                  headers={"Content-Length": "0"})
        authz, resource = self.challenge(r)
        self.assertEqual(resource, "https://localhost:%d" % s.port)
        self.assertJsonError(r, 401, "Unauthorized")

    def test_no_token_challenge_other_vault(self):
        s = self.server
        r = s.api("GET", "/keys", token=None, host=s.vault_host("other"))
        authz, resource = self.challenge(r)
        self.assertEqual(resource, "https://localhost:%d" % s.port)

    def test_no_token_challenge_bare_localhost(self):
        s = self.server
        r = s.api("GET", "/keys", token=None, host="localhost:%d" % s.port)
        authz, resource = self.challenge(r)
        self.assertTrue(resource.startswith("https://"), resource)

    def test_no_token_challenge_through_proxy(self):
        s = self.server
        r = s.api("GET", "/keys", token=None, host="dev.vault.azure.net", proxy=True)
        authz, resource = self.challenge(r)
        self.assertEqual(resource, "https://vault.azure.net")

    # ---- CONNECT proxy --------------------------------------------------------------------

    def test_proxy_serves_named_vault(self):
        s = self.server
        r = s.api("POST", "/keys/via-proxy/create", body={"kty": "EC"}, host="other.vault.azure.net",
                  proxy=True)
        j = self.assertOk(r)
        self.assertRegex(j["key"]["kid"], r"^https://other\.vault\.azure\.net/keys/via-proxy/[0-9a-f]{32}$")
        # visible in vault `other` on the direct route, not in `dev`
        self.assertOk(s.api("GET", "/keys/via-proxy", host=s.vault_host("other")))
        self.assertJsonError(s.api("GET", "/keys/via-proxy"), 404, "KeyNotFound")

    def test_proxy_refuses_other_targets(self):
        s = self.server
        for target in ("example.com:443", "127.0.0.1:%d" % s.port, "localhost:%d" % s.port,
                       "dev.vault.azure.net:80", "login.microsoftonline.com:443"):
            with self.subTest(target=target):
                sock, status, raw = s.open_tunnel(target, timeout=10)
                sock.close()
                self.assertEqual(status, 403, raw)


if __name__ == "__main__":
    h.main()
