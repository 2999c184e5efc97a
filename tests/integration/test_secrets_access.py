"""Who may do what with secrets: access policies (secret permissions set with
`coffre vault set-policy --secret-permissions`, Azure's names) and RBAC (the secrets data actions,
the built-in roles that carry them, scopes down to one secret), with Key Vault's 403 shapes; and
the audit log, which records every secret operation but never a value."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

KV = "Microsoft.KeyVault/vaults/"
SECRET_VALUE = "AUDIT-MUST-NOT-SEE-7c1e"


class SecretsAccessTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        s.create_vault("pol")
        s.create_vault("rbv", enableRbacAuthorization=True)
        dev = s.token_claims(s.msi_token())
        s.assign_role("Key Vault Administrator", dev["oid"], "/vaults/rbv")
        for vault in ("pol", "rbv"):
            for name in ("alpha", "beta"):
                r = s.api("PUT", "/secrets/" + name, body={"value": "v-" + name},
                          host=s.vault_host(vault))
                assert r.status == 200, r
        cls.counter = 0

    def principal(self):
        s = self.server
        type(self).counter += 1
        name = "sec-p-%d" % self.counter
        p = s.admin_principal(name)
        return p, s.principal_token(name)

    def call(self, token, method, path, vault, body=None):
        return self.server.api(method, path, body=body, host=self.server.vault_host(vault),
                               token=token)

    def run_cli(self, *args):
        p = subprocess.run([h.COFFRE_BIN] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60, env=self.server.env())
        self.assertEqual(p.returncode, 0, "coffre %s: %s %s" % (" ".join(args), p.stdout,
                                                                 p.stderr))
        return p

    # ---- access policies ------------------------------------------------------------------

    def test_policy_secret_permissions_from_the_cli(self):
        p, token = self.principal()
        self.run_cli("vault", "set-policy", "--name", "pol", "--object-id", p["objectId"],
                     "--secret-permissions", "get", "list")
        policies = self.server.admin("GET", "vaults/pol/accessPolicies").json()
        entry = [e for e in policies["value"] if e["objectId"] == p["objectId"]][0]
        self.assertEqual(sorted(entry["permissions"]["secrets"]), ["get", "list"])

        self.assertOk(self.call(token, "GET", "/secrets/alpha", "pol"))
        self.assertOk(self.call(token, "GET", "/secrets", "pol"))
        r = self.call(token, "PUT", "/secrets/alpha", "pol", body={"value": "x"})
        err = self.assertJsonError(r, 403, "Forbidden")
        self.assertEqual(err["innererror"]["code"], "AccessDenied")
        self.assertIn("does not have secrets set permission on key vault 'pol;location=local'",
                      err["message"])
        for method, path in (("DELETE", "/secrets/alpha"), ("POST", "/secrets/alpha/backup"),
                             ("PATCH", "/secrets/alpha/")):
            r = self.call(token, method, path, "pol", body={} if method == "PATCH" else None)
            self.assertEqual(r.status, 403, (method, path, r))
        # Key permissions do not open secrets, nor secret permissions keys.
        r = self.call(token, "GET", "/keys", "pol")
        self.assertIn("does not have keys list permission", r.error["message"])

        # "all" expands to every secret permission; key permissions stay as they were.
        self.run_cli("vault", "set-policy", "--name", "pol", "--object-id", p["objectId"],
                     "--secret-permissions", "all")
        self.server.admin("GET", "vaults/pol/accessPolicies")
        self.assertOk(self.call(token, "PUT", "/secrets/gamma", "pol", body={"value": "g"}))
        self.assertOk(self.call(token, "DELETE", "/secrets/gamma", "pol"))
        r = self.call(token, "DELETE", "/deletedsecrets/gamma", "pol")
        self.assertEqual(r.status, 204, r)

    def test_policy_each_operation_needs_its_permission(self):
        p, token = self.principal()
        cases = [
            ("get", "GET", "/secrets/alpha", None),
            ("list", "GET", "/secrets/alpha/versions", None),
            ("list", "GET", "/deletedsecrets", None),
            ("set", "PUT", "/secrets/alpha", {"value": "x"}),
            ("delete", "DELETE", "/secrets/nope", None),
            ("backup", "POST", "/secrets/alpha/backup", None),
            ("restore", "POST", "/secrets/restore", {"value": "AAAA"}),
            ("recover", "POST", "/deletedsecrets/nope/recover", None),
            ("purge", "DELETE", "/deletedsecrets/nope", None),
        ]
        for permission, method, path, body in cases:
            r = self.call(token, method, path, "pol", body=body)
            self.assertEqual(r.status, 403, (permission, path, r))
            self.assertIn("does not have secrets %s permission" % permission, r.error["message"])
        self.server.admin("PUT", "vaults/pol/accessPolicies/" + p["objectId"],
                          {"permissions": {"secrets": [c[0] for c in cases]}})
        for permission, method, path, body in cases:
            r = self.call(token, method, path, "pol", body=body)
            self.assertNotEqual(r.status, 403, (permission, path, r))

    # ---- RBAC -----------------------------------------------------------------------------

    def assertRbacDenied(self, r, action, resource):
        err = self.assertJsonError(r, 403, "Forbidden")
        self.assertEqual(err["innererror"]["code"], "ForbiddenByRbac")
        self.assertIn("Action: '%s'" % action, err["message"])
        self.assertIn("Resource: '%s'" % resource, err["message"])

    def test_secrets_user_reads_values_but_cannot_write(self):
        p, token = self.principal()
        self.server.assign_role("Key Vault Secrets User", p["objectId"], "/vaults/rbv")
        r = self.call(token, "GET", "/secrets/alpha", "rbv")
        self.assertOk(r)
        self.assertEqual(r.json()["value"], "v-alpha")
        self.assertOk(self.call(token, "GET", "/secrets", "rbv"))
        r = self.call(token, "PUT", "/secrets/alpha", "rbv", body={"value": "x"})
        self.assertRbacDenied(r, KV + "secrets/setSecret/action", "/vaults/rbv/secrets/alpha")
        r = self.call(token, "PATCH", "/secrets/alpha/", "rbv", body={"tags": {}})
        self.assertRbacDenied(r, KV + "secrets/update/action", "/vaults/rbv/secrets/alpha")
        r = self.call(token, "DELETE", "/secrets/alpha", "rbv")
        self.assertRbacDenied(r, KV + "secrets/delete", "/vaults/rbv/secrets/alpha")
        # Keys stay closed.
        self.assertEqual(self.call(token, "GET", "/keys", "rbv").status, 403)

    def test_reader_sees_metadata_never_values(self):
        p, token = self.principal()
        self.server.assign_role("Key Vault Reader", p["objectId"], "/vaults/rbv")
        r = self.call(token, "GET", "/secrets", "rbv")
        self.assertOk(r)
        self.assertTrue(all("value" not in i for i in r.json()["value"]))
        self.assertOk(self.call(token, "GET", "/secrets/alpha/versions", "rbv"))
        r = self.call(token, "GET", "/secrets/alpha", "rbv")
        self.assertRbacDenied(r, KV + "secrets/getSecret/action", "/vaults/rbv/secrets/alpha")
        self.assertNotIn(b"v-alpha", r.body)
        r = self.call(token, "POST", "/secrets/alpha/backup", "rbv")
        self.assertRbacDenied(r, KV + "secrets/backup/action", "/vaults/rbv/secrets/alpha")

    def test_secrets_officer_manages_secrets(self):
        p, token = self.principal()
        self.server.assign_role("Key Vault Secrets Officer", p["objectId"], "/vaults/rbv")
        self.assertOk(self.call(token, "PUT", "/secrets/officer", "rbv", body={"value": "o"}))
        self.assertOk(self.call(token, "GET", "/secrets/officer", "rbv"))
        blob = self.call(token, "POST", "/secrets/officer/backup", "rbv").json()["value"]
        self.assertOk(self.call(token, "DELETE", "/secrets/officer", "rbv"))
        self.assertOk(self.call(token, "GET", "/deletedsecrets/officer", "rbv"))
        self.assertOk(self.call(token, "POST", "/deletedsecrets/officer/recover", "rbv"))
        self.assertOk(self.call(token, "DELETE", "/secrets/officer", "rbv"))
        self.assertEqual(self.call(token, "DELETE", "/deletedsecrets/officer", "rbv").status, 204)
        self.assertOk(self.call(token, "POST", "/secrets/restore", "rbv", body={"value": blob}))
        # No key rights.
        self.assertEqual(self.call(token, "GET", "/keys", "rbv").status, 403)

    def test_scope_of_one_secret(self):
        p, token = self.principal()
        a = self.server.assign_role("Key Vault Secrets User", p["objectId"],
                                    "/vaults/rbv/secrets/alpha")
        self.assertEqual(a["scope"], "/vaults/rbv/secrets/alpha")
        self.assertOk(self.call(token, "GET", "/secrets/alpha", "rbv"))
        self.assertOk(self.call(token, "GET", "/secrets/ALPHA", "rbv"))
        r = self.call(token, "GET", "/secrets/beta", "rbv")
        self.assertRbacDenied(r, KV + "secrets/getSecret/action", "/vaults/rbv/secrets/beta")
        r = self.call(token, "GET", "/secrets", "rbv")
        self.assertRbacDenied(r, KV + "secrets/readMetadata/action", "/vaults/rbv")
        # A key scope of the same name does not open the secret.
        q, token2 = self.principal()
        self.server.assign_role("Key Vault Administrator", q["objectId"], "/vaults/rbv/keys/beta")
        self.assertEqual(self.call(token2, "GET", "/secrets/beta", "rbv").status, 403)

    # ---- audit ----------------------------------------------------------------------------

    def test_audit_records_secret_operations_without_values(self):
        s = self.server
        self.assertOk(s.api("PUT", "/secrets/audited", body={"value": SECRET_VALUE}))
        self.assertOk(s.api("GET", "/secrets/audited"))
        self.assertOk(s.api("DELETE", "/secrets/audited"))
        lines = s.audit_lines()
        ops = [(line["operation"], line["keyName"]) for line in lines
               if line.get("keyName") == "audited"]
        self.assertIn(("SetSecret", "audited"), ops)
        self.assertIn(("GetSecret", "audited"), ops)
        self.assertIn(("DeleteSecret", "audited"), ops)
        self.assertNotIn(SECRET_VALUE, json.dumps(lines))
        self.assertNotIn(SECRET_VALUE, s.log_text())


if __name__ == "__main__":
    h.main()
