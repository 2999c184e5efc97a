"""The admin API (/coffre-admin/v1 on https://localhost:PORT, bearer = the admin token).

- Authentication: missing/wrong admin token -> 401 JSON; a data-plane token cannot call it; the
  admin token cannot call the data plane (401 with the challenge); HTTPS only.
- Vaults: create/list/get/patch/delete, validation, unknown vault 404, the dev certificate covering
  a new vault at once; purge protection (purge -> 403 with Key Vault's message, cannot be turned
  off); retention (cannot be shortened); keys' recoveryLevel/recoverableDays following the vault;
  delete refused while keys (active or deleted) exist; switching a vault to RBAC.
- Access policies, role assignments (unknown role / bad scope -> 400) and principals.
"""

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402

EC_BODY = {"kty": "EC", "crv": "P-256"}
PURGE_PROTECTED_PREFIX = ('Operation "purge" is not allowed because purge protection is enabled '
                          'for this vault. ')


class AdminApiTest(h.ServerTestCase):

    # ---- helpers --------------------------------------------------------------------------

    def on(self, vault, method, path, body=None, **kw):
        """Data-plane request to vault `vault` as the dev identity."""
        return self.server.api(method, path, body=body, host=self.server.vault_host(vault), **kw)

    def make_key(self, vault, name):
        r = self.on(vault, "POST", "/keys/%s/create" % name, EC_BODY)
        return self.assertOk(r)

    def assertUnauthorized(self, r):
        err = self.assertJsonError(r, 401, "Unauthorized")
        return err

    # ---- authentication -------------------------------------------------------------------

    def test_auth_admin_token_in_dev_env(self):
        tok = self.server.admin_token
        self.assertGreaterEqual(len(tok), 24, "COFFRE_ADMIN_TOKEN missing from dev.env")
        path = os.path.join(self.server.data_dir, "admin.token")
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

    def test_auth_missing_or_wrong_token(self):
        s = self.server
        tok = s.admin_token
        for label, t in (("none", None), ("wrong", "not-the-admin-token"),
                         ("truncated", tok[:-1]), ("extended", tok + "x"),
                         ("case", tok.swapcase() if tok.swapcase() != tok else tok + "Z")):
            with self.subTest(token=label):
                self.assertUnauthorized(s.admin("GET", "vaults", token=t))
        # Not a bearer: Basic, or the token without a scheme.
        for value in ("Basic " + tok, tok):
            with self.subTest(header=value[:6]):
                r = s.request("GET", "/coffre-admin/v1/vaults", host="localhost:%d" % s.port,
                              token=None, sni="localhost", headers={"Authorization": value})
                self.assertUnauthorized(r)

    def test_auth_every_route_needs_the_token(self):
        s = self.server
        routes = [("GET", "vaults"), ("POST", "vaults", {"name": "sneaky"}),
                  ("GET", "vaults/dev"), ("PATCH", "vaults/dev", {"retentionDays": 90}),
                  ("DELETE", "vaults/dev"), ("GET", "vaults/dev/accessPolicies"),
                  ("PUT", "vaults/dev/accessPolicies/00000000-0000-0000-0000-000000000001",
                   {"permissions": {"keys": ["all"]}}),
                  ("DELETE", "vaults/dev/accessPolicies/00000000-0000-0000-0000-000000000001"),
                  ("GET", "roleAssignments"),
                  ("POST", "roleAssignments", {"roleName": "Key Vault Administrator",
                                               "principalId": "x", "scope": "/"}),
                  ("DELETE", "roleAssignments/00000000-0000-0000-0000-000000000001"),
                  ("GET", "principals"), ("POST", "principals", {"name": "sneaky"}),
                  ("POST", "principals/sneaky/token", {}), ("DELETE", "principals/sneaky"),
                  ("GET", "nothing-here")]
        for route in routes:
            method, path = route[0], route[1]
            body = route[2] if len(route) > 2 else None
            with self.subTest(route="%s %s" % (method, path)):
                self.assertUnauthorized(s.admin(method, path, body, token=None))
                self.assertUnauthorized(s.admin(method, path, body, token="wrong"))
        # Nothing happened.
        names = [v["name"] for v in s.admin("GET", "vaults").json()["value"]]
        self.assertNotIn("sneaky", names)
        self.assertNotIn("sneaky", [p["displayName"] for p in s.admin("GET", "principals").json()["value"]])

    def test_auth_data_plane_tokens_cannot_administer(self):
        s = self.server
        self.assertUnauthorized(s.admin("GET", "vaults", token=s.msi_token()))
        p = s.admin_principal("admin-api-caller")
        s.grant(p["objectId"], ["all"])
        ptok = s.principal_token("admin-api-caller")
        self.assertOk(s.api("GET", "/keys", token=ptok))     # a good data-plane token...
        self.assertUnauthorized(s.admin("GET", "vaults", token=ptok))   # ...not an admin one
        self.assertUnauthorized(s.admin("POST", "principals", {"name": "x-y"}, token=ptok))

    def test_auth_admin_token_cannot_use_data_plane(self):
        s = self.server
        for host in (s.vault_host("dev"), "localhost:%d" % s.port):
            with self.subTest(host=host):
                r = s.api("GET", "/keys", token=s.admin_token, host=host)
                self.assertUnauthorized(r)
                challenge = r.header("WWW-Authenticate") or ""
                self.assertTrue(challenge.startswith("Bearer authorization="), r)
                self.assertIn('resource="%s"' % s.local_resource, challenge)
        r = s.api("POST", "/keys/admin-made/create", body=EC_BODY, token=s.admin_token)
        self.assertUnauthorized(r)
        self.assertJsonError(s.api("GET", "/keys/admin-made"), 404, "KeyNotFound")

    def test_auth_https_only(self):
        s = self.server
        r = s.http_request("GET", "/coffre-admin/v1/vaults",
                           headers={"Authorization": "Bearer " + s.admin_token})
        self.assertNotEqual(r.status, 200, r)
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b'"value"', r.body)

    # ---- vaults ---------------------------------------------------------------------------

    def test_vault_list_and_get_dev(self):
        s = self.server
        r = s.admin("GET", "vaults")
        j = self.assertOk(r)
        dev = [v for v in j["value"] if v["name"] == "dev"]
        self.assertEqual(len(dev), 1, j)
        v = dev[0]
        self.assertEqual(v["uri"], s.vault_url("dev"))
        self.assertEqual(v["retentionDays"], 90)
        self.assertIs(v["enablePurgeProtection"], False)
        self.assertIs(v["enableRbacAuthorization"], False)
        self.assertEqual(self.assertOk(s.admin("GET", "vaults/dev")), v)
        self.assertEqual(self.assertOk(s.admin("GET", "vaults/DEV"))["name"], "dev")

    def test_vault_create_and_use_without_restart(self):
        s = self.server
        r = s.admin("POST", "vaults", {"name": "fresh-vault"})
        j = self.assertOk(r, 201)
        self.assertEqual(j["name"], "fresh-vault")
        self.assertEqual(j["uri"], s.vault_url("fresh-vault"))
        self.assertEqual(j["retentionDays"], 90)
        self.assertIs(j["enablePurgeProtection"], False)
        self.assertIs(j["enableRbacAuthorization"], False)
        self.assertLess(abs(j["created"] - datetime.datetime.now().timestamp()), 300)
        # TLS for the new name verifies at once, and the dev identity may use it.
        s.tls_socket(sni="fresh-vault.localhost").close()
        key = self.make_key("fresh-vault", "k1")
        self.assertTrue(key["key"]["kid"].startswith(s.vault_url("fresh-vault") + "/keys/k1/"))
        self.assertJsonError(s.api("GET", "/keys/k1"), 404, "KeyNotFound")
        client = s.key_client("fresh-vault")
        self.assertEqual(client.get_key("k1").name, "k1")
        # A duplicate is a conflict.
        self.assertJsonError(s.admin("POST", "vaults", {"name": "fresh-vault"}), 409)
        self.assertJsonError(s.admin("POST", "vaults", {"name": "FRESH-VAULT"}), 409)
        self.assertJsonError(s.admin("POST", "vaults", {"name": "dev"}), 409)

    def test_vault_create_validation(self):
        s = self.server
        bad = [{}, {"name": ""}, {"name": "ab"}, {"name": "1vault"}, {"name": "under_score"},
               {"name": "x" * 25}, {"name": "dots.in.name"}, {"name": 42},
               {"name": "ret-low", "retentionDays": 6}, {"name": "ret-high", "retentionDays": 91},
               {"name": "ret-str", "retentionDays": "30"},
               {"name": "pp-str", "enablePurgeProtection": "yes"},
               {"name": "rbac-str", "enableRbacAuthorization": 1}]
        for body in bad:
            with self.subTest(body=body):
                self.assertJsonError(s.admin("POST", "vaults", body), 400)
        r = s.request("POST", "/coffre-admin/v1/vaults", body=b"{not json",
                      host="localhost:%d" % s.port, token="Bearer " + s.admin_token,
                      sni="localhost")
        self.assertJsonError(r, 400)
        names = [v["name"] for v in s.admin("GET", "vaults").json()["value"]]
        for n in ("ret-low", "ret-high", "ret-str", "pp-str", "rbac-str"):
            self.assertNotIn(n, names)

    def test_vault_unknown_is_404(self):
        s = self.server
        for method, path, body in (("GET", "vaults/no-such-vault", None),
                                   ("PATCH", "vaults/no-such-vault", {"retentionDays": 90}),
                                   ("DELETE", "vaults/no-such-vault", None),
                                   ("GET", "vaults/no-such-vault/accessPolicies", None),
                                   ("PUT", "vaults/no-such-vault/accessPolicies/"
                                           "00000000-0000-0000-0000-000000000001",
                                    {"permissions": {"keys": ["get"]}})):
            with self.subTest(route="%s %s" % (method, path)):
                self.assertJsonError(s.admin(method, path, body), 404)
        # (The dev certificate does not name it: SNI localhost, Host no-such-vault.localhost.)
        r = s.api("GET", "/keys", host=s.vault_host("no-such-vault"), sni="localhost")
        self.assertJsonError(r, 404, "VaultNotFound")

    def test_vault_unknown_routes_and_methods(self):
        s = self.server
        self.assertJsonError(s.admin("GET", "nothing-here"), 404)
        self.assertJsonError(s.admin("GET", "vaults/dev/secrets"), 404)
        self.assertJsonError(s.admin("PUT", "vaults"), 405)
        self.assertJsonError(s.admin("POST", "vaults/dev"), 405)
        self.assertJsonError(s.admin("POST", "vaults/dev/accessPolicies"), 405)

    # ---- purge protection and retention ----------------------------------------------------

    def test_purge_protection(self):
        s = self.server
        j = self.assertOk(s.admin("POST", "vaults", {"name": "pp-vault",
                                                     "enablePurgeProtection": True}), 201)
        self.assertIs(j["enablePurgeProtection"], True)
        key = self.make_key("pp-vault", "pp-key")
        self.assertEqual(key["attributes"]["recoveryLevel"], "Recoverable")
        self.assertEqual(key["attributes"]["recoverableDays"], 90)
        self.assertOk(self.on("pp-vault", "DELETE", "/keys/pp-key"))
        r = self.on("pp-vault", "DELETE", "/deletedkeys/pp-key")
        err = self.assertJsonError(r, 403, "Forbidden", message_prefix=PURGE_PROTECTED_PREFIX)
        self.assertIn("pp-vault", err["message"])
        # Still there, and recoverable.
        self.assertOk(self.on("pp-vault", "GET", "/deletedkeys/pp-key"))
        # Through the SDK too.
        client = s.key_client("pp-vault")
        with self.assertRaises(HttpResponseError) as ctx:
            client.purge_deleted_key("pp-key")
        self.assertEqual(ctx.exception.status_code, 403)
        self.assertIn('Operation \\"purge\\" is not allowed', ctx.exception.response.text())
        self.assertOk(self.on("pp-vault", "POST", "/deletedkeys/pp-key/recover"))
        # It cannot be turned off.
        r = s.admin("PATCH", "vaults/pp-vault", {"enablePurgeProtection": False})
        self.assertJsonError(r, 400)
        self.assertIs(s.admin("GET", "vaults/pp-vault").json()["enablePurgeProtection"], True)
        # Setting it on again is fine.
        self.assertOk(s.admin("PATCH", "vaults/pp-vault", {"enablePurgeProtection": True}))

    def test_retention_and_recovery_level(self):
        s = self.server
        j = self.assertOk(s.admin("POST", "vaults", {"name": "short-ret", "retentionDays": 7}), 201)
        self.assertEqual(j["retentionDays"], 7)
        client = s.key_client("short-ret")
        key = client.create_ec_key("ret-key", curve="P-256")
        self.assertEqual(key.properties.recovery_level, "CustomizedRecoverable+Purgeable")
        self.assertEqual(key.properties.recoverable_days, 7)
        deleted = client.begin_delete_key("ret-key").result()
        self.assertEqual(deleted.properties.recovery_level, "CustomizedRecoverable+Purgeable")
        span = deleted.scheduled_purge_date - deleted.deleted_date
        self.assertLess(abs(span.total_seconds() - 7 * 86400), 120, span)
        client.begin_recover_deleted_key("ret-key", _polling_interval=0.2).wait(30)

        # Shorter retention is refused; equal or longer is accepted (up to 90).
        self.assertJsonError(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 6}), 400)
        r = s.admin("POST", "vaults", {"name": "longer-ret", "retentionDays": 30})
        self.assertOk(r, 201)
        self.assertJsonError(s.admin("PATCH", "vaults/longer-ret", {"retentionDays": 7}), 400)
        self.assertJsonError(s.admin("PATCH", "vaults/longer-ret", {"retentionDays": 29}), 400)
        self.assertEqual(s.admin("GET", "vaults/longer-ret").json()["retentionDays"], 30)
        self.assertOk(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 7}))
        self.assertJsonError(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 91}), 400)
        j = self.assertOk(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 30}))
        self.assertEqual(j["retentionDays"], 30)
        key = client.get_key("ret-key")
        self.assertEqual(key.properties.recovery_level, "CustomizedRecoverable+Purgeable")
        self.assertEqual(key.properties.recoverable_days, 30)
        # Purge protection on: no "+Purgeable".
        self.assertOk(s.admin("PATCH", "vaults/short-ret", {"enablePurgeProtection": True}))
        key = client.get_key("ret-key")
        self.assertEqual(key.properties.recovery_level, "CustomizedRecoverable")
        self.assertEqual(key.properties.recoverable_days, 30)
        self.assertJsonError(s.admin("PATCH", "vaults/short-ret", {"enablePurgeProtection": False}),
                             400)
        self.assertJsonError(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 20}), 400)
        # At 90 days: "Recoverable".
        self.assertOk(s.admin("PATCH", "vaults/short-ret", {"retentionDays": 90}))
        key = client.get_key("ret-key")
        self.assertEqual(key.properties.recovery_level, "Recoverable")
        self.assertEqual(key.properties.recoverable_days, 90)

    def test_recovery_level_on_dev(self):
        key = self.make_key("dev", "rl-dev")
        self.assertEqual(key["attributes"]["recoveryLevel"], "Recoverable+Purgeable")
        self.assertEqual(key["attributes"]["recoverableDays"], 90)

    def test_patch_validation(self):
        s = self.server
        self.assertOk(s.admin("POST", "vaults", {"name": "patchme"}), 201)
        for body in ({"retentionDays": "90"}, {"enablePurgeProtection": "true"},
                     {"enableRbacAuthorization": 0}):
            with self.subTest(body=body):
                self.assertJsonError(s.admin("PATCH", "vaults/patchme", body), 400)
        j = self.assertOk(s.admin("PATCH", "vaults/patchme", {}))
        self.assertEqual(j["retentionDays"], 90)

    # ---- vault deletion -------------------------------------------------------------------

    def test_vault_delete_refused_while_keys_exist(self):
        s = self.server
        self.assertOk(s.admin("POST", "vaults", {"name": "doomed"}), 201)
        self.make_key("doomed", "d1")
        self.assertJsonError(s.admin("DELETE", "vaults/doomed"), 409)
        self.assertOk(self.on("doomed", "DELETE", "/keys/d1"))
        # A deleted (recoverable) key still holds it.
        self.assertJsonError(s.admin("DELETE", "vaults/doomed"), 409)
        self.assertOk(s.admin("GET", "vaults/doomed"))
        self.assertOk(self.on("doomed", "GET", "/deletedkeys/d1"))
        r = self.on("doomed", "DELETE", "/deletedkeys/d1")
        self.assertEqual(r.status, 204, r)
        r = s.admin("DELETE", "vaults/doomed")
        self.assertEqual(r.status, 204, r)
        self.assertJsonError(s.admin("GET", "vaults/doomed"), 404)
        self.assertJsonError(self.on("doomed", "GET", "/keys", sni="localhost"), 404,
                             "VaultNotFound")
        self.assertNotIn("doomed", [v["name"] for v in s.admin("GET", "vaults").json()["value"]])

    def test_vault_delete_empty(self):
        s = self.server
        self.assertOk(s.admin("POST", "vaults", {"name": "empty-one"}), 201)
        self.assertEqual(s.admin("DELETE", "vaults/empty-one").status, 204)
        self.assertJsonError(s.admin("DELETE", "vaults/empty-one"), 404)

    # ---- switching to RBAC -----------------------------------------------------------------

    def test_switch_vault_to_rbac_and_back(self):
        s = self.server
        self.assertOk(s.admin("POST", "vaults", {"name": "switcher"}), 201)
        self.make_key("switcher", "sw")
        j = self.assertOk(s.admin("PATCH", "vaults/switcher", {"enableRbacAuthorization": True}))
        self.assertIs(j["enableRbacAuthorization"], True)
        r = self.on("switcher", "GET", "/keys/sw")
        err = self.assertJsonError(r, 403, "Forbidden")
        self.assertEqual(err.get("innererror"), {"code": "ForbiddenByRbac"})
        self.assertOk(s.admin("PATCH", "vaults/switcher", {"enableRbacAuthorization": False}))
        self.assertOk(self.on("switcher", "GET", "/keys/sw"))

    # ---- role assignments -----------------------------------------------------------------

    def test_role_assignment_validation(self):
        s = self.server
        oid = "00000000-0000-0000-0000-00000000abcd"
        ok = {"roleName": "Key Vault Reader", "principalId": oid, "scope": "/vaults/dev"}
        # (Owner, Contributor and Key Vault Contributor are known: the Resource Manager roles,
        # which grant no data actions; see test_azure_cli_arm.)
        for change in ({"roleName": "Key Vault Janitor"}, {"roleName": "Reader"},
                       {"roleName": "User Access Administrator"}, {"roleName": ""},
                       {"roleName": "00000000-0000-0000-0000-000000000000"}):
            with self.subTest(change=change):
                r = s.admin("POST", "roleAssignments", dict(ok, **change))
                self.assertJsonError(r, 400)
        # (A single secret, /vaults/dev/secrets/s, is a valid scope: see test_secrets_access.)
        for scope in ("", "vaults/dev", "/vaults", "/vaults/", "/vaults/dev/certificates/c",
                      "/vaults/dev/secrets", "/vaults/dev/secrets/s/extra",
                      "/vaults/dev/keys", "/vaults/dev/keys/k/extra",
                      "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/dev",
                      "/vaults/bad name", "/vaults/bad_name", "/keys/k", "*"):
            with self.subTest(scope=scope):
                r = s.admin("POST", "roleAssignments", dict(ok, scope=scope))
                self.assertJsonError(r, 400)
        for missing in ("roleName", "principalId", "scope"):
            with self.subTest(missing=missing):
                body = dict(ok)
                del body[missing]
                self.assertJsonError(s.admin("POST", "roleAssignments", body), 400)
        # A scope must name a vault that exists.
        r = s.admin("POST", "roleAssignments", dict(ok, scope="/vaults/nosuchvault"))
        self.assertJsonError(r, 404)
        # Nothing was stored.
        r = s.admin("GET", "roleAssignments")
        self.assertNotIn(oid, [a["principalId"] for a in self.assertOk(r)["value"]])
        self.assertJsonError(s.admin("GET", "roleAssignments?scope=vaults/dev"), 400)

    def test_role_assignment_lifecycle(self):
        s = self.server
        oid = "00000000-0000-0000-0000-00000000beef"
        a = self.assertOk(s.admin("POST", "roleAssignments",
                                  {"roleName": "Key Vault Crypto User", "principalId": oid,
                                   "scope": "/vaults/dev/keys/some-key"}), 201)
        self.assertRegex(a["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(a["roleName"], "Key Vault Crypto User")
        self.assertEqual(a["roleDefinitionId"], "12338af0-0e69-4776-bea7-57ae8d297424")
        self.assertEqual(a["scope"], "/vaults/dev/keys/some-key")
        self.assertEqual(a["principalId"], oid)
        b = self.assertOk(s.admin("POST", "roleAssignments",
                                  {"roleName": "Key Vault Administrator", "principalId": oid,
                                   "scope": "/"}), 201)
        all_ids = [x["id"] for x in self.assertOk(s.admin("GET", "roleAssignments"))["value"]]
        self.assertIn(a["id"], all_ids)
        self.assertIn(b["id"], all_ids)
        scoped = self.assertOk(s.admin("GET", "roleAssignments?scope=/vaults/dev/keys/some-key"))
        self.assertEqual([x["id"] for x in scoped["value"]], [a["id"]])
        root = self.assertOk(s.admin("GET", "roleAssignments?scope=/"))
        self.assertIn(b["id"], [x["id"] for x in root["value"]])
        self.assertNotIn(a["id"], [x["id"] for x in root["value"]])
        self.assertEqual(s.admin("DELETE", "roleAssignments/%s" % a["id"]).status, 204)
        self.assertJsonError(s.admin("DELETE", "roleAssignments/%s" % a["id"]), 404)
        self.assertEqual(s.admin("DELETE", "roleAssignments/%s" % b["id"]).status, 204)
        ids = [x["id"] for x in self.assertOk(s.admin("GET", "roleAssignments"))["value"]]
        self.assertNotIn(a["id"], ids)
        self.assertNotIn(b["id"], ids)

    # ---- access policies ------------------------------------------------------------------

    def test_access_policy_lifecycle(self):
        s = self.server
        oid = "00000000-0000-0000-0000-00000000cafe"
        r = s.admin("PUT", "vaults/dev/accessPolicies/%s" % oid,
                    {"permissions": {"keys": ["get", "list"]}})
        j = self.assertOk(r)
        self.assertEqual(j["objectId"], oid)
        self.assertEqual(sorted(j["permissions"]["keys"]), ["get", "list"])
        listed = self.assertOk(s.admin("GET", "vaults/dev/accessPolicies"))["value"]
        self.assertEqual([p["permissions"]["keys"] for p in listed if p["objectId"] == oid],
                         [j["permissions"]["keys"]])
        for body in ({"permissions": {"keys": ["get", "bogus"]}},
                     {"permissions": {"keys": "get"}},
                     {"permissions": {"keys": [1]}},
                     {"permissions": {"secrets": ["encrypt"]}}):
            with self.subTest(body=body):
                self.assertJsonError(s.admin("PUT", "vaults/dev/accessPolicies/%s" % oid, body), 400)
        self.assertEqual(s.admin("DELETE", "vaults/dev/accessPolicies/%s" % oid).status, 204)
        listed = self.assertOk(s.admin("GET", "vaults/dev/accessPolicies"))["value"]
        self.assertNotIn(oid, [p["objectId"] for p in listed])
        # Removing it again: nothing to remove (404, or an idempotent 204).
        r = s.admin("DELETE", "vaults/dev/accessPolicies/%s" % oid)
        self.assertIn(r.status, (204, 404), r)

    # ---- principals -----------------------------------------------------------------------

    def test_principal_lifecycle(self):
        s = self.server
        r = s.admin("POST", "principals", {"name": "lifecycle-app"})
        p = self.assertOk(r, 201)
        for field in ("appId", "displayName", "password", "tenant", "objectId"):
            self.assertIn(field, p)
        self.assertEqual(p["displayName"], "lifecycle-app")
        self.assertGreaterEqual(len(p["password"]), 24)
        listed = self.assertOk(s.admin("GET", "principals"))["value"]
        mine = [x for x in listed if x["displayName"] == "lifecycle-app"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["appId"], p["appId"])
        self.assertEqual(mine[0]["objectId"], p["objectId"])
        self.assertNotIn("password", mine[0])
        self.assertNotIn(p["password"], json.dumps(listed))
        self.assertJsonError(s.admin("POST", "principals", {"name": "lifecycle-app"}), 409)
        self.assertJsonError(s.admin("POST", "principals", {}), 400)

        # Tokens, by name or by app id; the default resource is https://localhost:PORT.
        t = self.assertOk(s.admin("POST", "principals/lifecycle-app/token", {}))
        self.assertEqual(t["tokenType"], "Bearer")
        self.assertEqual(t["resource"], s.local_resource)
        claims = s.token_claims(t["accessToken"])
        self.assertEqual(claims["oid"], p["objectId"])
        self.assertEqual(claims["appid"], p["appId"])
        t2 = self.assertOk(s.admin("POST", "principals/%s/token" % p["appId"],
                                   {"resource": s.local_resource}))
        s.grant(p["objectId"], ["list"])
        self.assertOk(s.api("GET", "/keys", token=t2["accessToken"]))
        # The ADFS route works with the password.
        client = s.principal_key_client(p)
        list(client.list_properties_of_keys())

        self.assertEqual(s.admin("DELETE", "principals/lifecycle-app").status, 204)
        self.assertJsonError(s.admin("POST", "principals/lifecycle-app/token", {}), 404)
        self.assertJsonError(s.admin("DELETE", "principals/lifecycle-app"), 404)
        self.assertNotIn("lifecycle-app",
                         [x["displayName"] for x in s.admin("GET", "principals").json()["value"]])
        # A deleted principal cannot sign in any more.
        from azure.core.exceptions import ClientAuthenticationError
        fresh = s.principal_key_client(p)
        with self.assertRaises(ClientAuthenticationError):
            list(fresh.list_properties_of_keys())


if __name__ == "__main__":
    h.main()
