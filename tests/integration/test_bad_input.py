"""Malformed requests against Coffre: every one must get the contracted status and JSON error,
store nothing, and leave the server serving. Raw sockets for the TLS-level garbage."""

import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

AV = "api-version=7.4"
GOOD = "good-key"
GOOD_TAGS = {"keep": "me"}
MiB = 1024 * 1024


def tamper(token):
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        return token + "x"
    sig = parts[2]
    return ".".join(parts[:2] + [("A" if sig[0] != "A" else "B") + sig[1:]])


def forge_expired(token):
    """Same header/signature, payload with exp in the past (signature no longer matches)."""
    import base64
    import json
    parts = token.split(".")
    if len(parts) != 3:
        return token + ".expired"
    try:
        payload = json.loads(h.b64url_decode(parts[1]))
    except ValueError:
        payload = {}
    payload["exp"] = int(time.time()) - 3600
    payload["nbf"] = int(time.time()) - 7200
    enc = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return ".".join([parts[0], enc, parts[2]])


def deep_json(depth):
    return '{"kty":"EC","tags":{"t":' + "[" * depth + "]" * depth + "}}"


def case(name, method, path, body=None, status=400, code="BadParameter", message=None,
         prefix=None, token="auto", headers=None, content_type="application/json", statuses=None):
    return dict(name=name, method=method, path=path, body=body, status=status, code=code,
                message=message, prefix=prefix, token=token, headers=headers,
                content_type=content_type, statuses=statuses)


def create(name, body, **kw):
    key = kw.pop("key", "bad-" + name.replace("_", "-"))
    return case(name, "POST", "/keys/%s/create?%s" % (key, AV), body=body, **kw)


def invalid_name(n):
    return "The request URI contains an invalid name: %s" % n


def unknown_version(v):
    return "The specified version (%s) is not recognized. Consider using the latest supported version (" % v


