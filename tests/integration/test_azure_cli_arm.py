"""The quickstart's own `az` steps against Coffre (issue 16): a user signs in with a password
(az login -u/-p against the cloud Coffre registers), az group create, az keyvault create,
az keyvault set-policy --upn, the Python quickstart with DefaultAzureCredential picking up the
CLI's sign-in, az keyvault show/delete/purge and az group delete; then the same with
--enable-rbac-authorization and az role assignment create at vault scope; then hostile requests
on the Resource Manager and Graph routes, which must get ARM's error shape.

Debian's azure-cli runs with its own AZURE_CONFIG_DIR, telemetry off, its version cache filled
and a closed loopback port as its proxy, so nothing leaves loopback.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

AZ = shutil.which("az")
QUICKSTART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickstart", "kv_keys.py")
AZ_TIMEOUT = 120
UPN = "alice@example.test"
PASSWORD = "Quick-start-Pa55word!"
ARM_VERSION = "2022-09-01"


def local_az_versions():
    from importlib import metadata
    out = {}
    for dist, name in (("azure-cli", "azure-cli"), ("azure-cli-core", "core"),
                       ("azure-cli-telemetry", "telemetry")):
        try:
            v = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        out[name] = {"local": v, "pypi": v}
    return out


@unittest.skipIf(AZ is None, "azure-cli is not installed (scripts/deps.sh installs it)")
class AzureCliArmTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.config_dir = os.path.join(s.data_dir, "az-arm-config")
        os.makedirs(cls.config_dir, 0o700, exist_ok=True)
        with open(os.path.join(cls.config_dir, "config"), "w") as f:
            f.write("[core]\ncollect_telemetry = false\nno_color = true\n"
                    "[output]\nshow_survey_link = no\n")
        now = str(datetime.datetime.now())
        with open(os.path.join(cls.config_dir, "versionCheck.json"), "w") as f:
            json.dump({"versions": local_az_versions(), "update_time": now, "check_time": now}, f)
        # The user, made offline on the running server's store, password from a file.
        pw_file = os.path.join(s.data_dir, "alice.password")
        with open(pw_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw_file, 0o600)
        p = s.cli("user", "create", "--upn", UPN, "--password-file", pw_file,
                  "--data-dir", s.data_dir)
        if p.returncode != 0:
            raise h.HarnessError("user create failed: %s %s" % (p.stdout, p.stderr))
        cls.user = json.loads(p.stdout)
        # Alice manages the subscription's vaults and may grant roles: Owner at the server.
        s.assign_role("Owner", cls.user["objectId"], "/")
        base = "https://localhost:%d" % s.port
        cls.cloud_file = os.path.join(s.data_dir, "az-arm-cloud.json")
        with open(cls.cloud_file, "w") as f:
            json.dump({"endpoints": {"resourceManager": base + "/",
                                     "activeDirectory": base + "/adfs",
                                     "activeDirectoryResourceId": base,
                                     "activeDirectoryGraphResourceId": base,
                                     "microsoftGraphResourceId": base + "/"},
                       "suffixes": {"keyvaultDns": ".localhost:%d" % s.port}}, f)

    def base_env(self, **extra):
        s = self.server
        env = h.clean_env()
        dead = "http://127.0.0.1:%d" % h.closed_port()
        env.update({
            "AZURE_CONFIG_DIR": self.config_dir,
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "REQUESTS_CA_BUNDLE": s.ca_bundle,
            "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
            "NO_PROXY": "127.0.0.1,localhost,.localhost",
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": dead,
            "IMDS_ENDPOINT": dead,
            # The SDK's managed identity credential, should it be tried, goes to a dead
            # loopback port rather than to 169.254.169.254.
            "IDENTITY_ENDPOINT": dead + "/msi/token",
            "IDENTITY_HEADER": "not-a-valid-header",
        })
        env.update(extra)
        return env

    def az(self, *args, expect_ok=True, output="json"):
        t0 = time.monotonic()
        cmd = [AZ] + list(args) + (["--output", output] if output else [])
        p = subprocess.run(cmd, env=self.base_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=AZ_TIMEOUT)
        if expect_ok:
            shown = " ".join("***" if a == PASSWORD else a for a in args[:6])
            self.assertEqual(p.returncode, 0, "az %s failed after %.1fs:\n%s\n%s" % (
                shown, time.monotonic() - t0, p.stdout[-2000:], p.stderr[-4000:]))
        return p

    def az_json(self, *args):
        p = self.az(*args)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def sign_in(self):
        """Registers the cloud and signs in as the user (once per class)."""
        cls = type(self)
        if getattr(cls, "_accounts", None) is None:
            self.az("cloud", "register", "--name", "CoffreArm", "--cloud-config",
                    "@" + self.cloud_file, output=None)
            self.az("cloud", "set", "--name", "CoffreArm", output=None)
            cls._accounts = self.az_json("login", "-u", UPN, "-p", PASSWORD)
        return cls._accounts

    def run_quickstart(self, vault_uri, key_name):
        s = self.server
        script = open(QUICKSTART).read().replace(
            "DefaultAzureCredential()",
            "DefaultAzureCredential(exclude_managed_identity_credential=True, "
            "exclude_shared_token_cache_credential=True, exclude_powershell_credential=True)")
        env = self.base_env(KEY_VAULT_NAME=urllib.parse.urlsplit(vault_uri).hostname.split(".")[0],
                            COFFRE_VAULT_URL=vault_uri.rstrip("/"))
        p = subprocess.run([h.PYTHON, "-c", script], input=key_name + "\n", env=env,
                           capture_output=True, text=True, timeout=2 * AZ_TIMEOUT)
        self.assertEqual(p.returncode, 0, "quickstart failed:\n%s\n%s" % (p.stdout[-2000:],
                                                                          p.stderr[-4000:]))
        self.assertIn("Key with name '%s' was found." % key_name, p.stdout)
        created = [l for l in s.audit_lines()
                   if l.get("operation") == "CreateKey" and l.get("keyName") == key_name
                   and l.get("status") == 200]
        self.assertEqual([l.get("callerObjectId") for l in created], [self.user["objectId"]])

    def arm(self, method, path, body=None, token="user", api_version=ARM_VERSION, raw_body=None):
        s = self.server
        if token == "user":
            token = self.user_token()
        q = "" if api_version is None else ("&" if "?" in path else "?") + "api-version=" + api_version
        data = raw_body if raw_body is not None else body
        return s.request(method, path + q, body=data, host="localhost:%d" % s.port, sni="localhost",
                         token=token)

    def user_token(self):
        if getattr(self, "_user_token", None) is None:
            p = self.az("account", "get-access-token")
            type(self)._user_token = json.loads(p.stdout)["accessToken"]
        return self._user_token

    # ---- the quickstart, access policies ------------------------------------------------------

    def test_1_user_signs_in_with_a_password(self):
        s = self.server
        accounts = self.sign_in()
        self.assertEqual(len(accounts), 1, accounts)
        self.assertEqual(accounts[0]["user"], {"name": UPN, "type": "user"})
        tenant = accounts[0]["tenantId"]
        p = self.az("account", "get-access-token", "--resource", s.local_resource)
        claims = s.token_claims(json.loads(p.stdout)["accessToken"])
        self.assertEqual((claims["upn"], claims["oid"], claims["tid"]),
                         (UPN, self.user["objectId"], tenant))
        # A wrong password: OAuth's invalid_grant, nothing that tells whether the user exists.
        for user, password in ((UPN, "wrong-password"), ("nobody@example.test", "whatever1")):
            r = s.request("POST", "/adfs/oauth2/token", host="localhost:%d" % s.port,
                          sni="localhost", token=None, content_type="application/x-www-form-urlencoded",
                          body=urllib.parse.urlencode({
                              "grant_type": "password", "username": user, "password": password,
                              "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                              "scope": s.local_resource + "/.default openid offline_access"}))
            self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"), r)

    def test_2_quickstart_with_access_policies(self):
        s = self.server
        self.sign_in()
        group = self.az_json("group", "create", "--name", "quickstart-rg", "--location", "westeurope")
        self.assertEqual(group["name"], "quickstart-rg")
        self.assertEqual(group["properties"]["provisioningState"], "Succeeded")
        vault = self.az_json("keyvault", "create", "--name", "qs-vault-1",
                             "--resource-group", "quickstart-rg", "--location", "westeurope")
        self.assertEqual(vault["properties"]["vaultUri"],
                         "https://qs-vault-1.localhost:%d/" % s.port)
        # az create gives the signed-in user an access policy of its own.
        self.assertIn(self.user["objectId"],
                      [p["objectId"] for p in vault["properties"]["accessPolicies"]])
        # A second vault of that name, in any group: taken.
        p = self.az("keyvault", "create", "--name", "qs-vault-1", "--resource-group",
                    "quickstart-rg", "--location", "westeurope", expect_ok=False)
        self.assertNotEqual(p.returncode, 0)
        updated = self.az_json("keyvault", "set-policy", "--name", "qs-vault-1", "--upn", UPN,
                               "--key-permissions", "get", "list", "create", "delete",
                               "--secret-permissions", "get", "list", "set", "delete")
        entry = [e for e in updated["properties"]["accessPolicies"]
                 if e["objectId"] == self.user["objectId"]]
        self.assertEqual(len(entry), 1, updated)
        self.assertEqual(sorted(entry[0]["permissions"]["keys"]),
                         ["create", "delete", "get", "list"])
        self.run_quickstart(vault["properties"]["vaultUri"], "az-arm-quickstart")
        shown = self.az_json("keyvault", "show", "--name", "qs-vault-1")
        self.assertEqual(shown["id"], vault["id"])
        listed = self.az_json("keyvault", "list", "--resource-group", "quickstart-rg")
        self.assertEqual([v["name"] for v in listed], ["qs-vault-1"])
        self.az("keyvault", "delete", "--name", "qs-vault-1", output=None)
        # Soft-deleted: serves nothing, listed as deleted, its name still taken.
        r = s.request("GET", "/keys?api-version=7.4", host="qs-vault-1.localhost:%d" % s.port,
                      token=self.user_token_for(s.local_resource))
        self.assertEqual(r.status, 404, r)
        deleted = self.az_json("keyvault", "list-deleted")
        self.assertIn("qs-vault-1", [v["name"] for v in deleted])
        self.az("keyvault", "purge", "--name", "qs-vault-1", output=None)
        deleted = self.az_json("keyvault", "list-deleted")
        self.assertNotIn("qs-vault-1", [v["name"] for v in deleted or []])
        self.az("group", "delete", "--name", "quickstart-rg", "--yes", output=None)
        p = self.az("group", "exists", "--name", "quickstart-rg")
        self.assertEqual(p.stdout.strip(), "false")

    def user_token_for(self, resource):
        p = self.az("account", "get-access-token", "--resource", resource)
        return json.loads(p.stdout)["accessToken"]

    # ---- the RBAC variant ----------------------------------------------------------------------

    def test_3_quickstart_with_rbac(self):
        s = self.server
        self.sign_in()
        self.az("group", "create", "--name", "rbac-rg", "--location", "westeurope", output=None)
        vault = self.az_json("keyvault", "create", "--name", "qs-rbac-1", "--resource-group",
                             "rbac-rg", "--location", "westeurope", "--enable-rbac-authorization")
        self.assertTrue(vault["properties"]["enableRbacAuthorization"])
        # Before the role assignment the data plane refuses (RBAC, no role yet).
        token = self.user_token_for(s.local_resource)
        r = s.request("GET", "/keys?api-version=7.4", host="qs-rbac-1.localhost:%d" % s.port,
                      token=token)
        self.assertEqual(r.status, 403, r)
        # `az role assignment create` itself fails on Debian's azure-cli 2.45 before sending
        # anything (its role module reads assignments_client.config, which the packaged
        # azure-mgmt-authorization no longer has), so the test sends the requests that command
        # sends, with the CLI's sign-in, through `az rest`: the role definition lookup by name,
        # then the PUT of the assignment at vault scope.
        base = "https://localhost:%d" % s.port
        authz = base + vault["id"] + "/providers/Microsoft.Authorization"
        defs = self.az_json("rest", "--method", "get", "--url",
                            authz + "/roleDefinitions?$filter=roleName eq 'Key Vault Crypto Officer'"
                            "&api-version=2022-04-01")
        self.assertEqual(len(defs["value"]), 1, defs)
        assignment_name = "6d2f0a4e-3c1b-4b7e-9a51-0e6f2b1c9d77"
        assignment = self.az_json(
            "rest", "--method", "put", "--url",
            authz + "/roleAssignments/%s?api-version=2022-04-01" % assignment_name,
            "--body", json.dumps({"properties": {"roleDefinitionId": defs["value"][0]["id"],
                                                 "principalId": self.user["objectId"],
                                                 "principalType": "User"}}))
        self.assertEqual(assignment["properties"]["scope"], vault["id"])
        self.run_quickstart(vault["properties"]["vaultUri"], "az-arm-rbac-quickstart")
        listed = self.az_json("rest", "--method", "get", "--url",
                              authz + "/roleAssignments?$filter=atScope()&api-version=2022-04-01")
        self.assertIn(assignment["id"], [a["id"] for a in listed["value"]])
        # Deleting the group soft-deletes the vault; then it is purged.
        self.az("group", "delete", "--name", "rbac-rg", "--yes", output=None)
        self.az("keyvault", "purge", "--name", "qs-rbac-1", output=None)

    # ---- hostile requests: ARM's error shape -------------------------------------------------

    def test_4_bad_input_gets_arm_errors(self):
        s = self.server
        self.sign_in()
        sub = "/subscriptions/" + s.token_claims(self.user_token())["tid"]
        rg = sub + "/resourcegroups/hostile-rg"
        self.assertEqual(self.arm("PUT", rg, {"location": "westeurope"}).status, 201)
        vaults = rg + "/providers/Microsoft.KeyVault/vaults/"
        tenant = sub.rsplit("/", 1)[1]
        good = {"location": "westeurope",
                "properties": {"tenantId": tenant, "sku": {"family": "A", "name": "standard"},
                               "accessPolicies": []}}
        cases = [
            (self.arm("GET", rg, api_version=None), 400, "MissingApiVersionParameter"),
            (self.arm("GET", rg, api_version="2099-01-01"), 400, "NoRegisteredProviderFound"),
            (self.arm("PUT", vaults + "hv1", raw_body=b"{not json"), 400, "InvalidRequestContent"),
            (self.arm("PUT", sub + "/resourcegroups/no-such-rg/providers/Microsoft.KeyVault/vaults/hv2",
                      good), 404, "ResourceGroupNotFound"),
            (self.arm("PUT", vaults + "1-bad--name", good), 400, "VaultNameNotValid"),
            (self.arm("PUT", vaults + "hv3", {"location": "westeurope"}), 400, "BadRequest"),
            (self.arm("PUT", vaults + "hv4", dict(good, properties=dict(
                good["properties"], accessPolicies=[{"objectId": "x", "permissions": {}}]))),
             400, "BadRequest"),
            (self.arm("GET", vaults + "nosuchvault"), 404, "ResourceNotFound"),
            (self.arm("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups"),
             404, "SubscriptionNotFound"),
            (self.arm("GET", rg, token=None), 401, "AuthenticationFailed"),
            (self.arm("GET", rg, token="not-a-token"), 401, "InvalidAuthenticationToken"),
            (self.arm("PUT", sub + "/resourcegroups/bad%2Fname", {"location": "x"}), 400, None),
            (self.arm("PUT", rg + "/providers/Microsoft.KeyVault/vaults/hv5/accessPolicies/merge",
                      {}), 400, "BadRequest"),
        ]
        for r, status, code in cases:
            self.assertJsonError(r, status, code)
        # A second vault with a taken name, in another group.
        self.assertEqual(self.arm("PUT", vaults + "hv-taken", good).status, 201)
        self.assertEqual(self.arm("PUT", sub + "/resourcegroups/hostile-rg2",
                                  {"location": "westeurope"}).status, 201)
        r = self.arm("PUT", sub + "/resourcegroups/hostile-rg2/providers/Microsoft.KeyVault/vaults/"
                     "hv-taken", good)
        self.assertJsonError(r, 409, "VaultAlreadyExists")
        # A principal without a management role is refused (AuthorizationFailed).
        outsider = s.admin_principal("arm-outsider")
        token = s.principal_token("arm-outsider", s.local_resource)
        self.assertJsonError(self.arm("GET", rg, token=token), 403, "AuthorizationFailed")
        # Graph: unknown user, unsupported filter.
        self.assertJsonError(self.arm("GET", "/v1.0/users/nobody@example.test", api_version=None),
                             404, "Request_ResourceNotFound")
        self.assertJsonError(self.arm("GET", "/v1.0/users?$filter=" +
                                      urllib.parse.quote("startswith(displayName,'a')"),
                                      api_version=None), 400, "Request_UnsupportedQuery")
        self.assertEqual(outsider["objectId"], s.token_claims(token)["oid"])


if __name__ == "__main__":
    h.main()
