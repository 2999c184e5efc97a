"""Key import (PUT /keys/{name}) and backup/restore (POST /keys/{name}/backup, POST /keys/restore)
through the Python SDK (azure-keyvault-keys 4.8.0b3) and raw HTTPS. Keys are generated locally
with python3-cryptography so that what the server does with them can be checked independently."""

import base64
import datetime
import hashlib
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError, ResourceExistsError  # noqa: E402
from azure.identity import ManagedIdentityCredential  # noqa: E402
from azure.keyvault.keys import JsonWebKey  # noqa: E402
from azure.keyvault.keys.crypto import CryptographyClient  # noqa: E402
from azure.keyvault.keys.crypto._providers import NoLocalCryptography  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
ALL_OPS = RSA_OPS
EC_OPS = ["sign", "verify"]
INVALID_JWK = 'The property "key" must be a valid JsonWebKey object.'
CURVES = {
    "P-256": (ec.SECP256R1, 32, "ES256", hashlib.sha256, hashes.SHA256),
    "P-256K": (ec.SECP256K1, 32, "ES256K", hashlib.sha256, hashes.SHA256),
    "P-384": (ec.SECP384R1, 48, "ES384", hashlib.sha384, hashes.SHA384),
    "P-521": (ec.SECP521R1, 66, "ES512", hashlib.sha512, hashes.SHA512),
}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


unb64u = h.b64url_decode


