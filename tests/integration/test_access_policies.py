"""Vault access policies (the classic Key Vault permission model) through the Python SDK.

- The permission matrix: every keys operation, once with its permission granted (and nothing
  else) and once with every other permission but that one, as a principal signed in through ADFS
  (ClientSecretCredential); a refusal is Key Vault's 403 Forbidden / AccessDenied with its message.
- Policy mechanics: no policy, policy removal, vault isolation, permission names, applicationId.
- Microsoft's quickstart done the Azure way: a new vault, a principal, set-policy
  `get list create delete`, the quickstart as that principal; `get list` only -> 403 on create.
"""

import hashlib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ManagedIdentityCredential  # noqa: E402
from azure.keyvault.keys import (JsonWebKey, KeyRotationLifetimeAction,  # noqa: E402
                                 KeyRotationPolicy, KeyRotationPolicyAction)
from azure.keyvault.keys.crypto import (CryptographyClient, EncryptionAlgorithm,  # noqa: E402
                                        KeyWrapAlgorithm, SignatureAlgorithm)

ALL_KEY_PERMISSIONS = [
    "get", "list", "update", "create", "import", "delete", "recover", "backup", "restore",
    "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "purge", "release", "rotate",
    "getrotationpolicy", "setrotationpolicy"]

# Operations the SDK's CryptographyClient performs locally with the public key once it may read
# the key: for the "not granted" case `get` is withheld too, so the request reaches the server.
LOCAL_CAPABLE = {"encrypt", "wrapKey", "verify"}

QS_DIR = os.path.join(h.HERE, "quickstart")
DIGEST = hashlib.sha256(b"access policies").digest()
PLAINTEXT = b"access-policy matrix plaintext"
CEK = bytes(range(32))


def ap_message(claims, permission, vault):
    return ("The user, group or application 'appid=%s;oid=%s;iss=%s' does not have keys %s "
            "permission on key vault '%s;location=local'. For help resolving this issue, please "
            "see https://go.microsoft.com/fwlink/?linkid=2125287"
            % (claims["appid"], claims["oid"], claims["iss"], permission, vault))


def sdk_error(e):
    try:
        return json.loads(e.response.text())["error"]
    except Exception:  # noqa: BLE001
        return None


# (test suffix, permission) -> method name on the test class that performs the operation as the
# principal, returning something (or raising HttpResponseError).
OPERATIONS = [
    ("list_keys", "list"),
    ("list_key_versions", "list"),
    ("list_deleted_keys", "list"),
    ("get_key", "get"),
    ("get_key_version", "get"),
    ("get_deleted_key", "get"),
    ("get_key_attestation", "get"),
    ("create_key", "create"),
    ("import_key", "import"),
    ("update_key", "update"),
    ("delete_key", "delete"),
    ("backup_key", "backup"),
    ("restore_key", "restore"),
    ("rotate_key", "rotate"),
    ("get_rotation_policy", "getrotationpolicy"),
    ("set_rotation_policy", "setrotationpolicy"),
    ("encrypt", "encrypt"),
    ("decrypt", "decrypt"),
    ("wrap_key", "wrapKey"),
    ("unwrap_key", "unwrapKey"),
    ("sign", "sign"),
    ("verify", "verify"),
    ("release_key", "release"),
    ("recover_deleted_key", "recover"),
    ("purge_deleted_key", "purge"),
]


