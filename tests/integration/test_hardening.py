"""Security hardening, end to end:

- TLS 1.2 offers only ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no SHA-1 MACs, no static
  key exchange); TLS 1.3 as before.
- The dev CA is name-constrained (localhost, .localhost, 127.0.0.1, ::1, .vault.azure.net): a
  certificate its key signs for another host does not verify; an older unconstrained dev CA in
  a data dir is replaced at start.
- Failed sign-ins are throttled per client address and client id (429 + Retry-After), without
  slowing other clients down or locking out the right credential from another address.
- Which vault names exist is not told before authentication (401 with the challenge first).
"""

import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

# A second loopback address: the "other machine" the flood comes from.
ATTACKER_ADDRESS = "127.0.0.2"


def openssl(*args, cwd=None):
    return subprocess.run(["openssl"] + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=60)


# Sends COUNT requests (METHOD PATH with BODY and AUTHORIZATION, each may be empty) from
# THREADS threads bound to SOURCE on keep-alive connections, stopping at DEADLINE seconds; prints
# [[status, Retry-After, OAuth error], ...] as JSON.
FLOOD_SCRIPT = r"""
import http.client, json, socket, ssl, sys, threading, time
port, ca, method, path, body, authorization = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                               sys.argv[4], sys.argv[5], sys.argv[6])
count, threads, deadline, source = int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9]), sys.argv[10]
ctx = ssl.create_default_context(cafile=ca)
headers = {"Content-Type": "application/x-www-form-urlencoded"}
if authorization:
    headers["Authorization"] = authorization
results, lock, left, start = [], threading.Lock(), [count], time.monotonic()

def connect():
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    conn = http.client.HTTPConnection("localhost", port, timeout=30)
    conn.sock = ctx.wrap_socket(raw, server_hostname="localhost")
    return conn

def worker():
    conn = connect()  # keep-alive: the flood is credential checks, not TLS handshakes
    while time.monotonic() - start < deadline:
        with lock:
            if left[0] == 0:
                break
            left[0] -= 1
        conn.request(method, path, body=body or None, headers=headers)
        r = conn.getresponse()
        try:
            error = json.loads(r.read() or b"{}").get("error")
        except ValueError:
            error = None
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = connect()
        with lock:
            results.append([r.status, r.getheader("Retry-After"),
                            error if isinstance(error, str) else None])
    conn.close()

ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(results))
"""


class TlsTest(h.ServerTestCase):

    def handshake(self, ciphers=None, maximum=ssl.TLSVersion.TLSv1_2):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.server.ca_pem)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = maximum
        if ciphers:
            ctx.set_ciphers(ciphers)
        sock = self.server.tls_socket(sni="localhost", context=ctx, timeout=10)
        try:
            return sock.version(), sock.cipher()[0]
        finally:
            sock.close()

    def test_tls12_refuses_cbc_sha_and_static_suites(self):
        # The dev certificate is ECDSA: these ECDHE-ECDSA CBC suites were accepted before.
        for suite in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                      "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                      "AES128-GCM-SHA256", "AES128-SHA"):
            with self.subTest(suite=suite):
                with self.assertRaises((ssl.SSLError, ConnectionError)):
                    self.handshake(ciphers="@SECLEVEL=0:" + suite)

    def test_tls12_ecdhe_aead_suites(self):
        for suite in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                      "ECDHE-ECDSA-CHACHA20-POLY1305"):
            with self.subTest(suite=suite):
                self.assertEqual(self.handshake(ciphers=suite), ("TLSv1.2", suite))

    def test_tls13_unchanged(self):
        version, _ = self.handshake(maximum=ssl.TLSVersion.TLSv1_3)
        self.assertEqual(version, "TLSv1.3")

    def test_openssl_s_client_sees_only_aead(self):
        s = self.server
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port,
                            "-servername", "localhost", "-tls1_2",
                            "-cipher", "ECDHE-ECDSA-AES128-SHA"],
                           input="", capture_output=True, text=True, timeout=30)
        self.assertNotIn("Cipher is ECDHE-ECDSA-AES128-SHA", p.stdout, p.stdout + p.stderr)

    # ---- the dev CA ------------------------------------------------------------------------

    def test_dev_ca_is_name_constrained(self):
        p = openssl("x509", "-in", self.server.ca_pem, "-noout", "-ext", "nameConstraints")
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout
        self.assertIn("critical", text)
        for name in ("DNS:localhost", "DNS:.localhost", "DNS:.vault.azure.net",
                     "IP:127.0.0.1/255.255.255.255"):
            self.assertIn(name, text)

    def test_dev_ca_key_cannot_vouch_for_other_hosts(self):
        d = self.server.data_dir
        with tempfile.TemporaryDirectory() as tmp:
            for name, expect_ok in (("evil.example.com", False), ("other.localhost", True)):
                with self.subTest(name=name):
                    key, csr, pem = (os.path.join(tmp, name + ext)
                                     for ext in (".key", ".csr", ".pem"))
                    p = openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
                                "-addext", "subjectAltName=DNS:" + name, "-keyout", key,
                                "-out", csr)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    p = openssl("x509", "-req", "-in", csr, "-CA", os.path.join(d, "ca.pem"),
                                "-CAkey", os.path.join(d, "ca.key"), "-days", "1",
                                "-copy_extensions", "copy", "-out", pem)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    p = openssl("verify", "-CAfile", os.path.join(d, "ca.pem"), pem)
                    self.assertEqual(p.returncode == 0, expect_ok, p.stdout + p.stderr)

    # ---- unknown vaults ----------------------------------------------------------------------

    def test_unknown_vault_gets_the_challenge_before_authentication(self):
        s = self.server
        host = s.vault_host("no-such-vault")
        r = s.api("GET", "/keys", host=host, sni="localhost", token=None)
        self.assertEqual(r.status, 401, r)
        self.assertIn("no-such-vault", r.header("WWW-Authenticate") or "")
        self.assertNotIn(b"VaultNotFound", r.body)
        # The same for an existing one.
        self.assertEqual(s.api("GET", "/keys", token=None).status, 401)
        # With a valid token: 404.
        r = s.api("GET", "/keys", host=host, sni="localhost")
        self.assertJsonError(r, 404, "VaultNotFound")


