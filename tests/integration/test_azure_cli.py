"""Debian's Azure CLI signs in against Coffre as a custom cloud (issue 12, items 6-9): the
commands in the az.sh the dev server writes (cloud register, az login --identity through the App
Service 2017-09-01 managed identity), az login --service-principal (ADFS discovery under a tenant
path, GET /subscriptions), az account get-access-token, then the Python SDK's AzureCliCredential
and DefaultAzureCredential (only the CLI signed in) running the keys quickstart.

The CLI runs with its own AZURE_CONFIG_DIR, telemetry off and its version cache filled, so it has
no reason to leave loopback; as a backstop its HTTPS proxy is a closed loopback port (loopback
names bypass it), so any other destination fails at once instead of reaching the network.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

AZ = shutil.which("az")
QUICKSTART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickstart", "kv_keys.py")
AZ_TIMEOUT = 90          # seconds a single az command may take (start-up alone is a few)
MAX_REQUEST_US = 2000000  # no request the CLI or SDK makes may take the server longer


def local_az_versions():
    """The installed CLI components, as az's version cache records them."""
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
class AzureCliTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.az_sh = os.path.join(s.data_dir, "az.sh")
        if not os.path.exists(cls.az_sh):
            raise h.HarnessError("the dev server wrote no az.sh beside dev.env")
        cls.az_env_file = h.parse_env_file(open(cls.az_sh).read())
        cls.config_dir = cls.az_env_file["AZURE_CONFIG_DIR"]
        os.makedirs(cls.config_dir, 0o700, exist_ok=True)
        with open(os.path.join(cls.config_dir, "config"), "w") as f:
            f.write("[core]\ncollect_telemetry = false\nno_color = true\n"
                    "[output]\nshow_survey_link = no\n")
        now = str(datetime.datetime.now())
        with open(os.path.join(cls.config_dir, "versionCheck.json"), "w") as f:
            json.dump({"versions": local_az_versions(), "update_time": now, "check_time": now}, f)
        cls.principal = s.admin_principal("az-cli-app")
        s.grant(cls.principal["objectId"], ["get", "list", "create", "delete", "purge"])

    def base_env(self, **extra):
        """Clean environment for az and the SDK: the CLI's config dir, the CA bundle, no managed
        identity of the SDK kind, IMDS pointed at a closed loopback port."""
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
        })
        env.update(extra)
        return env

    def identity_env(self):
        """base_env plus the managed identity exports of az.sh."""
        env = self.base_env()
        for k in ("APPSETTING_WEBSITE_SITE_NAME", "MSI_ENDPOINT", "MSI_SECRET"):
            env[k] = self.az_env_file[k]
        return env

    def az(self, *args, env=None, expect_ok=True):
        t0 = time.monotonic()
        p = subprocess.run([AZ] + list(args) + ["--output", "json"], env=env or self.base_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=AZ_TIMEOUT)
        elapsed = time.monotonic() - t0
        if expect_ok:
            self.assertEqual(p.returncode, 0, "az %s failed after %.1fs:\n%s\n%s" % (
                " ".join(a if "password" not in a else "***" for a in args[:3]), elapsed,
                p.stdout[-2000:], p.stderr[-4000:]))
        return p

    def assertRequestsQuick(self):
        """Every request the server recorded took it under MAX_REQUEST_MS."""
        lines = self.server.audit_lines()
        self.assertTrue(lines)
        slow = [(l.get("operation"), l.get("latencyUs")) for l in lines
                if (l.get("latencyUs") or 0) > MAX_REQUEST_US]
        self.assertEqual(slow, [])

    def assertVaultAccepts(self, token):
        self.assertOk(self.server.api("GET", "/keys", token=token))

    # ---- the az.sh commands: register the cloud, az login --identity ----------------------------

    def test_1_az_sh_registers_the_cloud_and_signs_in_with_the_managed_identity(self):
        s = self.server
        text = open(self.az_sh).read()
        self.assertIn("az cloud register --name Coffre", text)
        self.assertIn("--endpoint-active-directory https://localhost:%d/adfs" % s.port, text)
        p = s.cli("dev", "az", "--data-dir", s.data_dir)
        self.assertEqual((p.returncode, p.stdout), (0, text), p.stderr)
        p = subprocess.run(["bash", "-c", '. "$1" && az account show --output json', "az.sh",
                            self.az_sh], env=self.base_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=4 * AZ_TIMEOUT)
        self.assertEqual(p.returncode, 0, "az.sh failed:\n%s\n%s" % (p.stdout[-2000:], p.stderr[-4000:]))
        account = json.loads(p.stdout)
        tenant = s.token_claims(s.msi_token())["tid"]
        self.assertEqual(account["environmentName"], "Coffre")
        self.assertEqual(account["tenantId"], tenant)
        self.assertEqual(account["id"], tenant)
        self.assertEqual(account["user"], {"name": "systemAssignedIdentity",
                                           "type": "servicePrincipal", "assignedIdentityInfo": "MSI"})
        self.assertRequestsQuick()

    def test_2_identity_access_token(self):
        s = self.server
        p = self.az("account", "get-access-token", "--resource", s.local_resource,
                    env=self.identity_env())
        token = json.loads(p.stdout)["accessToken"]
        claims = s.token_claims(token)
        self.assertEqual(claims["aud"], s.local_resource)
        self.assertEqual(claims["oid"], s.token_claims(s.msi_token())["oid"])
        self.assertVaultAccepts(token)

    # ---- az login --service-principal ---------------------------------------------------------

    def test_3_service_principal_login_and_token(self):
        s = self.server
        p = self.az("login", "--service-principal", "--username", self.principal["appId"],
                    "--password", self.principal["password"], "--tenant", "adfs")
        accounts = json.loads(p.stdout)
        self.assertEqual(len(accounts), 1, accounts)
        self.assertEqual(accounts[0]["user"], {"name": self.principal["appId"],
                                               "type": "servicePrincipal"})
        self.assertEqual(accounts[0]["cloudName"], "Coffre")
        p = self.az("account", "get-access-token", "--resource", s.local_resource)
        j = json.loads(p.stdout)
        claims = s.token_claims(j["accessToken"])
        self.assertEqual(claims["aud"], s.local_resource)
        self.assertEqual(claims["oid"], self.principal["objectId"])
        self.assertVaultAccepts(j["accessToken"])
        # The tenant name az resolves: only adfs and this server's tenant are known.
        r = s.request("GET", "/adfs/contoso.example/.well-known/openid-configuration", token=None,
                      host="localhost:%d" % s.port, sni="localhost")
        self.assertEqual(r.status, 400, r)
        self.assertRequestsQuick()

    # ---- the Python SDK with the CLI's sign-in ------------------------------------------------

    def run_quickstart(self, credential_expr, name):
        s = self.server
        script = open(QUICKSTART).read().replace("DefaultAzureCredential()", credential_expr)
        self.assertIn(credential_expr, script)
        if "AzureCliCredential" in credential_expr:
            script = script.replace("from azure.identity import DefaultAzureCredential",
                                    "from azure.identity import AzureCliCredential")
        env = self.base_env(KEY_VAULT_NAME="dev", COFFRE_VAULT_URL=s.vault_url())
        self.assertNotIn("IDENTITY_ENDPOINT", env)
        self.assertNotIn("MSI_ENDPOINT", env)
        t0 = time.monotonic()
        p = subprocess.run([h.PYTHON, "-c", script], input=name + "\n", env=env,
                           capture_output=True, text=True, timeout=4 * AZ_TIMEOUT)
        self.assertEqual(p.returncode, 0, "quickstart failed after %.1fs:\n%s\n%s" % (
            time.monotonic() - t0, p.stdout[-2000:], p.stderr[-4000:]))
        self.assertIn("Key with name '%s' was found." % name, p.stdout)
        # The key was created by the principal the CLI signed in as.
        created = [l for l in s.audit_lines()
                   if l.get("operation") == "CreateKey" and l.get("keyName") == name
                   and l.get("status") == 200]
        self.assertEqual([l.get("callerObjectId") for l in created], [self.principal["objectId"]])
        self.assertOk(s.api("GET", "/deletedkeys/" + name))
        self.assertRequestsQuick()

    def test_4_azure_cli_credential_runs_the_quickstart(self):
        self.run_quickstart("AzureCliCredential()", "az-cli-quickstart")

    def test_5_default_azure_credential_with_only_the_cli(self):
        self.run_quickstart("DefaultAzureCredential(exclude_managed_identity_credential=True, "
                            "exclude_shared_token_cache_credential=True, "
                            "exclude_powershell_credential=True)", "az-default-quickstart")


if __name__ == "__main__":
    h.main()
