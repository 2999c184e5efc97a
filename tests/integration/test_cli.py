"""`coffre key ...`: every key command, checked by its az-shaped JSON output.

The CLI runs with the server's dev.env (managed identity, CA bundle, COFFRE_SERVER) and a HOME /
XDG_CONFIG_HOME in a temporary directory, so no `coffre login` state leaks in or out.

- Output shapes as `az keyvault key ...` prints them: {"attributes":{...},"key":{...},"managed",
  "releasePolicy","tags"}, base64 key material, "+00:00" times, list items with kid/name, deleted
  keys with deletedDate/recoveryId/scheduledPurgeDate; `-o table` and `-o tsv`.
- create RSA/EC/oct, show (by --vault-name/--name, --id key id with/without version, --id vault
  URL), list/list-versions across more than one page (> 25), set-attributes, delete/show-deleted/
  list-deleted/recover/purge, backup to a file/restore, import from a JWK file and from PEM files
  made by `openssl genpkey`, rotate, rotation-policy show/update (az's JSON file), encrypt/decrypt,
  sign/verify with a digest computed here (and checked with python3-cryptography), random.
- Errors: the service's "(Code) message" on stderr with exit 1 (404, 409); usage errors exit 2.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

VAULT = "clikeys"
ATTRIBUTE_FIELDS = {"created", "enabled", "expires", "exportable", "hsmPlatform", "notBefore",
                    "recoverableDays", "recoveryLevel", "updated"}
JWK_FIELDS = {"crv", "d", "dp", "dq", "e", "k", "keyOps", "kid", "kty", "n", "p", "q", "qi", "t",
              "x", "y"}


def b64(data):
    return base64.b64encode(data).decode()


def unb64(text):
    return base64.b64decode(text)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


class CliKeysTest(h.ServerTestCase):
    VAULTS = (VAULT,)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="coffre-cli-")
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # ---- helpers --------------------------------------------------------------------------

    def run_cli(self, *args, env=None, **overrides):
        base = dict(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        base.update(overrides)
        e = env if env is not None else self.server.env(**base)
        return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, env=e, cwd=self.tmp)

    def key(self, *args, **kw):
        """`coffre key ARGS --vault-name VAULT` -> parsed JSON (asserts exit 0)."""
        args = list(args)
        if "--id" not in args:
            args += ["--vault-name", VAULT]
        p = self.run_cli("key", *args, **kw)
        self.assertEqual(p.returncode, 0, "coffre key %s: rc=%s\n%s%s" % (
            " ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def key_fails(self, *args, rc=1, **kw):
        args = list(args)
        if "--id" not in args and "--no-vault" not in args:
            args += ["--vault-name", VAULT]
        args = [a for a in args if a != "--no-vault"]
        p = self.run_cli("key", *args, **kw)
        self.assertEqual(p.returncode, rc, "expected rc %s: %s%s" % (rc, p.stdout, p.stderr))
        self.assertEqual(p.stdout, "", p.stdout)
        return p.stderr

    def path(self, name):
        return os.path.join(self.tmp, name)

    @property
    def vault_url(self):
        return self.server.vault_url(VAULT)

    def assertKeyShape(self, k, name, kty):
        self.assertEqual(set(k), {"attributes", "key", "managed", "releasePolicy", "tags"}, k)
        self.assertEqual(set(k["attributes"]), ATTRIBUTE_FIELDS, k)
        self.assertEqual(set(k["key"]), JWK_FIELDS, k)
        self.assertEqual(k["key"]["kty"], kty)
        self.assertTrue(k["key"]["kid"].startswith("%s/keys/%s/" % (self.vault_url, name)), k)
        self.assertEqual(len(k["key"]["kid"].rsplit("/", 1)[1]), 32)
        self.assertIsNone(k["managed"])
        self.assertIsNone(k["releasePolicy"])
        a = k["attributes"]
        self.assertTrue(a["enabled"])
        self.assertEqual(a["recoveryLevel"], "Recoverable+Purgeable")
        self.assertEqual(a["recoverableDays"], 90)
        self.assertRegex(a["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertRegex(a["updated"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        for private in ("d", "dp", "dq", "p", "q", "qi", "k", "t"):
            self.assertIsNone(k["key"][private], "%s leaked: %r" % (private, k))

    def public_key(self, k):
        """The public key of a CLI key JSON, rebuilt with python3-cryptography."""
        j = k["key"]
        if j["kty"].startswith("RSA"):
            return rsa.RSAPublicNumbers(int.from_bytes(unb64(j["e"]), "big"),
                                        int.from_bytes(unb64(j["n"]), "big")).public_key()
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
        return ec.EllipticCurvePublicNumbers(int.from_bytes(unb64(j["x"]), "big"),
                                             int.from_bytes(unb64(j["y"]), "big"),
                                             curve[j["crv"]]).public_key()

    # ---- create / show ----------------------------------------------------------------------

    def test_create_rsa(self):
        k = self.key("create", "--name", "rsa-a", "--size", 3072, "--ops", "sign", "verify",
                     "--tags", "env=test", "team=keys", "flag")
        self.assertKeyShape(k, "rsa-a", "RSA")
        self.assertEqual(len(unb64(k["key"]["n"])), 384)
        self.assertEqual(k["key"]["e"], "AQAB")
        self.assertEqual(k["key"]["keyOps"], ["sign", "verify"])
        self.assertIsNone(k["key"]["crv"])
        self.assertEqual(k["tags"], {"env": "test", "team": "keys", "flag": ""})
        # show returns the same key
        self.assertEqual(self.key("show", "--name", "rsa-a"), k)

    def test_create_ec(self):
        k = self.key("create", "--name", "ec-a", "--kty", "EC", "--curve", "P-384")
        self.assertKeyShape(k, "ec-a", "EC")
        self.assertEqual(k["key"]["crv"], "P-384")
        self.assertEqual(len(unb64(k["key"]["x"])), 48)
        self.assertEqual(len(unb64(k["key"]["y"])), 48)
        self.assertIsNone(k["key"]["n"])
        self.assertIsNone(k["tags"])
        self.assertEqual(sorted(k["key"]["keyOps"]), ["sign", "verify"])

    def test_create_oct(self):
        k = self.key("create", "--name", "oct-a", "--kty", "oct", "--size", 256)
        self.assertKeyShape(k, "oct-a", "oct")
        self.assertIsNone(k["key"]["k"])  # symmetric material never leaves the vault
        self.assertIn("encrypt", k["key"]["keyOps"])

    def test_create_disabled_with_dates(self):
        k = self.key("create", "--name", "dated", "--kty", "EC", "--disabled",
                     "--expires", "2031-02-03T04:05:06Z", "--not-before", "2020-01-01T00:00:00Z")
        self.assertFalse(k["attributes"]["enabled"])
        self.assertEqual(k["attributes"]["expires"], "2031-02-03T04:05:06+00:00")
        self.assertEqual(k["attributes"]["notBefore"], "2020-01-01T00:00:00+00:00")

    def test_show_by_id(self):
        k = self.key("create", "--name", "by-id", "--kty", "EC")
        kid = k["key"]["kid"]
        version = kid.rsplit("/", 1)[1]
        newer = self.key("create", "--name", "by-id", "--kty", "EC")
        self.assertNotEqual(newer["key"]["kid"], kid)
        # A versioned key id: that version.
        self.assertEqual(self.key("show", "--id", kid), k)
        # An unversioned key id, or --vault-name/--name: the latest.
        latest = self.key("show", "--id", "%s/keys/by-id" % self.vault_url)
        self.assertEqual(latest["key"]["kid"], newer["key"]["kid"])
        self.assertEqual(self.key("show", "--name", "by-id"), latest)
        # The vault URL plus --name and --version.
        self.assertEqual(self.key("show", "--id", self.vault_url + "/", "--name", "by-id",
                                  "--version", version), k)
        # --vault-domain instead of COFFRE_SERVER.
        p = self.run_cli("key", "show", "--vault-name", VAULT, "--name", "by-id",
                         "--vault-domain", "localhost:%d" % self.server.port,
                         COFFRE_SERVER=None)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), latest)

    # ---- lists ------------------------------------------------------------------------------

    def test_list_and_list_versions_across_pages(self):
        names = ["page-%02d" % i for i in range(27)]
        for n in names:
            self.key("create", "--name", n, "--kty", "EC", "-o", "none")
        items = self.key("list")
        by_name = {i["name"]: i for i in items}
        self.assertTrue(set(names) <= set(by_name), sorted(by_name))
        item = by_name["page-00"]
        self.assertEqual(set(item), {"attributes", "kid", "managed", "name", "releasePolicy",
                                     "tags"})
        self.assertEqual(item["kid"], "%s/keys/page-00" % self.vault_url)
        self.assertEqual(set(item["attributes"]), ATTRIBUTE_FIELDS)
        self.assertTrue(item["attributes"]["enabled"])
        self.assertEqual(len(self.key("list", "--maxresults", 5)), 5)
        # The vault URL as --id works for lists too.
        self.assertEqual({i["name"] for i in self.key("list", "--id", self.vault_url)},
                         set(by_name))

        versions = [self.key("create", "--name", "many-versions", "--kty", "EC")["key"]["kid"]
                    for _ in range(27)]
        listed = self.key("list-versions", "--name", "many-versions")
        self.assertEqual(sorted(i["kid"] for i in listed), sorted(versions))
        self.assertTrue(all(i["name"] == "many-versions" for i in listed))

    # ---- set-attributes ---------------------------------------------------------------------

    def test_set_attributes(self):
        first = self.key("create", "--name", "attrs")
        k = self.key("set-attributes", "--name", "attrs", "--enabled", "false",
                     "--expires", "2030-01-01T00:00:00Z", "--not-before", "2021-06-01T12:00:00Z",
                     "--tags", "a=1", "b=two", "--ops", "encrypt", "decrypt")
        self.assertEqual(k["key"]["kid"], first["key"]["kid"])
        self.assertFalse(k["attributes"]["enabled"])
        self.assertEqual(k["attributes"]["expires"], "2030-01-01T00:00:00+00:00")
        self.assertEqual(k["attributes"]["notBefore"], "2021-06-01T12:00:00+00:00")
        self.assertEqual(k["tags"], {"a": "1", "b": "two"})
        self.assertEqual(k["key"]["keyOps"], ["encrypt", "decrypt"])
        self.assertEqual(self.key("show", "--name", "attrs"), k)
        again = self.key("set-attributes", "--id", first["key"]["kid"], "--enabled", "true")
        self.assertTrue(again["attributes"]["enabled"])
        self.assertEqual(again["tags"], {"a": "1", "b": "two"})  # untouched
        err = self.key_fails("set-attributes", "--name", "attrs", "--enabled", "maybe", rc=2)
        self.assertIn("--enabled takes true or false", err)

    # ---- delete / recover / purge -----------------------------------------------------------

    def test_delete_show_deleted_recover_purge(self):
        created = self.key("create", "--name", "doomed", "--kty", "EC")
        d = self.key("delete", "--name", "doomed")
        self.assertEqual(d["recoveryId"], "%s/deletedkeys/doomed" % self.vault_url)
        self.assertRegex(d["deletedDate"], r"\+00:00$")
        self.assertRegex(d["scheduledPurgeDate"], r"\+00:00$")
        self.assertEqual(d["key"]["kid"], created["key"]["kid"])
        self.assertEqual(set(d) - {"deletedDate", "recoveryId", "scheduledPurgeDate"},
                         {"attributes", "key", "managed", "releasePolicy", "tags"})

        shown = self.key("show-deleted", "--name", "doomed")
        self.assertEqual(shown["recoveryId"], d["recoveryId"])
        listed = {i["name"]: i for i in self.key("list-deleted")}
        self.assertIn("doomed", listed)
        self.assertEqual(listed["doomed"]["recoveryId"], d["recoveryId"])
        self.assertEqual(listed["doomed"]["kid"], "%s/keys/doomed" % self.vault_url)

        # Gone from show (404) and its name taken (409), with the service's words.
        err = self.key_fails("show", "--name", "doomed")
        self.assertIn("(KeyNotFound) " + h.key_not_found_message("doomed"), err)
        err = self.key_fails("create", "--name", "doomed")
        self.assertIn("(Conflict) " + h.conflict_message("doomed"), err)

        recovered = self.key("recover", "--name", "doomed")
        self.assertEqual(recovered["key"]["kid"], created["key"]["kid"])
        self.assertEqual(self.key("show", "--name", "doomed")["key"]["kid"],
                         created["key"]["kid"])

        self.key("delete", "--name", "doomed", "-o", "none")
        p = self.run_cli("key", "purge", "--vault-name", VAULT, "--name", "doomed")
        self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)
        err = self.key_fails("show-deleted", "--name", "doomed")
        self.assertIn("(KeyNotFound)", err)
        self.assertNotIn("doomed", {i["name"] for i in self.key("list-deleted")})

    # ---- backup / restore -------------------------------------------------------------------

    def test_backup_restore(self):
        created = self.key("create", "--name", "saved", "--tags", "x=y")
        blob = self.path("saved.blob")
        self.assertIsNone(self.key("backup", "--name", "saved", "--file", blob))
        self.assertGreater(os.path.getsize(blob), 100)
        self.key("delete", "--name", "saved", "-o", "none")
        self.key("purge", "--name", "saved")
        restored = self.key("restore", "--file", blob)
        self.assertEqual(restored["key"]["kid"], created["key"]["kid"])
        self.assertEqual(restored["key"]["n"], created["key"]["n"])
        self.assertEqual(restored["tags"], {"x": "y"})
        # Restoring over an existing key is refused by the service.
        err = self.key_fails("restore", "--file", blob)
        self.assertIn("(Conflict)", err)

    # ---- import -----------------------------------------------------------------------------

    def test_import_jwk_file(self):
        private = ec.generate_private_key(ec.SECP256R1())
        n = private.private_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify"],
               "x": b64url(int_bytes(n.public_numbers.x, 32)),
               "y": b64url(int_bytes(n.public_numbers.y, 32)),
               "d": b64url(int_bytes(n.private_value, 32))}
        path = self.path("key.jwk.json")
        with open(path, "w") as f:
            json.dump(jwk, f)
        k = self.key("import", "--name", "jwk-ec", "--file", path, "--tags", "src=jwk")
        self.assertKeyShape(k, "jwk-ec", "EC")
        self.assertEqual(unb64(k["key"]["x"]), int_bytes(n.public_numbers.x, 32))
        self.assertEqual(unb64(k["key"]["y"]), int_bytes(n.public_numbers.y, 32))
        self.assertEqual(k["key"]["keyOps"], ["sign", "verify"])
        self.assertEqual(k["tags"], {"src": "jwk"})
        # A signature made in the vault verifies with the key imported from here.
        digest = hashlib.sha256(b"imported").digest()
        s = self.key("sign", "--name", "jwk-ec", "--algorithm", "ES256", "--digest", b64(digest))
        sig = unb64(s["signature"])
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        private.public_key().verify(der, b"imported", ec.ECDSA(hashes.SHA256()))

    def test_import_pem_files(self):
        rsa_pem = self.path("rsa.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", rsa_pem], check=True, capture_output=True)
        k = self.key("import", "--name", "pem-rsa", "--file", rsa_pem)
        self.assertKeyShape(k, "pem-rsa", "RSA")
        with open(rsa_pem, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), None)
        self.assertEqual(int.from_bytes(unb64(k["key"]["n"]), "big"),
                         private.public_key().public_numbers().n)

        ec_pem = self.path("ec.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-384", "-out", ec_pem], check=True,
                       capture_output=True)
        k = self.key("import", "--name", "pem-ec", "--pem-file", ec_pem, "--protection", "software")
        self.assertKeyShape(k, "pem-ec", "EC")
        self.assertEqual(k["key"]["crv"], "P-384")
        with open(ec_pem, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), None)
        self.assertEqual(int.from_bytes(unb64(k["key"]["x"]), "big"),
                         private.public_key().public_numbers().x)

        # Not a key at all: a usage error, nothing sent.
        junk = self.path("junk.txt")
        with open(junk, "w") as f:
            f.write("hello")
        err = self.key_fails("import", "--name", "junk", "--file", junk, rc=2)
        self.assertIn("neither a JSON Web Key nor a PEM private key", err)

    # ---- rotate / rotation policy -----------------------------------------------------------

    def test_rotate(self):
        first = self.key("create", "--name", "spin", "--kty", "EC")
        second = self.key("rotate", "--name", "spin")
        self.assertKeyShape(second, "spin", "EC")
        self.assertNotEqual(second["key"]["kid"], first["key"]["kid"])
        self.assertEqual(len(self.key("list-versions", "--name", "spin")), 2)

    def test_rotation_policy(self):
        self.key("create", "--name", "policed", "--kty", "EC")
        default = self.key("rotation-policy", "show", "--name", "policed")
        self.assertEqual(set(default), {"createdOn", "expiresIn", "id", "lifetimeActions",
                                        "updatedOn"})
        self.assertEqual(default["id"], "%s/keys/policed/rotationpolicy" % self.vault_url)
        # The file format of az's docs (`az keyvault key rotation-policy update --value FILE`).
        policy = {"lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P18M", "timeBeforeExpiry": None},
             "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {"expiryTime": "P2Y"}}
        path = self.path("policy.json")
        with open(path, "w") as f:
            json.dump(policy, f)
        updated = self.key("rotation-policy", "update", "--name", "policed", "--value", path)
        self.assertEqual(updated["expiresIn"], "P2Y")
        self.assertEqual(sorted(updated["lifetimeActions"], key=lambda a: a["action"]), [
            {"action": "Notify", "timeAfterCreate": None, "timeBeforeExpiry": "P30D"},
            {"action": "Rotate", "timeAfterCreate": "P18M", "timeBeforeExpiry": None}])
        self.assertRegex(updated["updatedOn"], r"\+00:00$")
        shown = self.key("rotation-policy", "show", "--name", "policed")
        self.assertEqual(shown, updated)
        # JSON text instead of a file, snake_case as az also accepts.
        self.key("rotation-policy", "update", "--name", "policed", "--value", json.dumps(
            {"lifetime_actions": [{"trigger": {"time_before_expiry": "P7D"},
                                   "action": {"type": "Notify"}}],
             "attributes": {"expiry_time": "P1Y"}}))
        shown = self.key("rotation-policy", "show", "--name", "policed")
        self.assertEqual(shown["expiresIn"], "P1Y")
        self.assertEqual(shown["lifetimeActions"], [
            {"action": "Notify", "timeAfterCreate": None, "timeBeforeExpiry": "P7D"}])

    # ---- cryptography -----------------------------------------------------------------------

    def test_encrypt_decrypt_rsa(self):
        self.key("create", "--name", "cipher", "-o", "none")
        e = self.key("encrypt", "--name", "cipher", "--algorithm", "RSA-OAEP-256",
                     "--value", b64(b"attack at dawn"))
        self.assertEqual(set(e), {"aad", "algorithm", "iv", "kid", "result", "tag"})
        self.assertEqual(e["algorithm"], "RSA-OAEP-256")
        self.assertEqual(len(unb64(e["result"])), 256)
        self.assertTrue(e["kid"].startswith("%s/keys/cipher/" % self.vault_url))
        d = self.key("decrypt", "--name", "cipher", "--algorithm", "RSA-OAEP-256",
                     "--value", e["result"])
        self.assertEqual(set(d), {"algorithm", "kid", "result"})
        self.assertEqual(unb64(d["result"]), b"attack at dawn")
        # --data-type plaintext on both sides.
        e = self.key("encrypt", "--name", "cipher", "--algorithm", "RSA-OAEP", "--value",
                     "plain words", "--data-type", "plaintext")
        d = self.key("decrypt", "--name", "cipher", "--algorithm", "RSA-OAEP", "--value",
                     e["result"], "--data-type", "plaintext")
        self.assertEqual(d["result"], "plain words")

    def test_encrypt_decrypt_aes_gcm(self):
        self.key("create", "--name", "sym", "--kty", "oct", "--size", 256, "-o", "none")
        e = self.key("encrypt", "--name", "sym", "--algorithm", "A256GCM",
                     "--value", b64(b"secret payload"), "--aad", "c0ffee")
        self.assertEqual(e["aad"], "c0ffee")
        self.assertEqual(len(bytes.fromhex(e["iv"])), 12)
        self.assertEqual(len(bytes.fromhex(e["tag"])), 16)
        d = self.key("decrypt", "--name", "sym", "--algorithm", "A256GCM", "--value", e["result"],
                     "--iv", e["iv"], "--tag", e["tag"], "--aad", "c0ffee")
        self.assertEqual(unb64(d["result"]), b"secret payload")
        # A wrong tag is refused by the vault.
        bad_tag = ("00" if e["tag"][:2] != "00" else "11") + e["tag"][2:]
        err = self.key_fails("decrypt", "--name", "sym", "--algorithm", "A256GCM", "--value",
                             e["result"], "--iv", e["iv"], "--tag", bad_tag, "--aad", "c0ffee")
        self.assertRegex(err, r"^ERROR: \(\w+\) ")

    def test_sign_verify(self):
        rsa_key = self.key("create", "--name", "signer-rsa")
        ec_key = self.key("create", "--name", "signer-ec", "--kty", "EC", "--curve", "P-256")
        data = b"the data to sign"
        digest = b64(hashlib.sha256(data).digest())

        s = self.key("sign", "--name", "signer-rsa", "--algorithm", "RS256", "--digest", digest)
        self.assertEqual(set(s), {"algorithm", "keyId", "signature"})
        self.assertEqual(s["algorithm"], "RS256")
        self.assertEqual(s["keyId"], rsa_key["key"]["kid"])
        # Independent check with the public key the CLI printed.
        self.public_key(rsa_key).verify(unb64(s["signature"]), data, padding.PKCS1v15(),
                                        hashes.SHA256())
        v = self.key("verify", "--name", "signer-rsa", "--algorithm", "RS256", "--digest", digest,
                     "--signature", s["signature"])
        self.assertEqual(v, {"algorithm": "RS256", "isValid": True, "keyId": rsa_key["key"]["kid"]})
        other = b64(hashlib.sha256(b"other data").digest())
        # An invalid signature: the same JSON, and exit 1 so that scripts can test it.
        p = self.run_cli("key", "verify", "--name", "signer-rsa", "--algorithm", "RS256",
                         "--digest", other, "--signature", s["signature"], "--vault-name", VAULT)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertFalse(json.loads(p.stdout)["isValid"])
        self.assertIn("signature is not valid", p.stderr)

        s = self.key("sign", "--id", ec_key["key"]["kid"], "--algorithm", "ES256",
                     "--digest", digest)
        sig = unb64(s["signature"])
        self.assertEqual(len(sig), 64)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        self.public_key(ec_key).verify(der, data, ec.ECDSA(hashes.SHA256()))
        v = self.key("verify", "--name", "signer-ec", "--algorithm", "ES256", "--digest", digest,
                     "--signature", s["signature"])
        self.assertTrue(v["isValid"])

    def test_random(self):
        r = self.key("random", "--count", 32)
        self.assertEqual(set(r), {"value"})
        self.assertEqual(len(unb64(r["value"])), 32)
        self.assertNotEqual(r, self.key("random", "--count", 32))
        self.key_fails("random", "--count", 0, rc=2)

    # ---- output formats ---------------------------------------------------------------------

    def test_table_and_tsv_output(self):
        k = self.key("create", "--name", "tabled", "--kty", "EC")
        version = k["key"]["kid"].rsplit("/", 1)[1]
        p = self.run_cli("key", "show", "--vault-name", VAULT, "--name", "tabled", "-o", "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Name", "Version", "Kty", "Enabled", "Expires"])
        self.assertTrue(set(lines[1]) <= {"-", " "}, lines)
        self.assertEqual(lines[2].split(), ["tabled", version, "EC", "True"])

        p = self.run_cli("key", "list", "--vault-name", VAULT, "-o", "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Name", "Enabled", "Expires", "Updated"])
        self.assertIn("tabled", [line.split()[0] for line in lines[2:]])

        p = self.run_cli("key", "show", "--vault-name", VAULT, "--name", "tabled", "-o", "tsv")
        self.assertEqual(p.stdout.split("\t")[:4], ["tabled", version, "EC", "True"])

    # ---- errors -----------------------------------------------------------------------------

    def test_errors(self):
        err = self.key_fails("show", "--name", "never-made")
        self.assertEqual(err.strip(),
                         "ERROR: (KeyNotFound) " + h.key_not_found_message("never-made"))
        err = self.key_fails("show", "--id", self.vault_url + "/keys/never-made/" + "0" * 32)
        self.assertIn("(KeyNotFound)", err)

        # Usage errors: exit 2, nothing sent.
        self.assertIn("--name", self.key_fails("show", rc=2))
        self.assertIn("--vault-name", self.key_fails("show", "--name", "x", "--no-vault", rc=2,
                                                    KEY_VAULT_NAME=None))
        self.key_fails("show", "--name", "x", "--no-such-option", rc=2)
        self.key_fails("frobnicate", "--name", "x", rc=2)
        self.key_fails("show", "--name", "x", "--id", self.vault_url, "--vault-name", VAULT, rc=2)
        self.assertIn("--id must be", self.key_fails("show", "--id", "not a url", rc=2))
        self.assertIn("ISO 8601", self.key_fails("create", "--name", "x", "--expires", "tomorrow",
                                                 rc=2))
        self.assertIn("--kty", self.key_fails("create", "--name", "x", "--kty", "DSA", rc=2))
        self.assertIn("base64", self.key_fails("sign", "--name", "x", "--algorithm", "ES256",
                                               "--digest", "***", rc=2))
        p = self.run_cli("key", "show", "--vault-name", VAULT, "--name", "x", COFFRE_SERVER=None)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("COFFRE_SERVER", p.stderr)
        # A service error that is the caller's fault (bad size) is still a failed request: 1.
        err = self.key_fails("create", "--name", "bad-size", "--size", 1000)
        self.assertRegex(err, r"^ERROR: \(\w+\) ")


if __name__ == "__main__":
    h.main()