def ib(i, length=None):
    length = length or max(1, (i.bit_length() + 7) // 8)
    return i.to_bytes(length, "big")


def rsa_jwk(priv, **extra):
    """Raw JSON JWK (b64url strings) with every private part of an RSA key."""
    pn = priv.private_numbers()
    size = (pn.public_numbers.n.bit_length() + 7) // 8
    jwk = {"kty": "RSA", "n": b64u(ib(pn.public_numbers.n, size)), "e": b64u(ib(pn.public_numbers.e)),
           "d": b64u(ib(pn.d, size)), "p": b64u(ib(pn.p)), "q": b64u(ib(pn.q)),
           "dp": b64u(ib(pn.dmp1)), "dq": b64u(ib(pn.dmq1)), "qi": b64u(ib(pn.iqmp))}
    jwk.update(extra)
    return jwk


def ec_jwk(priv, crv, **extra):
    size = CURVES[crv][1]
    pn = priv.private_numbers()
    jwk = {"kty": "EC", "crv": crv, "x": b64u(ib(pn.public_numbers.x, size)),
           "y": b64u(ib(pn.public_numbers.y, size)), "d": b64u(ib(pn.private_value, size))}
    jwk.update(extra)
    return jwk


def sdk_jwk(raw):
    """azure.keyvault.keys.JsonWebKey from a raw JSON JWK."""
    kw = {}
    for k, v in raw.items():
        if k in ("kty", "crv", "key_ops"):
            kw[k] = v
        else:
            kw[k] = unb64u(v)
    return JsonWebKey(**kw)


def key_path(kid):
    return urllib.parse.urlsplit(kid).path


_RSA_CACHE = []


def rsa_private(bits=2048):
    # RSA key generation is the slow part locally; reuse a few 2048-bit keys
    if bits != 2048:
        return rsa.generate_private_key(65537, bits)
    if len(_RSA_CACHE) < 4:
        _RSA_CACHE.append(rsa.generate_private_key(65537, 2048))
        return _RSA_CACHE[-1]
    return rsa.generate_private_key(65537, 2048)


class ImportBackupTest(h.ServerTestCase):
    VAULTS = ("other",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc = cls.server.key_client()
        cls.other = cls.server.key_client("other")
        cls.cred = ManagedIdentityCredential()
        cls.vault = cls.server.vault_url()

    # ---- helpers -------------------------------------------------------------------------

    def ok(self, r, status=200):
        return self.assertOk(r, status)

    def remote(self, kid):
        c = CryptographyClient(kid, self.cred)
        c._local_provider = NoLocalCryptography()
        c._initialized = True
        return c

    def put_key(self, name, body, host=None):
        kw = {"host": host} if host else {}
        return self.server.api("PUT", "/keys/%s" % name, body, **kw)

    def delete_and_purge(self, name, vault="dev"):
        s = self.server
        self.ok(s.api("DELETE", "/keys/%s" % name, host=s.vault_host(vault)))
        self.ok(s.api("DELETE", "/deletedkeys/%s" % name, host=s.vault_host(vault)), 204)
        self.assertJsonError(s.api("GET", "/keys/%s" % name, host=s.vault_host(vault)), 404, "KeyNotFound")

    def versions(self, name, vault="dev"):
        s = self.server
        r = s.api("GET", "/keys/%s/versions" % name, query="maxresults=25", host=s.vault_host(vault))
        out = {}
        for _ in range(20):
            j = self.ok(r)
            for item in j["value"]:
                out[item["kid"].rsplit("/", 1)[1]] = item
            if not j.get("nextLink"):
                return out
            r = s.follow(j["nextLink"])
        self.fail("versions paging did not end")

    def get_version(self, name, version, vault="dev"):
        s = self.server
        return self.ok(s.api("GET", "/keys/%s/%s" % (name, version), host=s.vault_host(vault)))

    def assertNothingNamed(self, name, vault="dev"):
        s = self.server
        host = s.vault_host(vault)
        self.assertJsonError(s.api("GET", "/keys/%s" % name, host=host), 404, "KeyNotFound")
        self.assertJsonError(s.api("GET", "/deletedkeys/%s" % name, host=host), 404, "KeyNotFound")
        r = s.api("GET", "/keys/%s/versions" % name, host=host)
        if r.status == 200:
            self.assertEqual(r.json()["value"], [], "versions of %s left behind: %r" % (name, r))
        else:
            self.assertJsonError(r, 404, "KeyNotFound")

    # ---- import: RSA ---------------------------------------------------------------------

    def test_import_rsa(self):
        for bits, hsm in ((2048, False), (2048, True), (3072, False)):
            with self.subTest(bits=bits, hsm=hsm):
                priv = rsa_private(bits)
                name = "imp-rsa-%d%s" % (bits, "-hsm" if hsm else "")
                raw = rsa_jwk(priv)
                key = self.kc.import_key(name, sdk_jwk(raw), hardware_protected=hsm)
                self.assertEqual(key.name, name)
                self.assertRegex(key.id, r"^%s/keys/%s/[0-9a-f]{32}$" % (self.vault, name))
                self.assertEqual(key.key_type, "RSA-HSM" if hsm else "RSA")
                self.assertEqual(sorted(key.key_operations), sorted(RSA_OPS))
                pub = priv.public_key().public_numbers()
                self.assertEqual(int.from_bytes(key.key.n, "big"), pub.n)
                self.assertEqual(len(key.key.n), bits // 8)
                self.assertEqual(key.key.e, b"\x01\x00\x01")
                self.assertIs(key.properties.enabled, True)
                j = self.ok(self.server.api("GET", "/keys/%s" % name))
                self.assertEqual(sorted(j["key"]), ["e", "key_ops", "kid", "kty", "n"], "private parts returned")
                # the imported key signs; the signature verifies with the local public half
                rc = self.remote(key.id)
                digest = hashlib.sha256(b"imported").digest()
                for alg, pad in (("RS256", padding.PKCS1v15()),
                                 ("PS256", padding.PSS(padding.MGF1(hashes.SHA256()), 32))):
                    sig = rc.sign(alg, digest).signature
                    priv.public_key().verify(sig, digest, pad, utils.Prehashed(hashes.SHA256()))
                # data encrypted locally decrypts on the server; server ciphertext decrypts locally
                oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
                ct = priv.public_key().encrypt(b"to the server", oaep)
                self.assertEqual(rc.decrypt("RSA-OAEP-256", ct).plaintext, b"to the server")
                ct = rc.encrypt("RSA-OAEP-256", b"from the server").ciphertext
                self.assertEqual(priv.decrypt(ct, oaep), b"from the server")

    def test_import_rsa_raw_with_hsm_flag_and_key_ops(self):
        priv = rsa_private()
        j = self.ok(self.put_key("imp-raw-rsa", {"key": rsa_jwk(priv, key_ops=["sign", "verify"]), "Hsm": True,
                                                  "tags": {"src": "raw"}, "attributes": {"enabled": True}}))
        self.assertEqual(j["key"]["kty"], "RSA-HSM")
        self.assertEqual(sorted(j["key"]["key_ops"]), ["sign", "verify"])
        self.assertEqual(j.get("tags"), {"src": "raw"})
        for f in ("d", "p", "q", "dp", "dq", "qi", "k"):
            self.assertNotIn(f, j["key"])
        kid = j["key"]["kid"]
        # key_ops from the JWK are enforced
        ct = priv.public_key().encrypt(b"x", padding.PKCS1v15())
        r = self.server.api("POST", key_path(kid) + "/decrypt", {"alg": "RSA1_5", "value": b64u(ct)})
        err = self.assertJsonError(r, 403, "Forbidden", message="Operation decrypt is not permitted on this key.")
        self.assertEqual((err.get("innererror") or {}).get("code"), "KeyOperationForbidden")
        d = hashlib.sha256(b"ok").digest()
        sig = self.ok(self.server.api("POST", key_path(kid) + "/sign", {"alg": "RS256", "value": b64u(d)}))["value"]
        priv.public_key().verify(unb64u(sig), d, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        # Hsm false (explicit) gives plain RSA
        j = self.ok(self.put_key("imp-raw-rsa-soft", {"key": rsa_jwk(priv), "Hsm": False}))
        self.assertEqual(j["key"]["kty"], "RSA")
        self.assertEqual(sorted(j["key"]["key_ops"]), sorted(RSA_OPS))

    # ---- import: EC ----------------------------------------------------------------------

    def test_import_ec_every_curve(self):
        for i, (crv, (curve, size, alg, hfn, hcls)) in enumerate(CURVES.items()):
            hsm = bool(i % 2)
            with self.subTest(crv=crv, hsm=hsm):
                priv = ec.generate_private_key(curve())
                name = "imp-ec-%s" % crv.lower()
                key = self.kc.import_key(name, sdk_jwk(ec_jwk(priv, crv)), hardware_protected=hsm)
                self.assertEqual(key.key_type, "EC-HSM" if hsm else "EC")
                self.assertEqual(key.key.crv, crv)
                self.assertEqual(sorted(key.key_operations), sorted(EC_OPS))
                pn = priv.public_key().public_numbers()
                self.assertEqual(key.key.x, ib(pn.x, size))
                self.assertEqual(key.key.y, ib(pn.y, size))
                j = self.ok(self.server.api("GET", "/keys/%s" % name))
                self.assertEqual(sorted(j["key"]), ["crv", "key_ops", "kid", "kty", "x", "y"])
                rc = self.remote(key.id)
                digest = hfn(b"ec import").digest()
                sig = rc.sign(alg, digest).signature
                self.assertEqual(len(sig), 2 * size)
                der = utils.encode_dss_signature(int.from_bytes(sig[:size], "big"),
                                                 int.from_bytes(sig[size:], "big"))
                priv.public_key().verify(der, digest, ec.ECDSA(utils.Prehashed(hcls())))
                r, s_ = utils.decode_dss_signature(priv.sign(digest, ec.ECDSA(utils.Prehashed(hcls()))))
                self.assertTrue(rc.verify(alg, digest, ib(r, size) + ib(s_, size)).is_valid)

    # ---- import: oct ---------------------------------------------------------------------

    def test_import_oct_every_size(self):
        for n in (16, 24, 32):
            for hsm in (False, True):
                with self.subTest(bytes=n, hsm=hsm):
                    k = os.urandom(n)
                    name = "imp-oct-%d%s" % (n * 8, "-hsm" if hsm else "")
                    key = self.kc.import_key(name, JsonWebKey(kty="oct", k=k, key_ops=ALL_OPS),
                                             hardware_protected=hsm)
                    self.assertEqual(key.key_type, "oct-HSM" if hsm else "oct")
                    self.assertIsNone(key.key.k)
                    self.assertEqual(sorted(key.key_operations), sorted(ALL_OPS))
                    j = self.ok(self.server.api("GET", "/keys/%s" % name))
                    self.assertEqual(sorted(j["key"]), ["key_ops", "kid", "kty"])
                    alg = "A%dGCM" % (n * 8)
                    e = self.remote(key.id).encrypt(alg, b"symmetric")
                    self.assertEqual(AESGCM(k).decrypt(e.iv, e.ciphertext + e.tag, None),
                                     b"symmetric")

    def test_import_attributes_tags_and_new_versions(self):
        priv = rsa_private()
        exp = int(time.time()) + 86400
        nbf = int(time.time()) - 60
        utc = datetime.timezone.utc
        k1 = self.kc.import_key("imp-attrs", sdk_jwk(rsa_jwk(priv)), enabled=False, tags={"a": "1"},
                                expires_on=datetime.datetime.fromtimestamp(exp, utc),
                                not_before=datetime.datetime.fromtimestamp(nbf, utc))
        self.assertIs(k1.properties.enabled, False)
        self.assertEqual(k1.properties.tags, {"a": "1"})
        self.assertEqual(int(k1.properties.expires_on.timestamp()), exp)
        self.assertEqual(int(k1.properties.not_before.timestamp()), nbf)
        k2 = self.kc.import_key("imp-attrs", sdk_jwk(ec_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256")))
        self.assertNotEqual(k1.properties.version, k2.properties.version)
        self.assertEqual(self.kc.get_key("imp-attrs").id, k2.id, "import over an active name adds a version")
        self.assertEqual(set(self.versions("imp-attrs")), {k1.properties.version, k2.properties.version})
        self.assertEqual(self.kc.get_key("imp-attrs", k1.properties.version).key_type, "RSA")

    # ---- import: rejected keys -----------------------------------------------------------

    def test_inconsistent_keys_are_rejected(self):
        a, b = rsa_private(), rsa_private()
        ra, rb = rsa_jwk(a), rsa_jwk(b)
        pa = a.private_numbers()
        e1 = ec.generate_private_key(ec.SECP256R1())
        e2 = ec.generate_private_key(ec.SECP256R1())
        ja, jb = ec_jwk(e1, "P-256"), ec_jwk(e2, "P-256")
        p384 = ec_jwk(ec.generate_private_key(ec.SECP384R1()), "P-384")
        y_plus = ib(int.from_bytes(unb64u(ja["y"]), "big") ^ 1, 32)
        exact = [
            ("RSA with another key's d", dict(ra, d=rb["d"])),
            ("RSA with another key's n", dict(ra, n=rb["n"])),
            ("RSA with another key's p and q", dict(ra, p=rb["p"], q=rb["q"])),
            ("RSA with d off by two", dict(ra, d=b64u(ib(pa.d + 2, 256)))),
            ("RSA with a wrong qi", dict(ra, qi=b64u(ib((pa.iqmp + 1) % pa.p)))),
            ("RSA with a wrong dp", dict(ra, dp=b64u(ib(pa.dmp1 ^ 2)))),
            ("RSA with another e", dict(ra, e=b64u(ib(3)))),
            ("EC point not on the curve", dict(ja, y=b64u(y_plus))),
            ("EC x one byte too long", dict(ja, x=b64u(b"\x00" + unb64u(ja["x"])))),
            ("EC y one byte short", dict(ja, y=b64u(unb64u(ja["y"])[1:]))),
            ("EC d not matching the point", dict(ja, d=jb["d"])),
            ("EC public part of another key", dict(ja, x=jb["x"], y=jb["y"])),
            ("EC P-384 coordinates labelled P-256", dict(p384, crv="P-256")),
            ("EC P-256 coordinates labelled P-384", dict(ja, crv="P-384")),
        ]
        for i, (what, jwk) in enumerate(exact):
            name = "bad-jwk-%d" % i
            with self.subTest(what):
                self.assertJsonError(self.put_key(name, {"key": jwk}), 400, "BadParameter", message=INVALID_JWK)
                self.assertNothingNamed(name)
        other = [
            ("RSA without private parts", {k: v for k, v in ra.items() if k in ("kty", "n", "e")}),
            ("EC without d", {k: v for k, v in ja.items() if k != "d"}),
            ("oct with 20 bytes", {"kty": "oct", "k": b64u(os.urandom(20))}),
            ("oct with 8 bytes", {"kty": "oct", "k": b64u(os.urandom(8))}),
            ("oct with 64 bytes", {"kty": "oct", "k": b64u(os.urandom(64))}),
            ("oct without k", {"kty": "oct"}),
            ("unknown kty", dict(ra, kty="XYZ")),
            ("EC with an unknown curve", dict(ja, crv="P-192")),
            ("RSA fields under kty EC", dict(ra, kty="EC")),
            ("k not base64url", {"kty": "oct", "k": "!!!!"}),
        ]
        for i, (what, jwk) in enumerate(other):
            name = "bad-jwk-o%d" % i
            with self.subTest(what):
                self.assertJsonError(self.put_key(name, {"key": jwk}), 400, "BadParameter")
                self.assertNothingNamed(name)
        for what, body in (("no key", {}), ("key not an object", {"key": "abc"})):
            with self.subTest(what):
                self.assertJsonError(self.put_key("bad-jwk-body", body), 400, "BadParameter")
        self.assertNothingNamed("bad-jwk-body")
        # through the SDK
        with self.assertRaises(HttpResponseError) as ctx:
            self.kc.import_key("bad-jwk-sdk", sdk_jwk(dict(ra, d=rb["d"])))
        self.assertEqual(ctx.exception.status_code, 400)
        err = json.loads(ctx.exception.response.text())["error"]
        self.assertEqual((err["code"], err["message"]), ("BadParameter", INVALID_JWK))

    def test_import_over_deleted_name_is_conflict(self):
        s = self.server
        priv = rsa_private()
        self.kc.import_key("imp-deleted", sdk_jwk(rsa_jwk(priv)))
        self.ok(s.api("DELETE", "/keys/imp-deleted"))
        r = self.put_key("imp-deleted", {"key": rsa_jwk(priv)})
        err = self.assertJsonError(r, 409, "Conflict", message=h.conflict_message("imp-deleted"))
        create = s.api("POST", "/keys/imp-deleted/create", {"kty": "RSA"})
        self.assertEqual(create.status, 409)
        self.assertEqual(err, create.error, "import and create over a deleted name answer alike")
        with self.assertRaises(ResourceExistsError):
            self.kc.import_key("imp-deleted", sdk_jwk(rsa_jwk(priv)))
        # the deleted key is untouched
        self.ok(s.api("GET", "/deletedkeys/imp-deleted"))

    # ---- backup / restore ----------------------------------------------------------------

    def _three_versions(self, name):
        """Three versions with different attributes/tags/ops; returns their GET bundles by version."""
        s = self.server
        now = int(time.time())
        b1 = self.ok(s.api("POST", "/keys/%s/create" % name, {"kty": "RSA", "key_size": 2048, "tags": {"v": "1"}}))
        b2 = self.ok(s.api("POST", "/keys/%s/create" % name,
                           {"kty": "RSA", "key_size": 2048, "attributes": {"enabled": False},
                            "tags": {"v": "2", "extra": "x"}}))
        b3 = self.ok(s.api("POST", "/keys/%s/create" % name,
                           {"kty": "RSA", "key_size": 3072, "key_ops": ["sign", "verify"],
                            "attributes": {"exp": now + 86400 * 30, "nbf": now - 3600}}))
        out = {}
        for b in (b1, b2, b3):
            v = b["key"]["kid"].rsplit("/", 1)[1]
            out[v] = self.get_version(name, v)
        return out, b3["key"]["kid"]

    def assertSameBundles(self, before, name, vault="dev"):
        s = self.server
        after = self.versions(name, vault)
        self.assertEqual(set(after), set(before), "restored version ids differ")
        base = s.vault_url(vault)
        for v, old in before.items():
            new = self.get_version(name, v, vault)
            self.assertEqual(new["key"]["kid"], "%s/keys/%s/%s" % (base, name, v))
            for f in ("kty", "key_ops", "n", "e", "crv", "x", "y"):
                self.assertEqual(new["key"].get(f), old["key"].get(f), "%s of version %s" % (f, v))
            for f in ("enabled", "nbf", "exp", "created", "recoveryLevel", "recoverableDays"):
                self.assertEqual(new["attributes"].get(f), old["attributes"].get(f), "attribute %s of %s" % (f, v))
            self.assertEqual(new.get("tags"), old.get("tags"), "tags of %s" % v)

    def test_backup_restore_same_vault_after_purge(self):
        s = self.server
        name = "bk-same"
        before, latest = self._three_versions(name)
        d = hashlib.sha256(b"before backup").digest()
        v1 = list(before)[0]   # the first (enabled) version
        sig_before = self.ok(s.api("POST", "/keys/%s/%s/sign" % (name, v1), {"alg": "RS256", "value": b64u(d)}))
        ct_before = self.ok(s.api("POST", "/keys/%s/%s/encrypt" % (name, v1),
                                  {"alg": "RSA-OAEP", "value": b64u(b"kept")}))["value"]
        raw = self.ok(s.api("POST", "/keys/%s/backup" % name))
        self.assertEqual(set(raw), {"value"})
        self.assertRegex(raw["value"], r"^[A-Za-z0-9_-]+$")
        blob = self.kc.backup_key(name)
        self.assertIsInstance(blob, bytes)
        self.assertGreater(len(blob), 100)
        self.delete_and_purge(name)
        restored = self.kc.restore_key_backup(blob)
        self.assertEqual(restored.id, latest, "restore answers with the latest version")
        self.assertEqual(restored.name, name)
        self.assertEqual(restored.key_type, "RSA")
        self.assertEqual(len(restored.key.n), 384)
        self.assertEqual(sorted(restored.key_operations), ["sign", "verify"])
        self.assertSameBundles(before, name)
        self.assertEqual(self.kc.get_key(name).id, latest)
        # the material is the same: old signatures verify, old ciphertext decrypts
        j = self.ok(s.api("POST", "/keys/%s/%s/verify" % (name, v1),
                          {"alg": "RS256", "digest": b64u(d), "value": sig_before["value"]}))
        self.assertEqual(j, {"value": True})
        j = self.ok(s.api("POST", "/keys/%s/%s/decrypt" % (name, v1), {"alg": "RSA-OAEP", "value": ct_before}))
        self.assertEqual(unb64u(j["value"]), b"kept")
        # the raw blob restores too (after another delete + purge)
        self.delete_and_purge(name)
        j = self.ok(s.api("POST", "/keys/restore", {"value": raw["value"]}))
        self.assertEqual(j["key"]["kid"], latest)
        self.assertSameBundles(before, name)

    def test_restore_into_another_vault(self):
        s = self.server
        name = "bk-other"
        e1 = self.kc.create_ec_key(name, curve="P-384", tags={"t": "one"})
        e2 = self.kc.create_ec_key(name, curve="P-384", tags={"t": "two"})
        before = {v: self.get_version(name, v) for v in (e1.properties.version, e2.properties.version)}
        blob = self.kc.backup_key(name)
        restored = self.other.restore_key_backup(blob)
        other_url = s.vault_url("other")
        self.assertEqual(restored.id, "%s/keys/%s/%s" % (other_url, name, e2.properties.version))
        self.assertEqual(restored.properties.tags, {"t": "two"})
        self.assertEqual(restored.key.x, e2.key.x)
        self.assertSameBundles(before, name, vault="other")
        # the source is untouched
        self.assertEqual(self.kc.get_key(name).id, e2.id)
        # the copy signs with the same key
        rc = self.remote(restored.id)
        d = hashlib.sha384(b"other vault").digest()
        sig = rc.sign("ES384", d).signature
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(e2.key.x, "big"), int.from_bytes(e2.key.y, "big"),
                                            ec.SECP384R1()).public_key()
        pub.verify(utils.encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big")),
                   d, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
        # a second restore into the other vault: the name is taken
        with self.assertRaises(ResourceExistsError):
            self.other.restore_key_backup(blob)
        r = s.api("POST", "/keys/restore", {"value": b64u(blob)}, host=s.vault_host("other"))
        self.assertJsonError(r, 409, "Conflict")

    def test_restore_symmetric_key(self):
        k = os.urandom(32)
        key = self.kc.import_key("bk-oct", JsonWebKey(kty="oct", k=k, key_ops=ALL_OPS), hardware_protected=True)
        blob = self.kc.backup_key("bk-oct")
        self.delete_and_purge("bk-oct")
        restored = self.kc.restore_key_backup(blob)
        self.assertEqual(restored.id, key.id)
        self.assertEqual(restored.key_type, "oct-HSM")
        e = self.remote(restored.id).encrypt("A256GCM", b"after restore")
        self.assertEqual(AESGCM(k).decrypt(e.iv, e.ciphertext + e.tag, None), b"after restore")

    def test_restore_conflicts(self):
        s = self.server
        self.kc.create_rsa_key("bk-active", size=2048)
        blob = self.kc.backup_key("bk-active")
        before = self.versions("bk-active")
        # active name in the same vault
        with self.assertRaises(ResourceExistsError):
            self.kc.restore_key_backup(blob)
        self.assertJsonError(s.api("POST", "/keys/restore", {"value": b64u(blob)}), 409, "Conflict")
        self.assertEqual(self.versions("bk-active"), before)
        # deleted (not purged) name in the target
        deleted = self.ok(s.api("DELETE", "/keys/bk-active"))
        self.assertJsonError(s.api("POST", "/keys/restore", {"value": b64u(blob)}), 409, "Conflict")
        with self.assertRaises(ResourceExistsError):
            self.kc.restore_key_backup(blob)
        self.assertJsonError(s.api("GET", "/keys/bk-active"), 404, "KeyNotFound")
        still = self.ok(s.api("GET", "/deletedkeys/bk-active"))
        self.assertEqual(still["key"]["kid"], deleted["key"]["kid"])
        self.assertEqual(still["deletedDate"], deleted["deletedDate"])
        # deleted in another vault: restoring there conflicts as well
        self.ok(s.api("POST", "/keys/bk-active/create", {"kty": "EC"}, host=s.vault_host("other")))
        self.ok(s.api("DELETE", "/keys/bk-active", host=s.vault_host("other")))
        self.assertJsonError(s.api("POST", "/keys/restore", {"value": b64u(blob)}, host=s.vault_host("other")),
                             409, "Conflict")
        # after purge the restore works and brings the original versions back
        self.ok(s.api("DELETE", "/deletedkeys/bk-active"), 204)
        self.kc.restore_key_backup(blob)
        self.assertEqual(set(self.versions("bk-active")), set(before))

    def test_bad_blobs_are_rejected_and_restore_nothing(self):
        s = self.server
        name = "bk-bad"
        self.kc.create_rsa_key(name, size=2048, tags={"x": "y"})
        self.kc.create_rsa_key(name, size=2048)
        blob = self.kc.backup_key(name)
        self.delete_and_purge(name)
        mid = len(blob) // 2
        tampered = [bytearray(blob) for _ in range(4)]
        tampered[0][mid] ^= 0x01
        tampered[1][-1] ^= 0x80
        tampered[2][len(blob) // 4] ^= 0x10
        tampered[3][3 * len(blob) // 4] ^= 0x04
        cases = [("tampered at %d" % i, b64u(bytes(t))) for i, t in enumerate(tampered)]
        cases += [
            ("truncated to half", b64u(blob[:mid])),
            ("last byte missing", b64u(blob[:-1])),
            ("one byte appended", b64u(blob + b"\x00")),
            ("random bytes", b64u(os.urandom(len(blob)))),
            ("AKV-looking blob", b64u(b"&AzureKeyVaultKeyBackupV1.microsoft.com" + os.urandom(400))),
            ("JSON", b64u(json.dumps({"key": {"kty": "RSA"}, "name": name}).encode())),
            ("empty", ""),
            ("not base64url", "!!!not-base64!!!"),
        ]
        for what, value in cases:
            with self.subTest(what):
                self.assertJsonError(s.api("POST", "/keys/restore", {"value": value}), 400, "BadParameter")
                self.assertNothingNamed(name)
        for what, body in (("no value", {}), ("value null", {"value": None}), ("value a number", {"value": 5})):
            with self.subTest(what):
                self.assertJsonError(s.api("POST", "/keys/restore", body), 400, "BadParameter")
        self.assertNothingNamed(name)
        with self.assertRaises(HttpResponseError) as ctx:
            self.kc.restore_key_backup(bytes(tampered[0]))
        self.assertEqual(ctx.exception.status_code, 400)
        self.assertNothingNamed(name)
        # the good blob still restores
        self.kc.restore_key_backup(blob)
        self.assertEqual(len(self.versions(name)), 2)

    def test_backup_errors(self):
        s = self.server
        self.assertJsonError(s.api("POST", "/keys/no-such-key/backup"), 404, "KeyNotFound")
        self.kc.create_ec_key("bk-deleted")
        self.ok(s.api("DELETE", "/keys/bk-deleted"))
        self.assertJsonError(s.api("POST", "/keys/bk-deleted/backup"), 404, "KeyNotFound")


if __name__ == "__main__":
    h.main()
