"""Azure RBAC on vaults created with enableRbacAuthorization (admin API).

- The dev identity has no rights on an RBAC vault until a role is assigned, although it holds an
  access policy there: policies do not apply to RBAC vaults (and roles do not apply to policy
  vaults).
- Each built-in key role: representative allowed and denied keys operations, with tokens from
  POST principals/{name}/token and, for some, through the SDK signed in via ADFS.
- Scopes: key (/vaults/V/keys/K: that key only, no listing), vault (/vaults/V), and "/".
- A refusal is 403 Forbidden / ForbiddenByRbac with Key Vault's message.
"""

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm  # noqa: E402

KV = "Microsoft.KeyVault/vaults/"
READ = KV + "keys/read"
DIGEST = hashlib.sha256(b"rbac").digest()
PLAINTEXT = b"rbac plaintext"
CEK = bytes(range(32, 64))

EC_BODY = {"kty": "EC", "crv": "P-256"}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def rbac_message(claims, action, vault, key=None):
    resource = "/vaults/%s" % vault + ("/keys/%s" % key if key else "")
    return ("Caller is not authorized to perform action on resource.\r\n"
            "If role assignments, deny assignments or role definitions were changed recently, "
            "please observe propagation time.\r\n"
            "Caller: appid=%s;oid=%s;iss=%s\r\n"
            "Action: '%s'\r\n"
            "Resource: '%s'\r\n"
            "Assignment: (not found)\r\n"
            "DenyAssignmentId: null\r\n"
            "DecisionReason: null \r\n"
            "Vault: %s;location=local\r\n"
            % (claims["appid"], claims["oid"], claims["iss"], action, resource, vault))


class RbacTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.vault_json = s.create_vault("rbac", enableRbacAuthorization=True)
        s.create_vault("rbac2", enableRbacAuthorization=True)
        cls.dev_claims = s.token_claims(s.msi_token())
        host = s.vault_host("rbac")
        # Before any role assignment.
        cls.before = {
            "list": s.api("GET", "/keys", host=host),
            "create": s.api("POST", "/keys/rb-early/create", body=EC_BODY, host=host),
            "get": s.api("GET", "/keys/rb-early", host=host),
            "rng": s.api("POST", "/rng", body={"count": 8}, host=host),
            "policies": s.admin("GET", "vaults/rbac/accessPolicies"),
        }
        cls.dev_assignment = s.assign_role("Key Vault Administrator", cls.dev_claims["oid"],
                                           "/vaults/rbac")
        s.assign_role("Key Vault Administrator", cls.dev_claims["oid"], "/vaults/rbac2")

        def make(name, body, vault="rbac"):
            r = s.api("POST", "/keys/%s/create" % name, body=body, host=s.vault_host(vault))
            if r.status != 200:
                raise h.HarnessError("fixture %s: %r" % (name, r))
            return r.json()["key"]["kid"]

        cls.ec_kid = make("rb-ec", EC_BODY)
        cls.ec_version = cls.ec_kid.rsplit("/", 1)[1]
        cls.rsa_kid = make("rb-rsa", {"kty": "RSA", "key_size": 2048})
        cls.rsa_version = cls.rsa_kid.rsplit("/", 1)[1]
        make("rb-gone", EC_BODY)
        assert s.api("DELETE", "/keys/rb-gone", host=host).status == 200
        cls.ec2_kid = make("rb2-ec", EC_BODY, vault="rbac2")

        def crypto(kid_version_path, op, body):
            r = s.api("POST", "%s/%s" % (kid_version_path, op), body=body, host=host)
            if r.status != 200:
                raise h.HarnessError("fixture %s: %r" % (op, r))
            return r.json()["value"]

        rsa_path = "/keys/rb-rsa/" + cls.rsa_version
        ec_path = "/keys/rb-ec/" + cls.ec_version
        cls.ciphertext = crypto(rsa_path, "encrypt", {"alg": "RSA-OAEP-256", "value": b64u(PLAINTEXT)})
        cls.wrapped = crypto(rsa_path, "wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(CEK)})
        cls.signature = crypto(ec_path, "sign", {"alg": "ES256", "value": b64u(DIGEST)})
        r = s.api("POST", "/keys/rb-ec/backup", host=host)
        cls.backup_blob = r.json()["value"]
        cls.counter = 0

    # ---- helpers --------------------------------------------------------------------------

    @classmethod
    def unique(cls, prefix):
        cls.counter += 1
        return "%s-%d" % (prefix, cls.counter)

    def role_principal(self, role, scope="/vaults/rbac"):
        s = self.server
        slug = (role or "none").lower().replace("key vault ", "").replace(" ", "-")
        name = self.unique("p-" + slug)
        p = s.admin_principal(name)
        if role:
            a = s.assign_role(role, p["objectId"], scope)
            self.assertEqual(a["roleName"], role)
            self.assertEqual(a["principalId"], p["objectId"])
            self.assertEqual(a["scope"], scope)
        token = s.principal_token(name)
        claims = s.token_claims(token)
        self.assertEqual(claims["oid"], p["objectId"])
        return p, token, claims

    def op(self, token, name, key="rb-ec", vault="rbac"):
        """One keys operation as a raw request. Returns (response, data action, key in the 403
        resource or None)."""
        s = self.server
        ec = "/keys/%s/%s" % (key, self.ec_version if key == "rb-ec" else "")
        rsa = "/keys/rb-rsa/" + self.rsa_version
        table = {
            "list": ("GET", "/keys", None, READ, None),
            "versions": ("GET", "/keys/%s/versions" % key, None, READ, key),
            "get": ("GET", "/keys/%s" % key, None, READ, key),
            "create": ("POST", "/keys/%s/create" % key, EC_BODY, KV + "keys/create/action", key),
            "import": ("PUT", "/keys/%s" % key, {"key": {"kty": "oct", "k": b64u(os.urandom(32))}},
                       KV + "keys/import/action", key),
            "update": ("PATCH", "/keys/%s" % key, {"tags": {"rbac": "1"}},
                       KV + "keys/update/action", key),
            "delete": ("DELETE", "/keys/%s" % key, None, KV + "keys/delete", key),
            "backup": ("POST", "/keys/%s/backup" % key, None, KV + "keys/backup/action", key),
            "restore": ("POST", "/keys/restore", {"value": self.backup_blob},
                        KV + "keys/restore/action", None),
            "rotate": ("POST", "/keys/%s/rotate" % key, None, KV + "keys/rotate/action", key),
            "getpolicy": ("GET", "/keys/%s/rotationpolicy" % key, None,
                          KV + "keyrotationpolicies/read", key),
            "setpolicy": ("PUT", "/keys/%s/rotationpolicy" % key,
                          {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                                "action": {"type": "Notify"}}],
                           "attributes": {"expiryTime": "P90D"}},
                          KV + "keyrotationpolicies/write", key),
            "encrypt": ("POST", rsa + "/encrypt", {"alg": "RSA-OAEP-256", "value": b64u(PLAINTEXT)},
                        KV + "keys/encrypt/action", "rb-rsa"),
            "decrypt": ("POST", rsa + "/decrypt", {"alg": "RSA-OAEP-256", "value": self.ciphertext},
                        KV + "keys/decrypt/action", "rb-rsa"),
            "wrap": ("POST", rsa + "/wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(CEK)},
                     KV + "keys/wrap/action", "rb-rsa"),
            "unwrap": ("POST", rsa + "/unwrapkey", {"alg": "RSA-OAEP-256", "value": self.wrapped},
                       KV + "keys/unwrap/action", "rb-rsa"),
            "sign": ("POST", ec + "/sign", {"alg": "ES256", "value": b64u(DIGEST)},
                     KV + "keys/sign/action", key),
            "verify": ("POST", ec + "/verify", {"alg": "ES256", "digest": b64u(DIGEST),
                                                "value": self.signature},
                       KV + "keys/verify/action", key),
            "release": ("POST", ec + "/release", {"target": "not-an-attestation-token"},
                        KV + "keys/release/action", key),
            "listdeleted": ("GET", "/deletedkeys", None, READ, None),
            "getdeleted": ("GET", "/deletedkeys/%s" % key, None, READ, key),
            "purge": ("DELETE", "/deletedkeys/%s" % key, None, KV + "keys/purge/action", key),
            "recover": ("POST", "/deletedkeys/%s/recover" % key, None,
                        KV + "keys/recover/action", key),
            "rng": ("POST", "/rng", {"count": 8}, KV + "rng/action", None),
        }
        method, path, body, action, res_key = table[name]
        r = s.api(method, path, body=body, token=token, host=s.vault_host(vault))
        return r, action, res_key

    def assertAllowed(self, token, name, status=200, **kw):
        r, action, _ = self.op(token, name, **kw)
        self.assertEqual(r.status, status, "%s %s: %r" % (name, kw, r))
        if name == "decrypt":
            self.assertEqual(base64.urlsafe_b64decode(r.json()["value"] + "=="), PLAINTEXT)
        if name == "unwrap":
            self.assertEqual(base64.urlsafe_b64decode(r.json()["value"] + "=="), CEK)
        if name == "verify":
            self.assertIs(r.json()["value"], True)
        return r

    def assertDenied(self, token, claims, name, **kw):
        r, action, res_key = self.op(token, name, **kw)
        vault = kw.get("vault", "rbac")
        err = self.assertJsonError(r, 403, "Forbidden",
                                   message=rbac_message(claims, action, vault, res_key))
        self.assertEqual(err.get("innererror"), {"code": "ForbiddenByRbac"}, r)
        return r

    # ---- the dev identity ------------------------------------------------------------------

    def test_00_vault_settings(self):
        self.assertIs(self.vault_json["enableRbacAuthorization"], True)
        r = self.server.admin("GET", "vaults/rbac")
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["enableRbacAuthorization"], True)

    def test_01_dev_identity_has_no_rights_before_a_role(self):
        b, c = self.before, self.dev_claims
        # It holds a full access policy there (made in --dev), which does not count.
        self.assertEqual(b["policies"].status, 200, b["policies"])
        self.assertIn(c["oid"], [p["objectId"] for p in b["policies"].json()["value"]])
        for name, action, key in (("list", READ, None),
                                  ("create", KV + "keys/create/action", "rb-early"),
                                  ("get", READ, "rb-early"),
                                  ("rng", KV + "rng/action", None)):
            with self.subTest(op=name):
                err = self.assertJsonError(b[name], 403, "Forbidden",
                                           message=rbac_message(c, action, "rbac", key))
                self.assertEqual(err.get("innererror"), {"code": "ForbiddenByRbac"})

    def test_02_dev_identity_after_role_and_after_removal(self):
        s = self.server
        host = s.vault_host("rbac")
        self.assertOk(s.api("GET", "/keys", host=host))
        self.assertOk(s.api("GET", "/keys/rb-ec", host=host))
        # A second assignment at "/" for a moment, then the vault one goes: "/" still works.
        root = s.assign_role("Key Vault Reader", self.dev_claims["oid"], "/")
        try:
            r = s.admin("DELETE", "roleAssignments/%s" % self.dev_assignment["id"])
            self.assertEqual(r.status, 204, r)
            self.assertOk(s.api("GET", "/keys/rb-ec", host=host))
            # Reader cannot create.
            r = s.api("POST", "/keys/rb-dev-new/create", body=EC_BODY, host=host)
            self.assertJsonError(r, 403, "Forbidden", message=rbac_message(
                self.dev_claims, KV + "keys/create/action", "rbac", "rb-dev-new"))
        finally:
            type(self).dev_assignment = s.assign_role("Key Vault Administrator",
                                                      self.dev_claims["oid"], "/vaults/rbac")
            self.assertEqual(s.admin("DELETE", "roleAssignments/%s" % root["id"]).status, 204)
        r = s.api("POST", "/keys/rb-dev-new/create", body=EC_BODY, host=host)
        self.assertOk(r)

    # ---- built-in roles (vault scope) ------------------------------------------------------

    def test_role_administrator(self):
        p, tok, c = self.role_principal("Key Vault Administrator")
        name = self.unique("adm")
        for op in ("list", "get", "sign", "getpolicy", "listdeleted"):
            self.assertAllowed(tok, op)
        self.assertAllowed(tok, "create", key=name)
        self.assertAllowed(tok, "delete", key=name)
        self.assertAllowed(tok, "purge", key=name, status=204)
        # Not outside its scope.
        for op in ("list", "get", "create"):
            self.assertDenied(tok, c, op, key="rb2-ec", vault="rbac2")

    def test_role_crypto_officer(self):
        p, tok, c = self.role_principal("Key Vault Crypto Officer")
        name = self.unique("off")
        for op in ("list", "get", "backup", "getpolicy", "setpolicy", "sign", "rng"):
            self.assertAllowed(tok, op)
        self.assertAllowed(tok, "create", key=name)
        self.assertAllowed(tok, "rotate", key=name)
        self.assertAllowed(tok, "delete", key=name)
        self.assertAllowed(tok, "getdeleted", key=name)
        self.assertAllowed(tok, "recover", key=name)
        self.assertAllowed(tok, "delete", key=name)
        self.assertAllowed(tok, "purge", key=name, status=204)
        self.assertDenied(tok, c, "get", key="rb2-ec", vault="rbac2")
        self.assertDenied(tok, c, "create", key="rb2-new", vault="rbac2")

    def test_role_crypto_user(self):
        p, tok, c = self.role_principal("Key Vault Crypto User")
        for op in ("list", "versions", "get", "update", "backup", "encrypt", "decrypt", "wrap",
                   "unwrap", "sign", "verify", "listdeleted", "rng"):
            self.assertAllowed(tok, op)
        for op in ("create", "import", "rotate", "getpolicy", "setpolicy", "restore", "release"):
            self.assertDenied(tok, c, op, key="rb-cu-new" if op in ("create", "import") else "rb-ec")
        self.assertDenied(tok, c, "delete", key="rb-nothing")
        self.assertDenied(tok, c, "purge", key="rb-gone")
        self.assertDenied(tok, c, "recover", key="rb-gone")
        self.assertOk(self.server.api("GET", "/keys/rb-ec", host=self.server.vault_host("rbac")))

    def test_role_crypto_service_encryption_user(self):
        p, tok, c = self.role_principal("Key Vault Crypto Service Encryption User")
        for op in ("get", "list", "wrap", "unwrap"):
            self.assertAllowed(tok, op)
        for op in ("encrypt", "decrypt", "sign", "verify", "update", "backup"):
            self.assertDenied(tok, c, op)
        self.assertDenied(tok, c, "create", key="rb-cseu-new")

    def test_role_crypto_service_release_user(self):
        p, tok, c = self.role_principal("Key Vault Crypto Service Release User")
        # Allowed by the role; then refused by the operation (keys are not exportable here).
        r, _, _ = self.op(tok, "release")
        self.assertNotEqual(r.status, 403, r)
        self.assertEqual(r.status, 400, r)
        for op in ("get", "list", "sign", "wrap"):
            self.assertDenied(tok, c, op)

    def test_role_reader(self):
        p, tok, c = self.role_principal("Key Vault Reader")
        for op in ("list", "versions", "get", "getpolicy", "listdeleted"):
            self.assertAllowed(tok, op)
        self.assertAllowed(tok, "getdeleted", key="rb-gone")
        for op in ("sign", "decrypt", "encrypt", "update", "backup", "setpolicy", "rng"):
            self.assertDenied(tok, c, op)
        self.assertDenied(tok, c, "delete", key="rb-nothing")
        self.assertDenied(tok, c, "create", key="rb-reader-new")
        self.assertDenied(tok, c, "purge", key="rb-gone")

    def test_role_secrets_officer(self):
        p, tok, c = self.role_principal("Key Vault Secrets Officer")
        for op in ("list", "get", "sign", "getpolicy"):
            self.assertDenied(tok, c, op)
        self.assertDenied(tok, c, "create", key="rb-so-new")

    def test_role_secrets_user(self):
        p, tok, c = self.role_principal("Key Vault Secrets User")
        for op in ("list", "get", "decrypt"):
            self.assertDenied(tok, c, op)

    def test_no_role_at_all(self):
        p, tok, c = self.role_principal(None)
        # Default deny: random bytes too (they need the rng action).
        for op in ("list", "get", "sign", "rng"):
            self.assertDenied(tok, c, op)

    # ---- scopes ----------------------------------------------------------------------------

    def test_key_scope_allows_that_key_only(self):
        p, tok, c = self.role_principal("Key Vault Crypto User", scope="/vaults/rbac/keys/rb-ec")
        for op in ("get", "versions", "sign", "verify", "update"):
            self.assertAllowed(tok, op)
        # Another key of the same vault, listing, and the same key name in another vault.
        self.assertDenied(tok, c, "get", key="rb-rsa")
        self.assertDenied(tok, c, "encrypt")
        self.assertDenied(tok, c, "list")
        self.assertDenied(tok, c, "listdeleted")
        self.assertDenied(tok, c, "get", key="rb-ec", vault="rbac2")

    def test_vault_scope_is_that_vault_only(self):
        p, tok, c = self.role_principal("Key Vault Reader", scope="/vaults/rbac2")
        self.assertAllowed(tok, "get", key="rb2-ec", vault="rbac2")
        self.assertAllowed(tok, "list", vault="rbac2")
        self.assertDenied(tok, c, "get")
        self.assertDenied(tok, c, "list")

    def test_root_scope_covers_every_rbac_vault(self):
        p, tok, c = self.role_principal("Key Vault Reader", scope="/")
        self.assertAllowed(tok, "list")
        self.assertAllowed(tok, "get")
        self.assertAllowed(tok, "list", vault="rbac2")
        self.assertAllowed(tok, "get", key="rb2-ec", vault="rbac2")
        self.assertDenied(tok, c, "sign")

    def test_roles_do_not_apply_to_policy_vaults(self):
        s = self.server
        p, tok, c = self.role_principal("Key Vault Administrator", scope="/")
        r = s.api("GET", "/keys", token=tok)   # vault dev: access policies
        err = self.assertJsonError(r, 403, "Forbidden")
        self.assertEqual(err.get("innererror"), {"code": "AccessDenied"}, r)
        self.assertIn("does not have keys list permission on key vault 'dev;location=local'",
                      err["message"])

    def test_policies_do_not_apply_to_rbac_vaults(self):
        s = self.server
        p, tok, c = self.role_principal(None)
        s.grant(p["objectId"], ["all"], vault="rbac")
        self.assertDenied(tok, c, "get")
        self.assertDenied(tok, c, "list")

    def test_assignment_removed_takes_effect_at_once(self):
        s = self.server
        p, tok, c = self.role_principal(None)
        a = s.assign_role("Key Vault Reader", p["objectId"], "/vaults/rbac")
        self.assertAllowed(tok, "get")
        r = s.admin("GET", "roleAssignments?scope=/vaults/rbac")
        self.assertEqual(r.status, 200, r)
        self.assertIn(a["id"], [x["id"] for x in r.json()["value"]])
        self.assertEqual(s.admin("DELETE", "roleAssignments/%s" % a["id"]).status, 204)
        self.assertDenied(tok, c, "get")

    def test_role_by_definition_id_and_case(self):
        s = self.server
        p, tok, c = self.role_principal(None)
        a = s.assign_role("21090545-7ca7-4776-b22c-e363652d74d2", p["objectId"], "/vaults/rbac")
        self.assertEqual(a["roleName"], "Key Vault Reader")
        self.assertEqual(a["roleDefinitionId"], "21090545-7ca7-4776-b22c-e363652d74d2")
        self.assertAllowed(tok, "get")
        p2, tok2, c2 = self.role_principal(None)
        a2 = s.assign_role("key vault crypto user", p2["objectId"], "/VAULTS/RBAC/")
        self.assertEqual(a2["roleName"], "Key Vault Crypto User")
        self.assertEqual(a2["scope"], "/vaults/rbac")
        self.assertAllowed(tok2, "sign")

    # ---- through the SDK, signed in via ADFS ------------------------------------------------

    def test_sdk_adfs_crypto_user(self):
        s = self.server
        p = s.admin_principal(self.unique("sdk-crypto-user"))
        s.assign_role("Key Vault Crypto User", p["objectId"], "/vaults/rbac")
        cred = s.principal_credential(p)
        claims = s.token_claims(cred.get_token(s.local_resource + "/.default").token)
        self.assertEqual(claims["oid"], p["objectId"])
        client = s.principal_key_client(p, vault="rbac")
        key = client.get_key("rb-ec")
        self.assertEqual(key.id, self.ec_kid)
        self.assertIn("rb-ec", [k.name for k in client.list_properties_of_keys()])
        sig = CryptographyClient(key.id, cred).sign(SignatureAlgorithm.es256, DIGEST)
        self.assertEqual(len(sig.signature), 64)
        with self.assertRaises(HttpResponseError) as ctx:
            client.create_ec_key("rb-sdk-new")
        e = ctx.exception
        self.assertEqual(e.status_code, 403)
        err = json.loads(e.response.text())["error"]
        self.assertEqual(err["code"], "Forbidden")
        self.assertEqual(err["innererror"], {"code": "ForbiddenByRbac"})
        self.assertEqual(err["message"], rbac_message(claims, KV + "keys/create/action", "rbac",
                                                      "rb-sdk-new"))
        with self.assertRaises(HttpResponseError) as ctx:
            client.begin_delete_key("rb-nothing")
        self.assertEqual(ctx.exception.status_code, 403)

    def test_sdk_adfs_reader_and_none(self):
        s = self.server
        p = s.admin_principal(self.unique("sdk-reader"))
        client = s.principal_key_client(p, vault="rbac")
        with self.assertRaises(HttpResponseError) as ctx:
            client.get_key("rb-ec")
        self.assertEqual(ctx.exception.status_code, 403)
        self.assertIn("ForbiddenByRbac", ctx.exception.response.text())
        s.assign_role("Key Vault Reader", p["objectId"], "/vaults/rbac")
        self.assertEqual(client.get_key("rb-ec").name, "rb-ec")
        self.assertEqual(client.get_deleted_key("rb-gone").name, "rb-gone")
        with self.assertRaises(HttpResponseError) as ctx:
            client.update_key_properties("rb-ec", tags={"x": "y"})
        self.assertEqual(ctx.exception.status_code, 403)


if __name__ == "__main__":
    h.main()
