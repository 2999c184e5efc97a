"""First-hour details of the `coffre` CLI and the dev server (issue 15, items 4, 8 and 9), through
the real binary.

- Role assignments refuse an --assignee the server does not know (as `vault set-policy --spn`
  does; --assignee-object-id takes any id) and warn when the vault uses access policies.
- `vault show` includes the vault's access policies; admin times print as ISO 8601.
- `key verify` exits 1 on an invalid signature (in test_cli.py); `--vault-name` defaults to
  $KEY_VAULT_NAME; `key encrypt` with a non-base64 --value hints at --data-type plaintext.
- A server that is not running is reported within 2 s, with a hint to start it.
- dev-proxy.env: the proxy route lives in its own file, sourced by dev.env, which restarts leave
  alone; the CONNECT refusal's reason phrase (what curl prints) says why.
- `coffre dev trust` / `untrust`: tested with --ca-dir in a temporary directory and a stand-in
  update-ca-certificates on PATH, so the machine's real trust store is never changed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$"


class CliDetailsTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="coffre-cli-details-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_cli(self, *args, env=None, **overrides):
        base = dict(HOME=self.tmp, XDG_CONFIG_HOME=os.path.join(self.tmp, ".config"))
        base.update(overrides)
        e = env if env is not None else self.server.env(**base)
        return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, env=e, cwd=self.tmp)

    def ok(self, *args, **kw):
        p = self.run_cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "%s: %s%s" % (args, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def test_role_assignment_refuses_unknown_assignee_and_warns_on_policy_vault(self):
        self.ok("vault", "create", "--name", "policyvault")
        p = self.run_cli("role", "assignment", "create", "--role", "Key Vault Reader",
                         "--assignee", "nobody-we-know", "--scope", "/vaults/policyvault")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("PrincipalNotFound", p.stderr)
        self.assertIn("--assignee-object-id", p.stderr)
        self.assertEqual(self.ok("role", "assignment", "list", "--scope", "/vaults/policyvault"),
                         [])
        principal = self.ok("principal", "create", "--name", "details-app")
        p = self.run_cli("role", "assignment", "create", "--role", "Key Vault Reader",
                         "--assignee", principal["appId"], "--scope", "/vaults/policyvault")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("WARNING: vault policyvault uses access policies", p.stderr)
        a = json.loads(p.stdout)
        self.assertEqual(a["principalId"], principal["objectId"])
        self.assertRegex(a["created"], ISO)
        # Any object id, as given, with the explicit option.
        oid = "11111111-2222-3333-4444-555555555555"
        a = self.ok("role", "assignment", "create", "--role", "Key Vault Reader",
                    "--assignee-object-id", oid, "--scope", "/")
        self.assertEqual(a["principalId"], oid)
        self.assertEqual(self.run_cli("role", "assignment", "create", "--role", "Key Vault Reader",
                                      "--scope", "/").returncode, 2)

    def test_vault_show_includes_access_policies_and_iso_times(self):
        self.ok("vault", "create", "--name", "showvault")
        principal = self.ok("principal", "create", "--name", "show-app")
        self.ok("vault", "set-policy", "--name", "showvault", "--spn", principal["appId"],
                "--key-permissions", "get", "list")
        v = self.ok("vault", "show", "--name", "showvault")
        self.assertRegex(v["created"], ISO)
        # The dev identity is granted on every vault in --dev; the principal's policy is there.
        mine = [p for p in v["accessPolicies"] if p["objectId"] == principal["objectId"]]
        self.assertEqual(len(mine), 1, v["accessPolicies"])
        self.assertEqual(sorted(mine[0]["permissions"]["keys"]), ["get", "list"])
        for vault in self.ok("vault", "list"):
            self.assertRegex(vault["created"], ISO)

    def test_vault_name_defaults_to_key_vault_name(self):
        # dev.env sets KEY_VAULT_NAME=dev.
        self.assertEqual(self.server.devenv.get("KEY_VAULT_NAME"), "dev")
        k = self.ok("key", "create", "--name", "from-env", "--kty", "EC")
        self.assertIn("dev.localhost", k["key"]["kid"])
        p = self.run_cli("key", "show", "--name", "from-env", KEY_VAULT_NAME=None)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("KEY_VAULT_NAME", p.stderr)

    def test_encrypt_hints_at_plaintext(self):
        self.ok("key", "create", "--name", "wrap", "--kty", "RSA")
        p = self.run_cli("key", "encrypt", "--name", "wrap", "--algorithm", "RSA-OAEP-256",
                         "--value", "hello world!")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("--data-type plaintext", p.stderr)
        r = self.ok("key", "encrypt", "--name", "wrap", "--algorithm", "RSA-OAEP-256",
                    "--value", "hello world!", "--data-type", "plaintext")
        self.assertTrue(r["result"])

    def test_server_not_running_is_reported_quickly(self):
        port = h.closed_port()
        env = self.server.env(COFFRE_SERVER="https://localhost:%d" % port, HOME=self.tmp)
        for args in (["vault", "list"], ["key", "list", "--vault-name", "dev"]):
            started = time.monotonic()
            p = self.run_cli(*args, env=env)
            elapsed = time.monotonic() - started
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("make run", p.stderr)
            self.assertIn("localhost:%d" % port, p.stderr)
            self.assertLess(elapsed, 2.0, args)


def source(data_dir, names):
    """The values of `names` after sourcing dev.env in a POSIX shell."""
    script = ". %s/dev.env >/dev/null; %s" % (data_dir, "; ".join(
        'printf "%%s\\n" "${%s-}"' % n for n in names))
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30,
                         env=h.clean_env()).stdout.splitlines()
    return dict(zip(names, out))


class DevProxyEnvTest(unittest.TestCase):

    def test_proxy_choice_survives_restart(self):
        with h.Coffre(label="dev-proxy") as s:
            proxy_env = os.path.join(s.data_dir, "dev-proxy.env")
            text = open(proxy_env).read()
            self.assertIn("# export HTTPS_PROXY=", text)
            self.assertEqual(source(s.data_dir, ["HTTPS_PROXY"]), {"HTTPS_PROXY": ""})
            # The user takes the proxy route.
            chosen = text.replace("# export HTTPS_PROXY", "export HTTPS_PROXY").replace(
                "# export NO_PROXY", "export NO_PROXY")
            with open(proxy_env, "w") as f:
                f.write(chosen)
            s.restart()
            self.assertEqual(open(proxy_env).read(), chosen)
            values = source(s.data_dir, ["HTTPS_PROXY", "NO_PROXY", "IDENTITY_ENDPOINT"])
            self.assertEqual(values["HTTPS_PROXY"], "http://127.0.0.1:%d" % s.http_port)
            self.assertIn(".localhost", values["NO_PROXY"])
            self.assertTrue(values["IDENTITY_ENDPOINT"])

    def test_refused_connect_has_a_reason_curl_prints(self):
        with h.Coffre(label="proxy-403") as s:
            sock, status, raw = s.open_tunnel("example.com:443")
            sock.close()
            self.assertEqual(status, 403)
            line = raw.split(b"\r\n", 1)[0].decode()
            self.assertIn("NAME.vault.azure.net:443", line)
            if shutil.which("curl"):
                p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10",
                                    "--proxy", s.proxy_url, "https://example.com/"],
                                   capture_output=True, text=True, timeout=30,
                                   env=h.clean_env())
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("403", p.stderr)


class DevTrustTest(unittest.TestCase):
    """Never touches /usr/local/share/ca-certificates: --ca-dir is a temporary directory and
    update-ca-certificates a stand-in script that records its call."""

    def test_trust_and_untrust(self):
        with h.Coffre(label="dev-trust") as s:
            tmp = tempfile.mkdtemp(prefix="coffre-trust-")
            try:
                ca_dir = os.path.join(tmp, "ca-certificates")
                os.mkdir(ca_dir)
                bin_dir = os.path.join(tmp, "bin")
                os.mkdir(bin_dir)
                calls = os.path.join(tmp, "calls")
                fake = os.path.join(bin_dir, "update-ca-certificates")
                with open(fake, "w") as f:
                    f.write("#!/bin/sh\necho called >> %s\n" % calls)
                os.chmod(fake, 0o755)
                env = h.clean_env()
                env["PATH"] = bin_dir + ":" + env.get("PATH", "/usr/bin:/bin")

                def coffre(*args):
                    return subprocess.run([h.COFFRE_BIN, "dev"] + list(args) +
                                          ["--data-dir", s.data_dir, "--ca-dir", ca_dir],
                                          capture_output=True, text=True, timeout=30, env=env)

                p = coffre("trust")
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                files = os.listdir(ca_dir)
                self.assertEqual(len(files), 1, files)
                self.assertRegex(files[0], r"^coffre-dev-ca-[0-9a-f]{16}\.crt$")
                with open(os.path.join(ca_dir, files[0])) as f, open(s.ca_pem) as g:
                    self.assertEqual(f.read(), g.read())
                self.assertEqual(open(calls).read(), "called\n")
                p = coffre("untrust")
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(os.listdir(ca_dir), [])
                self.assertEqual(open(calls).read(), "called\ncalled\n")
                # Not trusted: nothing to do, update-ca-certificates not run.
                p = coffre("untrust")
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn("was not trusted", p.stdout)
                self.assertEqual(open(calls).read(), "called\ncalled\n")
                # Without write access (as a user other than root): a clear error.
                os.chmod(ca_dir, 0o555)
                if os.geteuid() == 0 and shutil.which("setpriv"):
                    os.chmod(tmp, 0o755)
                    os.chmod(s.root, 0o755)
                    os.chmod(s.data_dir, 0o755)
                    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                                        "--clear-groups", h.COFFRE_BIN, "dev", "trust",
                                        "--data-dir", s.data_dir, "--ca-dir", ca_dir],
                                       capture_output=True, text=True, timeout=30, env=env)
                    os.chmod(s.data_dir, 0o700)
                    self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                    self.assertIn("needs root", p.stderr)
                    self.assertIn("sudo coffre dev trust", p.stderr)
                    self.assertEqual(os.listdir(ca_dir), [])
            finally:
                os.chmod(os.path.join(tmp, "ca-certificates"), 0o755)
                shutil.rmtree(tmp, ignore_errors=True)


class MistypedVaultTest(h.ServerTestCase):
    """--dev answers any NAME.localhost with a certificate from the dev CA made for that name, so
    a mistyped vault gets Key Vault's 404 VaultNotFound (after authentication), not a TLS error."""

    def peer_names(self, sni):
        with self.server.tls_socket(sni=sni) as sock:
            der = sock.getpeercert(binary_form=True)
            cert = sock.getpeercert()
        return [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"], der

    def test_typo_gets_vault_not_found(self):
        s = self.server
        host = "dve.localhost:%d" % s.port
        r = s.request("GET", "/keys?api-version=7.4", host=host, token=None)
        self.assertEqual(r.status, 401, r)  # authentication first, as for any vault
        r = s.request("GET", "/keys?api-version=7.4", host=host)
        self.assertJsonError(r, 404, code="VaultNotFound")
        names, _ = self.peer_names("dve.localhost")
        self.assertEqual(names, ["dve.localhost"])
        # The made certificate is kept: the same one next time.
        _, first = self.peer_names("other-typo.localhost")
        _, again = self.peer_names("other-typo.localhost")
        self.assertEqual(first, again)
        # Served vaults keep the main certificate; names outside .localhost get nothing made.
        names, _ = self.peer_names("dev.localhost")
        self.assertIn("dev.localhost", names)
        self.assertIn("*.vault.azure.net", names)

    def test_python_sdk_sees_vault_not_found(self):
        from azure.core.exceptions import ResourceNotFoundError
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.keys import KeyClient
        self.server.apply_env()
        client = KeyClient("https://dve.localhost:%d" % self.server.port, DefaultAzureCredential())
        with self.assertRaises(ResourceNotFoundError) as caught:
            client.get_key("anything")
        self.assertIn("VaultNotFound", str(caught.exception))


if __name__ == "__main__":
    h.main()
