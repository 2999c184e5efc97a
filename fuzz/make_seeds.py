#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (small, meaningful inputs).

Text seeds (router requests, JSON bodies, targets, durations) come from the Key Vault wire
reference; JWKs are fresh keys made with python3-cryptography. Seeds that need the server's own
code (signed tokens, real backup blobs under the fixed fuzzing master key) are written by the
fuzz targets themselves when COFFRE_FUZZ_WRITE_SEEDS is set, through the replay binary:

    python3 fuzz/make_seeds.py [build/fuzz/coffre_fuzz_replay | build-fuzz/fuzz]

Existing files are overwritten; nothing is deleted.
"""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.asymmetric import ec, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    size = size or max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(size, "big")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rsa_jwk(bits=2048):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    p = k.private_numbers()
    pub = p.public_numbers
    parts = {"n": pub.n, "e": pub.e, "d": p.d, "p": p.p, "q": p.q, "dp": p.dmp1, "dq": p.dmq1,
             "qi": p.iqmp}
    return {name: int_bytes(v) for name, v in parts.items()}


CURVES = [("P-256", ec.SECP256R1(), 32), ("P-384", ec.SECP384R1(), 48),
          ("P-521", ec.SECP521R1(), 66), ("P-256K", ec.SECP256K1(), 32)]


def ec_jwk(index):
    name, curve, size = CURVES[index]
    k = ec.generate_private_key(curve)
    n = k.private_numbers()
    return name, {"x": int_bytes(n.public_numbers.x, size), "y": int_bytes(n.public_numbers.y, size),
                  "d": int_bytes(n.private_value, size)}


def jwk_json(kty, parts, **extra):
    jwk = {"kty": kty}
    jwk.update({k: b64u(v) for k, v in parts.items()})
    jwk.update(extra)
    return jwk


def prefixed(*parts):
    return b"".join(struct.pack(">H", len(p)) + p for p in parts)


def main():
    replay = sys.argv[1] if len(sys.argv) > 1 else None
    rsa_parts = rsa_jwk()
    ec_keys = [ec_jwk(i) for i in range(len(CURVES))]
    oct_key = os.urandom(32)
    digest = b64u(b"\x42" * 32)

    # ---- key_json: request bodies as the SDKs send them.
    bodies = {
        "create-rsa": {"kty": "RSA", "key_size": 2048, "public_exponent": 65537,
                       "key_ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
                       "attributes": {"enabled": True, "nbf": 1767225600, "exp": 1798761600},
                       "tags": {"purpose": "unit test"}},
        "create-ec": {"kty": "EC-HSM", "crv": "P-384", "attributes": {"exportable": False}},
        "create-oct": {"kty": "oct-HSM", "key_size": 256},
        "update": {"key_ops": ["sign"], "attributes": {"enabled": False, "exp": None},
                   "tags": {"a": "b"}},
        "import-rsa": {"key": jwk_json("RSA", rsa_parts, key_ops=["sign", "verify"]), "Hsm": True,
                       "attributes": {"enabled": True}, "tags": {"imported": "yes"}},
        "import-ec": {"key": jwk_json("EC", ec_keys[0][1], crv=ec_keys[0][0])},
        "import-oct": {"key": jwk_json("oct-HSM", {"k": oct_key})},
        "encrypt-rsa": {"alg": "RSA-OAEP-256", "value": "5ka5IVsnGrzufA"},
        "encrypt-gcm": {"alg": "A256GCM", "value": b64u(b"plaintext"), "aad": b64u(b"aad")},
        "decrypt-cbc": {"alg": "A256CBCPAD", "value": b64u(os.urandom(32)), "iv": b64u(os.urandom(16))},
        "decrypt-gcm": {"alg": "A128GCM", "value": b64u(b"x" * 20), "iv": b64u(os.urandom(12)),
                        "tag": b64u(os.urandom(16))},
        "sign": {"alg": "ES256", "value": digest},
        "verify": {"alg": "PS256", "digest": digest, "value": b64u(os.urandom(256))},
        "rotation-policy": {"lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {"expiryTime": "P2Y"}},
        "rotation-policy-js": {"lifetimeActions": [
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {}},
        "restore": {"value": b64u(b"CFKB\x01" + os.urandom(60))},
        "rng": {"count": 16},
    }
    for name, body in bodies.items():
        write("key_json", name, json.dumps(body, separators=(",", ":")))
    write("key_json", "deep", "[" * 40 + "]" * 40)
    write("key_json", "escapes", '{"kty":"\\u00e9\\ud83d\\ude00","crv":"P-256","tags":{"\\u0000":""}}')

    # ---- jwk_import: import bodies (0) and raw components (1).
    write("jwk_import", "json-rsa", b"\0" + json.dumps(bodies["import-rsa"]).encode())
    for i, (crv, parts) in enumerate(ec_keys):
        write("jwk_import", "json-ec-%s" % crv,
              b"\0" + json.dumps({"key": jwk_json("EC", parts, crv=crv)}).encode())
        write("jwk_import", "components-ec-%s" % crv,
              b"\1" + bytes([2 * i + 1]) + prefixed(parts["x"], parts["y"], parts["d"]))
    write("jwk_import", "json-oct", b"\0" + json.dumps(bodies["import-oct"]).encode())
    nd = {k: rsa_parts[k] for k in ("n", "e", "d")}
    write("jwk_import", "json-rsa-no-crt", b"\0" + json.dumps({"key": jwk_json("RSA", nd)}).encode())
    write("jwk_import", "components-rsa",
          b"\1\0" + prefixed(*(rsa_parts[k] for k in ("n", "e", "d", "p", "q", "dp", "dq", "qi"))))
    write("jwk_import", "components-rsa-no-crt", b"\1\0" + prefixed(nd["n"], nd["e"], nd["d"]))

    # ---- base64url
    for i, text in enumerate(["", "AQAB", "5ka5IVsnGrzufA", "5ka5IVsnGrzufA==", "ab+/cd-_",
                              "YQ", "YQ==", "YR", "Y===", "A"]):
        write("base64url", "text-%02d" % i, text)
    write("base64url", "bytes", bytes(range(256)))

    # ---- request_target
    targets = ["/keys/k1/create?api-version=7.4", "/keys/k1//encrypt?api-version=7.6",
               "/keys?maxresults=25&api-version=7.4&$skiptoken=abc", "/",
               "/keys/k%2D1/?api%2Dversion=7.3-preview", "/deletedkeys/k1/recover?api-version=2025-07-01",
               "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Flocalhost%3A8443",
               "/keys/k1?a=1&a=2&&=x#frag", "/keys/%00", "/%zz",
               "grant_type=client_credentials&client_id=abc&client_secret=s+e%2Bcret&scope=x%2F.default",
               "dev.localhost:8443", "[::1]:8443", "x.vault.azure.net", "7.4-preview.1"]
    for i, t in enumerate(targets):
        write("request_target", "target-%02d" % i, t)

    # ---- iso_duration: 8-byte start time, then the text.
    starts = [1767225600, 1706659200, 1709164800, 0, 253402300799]  # 2026-01-01, 2024-01-31, 2024-02-29
    durations = ["P90D", "P1Y", "P2Y", "P18M", "PT48H", "P1Y10D", "P1M", "P3M", "P1W", "P9999Y9999M",
                 "P1Y2M3W4DT5H6M7S", "PT", "P", "P1D2D", "p30d"]
    for i, d in enumerate(durations):
        write("iso_duration", "duration-%02d" % i, struct.pack(">Q", starts[i % len(starts)]) + d.encode())

    # ---- router: requests in the text format of fuzz_router.cc.
    auth = "authorization: Bearer $TOKEN\n"
    json_type = "content-type: application/json\n"

    def req(method, target, body=None, headers=auth):
        text = "%s %s\n%s" % (method, target, headers)
        if body is not None:
            text += json_type + "\n" + (body if isinstance(body, str) else json.dumps(body))
        else:
            text += "\n"
        return text

    def seq(*requests):
        return "\n---\n".join(requests)

    v = "?api-version=7.4"
    js = lambda n: json.dumps(bodies[n])
    write("router", "challenge", req("GET", "/keys/k1/" + v, headers=""))
    write("router", "healthz", req("GET", "/healthz", headers=""))
    write("router", "create-ec-sign", seq(
        req("POST", "/keys/k1/create" + v, {"kty": "EC", "crv": "P-256", "tags": {"a": "b"}}),
        req("GET", "/keys/k1/" + v), req("POST", "/keys/k1//sign" + v, js("sign")),
        req("GET", "/keys/k1/versions?maxresults=1&api-version=7.4")))
    write("router", "import-rsa-encrypt", seq(
        req("PUT", "/keys/imported" + v, js("import-rsa")),
        req("POST", "/keys/imported/encrypt" + v, js("encrypt-rsa")),
        req("POST", "/keys/imported//wrapkey" + v, js("encrypt-rsa")),
        req("POST", "/keys/imported//verify" + v, js("verify"))))
    write("router", "oct-encrypt", seq(
        req("POST", "/keys/aes/create" + v, js("create-oct")),
        req("POST", "/keys/aes//encrypt" + v, js("encrypt-gcm")),
        req("POST", "/keys/aes//decrypt" + v, js("decrypt-cbc")),
        req("POST", "/keys/aes//decrypt" + v, js("decrypt-gcm"))))
    write("router", "delete-recover-purge", seq(
        req("PUT", "/keys/k2" + v, js("import-ec")), req("DELETE", "/keys/k2" + v),
        req("POST", "/deletedkeys/k2/recover" + v),
        req("DELETE", "/deletedkeys/k2" + v)))
    write("router", "list-deleted", seq(
        req("PUT", "/keys/k3" + v, js("import-oct")), req("DELETE", "/keys/k3" + v),
        req("GET", "/deletedkeys?maxresults=25&api-version=7.4"), req("GET", "/deletedkeys/k3" + v)))
    write("router", "rotation", seq(
        req("PUT", "/keys/r1" + v, js("import-ec")),
        req("PUT", "/keys/r1/rotationpolicy" + v, js("rotation-policy")),
        req("GET", "/keys/r1/rotationpolicy" + v), req("POST", "/keys/r1/rotate" + v)))
    write("router", "update", seq(
        req("PUT", "/keys/u1" + v, js("import-oct")), req("PATCH", "/keys/u1/" + v, js("update")),
        req("GET", "/keys?maxresults=2&api-version=7.5")))
    write("router", "backup-restore", seq(
        req("PUT", "/keys/b1" + v, js("import-ec")), req("POST", "/keys/b1/backup" + v),
        req("POST", "/keys/restore" + v, js("restore"))))
    write("router", "rng", req("POST", "/rng?api-version=7.4", js("rng")))
    write("router", "create-rsa", req("POST", "/keys/rsa/create" + v, {"kty": "RSA", "key_size": 2048}))
    write("router", "msi", req("GET", "/msi/token?api-version=2019-08-01&resource=https://localhost:8443",
                               headers="x-identity-header: identity-header-secret-for-fuzzing\n"))
    write("router", "adfs", seq(
        req("GET", "/adfs/.well-known/openid-configuration", headers=""),
        req("GET", "/adfs/discovery/keys", headers=""),
        "POST /adfs/oauth2/token\ncontent-type: application/x-www-form-urlencoded\n\n"
        "grant_type=client_credentials&client_id=abc&client_secret=s&scope=https%3A%2F%2Flocalhost%3A8443%2F.default"))
    write("router", "bad-version", req("GET", "/keys?api-version=7.9"))
    write("router", "bad-host", req("GET", "/keys" + v, headers=auth + "host: evil.example.com\n"))
    write("router", "plain-http", req("GET", "/keys" + v, headers=auth + "x-fuzz-insecure: 1\n"))
    write("router", "bad-token", req("GET", "/keys" + v, headers="authorization: Bearer a.b.c\n"))

    # ---- jwt and backup_restore: written by the targets (server-side keys and formats).
    if replay:
        for target in ("jwt", "backup_restore"):
            with tempfile.TemporaryDirectory() as tmp:
                empty = os.path.join(tmp, "empty")
                open(empty, "wb").close()
                out = os.path.join(CORPUS, target)
                env = dict(os.environ, COFFRE_FUZZ_WRITE_SEEDS=out)
                if os.path.isdir(replay):  # build-fuzz/fuzz: the libFuzzer binaries
                    cmd = [os.path.join(replay, "fuzz_" + target), "-runs=0", tmp]
                else:
                    cmd = [replay, target, empty]
                subprocess.run(cmd, env=env, check=True)
        blob = open(os.path.join(CORPUS, "backup_restore", "blob-ec"), "rb").read()[1:]
        write("router", "restore-real-blob", seq(
            req("POST", "/keys/restore" + v, {"value": b64u(blob)}),
            req("POST", "/keys/ec//sign" + v, js("sign")), req("GET", "/keys/ec/versions" + v)))
        token = open(os.path.join(CORPUS, "jwt", "token-valid"), "rb").read()[1:].decode()
        write("router", "literal-token", req("GET", "/keys" + v,
                                             headers="authorization: Bearer %s\n" % token))


if __name__ == "__main__":
    main()
