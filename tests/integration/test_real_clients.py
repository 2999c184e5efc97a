"""Requests exactly as clients beyond the Python and JS SDKs send them (issue 12): the Azure SDK
for C++ (empty key_ops, Expect: 100-continue on every PUT, a port-less first token, ADFS bare
resource scope), clients that keep sending a body the server refuses (413 must be readable),
and transfer codings other than chunked. Raw HTTP over TLS: the C++ SDK is not in CI.

Every exchange must finish in under 2 s (a missed 100 Continue costs the C++ SDK 60 s a try).
"""

import json
import os
import socket
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

AV = "api-version=7.5"
MAX_SECONDS = 2.0
RSA_DEFAULT_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
CPP_UA = "azsdk-cpp-keyvault-keys/4.5.0 (Linux 6.1.0 x86_64 #1 SMP Debian)"


class RawConnection:
    """One TLS connection speaking HTTP/1.1 by hand, so interim responses are visible."""

    def __init__(self, server, timeout=10):
        self.sock = server.tls_socket(sni="dev.localhost", timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        self.sock.settimeout(max(0.05, deadline - time.monotonic()))
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def read_response(self, timeout=5.0):
        """(status, {lowercase header: value}, body) of the next response, interim or final."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0")) if status >= 200 else 0
        while len(self.buf) < length:
            self._fill(deadline)
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def nothing_within(self, seconds):
        """True if the server sends nothing (and keeps the connection) for `seconds`."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(1)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        self.buf += data
        return False


def head(method, path, host, headers):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class RealClientsTest(h.ServerTestCase):

    def setUp(self):
        self.t0 = time.monotonic()

    def assertQuick(self, what="the exchange"):
        elapsed = time.monotonic() - self.t0
        self.assertLess(elapsed, MAX_SECONDS, "%s took %.2fs" % (what, elapsed))

    def cpp_headers(self, body=b"", token="auto", extra=()):
        s = self.server
        hdrs = [("User-Agent", CPP_UA), ("x-ms-client-request-id", "3f1c6c2e-0000-4000-8000-0000000000aa"),
                ("content-type", "application/json")]
        if token == "auto":
            token = s.msi_token()
        if token:
            hdrs.append(("authorization", "Bearer " + token))
        hdrs.append(("content-length", str(len(body))))
        return hdrs + list(extra)

    # ---- 1. empty key_ops and "tags":{} ---------------------------------------------------------

    def test_cpp_create_with_empty_key_ops_gets_defaults(self):
        s = self.server
        body = b'{"key_ops":[],"key_size":2048,"kty":"RSA","tags":{}}'
        self.t0 = time.monotonic()
        r = s.request("POST", "/keys/cpp-rsa/create?" + AV, body=body,
                      headers={"User-Agent": CPP_UA})
        self.assertQuick("create")
        j = self.assertOk(r)
        self.assertEqual(j["key"]["key_ops"], RSA_DEFAULT_OPS)
        self.assertEqual(j["tags"], {})
        # The key is usable: sign was a 403 when the key got no operations.
        digest = h.base64.urlsafe_b64encode(b"\x01" * 32).rstrip(b"=").decode()
        r = s.request("POST", "/keys/cpp-rsa/sign?" + AV, body={"alg": "RS256", "value": digest})
        self.assertOk(r)
        # No tags sent: no "tags" property, as before.
        r = s.request("POST", "/keys/cpp-ec/create?" + AV, body={"kty": "EC", "key_ops": []})
        j = self.assertOk(r)
        self.assertEqual(j["key"]["key_ops"], ["sign", "verify"])
        self.assertNotIn("tags", j)

    # ---- 2. Expect: 100-continue ----------------------------------------------------------------

    def expect_put(self, path, body, token="auto", content_length=None):
        """Sends a PUT's header with Expect: 100-continue, as the C++ SDK's curl transport does,
        and returns the connection and the first response."""
        s = self.server
        hdrs = self.cpp_headers(body, token=token, extra=[("expect", "100-continue")])
        if content_length is not None:
            hdrs = [(k, str(content_length) if k == "content-length" else v) for k, v in hdrs]
        conn = RawConnection(s)
        conn.send(head("PUT", path, s.vault_host(), hdrs))
        return conn, conn.read_response(timeout=MAX_SECONDS)

    def test_expect_continue_on_rotation_policy_put(self):
        body = json.dumps({"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                                "action": {"type": "Notify"}}],
                           "attributes": {"expiryTime": "P90D"}}).encode()
        self.assertOk(self.server.api("POST", "/keys/cpp-policy/create", body={"kty": "EC"}))
        self.t0 = time.monotonic()
        conn, (status, headers, _) = self.expect_put("/keys/cpp-policy/rotationpolicy?" + AV, body)
        try:
            self.assertEqual(status, 100)
            conn.send(body)
            status, headers, payload = conn.read_response(timeout=MAX_SECONDS)
            self.assertQuick("PUT rotationpolicy with Expect")
            self.assertEqual(status, 200, payload)
            self.assertEqual(json.loads(payload)["attributes"]["expiryTime"], "P90D")
            # The connection stays usable.
            conn.send(head("GET", "/keys/cpp-policy?" + AV, self.server.vault_host(),
                           self.cpp_headers()))
            status, _, _ = conn.read_response(timeout=MAX_SECONDS)
            self.assertEqual(status, 200)
        finally:
            conn.close()

    def test_expect_continue_on_import_put(self):
        from cryptography.hazmat.primitives.asymmetric import ec

        def b64(n, size):
            return h.base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()
        priv = ec.generate_private_key(ec.SECP256R1())
        nums = priv.private_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "key_ops": [], "d": b64(nums.private_value, 32),
               "x": b64(nums.public_numbers.x, 32), "y": b64(nums.public_numbers.y, 32)}
        body = json.dumps({"key": jwk, "tags": {}}).encode()
        self.t0 = time.monotonic()
        conn, (status, _, _) = self.expect_put("/keys/cpp-import?" + AV, body)
        try:
            self.assertEqual(status, 100)
            conn.send(body)
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertQuick("import with Expect")
        self.assertEqual(status, 200, payload)
        j = json.loads(payload)
        self.assertEqual(j["key"]["key_ops"], ["sign", "verify"])
        self.assertEqual(j["tags"], {})

    def test_expect_continue_refused_without_token_gets_401_at_once(self):
        body = b'{"value":"c2VjcmV0"}'
        conn, (status, headers, payload) = self.expect_put("/keys/cpp-noauth?" + AV, body, token=None)
        try:
            self.assertQuick("401 before the body")
            self.assertEqual(status, 401, payload)
            self.assertTrue(headers.get("www-authenticate", "").startswith("Bearer "), headers)
            self.assertEqual(headers.get("connection", "").lower(), "close")
        finally:
            conn.close()

    def test_expect_continue_with_bad_token_gets_401_at_once(self):
        conn, (status, _, payload) = self.expect_put("/keys/cpp-badauth?" + AV, b"{}",
                                                     token=self.server.msi_token("https://elsewhere"))
        conn.close()
        self.assertQuick("401 before the body")
        self.assertEqual(status, 401, payload)
        self.assertIn("AKV10022", json.loads(payload)["error"]["message"])

    def test_expect_continue_too_large_gets_413_at_once(self):
        conn, (status, _, payload) = self.expect_put("/keys/cpp-big?" + AV, b"", content_length=2 * 1024 * 1024)
        conn.close()
        self.assertQuick("413 before the body")
        self.assertEqual(status, 413, payload)
        self.assertEqual(json.loads(payload)["error"]["code"], "RequestTooLarge")

    def test_expect_continue_unknown_vault_gets_404_at_once(self):
        s = self.server
        conn = RawConnection(s)
        try:
            conn.send(head("PUT", "/keys/x?" + AV, "nosuchvault.localhost:%d" % s.port,
                           self.cpp_headers(b"{}", extra=[("expect", "100-continue")])))
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertQuick()
        self.assertEqual(status, 404, payload)

    def test_expect_other_than_continue_is_417(self):
        conn, (status, _, payload) = self.expect_put("/keys/cpp-417?" + AV, b"{}")
        conn.close()
        self.assertEqual(status, 100)  # sanity: the helper's own Expect works
        s = self.server
        conn = RawConnection(s)
        try:
            conn.send(head("PUT", "/keys/cpp-417?" + AV, s.vault_host(),
                           self.cpp_headers(b"{}", extra=[("expect", "something-else")])) + b"{}")
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertEqual(status, 417, payload)

    def test_http10_expectation_is_ignored(self):
        # An HTTP/1.0 client knows no interim response: no 100, the body is read as sent.
        s = self.server
        body = b'{"kty":"EC"}'
        conn = RawConnection(s)
        try:
            conn.send(("POST /keys/http10/create?%s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n"
                       "Expect: 100-continue\r\n\r\n" % (AV, s.vault_host(), s.msi_token(), len(body))
                       ).encode())
            self.assertTrue(conn.nothing_within(0.3), "an interim response went to HTTP/1.0")
            conn.send(body)
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertEqual(status, 200, payload)

    def test_body_less_request_with_expect_is_answered(self):
        s = self.server
        conn = RawConnection(s)
        try:
            conn.send(head("GET", "/keys?" + AV, s.vault_host(),
                           self.cpp_headers(extra=[("expect", "100-continue")])))
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertQuick()
        self.assertEqual(status, 200, payload)

    # ---- 3. port-less audience ------------------------------------------------------------------

    def test_portless_audience_token_is_accepted(self):
        s = self.server
        token = s.msi_token("https://localhost")
        self.assertEqual(s.token_claims(token)["aud"], "https://localhost")
        self.t0 = time.monotonic()
        r = s.api("GET", "/keys", token=token)
        self.assertQuick()
        self.assertOk(r)
        # Also through 127.0.0.1:PORT and its port-less form.
        r = s.api("GET", "/keys", token=s.msi_token("https://127.0.0.1"),
                  host="127.0.0.1:%d" % s.port, sni="localhost")
        self.assertOk(r)
        # Another port is another audience.
        r = s.api("GET", "/keys", token=s.msi_token("https://localhost:1"))
        self.assertJsonError(r, 401)
        self.assertIn("Expected https://localhost:%d," % s.port, r.error_message)

    # ---- 4. ADFS bare resource scope, v1 resource field -----------------------------------------

    def adfs_post(self, fields):
        s = self.server
        return s.request("POST", "/adfs/oauth2/token", body=urllib.parse.urlencode(fields),
                         token=None, host="localhost:%d" % s.port, sni="localhost",
                         content_type="application/x-www-form-urlencoded")

    def test_adfs_bare_resource_scope_and_resource_field(self):
        s = self.server
        p = s.admin_principal("cpp-adfs")
        s.grant(p["objectId"], ["get", "list"])
        base = {"grant_type": "client_credentials", "client_id": p["appId"],
                "client_secret": p["password"]}
        # What the Azure SDK for C++ posts with tenant adfs for https://dev.localhost:PORT.
        self.t0 = time.monotonic()
        r = self.adfs_post(dict(base, scope="https://localhost"))
        self.assertQuick("ADFS token")
        j = self.assertOk(r)
        self.assertEqual(s.token_claims(j["access_token"])["aud"], "https://localhost")
        self.assertOk(s.api("GET", "/keys", token=j["access_token"]))
        # ADFS v1: resource.
        r = self.adfs_post(dict(base, resource=s.local_resource))
        j = self.assertOk(r)
        self.assertEqual(s.token_claims(j["access_token"])["aud"], s.local_resource)
        self.assertOk(s.api("GET", "/keys", token=j["access_token"]))
        # A bad scope names this server's real port.
        r = self.adfs_post(dict(base, scope="openid"))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], "invalid_scope")
        self.assertIn("https://localhost:%d/.default" % s.port, r.json()["error_description"])

    # ---- 10. a refused body stays readable ------------------------------------------------------

    def test_413_is_readable_while_the_client_keeps_sending(self):
        s = self.server
        body = b'{"kty":"EC","tags":{"t":"' + b"a" * (2 * 1024 * 1024) + b'"}}'
        # As the Python SDK (requests/urllib3) does: the whole body, then read the answer.
        for attempt in range(3):
            self.t0 = time.monotonic()
            r = s.request("POST", "/keys/big/create?" + AV, body=body, timeout=10)
            self.assertQuick("413 with a 2 MiB body")
            self.assertJsonError(r, 413)
        # Chunked, the same.
        conn = RawConnection(s)
        try:
            self.t0 = time.monotonic()
            conn.send(head("POST", "/keys/big/create?" + AV, s.vault_host(),
                           [("Authorization", "Bearer " + s.msi_token()),
                            ("Content-Type", "application/json"),
                            ("Transfer-Encoding", "chunked")]))
            chunk = b"a" * 65536
            for _ in range(32):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
            status, _, payload = conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()
        self.assertQuick("413 with a 2 MiB chunked body")
        self.assertEqual(status, 413, payload)
        self.assertOk(s.api("GET", "/keys"))

    # ---- 11. transfer codings -------------------------------------------------------------------

    def transfer_coding(self, coding, body):
        s = self.server
        conn = RawConnection(s)
        try:
            conn.send(head("POST", "/keys/te/create?" + AV, s.vault_host(),
                           [("Authorization", "Bearer " + s.msi_token()),
                            ("Content-Type", "application/json"),
                            ("Transfer-Encoding", coding)]) + body)
            return conn.read_response(timeout=MAX_SECONDS)
        finally:
            conn.close()

    def test_transfer_codings_other_than_chunked_are_refused(self):
        payload = b'{"kty":"EC"}'
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
        for coding, body, expected in (("gzip", payload, 400), ("identity", payload, 400),
                                       ("gzip, chunked", chunked, 501),
                                       ("chunked, chunked", chunked, 400)):
            self.t0 = time.monotonic()
            status, _, answer = self.transfer_coding(coding, body)
            self.assertQuick(coding)
            self.assertEqual(status, expected, (coding, answer))
            self.assertIn("error", json.loads(answer))
        status, _, answer = self.transfer_coding("chunked", chunked)
        self.assertEqual(status, 200, answer)
        r = self.server.api("GET", "/keys/te/versions")
        self.assertEqual(len(self.assertOk(r)["value"]), 1, "a refused request created a key")


if __name__ == "__main__":
    h.main()