CASES = [
    # --- authentication comes first -------------------------------------------------------
    case("no_token_empty_body", "POST", "/keys/bad-a1/create?" + AV, body=b"", token=None,
         status=401, code="Unauthorized"),
    case("no_token_before_validation", "POST", "/keys/bad_name/create?api-version=1.0", body="{{{",
         token=None, status=401, code="Unauthorized"),
    case("no_token_unknown_route", "GET", "/nothing/here", token=None, status=401, code="Unauthorized"),
    case("no_token_no_api_version", "GET", "/keys", token=None, status=401, code="Unauthorized"),
    case("garbage_token", "GET", "/keys?" + AV, token="Bearer not.a.jwt", status=401, code="Unauthorized"),
    case("empty_bearer", "GET", "/keys?" + AV, token="Bearer ", status=401, code="Unauthorized"),
    case("basic_auth", "GET", "/keys?" + AV, token="Basic dXNlcjpwYXNz", status=401, code="Unauthorized"),
    case("tampered_signature", "GET", "/keys?" + AV, token=lambda s: "Bearer " + tamper(s.msi_token()),
         status=401, code="Unauthorized"),
    case("forged_expired_token", "GET", "/keys?" + AV,
         token=lambda s: "Bearer " + forge_expired(s.msi_token()), status=401, code="Unauthorized"),
    # --- api-version -------------------------------------------------------------------------
    case("missing_api_version", "GET", "/keys/" + GOOD),
    case("empty_api_version", "GET", "/keys/%s?api-version=" % GOOD),
    case("api_version_1_0", "GET", "/keys/%s?api-version=1.0" % GOOD, prefix=unknown_version("1.0")),
    case("api_version_7_99", "GET", "/keys/%s?api-version=7.99" % GOOD, prefix=unknown_version("7.99")),
    case("api_version_word", "GET", "/keys/%s?api-version=latest" % GOOD, prefix=unknown_version("latest")),
    case("api_version_on_create", "POST", "/keys/bad-av/create?api-version=7.99", body={"kty": "EC"},
         prefix=unknown_version("7.99")),
    case("missing_api_version_create", "POST", "/keys/bad-noav/create", body={"kty": "EC"}),
    # --- names -------------------------------------------------------------------------------
    case("name_underscore", "GET", "/keys/bad_name?" + AV, message=invalid_name("bad_name")),
    case("name_128_chars", "GET", "/keys/%s?%s" % ("a" * 128, AV), message=invalid_name("a" * 128)),
    case("name_dot", "GET", "/keys/a.b?" + AV, message=invalid_name("a.b")),
    case("name_invalid_on_create", "POST", "/keys/bad_create/create?" + AV, body={"kty": "EC"},
         message=invalid_name("bad_create")),
    case("name_128_on_create", "POST", "/keys/%s/create?%s" % ("b" * 128, AV), body={"kty": "EC"},
         message=invalid_name("b" * 128)),
    case("name_encoded_space", "GET", "/keys/bad%20name?" + AV),
    case("empty_name_create", "POST", "/keys//create?" + AV, body={"kty": "EC"}, code=None,
         statuses=(400, 404)),
    # --- create bodies -----------------------------------------------------------------------
    create("malformed_json", '{"kty": "RSA",'),
    create("top_level_array", "[]"),
    create("top_level_string", '"RSA"'),
    create("top_level_null", "null"),
    create("top_level_number", "42"),
    create("empty_body", b""),
    create("empty_object", {}),
    create("kty_number", {"kty": 5}),
    create("kty_null", {"kty": None}),
    create("kty_unknown", {"kty": "DSA"}, message="Invalid kty value: DSA"),
    # oct keys are allowed in every Coffre vault, but only of 128, 192 or 256 bits.
    create("kty_oct_key_size_512", {"kty": "oct", "key_size": 512}),
    create("key_size_string", {"kty": "RSA", "key_size": "big"}),
    create("key_size_1024", {"kty": "RSA", "key_size": 1024}),
    create("key_size_2047", {"kty": "RSA", "key_size": 2047}),
    create("key_size_8192", {"kty": "RSA", "key_size": 8192}),
    create("key_size_negative", {"kty": "RSA", "key_size": -2048}),
    create("key_size_zero", {"kty": "RSA-HSM", "key_size": 0}),
    create("key_size_huge", '{"kty":"RSA","key_size":123456789012345678901234567890}'),
    create("key_size_float", '{"kty":"RSA","key_size":2048.5}'),
    create("crv_unknown", {"kty": "EC", "crv": "P-128"}),
    create("crv_number", {"kty": "EC-HSM", "crv": 256}),
    create("crv_on_rsa", {"kty": "RSA", "crv": "P-256"}),
    create("attributes_array", {"kty": "EC", "attributes": []}),
    create("attributes_string", {"kty": "EC", "attributes": "enabled"}),
    create("enabled_string", {"kty": "EC", "attributes": {"enabled": "yes"}}),
    create("nbf_string", {"kty": "EC", "attributes": {"nbf": "2020-01-01T00:00:00Z"}}),
    create("exp_string", {"kty": "EC", "attributes": {"exp": "tomorrow"}}),
    create("tags_value_number", {"kty": "EC", "tags": {"a": 1}}),
    create("tags_array", {"kty": "EC", "tags": ["a", "b"]}),
    create("tags_16", {"kty": "EC", "tags": {"t%02d" % i: "v" for i in range(16)}}),
    create("tag_name_257", {"kty": "EC", "tags": {"n" * 257: "v"}}),
    create("tag_value_257", {"kty": "EC", "tags": {"n": "v" * 257}}),
    create("key_ops_string", {"kty": "EC", "key_ops": "sign"}),
    create("key_ops_unknown", {"kty": "EC", "key_ops": ["sign", "fly"]}),
    create("key_ops_number", {"kty": "RSA", "key_ops": [1]}),
    create("json_nested_1000", deep_json(1000)),
    create("json_nested_100000", deep_json(100000)),
    create("invalid_utf8", b'{"kty":"EC","tags":{"t":"\xff\xfe\xc3"}}'),
    create("trailing_garbage", '{"kty":"EC"} xyz'),
    create("bad_body_on_existing", {"kty": 5}, key=GOOD),
    create("bad_size_on_existing", {"kty": "RSA", "key_size": 1024}, key=GOOD),
    # --- update bodies -----------------------------------------------------------------------
    case("patch_malformed", "PATCH", "/keys/%s/?%s" % (GOOD, AV), body="{"),
    case("patch_key_ops_unknown", "PATCH", "/keys/%s/?%s" % (GOOD, AV), body={"key_ops": ["fly"]}),
    case("patch_tags_16", "PATCH", "/keys/%s/?%s" % (GOOD, AV),
         body={"tags": {"t%02d" % i: "v" for i in range(16)}}),
    case("patch_enabled_string", "PATCH", "/keys/%s/?%s" % (GOOD, AV), body={"attributes": {"enabled": "no"}}),
    case("patch_exp_string", "PATCH", "/keys/%s/?%s" % (GOOD, AV), body={"attributes": {"exp": "soon"}}),
    case("patch_unknown_version", "PATCH", "/keys/%s/%s?%s" % (GOOD, "0" * 32, AV),
         body={"attributes": {"enabled": False}}, status=404, code="KeyNotFound"),
    # --- lists -------------------------------------------------------------------------------
    case("maxresults_0", "GET", "/keys?%s&maxresults=0" % AV),
    case("maxresults_26", "GET", "/keys?%s&maxresults=26" % AV),
    case("maxresults_negative", "GET", "/keys?%s&maxresults=-1" % AV),
    case("maxresults_word", "GET", "/keys?%s&maxresults=x" % AV),
    case("maxresults_versions_26", "GET", "/keys/%s/versions?%s&maxresults=26" % (GOOD, AV)),
    case("maxresults_deleted_0", "GET", "/deletedkeys?%s&maxresults=0" % AV),
    # --- routing -----------------------------------------------------------------------------
    case("unknown_route_post", "POST", "/keys/%s/bogus?%s" % (GOOD, AV), body={}, status=404, code=None),
    case("unknown_route_get", "GET", "/nothing?" + AV, status=404, code=None),
    case("wrong_method_create", "PUT", "/keys/%s/create?%s" % (GOOD, AV), body={"kty": "EC"},
         status=405, code=None),
    case("wrong_method_keys", "DELETE", "/keys?" + AV, status=405, code=None),
    # --- not found ---------------------------------------------------------------------------
    case("get_unknown", "GET", "/keys/unknown-key?" + AV, status=404, code="KeyNotFound",
         message=h.key_not_found_message("unknown-key")),
    case("get_deleted_unknown", "GET", "/deletedkeys/unknown?" + AV, status=404, code="KeyNotFound",
         message="Deleted Key not found: unknown"),
    case("delete_unknown", "DELETE", "/keys/unknown-key?" + AV, status=404, code="KeyNotFound"),
    case("recover_unknown", "POST", "/deletedkeys/unknown-key/recover?" + AV, status=404, code="KeyNotFound"),
    case("purge_unknown", "DELETE", "/deletedkeys/unknown-key?" + AV, status=404, code="KeyNotFound"),
    case("versions_unknown", "GET", "/keys/unknown-key/%s?%s" % ("1" * 32, AV), status=404,
         code="KeyNotFound"),
    # --- things that must be tolerated --------------------------------------------------------
    case("unknown_query_params_ignored", "GET", "/keys/%s?%s&foo=bar&x-ms-whatever=1" % (GOOD, AV),
         status=200, code=None),
    case("percent_encoded_api_version_name", "GET", "/keys/%s?api%%2Dversion=7.4" % GOOD,
         status=200, code=None),
]


class BadInputTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.server.api("POST", "/keys/%s/create" % GOOD, body={"kty": "EC", "tags": GOOD_TAGS})
        if r.status != 200:
            raise h.HarnessError("could not create %s: %r" % (GOOD, r))
        cls.good = r.json()

    # ---- helpers --------------------------------------------------------------------------

    def assertServerHealthy(self):
        s = self.server
        r = s.healthz()
        self.assertEqual(r.status, 200, "healthz after the bad request: %r" % r)
        r = s.api("GET", "/keys/" + GOOD)
        self.assertEqual(r.status, 200, "normal get after the bad request: %r" % r)
        self.assertEqual(r.json()["key"]["kid"], self.good["key"]["kid"])

    def run_case(self, c):
        s = self.server
        tok = c["token"]
        if callable(tok):
            tok = tok(s)
        r = s.request(c["method"], c["path"], body=c["body"], headers=c["headers"], token=tok,
                      content_type=c["content_type"])
        if c["status"] == 200:
            self.assertOk(r)
        elif c["statuses"]:
            self.assertIn(r.status, c["statuses"], r)
            self.assertJsonError(r, r.status)
        else:
            self.assertJsonError(r, c["status"], c["code"], message=c["message"],
                                 message_prefix=c["prefix"])
            if c["status"] == 401:
                self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Bearer "), r)
        self.assertServerHealthy()

    def assertClosedWithin(self, sock, seconds=10.0, max_bytes=1 << 20):
        """The peer must close the connection (EOF or reset) within `seconds`."""
        deadline = time.monotonic() + seconds
        got = 0
        while time.monotonic() < deadline and got < max_bytes:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                return
            if not data:
                return
            got += len(data)
        self.fail("server kept the connection open for %.0fs (received %d bytes)" % (seconds, got))

    def client_hello(self):
        ctx = ssl.create_default_context()
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname="dev.localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return outgoing.read()

    def tcp(self):
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=10)

    def raw_request_bytes(self, head_lines, body=b""):
        s = self.server
        lines = ["Host: %s" % s.vault_host(), "Authorization: Bearer %s" % s.msi_token(),
                 "Connection: close"] + head_lines
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    # ---- HTTP framing and size limits -------------------------------------------------------

    def test_framing_duplicate_content_length(self):
        body = b'{"kty":"EC"}'
        data = b"POST /keys/bad-dupcl/create?" + AV.encode() + b" HTTP/1.1\r\n" + self.raw_request_bytes(
            ["Content-Type: application/json", "Content-Length: %d" % len(body), "Content-Length: 5"], body)
        r = self.server.raw_tls(data, method="POST")
        self.assertIsNotNone(r, "connection closed without a response")
        self.assertJsonError(r, 400)
        self.assertServerHealthy()

    def test_framing_content_length_and_transfer_encoding(self):
        body = b'{"kty":"EC"}'
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        data = b"POST /keys/bad-clte/create?" + AV.encode() + b" HTTP/1.1\r\n" + self.raw_request_bytes(
            ["Content-Type: application/json", "Content-Length: %d" % len(body),
             "Transfer-Encoding: chunked"], chunked)
        r = self.server.raw_tls(data, method="POST")
        self.assertIsNotNone(r, "connection closed without a response")
        self.assertJsonError(r, 400)
        self.assertServerHealthy()

    def test_body_over_1mib(self):
        body = b'{"kty":"EC","tags":{"t":"' + b"a" * (MiB + 100) + b'"}}'
        data = b"POST /keys/bad-big/create?" + AV.encode() + b" HTTP/1.1\r\n" + self.raw_request_bytes(
            ["Content-Type: application/json", "Content-Length: %d" % len(body)], body)
        r = self.server.raw_tls(data, method="POST", timeout=30)
        self.assertIsNotNone(r, "connection closed without a 413 response")
        self.assertJsonError(r, 413)
        self.assertServerHealthy()

    def test_chunked_body_over_1mib(self):
        chunk = b"a" * 65536
        body = b'{"kty":"EC","tags":{"t":"'
        parts = [b"%x\r\n%s\r\n" % (len(body), body)]
        for _ in range(17):
            parts.append(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        parts.append(b"0\r\n\r\n")
        data = b"POST /keys/bad-bigchunk/create?" + AV.encode() + b" HTTP/1.1\r\n" + self.raw_request_bytes(
            ["Content-Type: application/json", "Transfer-Encoding: chunked"], b"".join(parts))
        r = self.server.raw_tls(data, method="POST", timeout=30)
        self.assertIsNotNone(r, "connection closed without a 413 response")
        self.assertJsonError(r, 413)
        self.assertServerHealthy()

    def test_header_section_over_32kib(self):
        data = b"GET /keys/" + GOOD.encode() + b"?" + AV.encode() + b" HTTP/1.1\r\n" + \
            self.raw_request_bytes(["X-Big: " + "b" * (33 * 1024)])
        r = self.server.raw_tls(data, method="GET", timeout=30)
        self.assertIsNotNone(r, "connection closed without a 431 response")
        self.assertJsonError(r, 431)
        self.assertServerHealthy()

    def test_many_headers_over_32kib(self):
        data = b"GET /keys/" + GOOD.encode() + b"?" + AV.encode() + b" HTTP/1.1\r\n" + \
            self.raw_request_bytes(["X-H%04d: %s" % (i, "v" * 100) for i in range(400)])
        r = self.server.raw_tls(data, method="GET", timeout=30)
        self.assertIsNotNone(r, "connection closed without a 431 response")
        self.assertJsonError(r, 431)
        self.assertServerHealthy()

    # ---- TLS-level garbage ------------------------------------------------------------------

    def test_tls_plain_http(self):
        sock = self.tcp()
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertClosedWithin(sock)
        finally:
            sock.close()
        self.assertServerHealthy()

    def test_tls_random_bytes(self):
        sock = self.tcp()
        try:
            try:
                sock.sendall(os.urandom(8192))
            except (ConnectionResetError, BrokenPipeError):
                pass
            self.assertClosedWithin(sock)
        finally:
            sock.close()
        self.assertServerHealthy()

    def test_tls_bogus_record_header(self):
        sock = self.tcp()
        try:
            # handshake record claiming 16 KiB, then EOF
            sock.sendall(b"\x16\x03\x01\x40\x00" + b"\x01" * 100)
            sock.shutdown(socket.SHUT_WR)
            self.assertClosedWithin(sock)
        finally:
            sock.close()
        self.assertServerHealthy()

    def test_tls_truncated_client_hello(self):
        hello = self.client_hello()
        self.assertGreater(len(hello), 40)
        sock = self.tcp()
        try:
            sock.sendall(hello[: len(hello) // 2])
            sock.shutdown(socket.SHUT_WR)
            self.assertClosedWithin(sock)
        finally:
            sock.close()
        self.assertServerHealthy()

    def test_tls_stalled_handshakes_do_not_block(self):
        hello = self.client_hello()
        socks = []
        try:
            for _ in range(5):
                sock = self.tcp()
                sock.sendall(hello[: len(hello) // 2])
                socks.append(sock)
            for _ in range(20):
                socks.append(self.tcp())   # connected, never says anything
            t0 = time.monotonic()
            for _ in range(3):
                self.assertServerHealthy()
            self.assertLess(time.monotonic() - t0, 20)
        finally:
            for sock in socks:
                sock.close()
        self.assertServerHealthy()

    def test_tls_disconnect_mid_request(self):
        s = self.server
        sock = s.tls_socket()
        head = ("POST /keys/bad-midreq/create?%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"kty\":" % (
                    AV, s.vault_host(), s.msi_token())).encode()
        sock.sendall(head)
        # abortive close (RST)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        time.sleep(0.2)
        self.assertServerHealthy()

    def test_tls_disconnect_mid_headers(self):
        s = self.server
        sock = s.tls_socket()
        sock.sendall(b"GET /keys?" + AV.encode() + b" HTTP/1.1\r\nHost: dev.loc")
        sock.close()
        time.sleep(0.2)
        self.assertServerHealthy()

    def test_tls_disconnect_before_reading_response(self):
        s = self.server
        for _ in range(5):
            sock = s.tls_socket()
            sock.sendall(("GET /keys?%s&maxresults=25 HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n"
                          % (AV, s.vault_host(), s.msi_token())).encode())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        time.sleep(0.2)
        self.assertServerHealthy()

    def test_tls_garbage_after_handshake(self):
        s = self.server
        sock = s.tls_socket()
        try:
            sock.sendall(os.urandom(2048) + b"\r\n\r\n")
            self.assertClosedWithin(sock)
        finally:
            sock.close()
        self.assertServerHealthy()

    # ---- at the end: nothing was stored ------------------------------------------------------

    def test_zz_nothing_stored(self):
        s = self.server
        names = []
        r = s.api("GET", "/keys", query="maxresults=25")
        for _ in range(50):
            j = self.assertOk(r)
            names += [i["kid"].rsplit("/", 1)[1] for i in j["value"]]
            if not j.get("nextLink"):
                break
            r = s.follow(j["nextLink"])
        self.assertEqual(names, [GOOD], "bad requests stored keys")
        j = self.assertOk(s.api("GET", "/deletedkeys"))
        self.assertEqual(j["value"], [])
        j = self.assertOk(s.api("GET", "/keys/%s/versions" % GOOD))
        self.assertEqual(len(j["value"]), 1, "a bad create added a version to %s" % GOOD)
        g = self.assertOk(s.api("GET", "/keys/" + GOOD))
        self.assertEqual(g.get("tags"), GOOD_TAGS)
        self.assertIs(g["attributes"]["enabled"], True)
        self.assertEqual(g["key"]["key_ops"], self.good["key"]["key_ops"])
        self.assertEqual(g["attributes"].get("exp"), self.good["attributes"].get("exp"))


def _make(c):
    def t(self):
        self.run_case(c)
    t.__doc__ = "%s %s -> %s" % (c["method"], c["path"][:80], c["statuses"] or c["status"])
    return t


for _i, _c in enumerate(CASES):
    setattr(BadInputTest, "test_case_%03d_%s" % (_i, _c["name"]), _make(_c))


if __name__ == "__main__":
    h.main()
