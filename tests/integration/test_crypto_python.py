"""Crypto operations (encrypt/decrypt/sign/verify/wrapkey/unwrapkey) through the Python SDK's
CryptographyClient (azure-keyvault-keys 4.8.0b3, Debian) and raw HTTPS, cross-checked against
independent implementations (python3-cryptography, hmac).

Note on the SDK: a CryptographyClient that holds key material performs public-key operations
(RSA encrypt/wrap, RSA/EC verify) locally, and in 4.8.0b3 it even "encrypts locally" with a random
key for oct keys (GET returns no `k`). `remote()` builds clients whose local provider is switched
off so that every operation really goes to the server; plain clients are exercised separately."""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ManagedIdentityCredential  # noqa: E402
from azure.keyvault.keys import JsonWebKey  # noqa: E402
from azure.keyvault.keys.crypto import (CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm,  # noqa: E402
                                        SignatureAlgorithm)
from azure.keyvault.keys.crypto._providers import NoLocalCryptography  # noqa: E402
from cryptography.hazmat.primitives import hashes, keywrap  # noqa: E402
from cryptography.hazmat.primitives import padding as sym_padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

ALL_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
NEUTRAL = "The ciphertext could not be decrypted."

# alg -> (hashlib constructor, cryptography hash class, PSS?)
RSA_SIGS = {
    "RS256": (hashlib.sha256, hashes.SHA256, False),
    "RS384": (hashlib.sha384, hashes.SHA384, False),
    "RS512": (hashlib.sha512, hashes.SHA512, False),
    "PS256": (hashlib.sha256, hashes.SHA256, True),
    "PS384": (hashlib.sha384, hashes.SHA384, True),
    "PS512": (hashlib.sha512, hashes.SHA512, True),
}
# curve -> (alg, hashlib constructor, cryptography hash class, cryptography curve, coordinate size)
EC_ALGS = {
    "P-256": ("ES256", hashlib.sha256, hashes.SHA256, ec.SECP256R1, 32),
    "P-256K": ("ES256K", hashlib.sha256, hashes.SHA256, ec.SECP256K1, 32),
    "P-384": ("ES384", hashlib.sha384, hashes.SHA384, ec.SECP384R1, 48),
    "P-521": ("ES512", hashlib.sha512, hashes.SHA512, ec.SECP521R1, 66),
}
# RSA encryption alg -> padding overhead in bytes (one block = modulus bytes - overhead)
RSA_ENC = {"RSA1_5": 11, "RSA-OAEP": 42, "RSA-OAEP-256": 66}
HMACS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

RSA_SPECS = [("RSA", 2048, False), ("RSA", 3072, False), ("RSA", 4096, False), ("RSA", 2048, True)]
EC_SPECS = [("EC", "P-256", False), ("EC", "P-256K", False), ("EC", "P-384", False),
            ("EC", "P-521", False), ("EC", "P-256", True), ("EC", "P-521", True)]
OCT_SPECS = [("oct", b, hsm) for hsm in (False, True) for b in (128, 192, 256)]


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


unb64u = h.b64url_decode


def flip(data, index=-1):
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def spec_name(spec):
    kind, param, hsm = spec
    return "c-%s%s-%s" % (kind.lower(), "hsm" if hsm else "", str(param).lower())


def rsa_enc_padding(alg):
    if alg == "RSA1_5":
        return padding.PKCS1v15()
    hc = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(hc), algorithm=hc, label=None)


def rsa_sig_padding(alg):
    _, hcls, pss = RSA_SIGS[alg]
    if pss:
        return padding.PSS(mgf=padding.MGF1(hcls()), salt_length=hcls.digest_size)
    return padding.PKCS1v15()


def public_key_of(key):
    """cryptography public key from a KeyVaultKey."""
    jwk = key.key
    if key.key_type in ("RSA", "RSA-HSM"):
        return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"),
                                    int.from_bytes(jwk.n, "big")).public_key()
    curve = EC_ALGS[getattr(jwk.crv, "value", jwk.crv)][3]()
    return ec.EllipticCurvePublicNumbers(int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big"),
                                         curve).public_key()


def raw_to_der(sig):
    half = len(sig) // 2
    return utils.encode_dss_signature(int.from_bytes(sig[:half], "big"),
                                      int.from_bytes(sig[half:], "big"))


def der_to_raw(der, size):
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def aes_cbc(key, iv, data, encrypt=True):
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    t = c.encryptor() if encrypt else c.decryptor()
    return t.update(data) + t.finalize()


def pkcs7(data):
    p = sym_padding.PKCS7(128).padder()
    return p.update(data) + p.finalize()


def key_path(kid):
    """/keys/name/version from a key id."""
    return urllib.parse.urlsplit(kid).path


class CryptoPythonTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc = cls.server.key_client()
        cls.cred = ManagedIdentityCredential()
        cls._keys = {}
        cls._imported = {}
        cls._remote = {}

    # ---- fixtures (lazy, cached per class) -----------------------------------------------

    def key(self, spec):
        """A created key (KeyVaultKey) for ("RSA", size, hsm) / ("EC", crv, hsm) / ("oct", bits, hsm)."""
        if spec not in self._keys:
            kind, param, hsm = spec
            name = spec_name(spec)
            if kind == "RSA":
                k = self.kc.create_rsa_key(name, size=param, hardware_protected=hsm)
            elif kind == "EC":
                k = self.kc.create_ec_key(name, curve=param, hardware_protected=hsm)
            else:
                k = self.kc.create_oct_key(name, size=param, hardware_protected=hsm,
                                           key_operations=ALL_OPS)
            self._keys[spec] = k
        return self._keys[spec]

    def imported_oct(self, bits, hsm=False):
        """(KeyVaultKey, k) of an oct key imported with known material."""
        spec = ("oct", bits, hsm)
        if spec not in self._imported:
            k = os.urandom(bits // 8)
            jwk = JsonWebKey(kty="oct", k=k, key_ops=ALL_OPS)
            key = self.kc.import_key("i-oct%s-%d" % ("hsm" if hsm else "", bits), jwk,
                                     hardware_protected=hsm)
            self._imported[spec] = (key, k)
        return self._imported[spec]

    def imported_asym(self, kind, param):
        """(KeyVaultKey, cryptography private key) of an RSA/EC key imported with known material."""
        spec = (kind, param)
        if spec not in self._imported:
            if kind == "RSA":
                priv = rsa.generate_private_key(65537, param)
                pn = priv.private_numbers()
                size = param // 8
                jwk = JsonWebKey(kty="RSA", key_ops=ALL_OPS,
                                 n=pn.public_numbers.n.to_bytes(size, "big"),
                                 e=pn.public_numbers.e.to_bytes(3, "big"),
                                 d=pn.d.to_bytes(size, "big"),
                                 p=pn.p.to_bytes(size // 2, "big"), q=pn.q.to_bytes(size // 2, "big"),
                                 dp=pn.dmp1.to_bytes(size // 2, "big"),
                                 dq=pn.dmq1.to_bytes(size // 2, "big"),
                                 qi=pn.iqmp.to_bytes(size // 2, "big"))
            else:
                _, _, _, curve, size = EC_ALGS[param]
                priv = ec.generate_private_key(curve())
                pn = priv.private_numbers()
                jwk = JsonWebKey(kty="EC", crv=param, key_ops=["sign", "verify"],
                                 x=pn.public_numbers.x.to_bytes(size, "big"),
                                 y=pn.public_numbers.y.to_bytes(size, "big"),
                                 d=pn.private_value.to_bytes(size, "big"))
            key = self.kc.import_key("i-%s-%s" % (kind.lower(), str(param).lower()), jwk)
            self._imported[spec] = (key, priv)
        return self._imported[spec]

    def remote(self, key):
        """CryptographyClient that sends every operation to the server (no local crypto)."""
        kid = key if isinstance(key, str) else key.id
        if kid not in self._remote:
            c = CryptographyClient(key, self.cred)
            c._local_provider = NoLocalCryptography()
            c._initialized = True
            self._remote[kid] = c
        return self._remote[kid]

    def op(self, key, op, body, version=True):
        kid = key if isinstance(key, str) else key.id
        path = key_path(kid)
        if version:
            path = path + "/" + op
        else:   # /keys/name//op, as the Python and Go SDKs send it
            path = path.rsplit("/", 1)[0] + "//" + op
        return self.server.api("POST", path, body)

    def ok(self, r):
        return self.assertOk(r)

    def bad(self, r, what=""):
        self.assertJsonError(r, 400, "BadParameter")

    def sdk_error(self, ctx):
        e = ctx.exception
        return e.status_code, json.loads(e.response.text())["error"]

    # ---- RSA -----------------------------------------------------------------------------

    def test_rsa_encrypt_decrypt_every_alg_and_size(self):
        for spec in RSA_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            pub = public_key_of(key)
            kbytes = len(key.key.n)
            self.assertEqual(kbytes, spec[1] // 8)
            for alg, overhead in RSA_ENC.items():
                with self.subTest(key=spec, alg=alg):
                    pt = os.urandom(32)
                    enc = rc.encrypt(alg, pt)
                    self.assertEqual(len(enc.ciphertext), kbytes)
                    self.assertEqual(rc.decrypt(alg, enc.ciphertext).plaintext, pt)
                    # local public-key encryption decrypts on the server
                    ct = pub.encrypt(pt, rsa_enc_padding(alg))
                    self.assertEqual(rc.decrypt(alg, ct).plaintext, pt)
                    # the largest plaintext one block can carry
                    big = os.urandom(kbytes - overhead)
                    ct = rc.encrypt(alg, big).ciphertext
                    self.assertEqual(rc.decrypt(alg, ct).plaintext, big)
                    # one byte more is refused
                    r = self.op(key, "encrypt", {"alg": alg,
                                                 "value": b64u(os.urandom(kbytes - overhead + 1))})
                    self.bad(r)

    def test_rsa_wrap_unwrap_every_alg(self):
        for spec in RSA_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            pub = public_key_of(key)
            for alg in RSA_ENC:
                with self.subTest(key=spec, alg=alg):
                    kd = os.urandom(32)
                    w = rc.wrap_key(alg, kd)
                    self.assertEqual(len(w.encrypted_key), spec[1] // 8)
                    self.assertEqual(rc.unwrap_key(alg, w.encrypted_key).key, kd)
                    local = pub.encrypt(kd, rsa_enc_padding(alg))
                    self.assertEqual(rc.unwrap_key(alg, local).key, kd)

    def test_rsa_server_ciphertext_decrypts_locally(self):
        key, priv = self.imported_asym("RSA", 2048)
        rc = self.remote(key)
        for alg in RSA_ENC:
            with self.subTest(alg=alg):
                pt = os.urandom(40)
                ct = rc.encrypt(alg, pt).ciphertext
                self.assertEqual(priv.decrypt(ct, rsa_enc_padding(alg)), pt)
                w = rc.wrap_key(alg, pt).encrypted_key
                self.assertEqual(priv.decrypt(w, rsa_enc_padding(alg)), pt)

    def test_rsa_sign_verify_every_alg_and_size(self):
        for spec in RSA_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            pub = public_key_of(key)
            for alg, (hfn, hcls, pss) in RSA_SIGS.items():
                with self.subTest(key=spec, alg=alg):
                    digest = hfn(os.urandom(50)).digest()
                    sig = rc.sign(alg, digest).signature
                    self.assertEqual(len(sig), spec[1] // 8)
                    # independent verification (raises InvalidSignature on mismatch)
                    pub.verify(sig, digest, rsa_sig_padding(alg), utils.Prehashed(hcls()))
                    self.assertTrue(rc.verify(alg, digest, sig).is_valid)
                    self.assertFalse(rc.verify(alg, digest, flip(sig, len(sig) // 2)).is_valid)
                    self.assertFalse(rc.verify(alg, hfn(b"other").digest(), sig).is_valid)
                    if not pss:   # PKCS#1 v1.5 is deterministic
                        self.assertEqual(rc.sign(alg, digest).signature, sig)

    def test_rsnull(self):
        key = self.key(("RSA", 2048, False))
        rc = self.remote(key)
        pub = public_key_of(key)
        data = os.urandom(36)   # e.g. a TLS 1.0 MD5+SHA1 concatenation
        sig = rc.sign("RSNULL", data).signature
        self.assertEqual(len(sig), 256)
        self.assertEqual(pub.recover_data_from_signature(sig, padding.PKCS1v15(), None), data)
        self.assertTrue(rc.verify("RSNULL", data, sig).is_valid)
        self.assertFalse(rc.verify("RSNULL", flip(data), sig).is_valid)
        # more than modulus - 11 bytes cannot be padded
        self.bad(self.op(key, "sign", {"alg": "RSNULL", "value": b64u(os.urandom(256 - 10))}))

    def test_local_rsa_signatures_verify_on_server(self):
        key, priv = self.imported_asym("RSA", 2048)
        rc = self.remote(key)
        for alg, (hfn, hcls, _) in RSA_SIGS.items():
            with self.subTest(alg=alg):
                digest = hfn(os.urandom(20)).digest()
                sig = priv.sign(digest, rsa_sig_padding(alg), utils.Prehashed(hcls()))
                self.assertTrue(rc.verify(alg, digest, sig).is_valid)
                self.assertFalse(rc.verify(alg, digest, flip(sig, 5)).is_valid)

    # ---- EC ------------------------------------------------------------------------------

    def test_ec_sign_verify_every_curve(self):
        for spec in EC_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            pub = public_key_of(key)
            alg, hfn, hcls, _, size = EC_ALGS[spec[1]]
            with self.subTest(key=spec, alg=alg):
                self.assertEqual(key.key.crv, spec[1])
                digest = hfn(os.urandom(64)).digest()
                sig = rc.sign(alg, digest).signature
                self.assertEqual(len(sig), 2 * size, "raw r||s expected")
                pub.verify(raw_to_der(sig), digest, ec.ECDSA(utils.Prehashed(hcls())))
                self.assertTrue(rc.verify(alg, digest, sig).is_valid)
                self.assertFalse(rc.verify(alg, digest, flip(sig, 3)).is_valid)
                self.assertFalse(rc.verify(alg, hfn(b"x").digest(), sig).is_valid)

    def test_local_ec_signatures_verify_on_server(self):
        for crv, (alg, hfn, hcls, _, size) in EC_ALGS.items():
            with self.subTest(crv=crv):
                key, priv = self.imported_asym("EC", crv)
                rc = self.remote(key)
                digest = hfn(os.urandom(30)).digest()
                sig = der_to_raw(priv.sign(digest, ec.ECDSA(utils.Prehashed(hcls()))), size)
                self.assertTrue(rc.verify(alg, digest, sig).is_valid)
                self.assertFalse(rc.verify(alg, digest, flip(sig, 1)).is_valid)
                # and the server's signature verifies with the local key's public half
                sig = rc.sign(alg, digest).signature
                priv.public_key().verify(raw_to_der(sig), digest, ec.ECDSA(utils.Prehashed(hcls())))

    # ---- oct: AES-GCM --------------------------------------------------------------------

    def test_oct_gcm_round_trip_every_size(self):
        for spec in OCT_SPECS:
            key = self.key(spec)
            self.assertEqual(key.key_type, "oct-HSM" if spec[2] else "oct")
            rc = self.remote(key)
            alg = "A%dGCM" % spec[1]
            with self.subTest(key=spec, alg=alg):
                pt = os.urandom(45)
                aad = b"header-" + os.urandom(5)
                e = rc.encrypt(alg, pt, additional_authenticated_data=aad)
                self.assertEqual(len(e.iv), 12)
                self.assertEqual(len(e.tag), 16)
                self.assertEqual(len(e.ciphertext), len(pt))
                d = rc.decrypt(alg, e.ciphertext, iv=e.iv, authentication_tag=e.tag,
                               additional_authenticated_data=aad)
                self.assertEqual(d.plaintext, pt)
                e2 = rc.encrypt(alg, pt)
                self.assertNotEqual(e2.iv, e.iv, "the server must pick a fresh iv")
                d2 = rc.decrypt(alg, e2.ciphertext, iv=e2.iv, authentication_tag=e2.tag)
                self.assertEqual(d2.plaintext, pt)

    def test_oct_gcm_cross_checks(self):
        for bits in (128, 192, 256):
            key, k = self.imported_oct(bits, hsm=(bits == 192))
            rc = self.remote(key)
            alg = "A%dGCM" % bits
            with self.subTest(bits=bits):
                pt, aad = os.urandom(33), os.urandom(9)
                e = rc.encrypt(alg, pt, additional_authenticated_data=aad)
                self.assertEqual(AESGCM(k).decrypt(e.iv, e.ciphertext + e.tag, aad), pt)
                e = rc.encrypt(alg, pt)
                self.assertEqual(AESGCM(k).decrypt(e.iv, e.ciphertext + e.tag, None), pt)
                iv = os.urandom(12)
                sealed = AESGCM(k).encrypt(iv, pt, aad)
                d = rc.decrypt(alg, sealed[:-16], iv=iv, authentication_tag=sealed[-16:],
                               additional_authenticated_data=aad)
                self.assertEqual(d.plaintext, pt)

    # ---- oct: AES-CBC / CBCPAD -----------------------------------------------------------

    def test_oct_cbc_round_trip_every_size(self):
        for spec in OCT_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            for suffix, n in (("CBC", 48), ("CBCPAD", 37), ("CBCPAD", 32)):
                alg = "A%d%s" % (spec[1], suffix)
                with self.subTest(key=spec, alg=alg, n=n):
                    iv = os.urandom(16)
                    pt = os.urandom(n)
                    e = rc.encrypt(alg, pt, iv=iv)
                    self.assertEqual(len(e.ciphertext), 48)
                    self.assertEqual(rc.decrypt(alg, e.ciphertext, iv=iv).plaintext, pt)

    def test_oct_cbc_cross_checks(self):
        for bits in (128, 192, 256):
            key, k = self.imported_oct(bits, hsm=(bits == 192))
            rc = self.remote(key)
            with self.subTest(bits=bits):
                iv = os.urandom(16)
                pt = os.urandom(32)
                alg = "A%dCBC" % bits
                # CBC is deterministic for a given iv: server and local ciphertexts are equal
                self.assertEqual(rc.encrypt(alg, pt, iv=iv).ciphertext, aes_cbc(k, iv, pt))
                self.assertEqual(rc.decrypt(alg, aes_cbc(k, iv, pt), iv=iv).plaintext, pt)
                alg = "A%dCBCPAD" % bits
                pt = os.urandom(21)
                self.assertEqual(rc.encrypt(alg, pt, iv=iv).ciphertext, aes_cbc(k, iv, pkcs7(pt)))
                self.assertEqual(rc.decrypt(alg, aes_cbc(k, iv, pkcs7(pt)), iv=iv).plaintext, pt)

    # ---- oct: key wrap -------------------------------------------------------------------

    def test_oct_key_wrap_round_trip_every_size(self):
        for spec in OCT_SPECS:
            key = self.key(spec)
            rc = self.remote(key)
            for alg, n in (("A%dKW" % spec[1], 32), ("CKM_AES_KEY_WRAP", 24),
                           ("CKM_AES_KEY_WRAP_PAD", 20), ("CKM_AES_KEY_WRAP_PAD", 8)):
                with self.subTest(key=spec, alg=alg, n=n):
                    kd = os.urandom(n)
                    w = rc.wrap_key(alg, kd).encrypted_key
                    self.assertEqual(len(w), ((n + 7) // 8) * 8 + 8)
                    self.assertEqual(rc.unwrap_key(alg, w).key, kd)

    def test_oct_key_wrap_cross_checks(self):
        for bits in (128, 192, 256):
            key, k = self.imported_oct(bits, hsm=(bits == 256))
            rc = self.remote(key)
            with self.subTest(bits=bits):
                kd = os.urandom(32)
                for alg in ("A%dKW" % bits, "CKM_AES_KEY_WRAP"):
                    w = rc.wrap_key(alg, kd).encrypted_key
                    self.assertEqual(keywrap.aes_key_unwrap(k, w), kd, alg)
                    self.assertEqual(w, keywrap.aes_key_wrap(k, kd), alg + " (RFC 3394 is deterministic)")
                    self.assertEqual(rc.unwrap_key(alg, keywrap.aes_key_wrap(k, kd)).key, kd)
                for n in (20, 8, 32):
                    kd = os.urandom(n)
                    w = rc.wrap_key("CKM_AES_KEY_WRAP_PAD", kd).encrypted_key
                    self.assertEqual(keywrap.aes_key_unwrap_with_padding(k, w), kd)
                    self.assertEqual(w, keywrap.aes_key_wrap_with_padding(k, kd))
                    local = keywrap.aes_key_wrap_with_padding(k, kd)
                    self.assertEqual(rc.unwrap_key("CKM_AES_KEY_WRAP_PAD", local).key, kd)

    # ---- oct: HMAC -----------------------------------------------------------------------

    def test_hmac_every_alg_and_size(self):
        for bits in (128, 192, 256):
            key, k = self.imported_oct(bits, hsm=(bits == 128))
            rc = self.remote(key)
            created = self.remote(self.key(("oct", bits, False)))
            for alg, hfn in HMACS.items():
                with self.subTest(bits=bits, alg=alg):
                    data = os.urandom(100)
                    sig = rc.sign(alg, data).signature
                    self.assertEqual(sig, hmac.new(k, data, hfn).digest())
                    self.assertTrue(rc.verify(alg, data, sig).is_valid)
                    self.assertFalse(rc.verify(alg, data, flip(sig)).is_valid)
                    self.assertFalse(rc.verify(alg, flip(data), sig).is_valid)
                    self.assertTrue(rc.verify(alg, data, hmac.new(k, data, hfn).digest()).is_valid)
                    sig = created.sign(alg, data).signature
                    self.assertEqual(len(sig), hfn().digest_size)
                    self.assertTrue(created.verify(alg, data, sig).is_valid)

    def test_get_oct_key_returns_no_material(self):
        keys = [self.key(s) for s in OCT_SPECS] + [self.imported_oct(128)[0], self.imported_oct(192, True)[0]]
        for key in keys:
            with self.subTest(kid=key.id):
                j = self.ok(self.server.api("GET", key_path(key.id)))
                self.assertEqual(sorted(j["key"]), ["key_ops", "kid", "kty"], j)
                self.assertIn(j["key"]["kty"], ("oct", "oct-HSM"))
                self.assertEqual(sorted(j["key"]["key_ops"]), sorted(ALL_OPS))
                self.assertIsNone(self.kc.get_key(key.name).key.k)

    # ---- SDK clients as users build them -------------------------------------------------

    def test_sdk_clients_from_key_and_from_id(self):
        key = self.key(("RSA", 2048, False))
        # from a KeyVaultKey: encrypt/wrap/verify run locally in the SDK, the rest on the server
        # (the SDK's local provider needs the enum types, as in Microsoft's samples)
        c = CryptographyClient(key, self.cred)
        for alg in RSA_ENC:
            with self.subTest(alg=alg):
                ct = c.encrypt(EncryptionAlgorithm(alg), b"plaintext").ciphertext
                self.assertEqual(c.decrypt(EncryptionAlgorithm(alg), ct).plaintext, b"plaintext")
                w = c.wrap_key(KeyWrapAlgorithm(alg), b"k" * 32).encrypted_key
                self.assertEqual(c.unwrap_key(KeyWrapAlgorithm(alg), w).key, b"k" * 32)
        digest = hashlib.sha256(b"plaintext").digest()
        res = c.sign(SignatureAlgorithm.rs256, digest)
        self.assertEqual(res.key_id, key.id)
        self.assertTrue(c.verify(SignatureAlgorithm.rs256, digest, res.signature).is_valid)
        # from a versioned key id string
        c = CryptographyClient(key.id, self.cred)
        sig = c.sign(SignatureAlgorithm.ps384, hashlib.sha384(b"x").digest()).signature
        self.assertTrue(c.verify(SignatureAlgorithm.ps384, hashlib.sha384(b"x").digest(), sig).is_valid)
        # from a version-less key id string (the SDK fetches the latest version)
        c = CryptographyClient("%s/keys/%s" % (self.server.vault_url(), key.name), self.cred)
        sig = c.sign(SignatureAlgorithm.rs512, hashlib.sha512(b"y").digest()).signature
        public_key_of(key).verify(sig, hashlib.sha512(b"y").digest(), padding.PKCS1v15(),
                                  utils.Prehashed(hashes.SHA512()))
        # KeyClient.get_cryptography_client with an EC key
        ek = self.key(("EC", "P-256", False))
        c = self.kc.get_cryptography_client(ek.name)
        d = hashlib.sha256(b"z").digest()
        sig = c.sign(SignatureAlgorithm.es256, d).signature
        self.assertTrue(c.verify(SignatureAlgorithm.es256, d, sig).is_valid)
        public_key_of(ek).verify(raw_to_der(sig), d, ec.ECDSA(utils.Prehashed(hashes.SHA256())))

    # ---- addressing ----------------------------------------------------------------------

    def test_version_less_and_case_insensitive_paths(self):
        s = self.server
        v1 = self.kc.create_rsa_key("vless", size=2048)
        v2 = self.kc.create_rsa_key("vless", size=2048)
        d = hashlib.sha256(b"addressing").digest()
        for path in ("/keys/vless//sign", "/keys/vless/sign", "/keys/VLESS//sign", "/keys/vless/SIGN",
                     "/keys/vless//Sign"):
            with self.subTest(path=path):
                j = self.ok(s.api("POST", path, {"alg": "RS256", "value": b64u(d)}))
                self.assertEqual(j["kid"].lower(), v2.id.lower(), "version-less means the latest version")
                public_key_of(v2).verify(unb64u(j["value"]), d, padding.PKCS1v15(),
                                         utils.Prehashed(hashes.SHA256()))
        v1p = key_path(v1.id)
        j = self.ok(s.api("POST", v1p + "/sign", {"alg": "RS256", "value": b64u(d)}))
        self.assertEqual(j["kid"], v1.id)
        public_key_of(v1).verify(unb64u(j["value"]), d, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        for op in ("encrypt", "Encrypt", "ENCRYPT"):
            with self.subTest(op=op):
                j = self.ok(s.api("POST", v1p + "/" + op, {"alg": "RSA-OAEP", "value": b64u(b"abc")}))
                self.assertEqual(j["kid"], v1.id)
                ct = j["value"]
                for dop in ("decrypt", "Decrypt"):
                    j = self.ok(s.api("POST", "/keys/vless/%s/%s" % (v1.properties.version, dop),
                                      {"alg": "RSA-OAEP", "value": ct}))
                    self.assertEqual(unb64u(j["value"]), b"abc")
        for wop, uop in (("wrapkey", "unwrapkey"), ("wrapKey", "unwrapKey"), ("WRAPKEY", "UNWRAPKEY")):
            with self.subTest(wrap=wop):
                j = self.ok(s.api("POST", "/keys/vless//" + wop, {"alg": "RSA-OAEP-256", "value": b64u(b"k" * 16)}))
                self.assertEqual(j["kid"], v2.id)
                j = self.ok(s.api("POST", "/keys/vless/" + uop, {"alg": "RSA-OAEP-256", "value": j["value"]}))
                self.assertEqual(unb64u(j["value"]), b"k" * 16)
        sig = unb64u(self.ok(s.api("POST", "/keys/vless/sign", {"alg": "PS256", "value": b64u(d)}))["value"])
        for vop in ("verify", "Verify", "VERIFY"):
            j = self.ok(s.api("POST", "/keys/vless//" + vop,
                              {"alg": "PS256", "digest": b64u(d), "value": b64u(sig)}))
            self.assertEqual(j, {"value": True})
        # the SDK with a version-less id and no local crypto sends /keys/vless//sign
        rc = self.remote("%s/keys/vless" % s.vault_url())
        sig = rc.sign("RS256", d).signature
        public_key_of(v2).verify(sig, d, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))

    def test_missing_key_or_version(self):
        s = self.server
        body = {"alg": "RS256", "value": b64u(hashlib.sha256(b"m").digest())}
        for path in ("/keys/no-such-key/%s/sign" % ("0" * 32), "/keys/no-such-key//sign",
                     "/keys/no-such-key/sign"):
            with self.subTest(path=path):
                self.assertJsonError(s.api("POST", path, body), 404, "KeyNotFound")
        key = self.key(("RSA", 2048, False))
        self.assertJsonError(s.api("POST", "/keys/%s/%s/sign" % (key.name, "0" * 32), body), 404, "KeyNotFound")

    # ---- result shapes -------------------------------------------------------------------

    def test_result_shapes(self):
        key = self.key(("RSA", 2048, False))
        d = hashlib.sha256(b"shape").digest()

        def check(j, extra=()):
            self.assertEqual(j["kid"], key.id)
            self.assertLessEqual({"kid", "value"}, set(j))
            self.assertLessEqual(set(j), {"kid", "value"} | set(extra), j)
            for f in ("value",) + tuple(extra):
                if f in j:
                    self.assertRegex(j[f], r"^[A-Za-z0-9_-]+$", "%s is not unpadded base64url" % f)
        j = self.ok(self.op(key, "encrypt", {"alg": "RSA-OAEP", "value": b64u(b"hello")}))
        check(j)
        self.assertEqual(set(j), {"kid", "value"})
        j = self.ok(self.op(key, "decrypt", {"alg": "RSA-OAEP", "value": j["value"]}))
        check(j)
        self.assertEqual(unb64u(j["value"]), b"hello")
        j = self.ok(self.op(key, "sign", {"alg": "RS256", "value": b64u(d)}))
        check(j)
        sig = j["value"]
        self.assertEqual(self.ok(self.op(key, "verify", {"alg": "RS256", "digest": b64u(d), "value": sig})),
                         {"value": True})
        self.assertEqual(self.ok(self.op(key, "verify", {"alg": "RS256", "digest": b64u(d),
                                                          "value": b64u(flip(unb64u(sig)))})),
                         {"value": False})
        j = self.ok(self.op(key, "wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(b"w" * 32)}))
        check(j)
        j = self.ok(self.op(key, "unwrapkey", {"alg": "RSA-OAEP-256", "value": j["value"]}))
        check(j)
        # version-less calls answer with the versioned kid
        j = self.ok(self.op(key, "sign", {"alg": "RS256", "value": b64u(d)}, version=False))
        self.assertEqual(j["kid"], key.id)
        # GCM: iv and tag come back; the tag is 16 bytes, the iv 12
        okey = self.key(("oct", 256, True))
        j = self.ok(self.op(okey, "encrypt", {"alg": "A256GCM", "value": b64u(b"gcm data"),
                                               "aad": b64u(b"aad")}))
        self.assertEqual(j["kid"], okey.id)
        self.assertLessEqual({"kid", "value", "iv", "tag"}, set(j), j)
        self.assertLessEqual(set(j), {"kid", "value", "iv", "tag", "aad"}, j)
        self.assertEqual(len(unb64u(j["iv"])), 12)
        self.assertEqual(len(unb64u(j["tag"])), 16)
        if "aad" in j:
            self.assertEqual(unb64u(j["aad"]), b"aad")
        j2 = self.ok(self.op(okey, "decrypt", {"alg": "A256GCM", "value": j["value"], "iv": j["iv"],
                                                "tag": j["tag"], "aad": b64u(b"aad")}))
        self.assertEqual(unb64u(j2["value"]), b"gcm data")
        self.assertEqual(j2["kid"], okey.id)

    # ---- invalid combinations ------------------------------------------------------------

    def test_invalid_combinations_are_bad_parameter(self):
        rsa_k = self.key(("RSA", 2048, False))
        rsa3k = self.key(("RSA", 3072, False))
        p256 = self.key(("EC", "P-256", False))
        p256k = self.key(("EC", "P-256K", False))
        p384 = self.key(("EC", "P-384", False))
        p521 = self.key(("EC", "P-521", False))
        o128 = self.key(("oct", 128, False))
        o192 = self.key(("oct", 192, True))
        o256 = self.key(("oct", 256, False))
        d32, d48, d64 = os.urandom(32), os.urandom(48), os.urandom(64)
        iv16, iv12, tag16 = os.urandom(16), os.urandom(12), os.urandom(16)
        cases = [
            ("RS256 on an EC key", p256, "sign", {"alg": "RS256", "value": b64u(d32)}),
            ("PS256 on an EC key", p384, "sign", {"alg": "PS256", "value": b64u(d32)}),
            ("ES256 on an RSA key", rsa_k, "sign", {"alg": "ES256", "value": b64u(d32)}),
            ("ES384 on P-256", p256, "sign", {"alg": "ES384", "value": b64u(d48)}),
            ("ES256 on P-384", p384, "sign", {"alg": "ES256", "value": b64u(d32)}),
            ("ES256K on P-256", p256, "sign", {"alg": "ES256K", "value": b64u(d32)}),
            ("ES256 on P-256K", p256k, "sign", {"alg": "ES256", "value": b64u(d32)}),
            ("ES512 on P-384", p384, "sign", {"alg": "ES512", "value": b64u(d64)}),
            ("ES384 on P-521", p521, "sign", {"alg": "ES384", "value": b64u(d48)}),
            ("ES256 verify on P-384", p384, "verify", {"alg": "ES256", "digest": b64u(d32),
                                                       "value": b64u(os.urandom(64))}),
            ("RS256 with a 48-byte digest", rsa_k, "sign", {"alg": "RS256", "value": b64u(d48)}),
            ("RS512 with a 32-byte digest", rsa_k, "sign", {"alg": "RS512", "value": b64u(d32)}),
            ("PS512 with a 32-byte digest", rsa3k, "sign", {"alg": "PS512", "value": b64u(d32)}),
            ("PS256 with a 20-byte digest", rsa_k, "sign", {"alg": "PS256", "value": b64u(d32[:20])}),
            ("ES256 with a 31-byte digest", p256, "sign", {"alg": "ES256", "value": b64u(d32[:31])}),
            ("ES384 with a 32-byte digest", p384, "sign", {"alg": "ES384", "value": b64u(d32)}),
            ("ES512 with a 66-byte digest", p521, "sign", {"alg": "ES512", "value": b64u(os.urandom(66))}),
            ("RS256 verify with a 48-byte digest", rsa_k, "verify",
             {"alg": "RS256", "digest": b64u(d48), "value": b64u(os.urandom(256))}),
            ("A128GCM on a 256-bit key", o256, "encrypt", {"alg": "A128GCM", "value": b64u(b"x" * 16)}),
            ("A256GCM on a 128-bit key", o128, "encrypt", {"alg": "A256GCM", "value": b64u(b"x" * 16)}),
            ("A192GCM on a 256-bit key", o256, "encrypt", {"alg": "A192GCM", "value": b64u(b"x" * 16)}),
            ("A256CBC on a 192-bit key", o192, "encrypt", {"alg": "A256CBC", "value": b64u(b"x" * 16),
                                                           "iv": b64u(iv16)}),
            ("A128CBCPAD on a 256-bit key", o256, "encrypt", {"alg": "A128CBCPAD", "value": b64u(b"x"),
                                                              "iv": b64u(iv16)}),
            ("A128KW on a 256-bit key", o256, "wrapkey", {"alg": "A128KW", "value": b64u(b"k" * 16)}),
            ("A256KW on a 192-bit key", o192, "wrapkey", {"alg": "A256KW", "value": b64u(b"k" * 16)}),
            ("A256GCM on an RSA key", rsa_k, "encrypt", {"alg": "A256GCM", "value": b64u(b"x" * 16)}),
            ("A256KW on an RSA key", rsa_k, "wrapkey", {"alg": "A256KW", "value": b64u(b"k" * 16)}),
            ("RSA-OAEP on an oct key", o256, "encrypt", {"alg": "RSA-OAEP", "value": b64u(b"x" * 16)}),
            ("RSA-OAEP-256 wrap on an oct key", o256, "wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(b"k" * 16)}),
            ("HS256 on an RSA key", rsa_k, "sign", {"alg": "HS256", "value": b64u(d32)}),
            ("RS256 on an oct key", o256, "sign", {"alg": "RS256", "value": b64u(d32)}),
            ("ES256 on an oct key", o256, "sign", {"alg": "ES256", "value": b64u(d32)}),
            ("GCM decrypt without tag", o256, "decrypt", {"alg": "A256GCM", "value": b64u(b"x" * 16),
                                                          "iv": b64u(iv12)}),
            ("GCM decrypt without iv", o256, "decrypt", {"alg": "A256GCM", "value": b64u(b"x" * 16),
                                                         "tag": b64u(tag16)}),
            ("GCM decrypt with an 8-byte tag", o256, "decrypt",
             {"alg": "A256GCM", "value": b64u(b"x" * 16), "iv": b64u(iv12), "tag": b64u(tag16[:8])}),
            ("GCM decrypt with an 8-byte iv", o256, "decrypt",
             {"alg": "A256GCM", "value": b64u(b"x" * 16), "iv": b64u(iv12[:8]), "tag": b64u(tag16)}),
            ("CBC encrypt with an 8-byte iv", o256, "encrypt", {"alg": "A256CBC", "value": b64u(b"x" * 16),
                                                                "iv": b64u(iv16[:8])}),
            ("CBCPAD encrypt with an 8-byte iv", o128, "encrypt",
             {"alg": "A128CBCPAD", "value": b64u(b"x" * 5), "iv": b64u(iv16[:8])}),
            ("CBC decrypt with an 8-byte iv", o256, "decrypt", {"alg": "A256CBC", "value": b64u(b"x" * 16),
                                                                "iv": b64u(iv16[:8])}),
            ("CBC (no padding) with 20 bytes", o256, "encrypt", {"alg": "A256CBC", "value": b64u(b"x" * 20),
                                                                 "iv": b64u(iv16)}),
            ("A256KW with 20 bytes of key data", o256, "wrapkey", {"alg": "A256KW", "value": b64u(b"k" * 20)}),
            ("RSA1_5 one byte too long (2048)", rsa_k, "encrypt", {"alg": "RSA1_5", "value": b64u(os.urandom(246))}),
            ("RSA-OAEP one byte too long (2048)", rsa_k, "encrypt", {"alg": "RSA-OAEP", "value": b64u(os.urandom(215))}),
            ("RSA-OAEP-256 one byte too long (2048)", rsa_k, "encrypt",
             {"alg": "RSA-OAEP-256", "value": b64u(os.urandom(191))}),
            ("RSA-OAEP-256 wrap one byte too long (3072)", rsa3k, "wrapkey",
             {"alg": "RSA-OAEP-256", "value": b64u(os.urandom(384 - 66 + 1))}),
            ("unknown alg", rsa_k, "encrypt", {"alg": "RSA-FOO", "value": b64u(b"x")}),
            ("unknown sign alg", rsa_k, "sign", {"alg": "XS256", "value": b64u(d32)}),
            ("missing alg", rsa_k, "encrypt", {"value": b64u(b"x")}),
            ("missing value", rsa_k, "encrypt", {"alg": "RSA-OAEP"}),
            ("verify without digest", rsa_k, "verify", {"alg": "RS256", "value": b64u(os.urandom(256))}),
            ("value not base64url", rsa_k, "encrypt", {"alg": "RSA-OAEP", "value": "!!not base64!!"}),
        ]
        for what, key, op, body in cases:
            with self.subTest(what):
                self.bad(self.op(key, op, body))

    def test_undecryptable_input_gets_the_neutral_message(self):
        okey, k = self.imported_oct(256)
        pt, aad = os.urandom(40), b"aad"
        e = self.remote(okey).encrypt("A256GCM", pt, additional_authenticated_data=aad)
        base = {"alg": "A256GCM", "value": b64u(e.ciphertext), "iv": b64u(e.iv),
                "tag": b64u(e.tag), "aad": b64u(aad)}
        self.assertEqual(unb64u(self.ok(self.op(okey, "decrypt", base))["value"]), pt)
        rkey = self.key(("RSA", 2048, False))
        iv = os.urandom(16)
        bad_pad = aes_cbc(k, iv, os.urandom(15) + b"\x00")   # last byte 0: never valid PKCS#7
        wrapped = keywrap.aes_key_wrap(k, os.urandom(32))
        cases = [
            ("GCM tampered tag", okey, "decrypt", dict(base, tag=b64u(flip(e.tag)))),
            ("GCM tampered ciphertext", okey, "decrypt", dict(base, value=b64u(flip(e.ciphertext, 0)))),
            ("GCM wrong aad", okey, "decrypt", dict(base, aad=b64u(b"other"))),
            ("GCM missing aad", okey, "decrypt", {k_: v for k_, v in base.items() if k_ != "aad"}),
            ("GCM wrong iv", okey, "decrypt", dict(base, iv=b64u(flip(e.iv)))),
            ("CBCPAD bad padding", okey, "decrypt", {"alg": "A256CBCPAD", "value": b64u(bad_pad), "iv": b64u(iv)}),
            ("A256KW tampered", okey, "unwrapkey", {"alg": "A256KW", "value": b64u(flip(wrapped, 4))}),
            ("CKM_AES_KEY_WRAP tampered", okey, "unwrapkey",
             {"alg": "CKM_AES_KEY_WRAP", "value": b64u(flip(wrapped, 12))}),
            ("CKM_AES_KEY_WRAP_PAD tampered", okey, "unwrapkey",
             {"alg": "CKM_AES_KEY_WRAP_PAD", "value": b64u(flip(keywrap.aes_key_wrap_with_padding(k, b"abc"), 2))}),
            ("RSA-OAEP garbage", rkey, "decrypt", {"alg": "RSA-OAEP", "value": b64u(b"\x00" + os.urandom(255))}),
            ("RSA-OAEP-256 garbage", rkey, "decrypt",
             {"alg": "RSA-OAEP-256", "value": b64u(b"\x00" + os.urandom(255))}),
            ("RSA-OAEP-256 unwrap garbage", rkey, "unwrapkey",
             {"alg": "RSA-OAEP-256", "value": b64u(b"\x00" + os.urandom(255))}),
        ]
        for what, key, op, body in cases:
            with self.subTest(what):
                self.assertJsonError(self.op(key, op, body), 400, "BadParameter", message=NEUTRAL)
        # the SDK surfaces the same error
        with self.assertRaises(HttpResponseError) as ctx:
            self.remote(okey).decrypt("A256GCM", e.ciphertext, iv=e.iv,
                                      authentication_tag=flip(e.tag),
                                      additional_authenticated_data=aad)
        status, err = self.sdk_error(ctx)
        self.assertEqual((status, err["code"], err["message"]), (400, "BadParameter", NEUTRAL))

    # ---- enforcement ---------------------------------------------------------------------

    def assertForbiddenOp(self, r, op):
        err = self.assertJsonError(r, 403, "Forbidden",
                                   message="Operation %s is not permitted on this key." % op)
        self.assertEqual((err.get("innererror") or {}).get("code"), "KeyOperationForbidden", r)

    def test_key_ops_are_enforced(self):
        s = self.server
        d = hashlib.sha256(b"ops").digest()
        a = self.ok(s.api("POST", "/keys/ops-enc-verify/create",
                          {"kty": "RSA", "key_size": 2048, "key_ops": ["encrypt", "verify"]}))
        kid = a["key"]["kid"]
        self.assertEqual(sorted(a["key"]["key_ops"]), ["encrypt", "verify"])
        ct = self.ok(self.op(kid, "encrypt", {"alg": "RSA-OAEP", "value": b64u(b"x")}))["value"]
        self.assertForbiddenOp(self.op(kid, "decrypt", {"alg": "RSA-OAEP", "value": ct}), "decrypt")
        self.assertForbiddenOp(self.op(kid, "sign", {"alg": "RS256", "value": b64u(d)}), "sign")
        self.assertForbiddenOp(self.op(kid, "wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k" * 16)}), "wrapKey")
        self.assertForbiddenOp(self.op(kid, "unwrapkey", {"alg": "RSA-OAEP", "value": ct}), "unwrapKey")
        self.assertForbiddenOp(self.op(kid, "decrypt", {"alg": "RSA-OAEP", "value": ct}, version=False), "decrypt")
        r = self.op(kid, "verify", {"alg": "RS256", "digest": b64u(d), "value": b64u(os.urandom(256))})
        self.assertEqual(self.ok(r), {"value": False})

        b = self.ok(s.api("POST", "/keys/ops-private/create",
                          {"kty": "RSA", "key_size": 2048,
                           "key_ops": ["decrypt", "sign", "wrapKey", "unwrapKey"]}))
        kid = b["key"]["kid"]
        self.assertForbiddenOp(self.op(kid, "encrypt", {"alg": "RSA-OAEP", "value": b64u(b"x")}), "encrypt")
        sig = self.ok(self.op(kid, "sign", {"alg": "RS256", "value": b64u(d)}))["value"]
        self.assertForbiddenOp(self.op(kid, "verify", {"alg": "RS256", "digest": b64u(d), "value": sig}), "verify")
        w = self.ok(self.op(kid, "wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k" * 16)}))["value"]
        self.assertEqual(unb64u(self.ok(self.op(kid, "unwrapkey", {"alg": "RSA-OAEP", "value": w}))["value"]),
                         b"k" * 16)

        c = self.ok(s.api("POST", "/keys/ops-oct/create", {"kty": "oct", "key_size": 256, "key_ops": ["encrypt"]}))
        kid = c["key"]["kid"]
        self.ok(self.op(kid, "encrypt", {"alg": "A256GCM", "value": b64u(b"x")}))
        self.assertForbiddenOp(self.op(kid, "sign", {"alg": "HS256", "value": b64u(b"data")}), "sign")
        self.assertForbiddenOp(self.op(kid, "wrapkey", {"alg": "A256KW", "value": b64u(b"k" * 16)}), "wrapKey")
        self.assertForbiddenOp(self.op(kid, "decrypt", {"alg": "A256GCM", "value": b64u(b"x"),
                                                         "iv": b64u(os.urandom(12)), "tag": b64u(os.urandom(16))}),
                               "decrypt")

        e = self.ok(s.api("POST", "/keys/ops-ec/create", {"kty": "EC", "crv": "P-256", "key_ops": ["verify"]}))
        self.assertForbiddenOp(self.op(e["key"]["kid"], "sign", {"alg": "ES256", "value": b64u(d)}), "sign")

        # through the SDK
        with self.assertRaises(HttpResponseError) as ctx:
            self.remote(a["key"]["kid"]).decrypt("RSA-OAEP", unb64u(ct))
        status, err = self.sdk_error(ctx)
        self.assertEqual((status, err["code"]), (403, "Forbidden"))
        self.assertEqual(err["message"], "Operation decrypt is not permitted on this key.")

    def _material(self, kid):
        """Ciphertext, wrapped key, signature made while the key is usable."""
        d = hashlib.sha256(b"state").digest()
        ct = self.ok(self.op(kid, "encrypt", {"alg": "RSA-OAEP", "value": b64u(b"secret")}))["value"]
        w = self.ok(self.op(kid, "wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(b"k" * 32)}))["value"]
        sig = self.ok(self.op(kid, "sign", {"alg": "PS256", "value": b64u(d)}))["value"]
        return {
            "encrypt": ("encrypt", {"alg": "RSA-OAEP", "value": b64u(b"more")}, None),
            "decrypt": ("decrypt", {"alg": "RSA-OAEP", "value": ct}, b"secret"),
            "sign": ("sign", {"alg": "PS256", "value": b64u(d)}, None),
            "verify": ("verify", {"alg": "PS256", "digest": b64u(d), "value": sig}, True),
            "wrapKey": ("wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(b"j" * 32)}, None),
            "unwrapKey": ("unwrapkey", {"alg": "RSA-OAEP-256", "value": w}, b"k" * 32),
        }

    def _oct_material(self, kid):
        e = self.ok(self.op(kid, "encrypt", {"alg": "A256GCM", "value": b64u(b"secret")}))
        w = self.ok(self.op(kid, "wrapkey", {"alg": "A256KW", "value": b64u(b"k" * 32)}))["value"]
        sig = self.ok(self.op(kid, "sign", {"alg": "HS256", "value": b64u(b"data")}))["value"]
        return {
            "encrypt": ("encrypt", {"alg": "A256GCM", "value": b64u(b"more")}, None),
            "decrypt": ("decrypt", {"alg": "A256GCM", "value": e["value"], "iv": e["iv"], "tag": e["tag"]},
                        b"secret"),
            "sign": ("sign", {"alg": "HS256", "value": b64u(b"data")}, None),
            "verify": ("verify", {"alg": "HS256", "digest": b64u(b"data"), "value": sig}, True),
            "wrapKey": ("wrapkey", {"alg": "A256KW", "value": b64u(b"j" * 32)}, None),
            "unwrapKey": ("unwrapkey", {"alg": "A256KW", "value": w}, b"k" * 32),
        }

    def _patch(self, kid, attributes):
        return self.ok(self.server.api("PATCH", key_path(kid), {"attributes": attributes}))

    def test_disabled_key_refuses_every_operation(self):
        s = self.server
        for kty, body, material in (("RSA", {"kty": "RSA", "key_size": 2048}, self._material),
                                    ("oct", {"kty": "oct-HSM", "key_size": 256, "key_ops": ALL_OPS},
                                     self._oct_material)):
            kid = self.ok(s.api("POST", "/keys/disabled-%s/create" % kty.lower(), body))["key"]["kid"]
            ops = material(kid)
            self._patch(kid, {"enabled": False})
            for name, (op, b, _) in ops.items():
                for version in (True, False):
                    with self.subTest(kty=kty, op=name, versioned=version):
                        err = self.assertJsonError(self.op(kid, op, b, version=version), 403, "Forbidden")
                        self.assertEqual((err.get("innererror") or {}).get("code"), "KeyDisabled", err)
            self._patch(kid, {"enabled": True})
            for name, (op, b, want) in ops.items():
                with self.subTest(kty=kty, op=name, reenabled=True):
                    self.ok(self.op(kid, op, b))
        # and through the SDK
        kid = self.ok(s.api("POST", "/keys/disabled-ec/create", {"kty": "EC", "crv": "P-384",
                                                                 "attributes": {"enabled": False}}))["key"]["kid"]
        with self.assertRaises(HttpResponseError) as ctx:
            self.remote(kid).sign("ES384", hashlib.sha384(b"x").digest())
        status, err = self.sdk_error(ctx)
        self.assertEqual((status, err["code"]), (403, "Forbidden"))

    def _check_validity_window(self, kid, ops, label):
        allowed = {"decrypt", "unwrapKey", "verify"}
        for name, (op, b, want) in ops.items():
            with self.subTest(window=label, op=name):
                r = self.op(kid, op, b)
                if name in allowed:
                    j = self.ok(r)
                    if want is True:
                        self.assertEqual(j, {"value": True})
                    else:
                        self.assertEqual(unb64u(j["value"]), want)
                else:
                    self.assertJsonError(r, 403, "Forbidden")

    def test_expired_and_not_yet_valid_keys(self):
        s = self.server
        now = int(time.time())
        for kty, body, material in (("rsa", {"kty": "RSA", "key_size": 2048}, self._material),
                                    ("oct", {"kty": "oct", "key_size": 256, "key_ops": ALL_OPS},
                                     self._oct_material)):
            kid = self.ok(s.api("POST", "/keys/expired-%s/create" % kty, body))["key"]["kid"]
            ops = material(kid)
            self._patch(kid, {"exp": now - 3600})
            self._check_validity_window(kid, ops, "%s expired" % kty)
            kid = self.ok(s.api("POST", "/keys/early-%s/create" % kty, body))["key"]["kid"]
            ops = material(kid)
            self._patch(kid, {"nbf": now + 3600})
            self._check_validity_window(kid, ops, "%s not yet valid" % kty)
            # inside the window again: everything works
            self._patch(kid, {"nbf": now - 60, "exp": now + 3600})
            for name, (op, b, _) in ops.items():
                with self.subTest(window="%s inside" % kty, op=name):
                    self.ok(self.op(kid, op, b))
        # an EC key created already expired
        kid = self.ok(s.api("POST", "/keys/expired-ec/create",
                            {"kty": "EC", "crv": "P-256", "attributes": {"exp": now - 10}}))["key"]["kid"]
        self.assertJsonError(self.op(kid, "sign", {"alg": "ES256", "value": b64u(os.urandom(32))}), 403, "Forbidden")
        r = self.op(kid, "verify", {"alg": "ES256", "digest": b64u(os.urandom(32)), "value": b64u(os.urandom(64))})
        self.assertEqual(self.ok(r), {"value": False})


if __name__ == "__main__":
    h.main()