class AccessPolicyTest(h.ServerTestCase):
    VAULTS = ("other",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.dev = s.key_client()
        cls.dev_cred = ManagedIdentityCredential()
        cls.principal = s.admin_principal("matrix-app")
        cls.cred = s.principal_credential(cls.principal)
        cls.pc = s.principal_key_client(cls.principal)
        cls.claims = s.token_claims(cls.cred.get_token(s.local_resource + "/.default").token)

        dev = cls.dev
        cls.ec = dev.create_ec_key("mx-ec", curve="P-256")
        cls.rsa = dev.create_rsa_key("mx-rsa", size=2048)
        dev.create_ec_key("mx-rotate", curve="P-256")
        dev.create_ec_key("mx-delete", curve="P-256")
        for name in ("mx-gone", "mx-recover", "mx-purge"):
            dev.create_ec_key(name, curve="P-256")
            dev.begin_delete_key(name, _polling_interval=0).wait(30)
        dev.create_ec_key("mx-restore", curve="P-256")
        cls.backup_blob = dev.backup_key("mx-restore")
        dev.begin_delete_key("mx-restore", _polling_interval=0).wait(30)
        dev.purge_deleted_key("mx-restore")

        rsa_crypto = CryptographyClient(cls.rsa.id, cls.dev_cred)
        cls.ciphertext = rsa_crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, PLAINTEXT).ciphertext
        cls.wrapped = rsa_crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, CEK).encrypted_key
        cls.signature = CryptographyClient(cls.ec.id, cls.dev_cred).sign(
            SignatureAlgorithm.es256, DIGEST).signature
        cls.created = 0

    # ---- helpers --------------------------------------------------------------------------

    def set_keys(self, permissions, object_id=None, vault="dev"):
        self.server.grant(object_id or self.principal["objectId"], permissions, vault=vault)

    def crypto(self, key):
        # A fresh client each time: it remembers whether it may read the key.
        return CryptographyClient(key.id, self.cred)

    def principal_token(self):
        return self.cred.get_token(self.server.local_resource + "/.default").token

    def assertAccessDenied(self, fn, permission, vault="dev", claims=None):
        with self.assertRaises((HttpResponseError, RawHttpError)) as ctx:
            fn()
        e = ctx.exception
        err = sdk_error(e)
        self.assertEqual(e.status_code, 403, "%s: %s" % (permission, e))
        self.assertIsNotNone(err, e)
        self.assertEqual(err.get("code"), "Forbidden", err)
        self.assertEqual((err.get("innererror") or {}).get("code"), "AccessDenied", err)
        self.assertEqual(err.get("message"), ap_message(claims or self.claims, permission, vault))

    # ---- the operations, as the principal -------------------------------------------------

    def op_list_keys(self):
        return list(self.pc.list_properties_of_keys())

    def op_list_key_versions(self):
        return list(self.pc.list_properties_of_key_versions("mx-ec"))

    def op_list_deleted_keys(self):
        return list(self.pc.list_deleted_keys())

    def op_get_key(self):
        return self.pc.get_key("mx-ec")

    def op_get_key_version(self):
        return self.pc.get_key("mx-ec", version=self.ec.properties.version)

    def op_get_deleted_key(self):
        return self.pc.get_deleted_key("mx-gone")

    def op_get_key_attestation(self):
        # No SDK method in 4.8: the raw route GET /keys/{name}/{version}/attestation.
        r = self.server.api("GET", "/keys/mx-ec/%s/attestation" % self.ec.properties.version,
                            token=self.principal_token(), api_version="7.6-preview.2")
        if r.status >= 400:
            raise RawHttpError(r)
        return r

    def op_create_key(self):
        type(self).created += 1
        return self.pc.create_ec_key("mx-created-%d" % self.created, curve="P-256")

    def op_import_key(self):
        from cryptography.hazmat.primitives.asymmetric import ec
        priv = ec.generate_private_key(ec.SECP256R1())
        pn = priv.private_numbers()
        jwk = JsonWebKey(kty="EC", crv="P-256", x=pn.public_numbers.x.to_bytes(32, "big"),
                         y=pn.public_numbers.y.to_bytes(32, "big"),
                         d=pn.private_value.to_bytes(32, "big"))
        return self.pc.import_key("mx-imported", jwk)

    def op_update_key(self):
        return self.pc.update_key_properties("mx-ec", tags={"matrix": "yes"})

    def op_delete_key(self):
        return self.pc.begin_delete_key("mx-delete", _polling_interval=0).result()

    def op_backup_key(self):
        return self.pc.backup_key("mx-ec")

    def op_restore_key(self):
        return self.pc.restore_key_backup(self.backup_blob)

    def op_rotate_key(self):
        return self.pc.rotate_key("mx-rotate")

    def op_get_rotation_policy(self):
        return self.pc.get_key_rotation_policy("mx-ec")

    def op_set_rotation_policy(self):
        policy = KeyRotationPolicy(expires_in="P90D", lifetime_actions=[
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")])
        return self.pc.update_key_rotation_policy("mx-ec", policy)

    def op_encrypt(self):
        return self.crypto(self.rsa).encrypt(EncryptionAlgorithm.rsa_oaep_256, PLAINTEXT)

    def op_decrypt(self):
        r = self.crypto(self.rsa).decrypt(EncryptionAlgorithm.rsa_oaep_256, self.ciphertext)
        self.assertEqual(r.plaintext, PLAINTEXT)
        return r

    def op_wrap_key(self):
        return self.crypto(self.rsa).wrap_key(KeyWrapAlgorithm.rsa_oaep_256, CEK)

    def op_unwrap_key(self):
        r = self.crypto(self.rsa).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, self.wrapped)
        self.assertEqual(r.key, CEK)
        return r

    def op_sign(self):
        return self.crypto(self.ec).sign(SignatureAlgorithm.es256, DIGEST)

    def op_verify(self):
        r = self.crypto(self.ec).verify(SignatureAlgorithm.es256, DIGEST, self.signature)
        self.assertTrue(r.is_valid)
        return r

    def op_release_key(self):
        return self.pc.release_key("mx-ec", "not-an-attestation-token")

    def op_recover_deleted_key(self):
        return self.pc.begin_recover_deleted_key("mx-recover", _polling_interval=0).result()

    def op_purge_deleted_key(self):
        self.pc.purge_deleted_key("mx-purge")   # returns None
        return "purged"

    # ---- matrix bodies --------------------------------------------------------------------

    def run_granted(self, op, permission):
        self.set_keys([permission])
        fn = getattr(self, "op_" + op)
        if op == "release_key":
            # Allowed, then refused by the operation itself: keys are not exportable here.
            with self.assertRaises(HttpResponseError) as ctx:
                fn()
            self.assertEqual(ctx.exception.status_code, 400, ctx.exception)
            return
        if op == "get_key_attestation":
            # Allowed, then 501: attestation is a Managed HSM feature.
            with self.assertRaises(RawHttpError) as ctx:
                fn()
            self.assertEqual(ctx.exception.status_code, 501, ctx.exception)
            return
        result = fn()
        self.assertIsNotNone(result)

    def run_denied(self, op, permission):
        others = [p for p in ALL_KEY_PERMISSIONS if p != permission]
        if permission in LOCAL_CAPABLE:
            others.remove("get")
        self.set_keys(others)
        self.assertAccessDenied(getattr(self, "op_" + op), permission)

    # ---- beyond the matrix ----------------------------------------------------------------

    def test_matrix_covers_every_permission(self):
        self.assertEqual(sorted({p for _, p in OPERATIONS}), sorted(ALL_KEY_PERMISSIONS))

    def test_no_policy_at_all_denies_everything(self):
        s = self.server
        stranger = s.admin_principal("matrix-stranger")
        client = s.principal_key_client(stranger)
        cred = s.principal_credential(stranger)
        claims = s.token_claims(cred.get_token(s.local_resource + "/.default").token)
        self.assertEqual(claims["oid"], stranger["objectId"])
        self.assertEqual(claims["appid"], stranger["appId"])
        # Random bytes too (default deny): they need the keys "encrypt" permission.
        for permission, fn in (("list", lambda: list(client.list_properties_of_keys())),
                               ("get", lambda: client.get_key("mx-ec")),
                               ("create", lambda: client.create_ec_key("mx-stranger")),
                               ("delete", lambda: client.begin_delete_key("mx-never")),
                               ("encrypt", lambda: client.get_random_bytes(16))):
            with self.subTest(permission=permission):
                self.assertAccessDenied(fn, permission, claims=claims)
        s.grant(stranger["objectId"], ["encrypt"])
        self.assertEqual(len(client.get_random_bytes(16)), 16)

    def test_policy_removed_denies_again(self):
        s = self.server
        p = s.admin_principal("matrix-removed")
        client = s.principal_key_client(p)
        cred = s.principal_credential(p)
        claims = s.token_claims(cred.get_token(s.local_resource + "/.default").token)
        s.grant(p["objectId"], ["get"])
        self.assertEqual(client.get_key("mx-ec").name, "mx-ec")
        r = s.admin("DELETE", "vaults/dev/accessPolicies/%s" % p["objectId"])
        self.assertEqual(r.status, 204, r)
        self.assertAccessDenied(lambda: client.get_key("mx-ec"), "get", claims=claims)

    def test_policy_is_per_vault(self):
        s = self.server
        p = s.admin_principal("matrix-other")
        cred = s.principal_credential(p)
        claims = s.token_claims(cred.get_token(s.local_resource + "/.default").token)
        s.grant(p["objectId"], ["all"], vault="other")
        other = s.principal_key_client(p, vault="other")
        other.create_ec_key("mx-in-other", curve="P-256")
        self.assertEqual(other.get_key("mx-in-other").name, "mx-in-other")
        dev = s.principal_key_client(p, vault="dev")
        self.assertAccessDenied(lambda: dev.get_key("mx-ec"), "get", claims=claims)
        self.assertAccessDenied(lambda: dev.create_ec_key("mx-in-dev"), "create", claims=claims)
        # ...and the 403 on `other` names vault `other`.
        s.grant(p["objectId"], ["get"], vault="other")
        self.assertAccessDenied(lambda: other.create_ec_key("mx-in-other-2"), "create",
                                vault="other", claims=claims)

    def test_permission_names_and_all(self):
        s = self.server
        p = s.admin_principal("matrix-names")
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % p["objectId"],
                    {"permissions": {"keys": ["GET", "WrapKey", "unwrapkey", "get"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json()["permissions"]["keys"]), ["get", "unwrapKey", "wrapKey"])
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % p["objectId"],
                    {"permissions": {"keys": ["all"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json()["permissions"]["keys"]), sorted(ALL_KEY_PERMISSIONS))
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % p["objectId"],
                    {"permissions": {"keys": ["get", "frobnicate"]}})
        self.assertJsonError(r, 400)
        # The failed PUT changed nothing.
        r = s.admin("GET", "vaults/dev/accessPolicies")
        self.assertEqual(r.status, 200, r)
        mine = [x for x in r.json()["value"] if x["objectId"] == p["objectId"]]
        self.assertEqual(len(mine), 1, mine)
        self.assertEqual(sorted(mine[0]["permissions"]["keys"]), sorted(ALL_KEY_PERMISSIONS))
        # Setting secrets leaves the key permissions alone (like az keyvault set-policy).
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % p["objectId"],
                    {"permissions": {"secrets": ["get"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json()["permissions"]["keys"]), sorted(ALL_KEY_PERMISSIONS))
        self.assertEqual(r.json()["permissions"]["secrets"], ["get"])

    def test_compound_identity_application_id(self):
        s = self.server
        p = s.admin_principal("matrix-compound")
        client = s.principal_key_client(p)
        cred = s.principal_credential(p)
        claims = s.token_claims(cred.get_token(s.local_resource + "/.default").token)
        # A policy for (this object id, another application) does not apply to this caller.
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % p["objectId"],
                    {"applicationId": "11111111-2222-3333-4444-555555555555",
                     "permissions": {"keys": ["get"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("applicationId"), "11111111-2222-3333-4444-555555555555")
        self.assertAccessDenied(lambda: client.get_key("mx-ec"), "get", claims=claims)
        # ...one for (object id, its own application) does.
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s?applicationId=%s"
                    % (p["objectId"], p["appId"]), {"permissions": {"keys": ["get"]}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(client.get_key("mx-ec").name, "mx-ec")

    def test_403_through_raw_request(self):
        """The wire form: status, content type, error.code, innererror.code, message."""
        s = self.server
        self.set_keys(["get"])
        r = s.api("POST", "/keys/mx-raw/create", body={"kty": "EC", "crv": "P-256"},
                  token=self.principal_token())
        err = self.assertJsonError(r, 403, "Forbidden", message=ap_message(self.claims, "create", "dev"))
        self.assertEqual(err.get("innererror"), {"code": "AccessDenied"})
        self.assertIsNone(r.header("WWW-Authenticate"))
        self.assertJsonError(s.api("GET", "/keys/mx-raw"), 404, "KeyNotFound")

    def test_dev_identity_has_every_permission_on_dev_vaults(self):
        s = self.server
        claims = s.token_claims(s.msi_token())
        for vault in ("dev", "other"):
            r = s.admin("GET", "vaults/%s/accessPolicies" % vault)
            self.assertEqual(r.status, 200, r)
            mine = [x for x in r.json()["value"] if x["objectId"] == claims["oid"]]
            self.assertEqual(len(mine), 1, r.json())
            self.assertEqual(sorted(mine[0]["permissions"]["keys"]), sorted(ALL_KEY_PERMISSIONS))

    # ---- the quickstart, Azure style --------------------------------------------------------

    def run_quickstart(self, name, env):
        return subprocess.run([h.PYTHON, os.path.join(QS_DIR, "kv_keys.py")], input=name + "\n",
                              capture_output=True, text=True, env=env, timeout=120,
                              cwd=self.server.root)

    def run_cli(self, *args):
        s = self.server
        p = subprocess.run([h.COFFRE_BIN] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60, env=s.env())
        self.assertEqual(p.returncode, 0, "coffre %s: %s %s" % (" ".join(args), p.stdout, p.stderr))
        return p

    def test_quickstart_new_vault_principal_policy(self):
        s = self.server
        vault = "qs-azure"
        use_cli = cli_has_vault_commands(s)
        if use_cli:
            # az-style: `coffre vault create --name V` (server and admin token from dev.env).
            self.run_cli("vault", "create", "--name", vault)
            j = self.assertOk(s.admin("GET", "vaults/%s" % vault))
        else:
            # No `coffre vault` commands in this build: the admin API does the same.
            j = s.create_vault(vault)
        self.assertEqual(j["uri"], s.vault_url(vault))
        # The dev certificate covers the new name at once (no restart).
        s.tls_socket(sni="%s.localhost" % vault).close()
        principal = s.admin_principal("qs-azure-app")

        def set_policy(*permissions):
            if use_cli:
                self.run_cli("vault", "set-policy", "--name", vault, "--object-id",
                             principal["objectId"], "--key-permissions", *permissions)
            else:
                s.grant(principal["objectId"], permissions, vault=vault)

        set_policy("get", "list", "create", "delete")
        env = s.adfs_env(principal, KEY_VAULT_NAME=vault, COFFRE_VAULT_URL=s.vault_url(vault))
        self.assertNotIn("IDENTITY_ENDPOINT", env)
        p = self.run_quickstart("qs-azure-key", env)
        detail = "rc=%s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertEqual(p.stdout.splitlines(), [
            "Input a name for your key > Creating a key in %s called 'qs-azure-key' ..." % vault,
            " done.",
            "Retrieving your key from %s." % vault,
            "Key with name 'qs-azure-key' was found.",
            "Deleting your key from %s ..." % vault,
            " done."], detail)
        # It landed in the new vault (the dev identity may read there), not in dev.
        r = s.api("GET", "/deletedkeys/qs-azure-key", host=s.vault_host(vault))
        self.assertOk(r)
        self.assertEqual(r.json()["recoveryId"], "%s/deletedkeys/qs-azure-key" % s.vault_url(vault))
        self.assertJsonError(s.api("GET", "/deletedkeys/qs-azure-key"), 404)

        # `get list` only: the create is refused with Key Vault's 403.
        set_policy("get", "list")
        p = self.run_quickstart("qs-azure-denied", env)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("does not have keys create permission on key vault '%s;location=local'"
                      % vault, out)
        self.assertIn("AccessDenied", out)
        self.assertIn("appid=%s;oid=%s" % (principal["appId"], principal["objectId"]), out)
        self.assertJsonError(s.api("GET", "/keys/qs-azure-denied", host=s.vault_host(vault)),
                             404, "KeyNotFound")


class RawHttpError(Exception):
    """An error answer to a raw harness request, shaped like HttpResponseError for the checks."""

    def __init__(self, r):
        super().__init__("%s %r" % (r.status, r.body[:400]))
        self.status_code = r.status
        self.response = self
        self._body = r.body

    def text(self, encoding=None):
        return self._body.decode(encoding or "utf-8", errors="replace")


def cli_has_vault_commands(server):
    """True once `coffre vault --help` describes a vault command with create and set-policy
    (an unknown subcommand prints the top-level help instead)."""
    try:
        p = server.cli("vault", "--help", timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return (p.returncode == 0 and re.search(r"Usage: \S*coffre vault\b", p.stdout) is not None
            and "create" in p.stdout and "set-policy" in p.stdout)


def _make(op, permission, granted):
    def test(self):
        if granted:
            self.run_granted(op, permission)
        else:
            self.run_denied(op, permission)
    test.__doc__ = "%s with keys/%s %s" % (op, permission, "granted" if granted else "not granted")
    return test


for _op, _perm in OPERATIONS:
    setattr(AccessPolicyTest, "test_matrix_%s_1_denied" % _op, _make(_op, _perm, False))
    setattr(AccessPolicyTest, "test_matrix_%s_2_granted" % _op, _make(_op, _perm, True))


if __name__ == "__main__":
    h.main()