class OldDevCaTest(h.ServerTestCase):
    """A data dir whose dev CA predates name constraints gets a new, constrained one."""

    def test_old_unconstrained_ca_is_replaced(self):
        s = self.server
        s.stop()
        d = s.data_dir
        p = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=Old Coffre dev CA", "-days", "30",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.pem"))
        self.assertEqual(p.returncode, 0, p.stderr)
        os.chmod(os.path.join(d, "ca.key"), 0o600)
        with open(os.path.join(d, "ca.pem")) as f:
            old = f.read()
        self.assertNotIn("Name Constraints",
                         openssl("x509", "-in", os.path.join(d, "ca.pem"), "-noout", "-text").stdout)
        s.restart()
        with open(os.path.join(d, "ca.pem")) as f:
            new = f.read()
        self.assertNotEqual(old, new)
        self.assertIn("Name Constraints",
                      openssl("x509", "-in", os.path.join(d, "ca.pem"), "-noout", "-text").stdout)
        # The server's certificate was reissued by the new CA: clients verifying with ca.pem work.
        self.assertOk(s.api("GET", "/keys"))
        with open(os.path.join(d, "ca-bundle.pem")) as f:
            self.assertIn(new.strip().splitlines()[1], f.read())


class ThrottleTest(h.ServerTestCase):
    FLOOD = 40             # wrong secrets
    FLOOD_THREADS = 8
    FLOOD_DEADLINE = 60.0  # seconds: the flood is bounded in time as well as count

    @classmethod
    def setUpClass(cls):
        cls.server = h.Coffre(label=cls.__name__, extra_args=["--max-failed-sign-ins", "10"])
        try:
            cls.server.start()
            cls.principal = cls.server.create_principal("throttled")
        except Exception:
            cls.server.cleanup()
            raise

    def token_request(self, secret, source=None, client_id=None):
        """POST /adfs/oauth2/token from `source` (a loopback address)."""
        s = self.server
        form = urllib.parse.urlencode({
            "client_id": client_id or self.principal["appId"], "client_secret": secret,
            "grant_type": "client_credentials", "scope": s.local_resource + "/.default"})

        def opener():
            raw = socket.create_connection(("127.0.0.1", s.port), timeout=30,
                                           source_address=(source, 0) if source else None)
            return s.ssl_context().wrap_socket(raw, server_hostname="localhost")

        conn = h._SockConnection(opener, 30)
        try:
            conn.request("POST", "/adfs/oauth2/token", body=form,
                         headers={"Host": "localhost:%d" % s.port,
                                  "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            return h.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            conn.close()

    def admin_request(self, token, source):
        s = self.server

        def opener():
            raw = socket.create_connection(("127.0.0.1", s.port), timeout=30,
                                           source_address=(source, 0))
            return s.ssl_context().wrap_socket(raw, server_hostname="localhost")

        conn = h._SockConnection(opener, 30)
        try:
            conn.request("GET", "/coffre-admin/v1/vaults",
                         headers={"Host": "localhost:%d" % s.port,
                                  "Authorization": "Bearer " + token})
            r = conn.getresponse()
            return h.Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            conn.close()

    def latencies(self, until, max_samples=2000):
        """GET /keys latencies on one keep-alive connection (what the server adds, not TLS
        handshakes) until `until()` is true or max_samples were taken."""
        s = self.server
        token = s.msi_token()
        conn = h._SockConnection(lambda: s.tls_socket(sni="dev.localhost"), 30)
        samples = []
        try:
            while len(samples) < max_samples and not until():
                t0 = time.monotonic()
                conn.request("GET", "/keys?api-version=7.4",
                             headers={"Host": s.vault_host("dev"),
                                      "Authorization": "Bearer " + token})
                r = conn.getresponse()
                r.read()
                samples.append(time.monotonic() - t0)
                self.assertEqual(r.status, 200)
        finally:
            conn.close()
        return samples

    def flood(self, method, path, body, authorization, count, source):
        """Runs FLOOD_SCRIPT in another process (its own interpreter: no shared GIL with the
        client being measured) while measuring GET /keys; returns (results, median latency)."""
        s = self.server
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD_SCRIPT, str(s.port), s.ca_pem, method, path, body,
             authorization, str(count), str(self.FLOOD_THREADS), str(self.FLOOD_DEADLINE),
             source],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + self.FLOOD_DEADLINE + 30
            samples = self.latencies(lambda: flood.poll() is not None or time.monotonic() > deadline)
            out, err = flood.communicate(timeout=30)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        self.assertEqual(flood.returncode, 0, err)
        self.assertGreaterEqual(len(samples), 5, "too few samples during the flood")
        # The mean, not the median: a stalled I/O thread shows as a few very slow requests.
        during = statistics.mean(samples)
        print("\n%s %s: during the flood mean %.2f ms, median %.2f ms, max %.2f ms (%d samples)" % (
            method, path, during * 1e3, statistics.median(samples) * 1e3, max(samples) * 1e3,
            len(samples)), file=sys.stderr)
        return json.loads(out), during

    def idle_latency(self):
        idle = statistics.mean(self.latencies(lambda: False, max_samples=60)[10:])
        print("\nidle %.2f ms" % (idle * 1e3), file=sys.stderr)
        return idle

    def test_0_wrong_admin_tokens_do_not_stall_the_data_plane(self):
        # Eight clients sending wrong admin tokens used to make each request run a 200k-round
        # password hash on an I/O thread. The token is now checked with one SHA-256.
        idle = self.idle_latency()
        results, during = self.flood("GET", "/coffre-admin/v1/vaults", "",
                                     "Bearer coffre-admin-not-the-token", 80, "127.0.0.4")
        self.assertEqual(len(results), 80)
        self.assertEqual({r[0] for r in results} - {401, 429}, set())
        self.assertLessEqual(during, max(2 * idle, idle + 0.010),
                             "idle %.1f ms, during the flood %.1f ms" % (idle * 1e3, during * 1e3))

    def test_1_wrong_secrets_get_429_and_others_are_not_slowed(self):
        s = self.server
        idle = self.idle_latency()
        # The flood comes from another process (its own interpreter: no shared GIL with the
        # client being measured) and another loopback address.
        form = urllib.parse.urlencode({
            "client_id": self.principal["appId"], "client_secret": "not-the-secret",
            "grant_type": "client_credentials", "scope": s.local_resource + "/.default"})
        results, during = self.flood("POST", "/adfs/oauth2/token", form, "", self.FLOOD,
                                     ATTACKER_ADDRESS)
        self.assertEqual(len(results), self.FLOOD, "flood did not finish: %r" % results)

        statuses = [r[0] for r in results]
        self.assertEqual(set(statuses) - {401, 429}, set(), statuses)
        self.assertGreaterEqual(statuses.count(429), self.FLOOD - 10 - self.FLOOD_THREADS, statuses)
        for status, retry_after, error in results:
            if status == 429:
                self.assertGreater(int(retry_after), 0)
                self.assertEqual(error, "temporarily_unavailable")
        # Another client's requests keep their pace (a small floor absorbs the noise of a
        # shared machine at millisecond latencies).
        self.assertLessEqual(during, max(2 * idle, idle + 0.010),
                             "idle %.1f ms, during the flood %.1f ms" % (idle * 1e3, during * 1e3))

        # The right secret from another address is not locked out, though the client id is
        # past its own limit; from the flooding address it waits (its check is a slow hash).
        ok = self.token_request(self.principal["password"])
        self.assertEqual(ok.status, 200, ok)
        self.assertIn("access_token", ok.json())
        blocked = self.token_request(self.principal["password"], source=ATTACKER_ADDRESS)
        self.assertEqual(blocked.status, 429, blocked)

    def test_2_wrong_admin_tokens_get_429(self):
        s = self.server
        statuses = [self.admin_request("coffre-admin-wrong-%d" % i, "127.0.0.3").status
                    for i in range(14)]
        self.assertEqual(statuses[:10], [401] * 10, statuses)
        self.assertEqual(statuses[10:], [429] * 4, statuses)
        r = self.admin_request("coffre-admin-wrong", "127.0.0.3")
        err = self.assertJsonError(r, 429, "Throttled")
        self.assertIsNotNone(err)
        self.assertGreater(int(r.header("Retry-After")), 0)
        # The right token is one SHA-256 to check: never locked out.
        self.assertOk(self.admin_request(s.admin_token, "127.0.0.3"))


if __name__ == "__main__":
    h.main()
