"""The admin commands of `coffre`: vault, principal, role assignment, login/logout.

The CLI runs with the server's dev.env (COFFRE_SERVER, COFFRE_ADMIN_TOKEN, CA bundle) and HOME /
XDG_CONFIG_HOME in a temporary directory, so `coffre login` never touches the real home.

- `coffre vault create --name V` just works after sourcing dev.env, and V is reachable as
  V.localhost at once (the SDK with the dev identity); show/list/update/delete.
- `principal create` prints az's create-for-rbac JSON; `vault set-policy --spn APPID
  --key-permissions get list create delete` lets Microsoft's quickstart run as that principal
  (ADFS client credentials); with `get list` only its create fails with the 403 message;
  delete-policy takes everything away.
- Role assignments on an --enable-rbac-authorization vault grant and deny.
- `principal token` prints a bearer token the data plane accepts.
- `login --admin-token` / `login --client-id --client-secret`: later commands need no
  environment at all; the file is 0600 in a 0700 directory; `logout` removes it.
- Errors: wrong admin token -> exit 1 with a clear message; no server -> exit 2.
- `principal ... --data-dir` still works offline on the store.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402

QUICKSTART = os.path.join(h.HERE, "quickstart", "kv_keys.py")


class CliAdminTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="coffre-cli-admin-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        # A fresh home per test: login state never carries over.
        self.home = tempfile.mkdtemp(dir=self.tmp)
        self.config = os.path.join(self.home, ".config")

    # ---- helpers --------------------------------------------------------------------------

    def run_cli(self, *args, env=None, **overrides):
        if env is None:
            env = self.server.env(HOME=self.home, XDG_CONFIG_HOME=self.config, **overrides)
        return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, env=env,
                              cwd=self.tmp)

    def ok(self, *args, **kw):
        p = self.run_cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "coffre %s: rc=%s\n%s%s" % (
            " ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def bare_env(self):
        """Nothing but PATH and the temporary home: no server, token, CA or credentials."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
                "XDG_CONFIG_HOME": self.config}

    def unique(self, prefix):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def run_quickstart(self, vault, principal, key_name):
        env = self.server.adfs_env(principal, KEY_VAULT_NAME=vault,
                                   COFFRE_VAULT_URL=self.server.vault_url(vault))
        self.assertNotIn("IDENTITY_ENDPOINT", env)
        return subprocess.run([h.PYTHON, QUICKSTART], input=key_name + "\n", capture_output=True,
                              text=True, env=env, timeout=120, cwd=self.tmp)

    # ---- vaults -----------------------------------------------------------------------------

    def test_vault_create_reachable_at_once(self):
        name = self.unique("v")
        v = self.ok("vault", "create", "--name", name)
        self.assertEqual(v["name"], name)
        self.assertEqual(v["uri"], self.server.vault_url(name))
        self.assertEqual(v["retentionDays"], 90)
        self.assertFalse(v["enablePurgeProtection"])
        self.assertFalse(v["enableRbacAuthorization"])
        # The dev identity may use it at once, over TLS for NAME.localhost.
        client = self.server.key_client(name)
        key = client.create_ec_key("first")
        self.assertEqual(key.properties.vault_url, self.server.vault_url(name))
        # And so may the CLI.
        shown = self.ok("key", "show", "--vault-name", name, "--name", "first")
        self.assertEqual(shown["key"]["kid"], key.id)

        shown = self.ok("vault", "show", "--name", name)
        self.assertIsInstance(shown.pop("accessPolicies"), list)  # show adds them
        self.assertEqual(shown, v)
        self.assertIn(name, [x["name"] for x in self.ok("vault", "list")])
        p = self.run_cli("vault", "create", "--name", name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("(Conflict) A vault named %s already exists." % name, p.stderr)

    def test_vault_settings_update_delete(self):
        name = self.unique("s")
        v = self.ok("vault", "create", "--name", name, "--retention-days", 7,
                    "--enable-purge-protection")
        self.assertEqual((v["retentionDays"], v["enablePurgeProtection"]), (7, True))
        v = self.ok("vault", "update", "--name", name, "--retention-days", 30,
                    "--enable-rbac-authorization", "true")
        self.assertEqual((v["retentionDays"], v["enableRbacAuthorization"]), (30, True))
        v = self.ok("vault", "update", "--name", name, "--enable-rbac-authorization", "false")
        self.assertFalse(v["enableRbacAuthorization"])
        # The service's rule (retention only grows) comes back as its error, exit 1.
        p = self.run_cli("vault", "update", "--name", name, "--retention-days", 10)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("retentionDays can only be raised", p.stderr)
        # Usage errors: exit 2.
        self.assertEqual(self.run_cli("vault", "create", "--name", "x",
                                      "--retention-days", 5).returncode, 2)
        self.assertEqual(self.run_cli("vault", "update", "--name", name).returncode, 2)
        self.assertEqual(self.run_cli("vault", "update", "--name", name,
                                      "--enable-rbac-authorization", "perhaps").returncode, 2)

        self.assertIsNone(self.ok("vault", "delete", "--name", name))
        p = self.run_cli("vault", "show", "--name", name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("(VaultNotFound)", p.stderr)

    # ---- principals and access policies -----------------------------------------------------

    def test_principal_policy_quickstart(self):
        vault = self.unique("qs")
        self.ok("vault", "create", "--name", vault, "-o", "none")
        app = self.unique("app")
        p = self.ok("principal", "create", "--name", app)
        self.assertEqual(set(p), {"appId", "password", "tenant", "displayName", "objectId"})
        self.assertEqual(p["displayName"], app)
        self.assertGreaterEqual(len(p["password"]), 20)
        listed = {x["appId"]: x for x in self.ok("principal", "list")}
        self.assertEqual(listed[p["appId"]]["objectId"], p["objectId"])
        self.assertNotIn("password", listed[p["appId"]])

        policy = self.ok("vault", "set-policy", "--name", vault, "--spn", p["appId"],
                         "--key-permissions", "get", "list", "create", "delete")
        self.assertEqual(policy["objectId"], p["objectId"])
        self.assertEqual(policy["permissions"]["keys"], ["get", "list", "create", "delete"])

        q = self.run_quickstart(vault, p, "qs-key")
        self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
        self.assertIn("Key with name 'qs-key' was found.", q.stdout)

        # get and list only: the quickstart's create is refused with Key Vault's message.
        self.ok("vault", "set-policy", "--name", vault, "--object-id", p["objectId"],
                "--key-permissions", "get", "list")
        q = self.run_quickstart(vault, p, "qs-denied")
        self.assertNotEqual(q.returncode, 0, q.stdout)
        self.assertIn("does not have keys create permission on key vault '%s;location=local'"
                      % vault, q.stdout + q.stderr)

        # No policy at all: even list is refused.
        self.assertIsNone(self.ok("vault", "delete-policy", "--name", vault, "--spn", p["appId"]))
        client = self.server.principal_key_client(p, vault)
        with self.assertRaises(HttpResponseError) as caught:
            list(client.list_properties_of_keys())
        self.assertEqual(caught.exception.status_code, 403)

        # Usage and lookup errors.
        self.assertEqual(self.run_cli("vault", "set-policy", "--name", vault,
                                      "--key-permissions", "get").returncode, 2)
        self.assertEqual(self.run_cli("vault", "set-policy", "--name", vault, "--spn",
                                      p["appId"]).returncode, 2)
        r = self.run_cli("vault", "set-policy", "--name", vault, "--spn", str(uuid.uuid4()),
                         "--key-permissions", "get")
        self.assertEqual(r.returncode, 1)
        self.assertIn("(PrincipalNotFound)", r.stderr)
        r = self.run_cli("vault", "set-policy", "--name", vault, "--spn", p["appId"],
                         "--key-permissions", "fly")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Unknown keys permission: fly", r.stderr)

        self.assertIsNone(self.ok("principal", "delete", "--name", app))
        self.assertNotIn(p["appId"], [x["appId"] for x in self.ok("principal", "list")])

    def test_principal_token_is_a_bearer_token(self):
        vault = self.unique("tok")
        self.ok("vault", "create", "--name", vault, "-o", "none")
        app = self.unique("tokapp")
        p = self.ok("principal", "create", "--name", app)
        self.ok("vault", "set-policy", "--name", vault, "--spn", p["appId"],
                "--key-permissions", "list", "-o", "none")
        r = self.run_cli("principal", "token", "--name", app)
        self.assertEqual(r.returncode, 0, r.stderr)
        token = r.stdout.strip()
        self.assertEqual(r.stdout, token + "\n")   # only the token, for scripts
        self.assertEqual(token.count("."), 2)
        claims = h.Coffre.token_claims(token)
        self.assertEqual(claims["oid"], p["objectId"])
        resp = self.server.api("GET", "/keys", host=self.server.vault_host(vault), token=token)
        self.assertEqual(resp.status, 200, resp)
        # The client id works as the name too; a wrong audience is refused by the vault.
        r = self.run_cli("principal", "token", "--name", p["appId"], "--resource",
                         "https://elsewhere.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        resp = self.server.api("GET", "/keys", host=self.server.vault_host(vault),
                               token=r.stdout.strip())
        self.assertEqual(resp.status, 401, resp)

    def test_principal_offline_with_data_dir(self):
        p = self.ok("principal", "create", "--name", "offline-app", "--data-dir",
                    self.server.data_dir)
        self.assertEqual(p["displayName"], "offline-app")
        listed = self.ok("principal", "list", "--data-dir", self.server.data_dir)
        self.assertIn(p["appId"], [x["appId"] for x in listed])
        self.assertIn(p["appId"], [x["appId"] for x in self.ok("principal", "list")])
        self.assertIsNone(self.ok("principal", "delete", "--name", "offline-app", "--data-dir",
                                  self.server.data_dir))

    # ---- role assignments -------------------------------------------------------------------

    def test_role_assignments_grant_and_deny(self):
        vault = self.unique("rbac")
        v = self.ok("vault", "create", "--name", vault, "--enable-rbac-authorization")
        self.assertTrue(v["enableRbacAuthorization"])
        p = self.ok("principal", "create", "--name", self.unique("rbacapp"))
        client = self.server.principal_key_client(p, vault)

        with self.assertRaises(HttpResponseError) as caught:
            client.create_ec_key("before")
        self.assertEqual(caught.exception.status_code, 403)

        a = self.ok("role", "assignment", "create", "--role", "Key Vault Crypto Officer",
                    "--assignee", p["appId"], "--scope", "/vaults/%s" % vault)
        self.assertEqual(a["principalId"], p["objectId"])
        self.assertEqual(a["roleName"], "Key Vault Crypto Officer")
        self.assertEqual(a["scope"], "/vaults/%s" % vault)
        listed = self.ok("role", "assignment", "list", "--scope", "/vaults/%s" % vault)
        self.assertEqual([x["id"] for x in listed], [a["id"]])
        self.assertEqual([x["id"] for x in self.ok("role", "assignment", "list", "--assignee",
                                                   p["appId"])], [a["id"]])

        key = client.create_ec_key("granted")
        self.assertEqual(key.name, "granted")

        self.assertIsNone(self.ok("role", "assignment", "delete", "--id", a["id"]))
        self.assertEqual(self.ok("role", "assignment", "list", "--scope", "/vaults/%s" % vault),
                         [])
        with self.assertRaises(HttpResponseError) as caught:
            client.create_ec_key("after")
        self.assertEqual(caught.exception.status_code, 403)

        r = self.run_cli("role", "assignment", "create", "--role", "Key Vault Juggler",
                         "--assignee", p["appId"], "--scope", "/vaults/%s" % vault)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Unknown role", r.stderr)
        self.assertEqual(self.run_cli("role", "assignment", "create", "--role",
                                      "Key Vault Reader").returncode, 2)

    # ---- login / logout ---------------------------------------------------------------------

    def test_login_admin_token_then_no_environment(self):
        creds = os.path.join(self.config, "coffre", "credentials.json")
        out = self.ok("login", "--admin-token", self.server.admin_token)
        self.assertEqual(out["server"], self.server.local_resource)
        self.assertTrue(out["adminToken"])
        self.assertEqual(out["credentialsFile"], creds)
        self.assertNotIn(self.server.admin_token, json.dumps(out))  # never printed
        self.assertEqual(stat.S_IMODE(os.stat(creds).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(creds)).st_mode), 0o700)
        leftovers = [n for n in os.listdir(os.path.dirname(creds)) if n != "credentials.json"]
        self.assertEqual(leftovers, [])

        # No COFFRE_SERVER, no token, no CA variables: the login file has it all.
        env = self.bare_env()
        vaults = self.ok("vault", "list", env=env)
        self.assertIn("dev", [v["name"] for v in vaults])
        name = self.unique("li")
        self.assertEqual(self.ok("vault", "create", "--name", name, env=env)["name"], name)

        r = self.run_cli("logout", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(creds))
        r = self.run_cli("vault", "list", env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("No server given", r.stderr)

    def test_login_client_secret_for_key_commands(self):
        vault = self.unique("lk")
        self.ok("vault", "create", "--name", vault, "-o", "none")
        p = self.ok("principal", "create", "--name", self.unique("loginapp"))
        self.ok("vault", "set-policy", "--name", vault, "--spn", p["appId"],
                "--key-permissions", "get", "list", "create", "-o", "none")
        out = self.ok("login", "--client-id", p["appId"], "--client-secret", p["password"])
        self.assertEqual(out["clientId"], p["appId"])
        self.assertNotIn(p["password"], json.dumps(out))
        env = self.bare_env()
        k = self.ok("key", "create", "--vault-name", vault, "--name", "mine", "--kty", "EC",
                    env=env)
        self.assertTrue(k["key"]["kid"].startswith(self.server.vault_url(vault)))
        # The principal, not the dev identity, made it: it may not delete.
        r = self.run_cli("key", "delete", "--vault-name", vault, "--name", "mine", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not have keys delete permission", r.stderr)
        self.assertIn("appid=%s" % p["appId"], r.stderr)
        # A wrong secret is refused at login and nothing is stored.
        self.ok("logout", env=env)
        r = self.run_cli("login", "--client-id", p["appId"], "--client-secret", "wrong")
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused the client credentials", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.config, "coffre", "credentials.json")))

    # ---- errors -----------------------------------------------------------------------------

    def test_wrong_admin_token(self):
        for args, overrides in ((("--admin-token", "not-the-token"), {}),
                                ((), {"COFFRE_ADMIN_TOKEN": "not-the-token"})):
            r = self.run_cli("vault", "list", *args, **overrides)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertIn("(Unauthorized) The admin API requires the admin token.", r.stderr)
            self.assertIn("--admin-token", r.stderr)
        r = self.run_cli("login", "--admin-token", "not-the-token")
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(os.path.join(self.config, "coffre", "credentials.json")))

    def test_missing_server_or_token(self):
        r = self.run_cli("vault", "list", COFFRE_SERVER=None)
        self.assertEqual(r.returncode, 2)
        self.assertIn("No server given: pass --server", r.stderr)
        self.assertIn("COFFRE_SERVER", r.stderr)
        r = self.run_cli("vault", "list", COFFRE_ADMIN_TOKEN=None)
        self.assertEqual(r.returncode, 2)
        self.assertIn("No admin token given", r.stderr)
        r = self.run_cli("vault", "list", "--server", "http://localhost:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("https URL", r.stderr)
        r = self.run_cli("login", COFFRE_SERVER=None)
        self.assertEqual(r.returncode, 2)
        # --server on the command line replaces the environment's.
        vaults = self.ok("vault", "list", "--server", self.server.local_resource,
                         COFFRE_SERVER=None)
        self.assertIn("dev", [v["name"] for v in vaults])


if __name__ == "__main__":
    h.main()
