"""`coffre secret ...`: every secret command, checked by its az-shaped JSON output.

The CLI runs with the server's dev.env (managed identity, CA bundle, COFFRE_SERVER) and a HOME /
XDG_CONFIG_HOME in a temporary directory, so no `coffre login` state leaks in or out.

- Output shapes as `az keyvault secret ...` prints them: {"attributes":{...},"contentType","id",
  "kid","managed","name","tags","value"}, "+00:00" times, list items without a value, deleted
  secrets with deletedDate/recoveryId/scheduledPurgeDate; `-o table` and `-o tsv`.
- set (--value, --file with utf-8/ascii/base64/hex, attributes and tags), show (--version, --id),
  download (encodings, the file-encoding tag, never over an existing file, mode 0600), list (managed
  secrets left out), list-versions across pages, set-attributes, delete/show-deleted/list-deleted/
  recover/purge, backup to a file/restore.
- Errors: the service's "(Code) message" on stderr with exit 1 (missing secret 404, disabled
  secret 403, set on a deleted name 409, restore over an existing name 409, oversized value 400);
  usage errors exit 2; no secret value ever in an error.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

VAULT = "clisecrets"
ATTRIBUTE_FIELDS = {"created", "enabled", "expires", "notBefore", "recoverableDays",
                    "recoveryLevel", "updated"}
SECRET_FIELDS = {"attributes", "contentType", "id", "kid", "managed", "name", "tags", "value"}
ITEM_FIELDS = {"attributes", "contentType", "id", "managed", "name", "tags"}
DELETION_FIELDS = {"deletedDate", "recoveryId", "scheduledPurgeDate"}


def not_found_message(name):
    return ("A secret with (name/id) %s was not found in this key vault. If you recently deleted "
            "this secret you may be able to recover it using the correct recovery command. For "
            "help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            % name)


def conflict_message(name):
    return ("Secret %s is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the secret can only be recovered or purged." % name)


class CliSecretsTest(h.ServerTestCase):
    VAULTS = (VAULT,)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="coffre-cli-secrets-")
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # ---- helpers --------------------------------------------------------------------------

    def run_cli(self, *args, **overrides):
        base = dict(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        base.update(overrides)
        return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120,
                              env=self.server.env(**base), cwd=self.tmp)

    def secret(self, *args, **kw):
        """`coffre secret ARGS --vault-name VAULT` -> parsed JSON (asserts exit 0)."""
        args = list(args)
        if "--id" not in args:
            args += ["--vault-name", VAULT]
        p = self.run_cli("secret", *args, **kw)
        self.assertEqual(p.returncode, 0, "coffre secret %s: rc=%s\n%s%s" % (
            " ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def secret_fails(self, *args, rc=1, **kw):
        args = list(args)
        if "--id" not in args and "--no-vault" not in args:
            args += ["--vault-name", VAULT]
        args = [a for a in args if a != "--no-vault"]
        p = self.run_cli("secret", *args, **kw)
        self.assertEqual(p.returncode, rc, "expected rc %s: %s%s" % (rc, p.stdout, p.stderr))
        self.assertEqual(p.stdout, "", p.stdout)
        return p.stderr

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    @property
    def vault_url(self):
        return self.server.vault_url(VAULT)

    def assertSecretShape(self, s, name, value=None):
        self.assertEqual(set(s), SECRET_FIELDS, s)
        self.assertEqual(set(s["attributes"]), ATTRIBUTE_FIELDS, s)
        self.assertEqual(s["name"], name)
        self.assertRegex(s["id"], r"^%s/secrets/%s/[0-9a-f]{32}$" % (self.vault_url, name))
        self.assertRegex(s["attributes"]["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertIsNone(s["kid"])
        self.assertIsNone(s["managed"])
        if value is not None:
            self.assertEqual(s["value"], value)

    # ---- set / show -----------------------------------------------------------------------

    def test_set_and_show(self):
        value = 'p@ss "w0rd" \\ é€ 🔑'
        s = self.secret("set", "--name", "plain", "--value", value)
        self.assertSecretShape(s, "plain", value)
        self.assertTrue(s["attributes"]["enabled"])
        self.assertIsNone(s["contentType"])
        self.assertIsNone(s["tags"])
        self.assertIsNone(s["attributes"]["expires"])
        self.assertEqual(self.secret("show", "--name", "plain"), s)
        # By id, with and without the version.
        self.assertEqual(self.secret("show", "--id", s["id"])["value"], value)
        self.assertEqual(self.secret("show", "--id", "%s/secrets/plain" % self.vault_url)["id"],
                         s["id"])

    def test_set_with_attributes_and_versions(self):
        first = self.secret("set", "--name", "versioned", "--value", "one")
        second = self.secret("set", "--name", "versioned", "--value", "two", "--content-type",
                             "text/plain", "--tags", "env=prod", "team", "--expires",
                             "2020-01-01T00:00:00Z", "--not-before", "2019-06-01")
        self.assertNotEqual(first["id"], second["id"])
        self.assertEqual(second["contentType"], "text/plain")
        self.assertEqual(second["tags"], {"env": "prod", "team": ""})
        self.assertEqual(second["attributes"]["expires"], "2020-01-01T00:00:00+00:00")
        self.assertEqual(second["attributes"]["notBefore"], "2019-06-01T00:00:00+00:00")
        # Expired, yet it reads: expiry is informational.
        self.assertEqual(self.secret("show", "--name", "versioned")["value"], "two")
        version = first["id"].rsplit("/", 1)[1]
        self.assertEqual(self.secret("show", "--name", "versioned", "--version", version)["value"],
                         "one")
        versions = self.secret("list-versions", "--name", "versioned")
        self.assertEqual({v["id"] for v in versions}, {first["id"], second["id"]})
        for v in versions:
            self.assertEqual(set(v), ITEM_FIELDS, v)

    def test_set_disabled_then_show_is_forbidden(self):
        s = self.secret("set", "--name", "sleeper", "--value", "zzz", "--disabled")
        self.assertFalse(s["attributes"]["enabled"])
        err = self.secret_fails("show", "--name", "sleeper")
        self.assertRegex(err, r"^ERROR: \(Forbidden\) ")
        self.assertIn("disabled", err)
        self.assertNotIn("zzz", err)
        # Re-enabled through set-attributes: it reads again, value unchanged.
        updated = self.secret("set-attributes", "--name", "sleeper", "--enabled", "true")
        self.assertTrue(updated["attributes"]["enabled"])
        self.assertNotIn("value", updated)
        self.assertEqual(self.secret("show", "--name", "sleeper")["value"], "zzz")

    def test_set_attributes(self):
        s = self.secret("set", "--name", "attrs", "--value", "v")
        version = s["id"].rsplit("/", 1)[1]
        updated = self.secret("set-attributes", "--name", "attrs", "--version", version,
                              "--content-type", "application/json", "--tags", "a=b",
                              "--expires", "2031-02-03T04:05:06Z")
        self.assertEqual(set(updated), SECRET_FIELDS - {"value"})
        self.assertEqual(updated["id"], s["id"])
        self.assertEqual(updated["contentType"], "application/json")
        self.assertEqual(updated["tags"], {"a": "b"})
        self.assertEqual(updated["attributes"]["expires"], "2031-02-03T04:05:06+00:00")
        shown = self.secret("show", "--name", "attrs")
        self.assertEqual(shown["value"], "v")
        self.assertEqual(shown["contentType"], "application/json")
        err = self.secret_fails("set-attributes", "--name", "attrs", "--enabled", "maybe", rc=2)
        self.assertIn("--enabled takes true or false", err)

    # ---- files ----------------------------------------------------------------------------

    def test_set_from_file_and_download(self):
        text = "line one\nline two é\n"
        path = self.write("text.txt", text.encode())
        s = self.secret("set", "--name", "from-text", "--file", path)
        self.assertEqual(s["value"], text)
        self.assertEqual(s["tags"], {"file-encoding": "utf-8"})
        out = self.path("text.out")
        self.assertIsNone(self.secret("download", "--name", "from-text", "--file", out))
        self.assertEqual(self.read(out), text.encode())
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)

        binary = bytes(range(256)) * 4
        path = self.write("blob.bin", binary)
        s = self.secret("set", "--name", "from-binary", "--file", path, "--encoding", "base64")
        self.assertEqual(s["tags"], {"file-encoding": "base64"})
        self.assertNotIn("\n", s["value"])
        out = self.path("blob.out")
        # The tag tells download how to decode.
        self.secret("download", "--name", "from-binary", "--file", out)
        self.assertEqual(self.read(out), binary)
        # An explicit --encoding wins: the stored base64 text itself.
        raw = self.path("blob.b64")
        self.secret("download", "--name", "from-binary", "--file", raw, "--encoding", "utf-8")
        self.assertEqual(self.read(raw).decode(), s["value"])

        s = self.secret("set", "--name", "from-hex", "--file", path, "--encoding", "hex")
        self.assertEqual(s["value"], binary.hex())
        out = self.path("hex.out")
        self.secret("download", "--name", "from-hex", "--file", out)
        self.assertEqual(self.read(out), binary)

        # A secret set with --value downloads as utf-8.
        self.secret("set", "--name", "typed", "--value", "typed value")
        out = self.path("typed.out")
        self.secret("download", "--name", "typed", "--file", out)
        self.assertEqual(self.read(out), b"typed value")

        # Never over an existing file; binary data is not utf-8 text.
        err = self.secret_fails("download", "--name", "typed", "--file", out)
        self.assertIn("already exists", err)
        self.assertEqual(self.read(out), b"typed value")
        err = self.secret_fails("set", "--name", "bad", "--file", path, rc=2)
        self.assertIn("utf-8", err)
        err = self.secret_fails("set", "--name", "bad", "--file", self.write("x.txt", b"\xc3x"),
                                "--encoding", "ascii", rc=2)
        self.assertIn("ascii", err)

    # ---- list -----------------------------------------------------------------------------

    def test_list_across_pages(self):
        names = ["listed-%02d" % i for i in range(27)]
        for name in names:
            self.secret("set", "--name", name, "--value", "value-of-" + name, "-o", "none")
        items = self.secret("list")
        listed = {i["name"]: i for i in items}
        self.assertTrue(set(names) <= set(listed), sorted(listed))
        for name in names:
            item = listed[name]
            self.assertEqual(set(item), ITEM_FIELDS, item)
            self.assertEqual(item["id"], "%s/secrets/%s" % (self.vault_url, name))
            self.assertEqual(set(item["attributes"]), ATTRIBUTE_FIELDS)
        p = self.run_cli("secret", "list", "--vault-name", VAULT)
        self.assertNotIn("value-of-", p.stdout)
        self.assertEqual(len(self.secret("list", "--maxresults", 5)), 5)
        # No certificate-backed secrets here: --include-managed lists the same secrets.
        self.assertEqual({i["name"] for i in self.secret("list", "--include-managed")},
                         set(listed))

    # ---- delete / recover / purge ---------------------------------------------------------

    def test_delete_show_deleted_recover_purge(self):
        s = self.secret("set", "--name", "doomed", "--value", "bye")
        d = self.secret("delete", "--name", "doomed")
        self.assertEqual(set(d), (SECRET_FIELDS - {"value"}) | DELETION_FIELDS, d)
        self.assertEqual(d["recoveryId"], "%s/deletedsecrets/doomed" % self.vault_url)
        self.assertRegex(d["deletedDate"], r"\+00:00$")
        self.assertRegex(d["scheduledPurgeDate"], r"\+00:00$")
        self.assertEqual(d["id"], s["id"])

        shown = self.secret("show-deleted", "--name", "doomed")
        self.assertEqual(shown["recoveryId"], d["recoveryId"])
        listed = {i["name"]: i for i in self.secret("list-deleted")}
        self.assertIn("doomed", listed)
        self.assertEqual(set(listed["doomed"]), ITEM_FIELDS | DELETION_FIELDS)
        self.assertEqual(listed["doomed"]["recoveryId"], d["recoveryId"])

        # Gone from show (404), its name taken (409), with the service's words.
        err = self.secret_fails("show", "--name", "doomed")
        self.assertEqual(err.strip(), "ERROR: (SecretNotFound) " + not_found_message("doomed"))
        err = self.secret_fails("set", "--name", "doomed", "--value", "new-value")
        self.assertEqual(err.strip(), "ERROR: (Conflict) " + conflict_message("doomed"))
        self.assertNotIn("new-value", err)

        # Addressed by its recovery id, as az allows.
        self.assertEqual(self.secret("show-deleted", "--id", d["recoveryId"])["id"], s["id"])
        recovered = self.secret("recover", "--id", d["recoveryId"])
        self.assertEqual(recovered["id"], s["id"])
        self.assertNotIn("value", recovered)
        self.assertEqual(self.secret("show", "--name", "doomed")["value"], "bye")

        self.secret("delete", "--name", "doomed", "-o", "none")
        p = self.run_cli("secret", "purge", "--vault-name", VAULT, "--name", "doomed")
        self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)
        self.assertIn("(SecretNotFound)", self.secret_fails("show-deleted", "--name", "doomed"))
        self.assertNotIn("doomed", {i["name"] for i in self.secret("list-deleted")})
        self.secret("set", "--name", "doomed", "--value", "reborn", "-o", "none")

    # ---- backup / restore -----------------------------------------------------------------

    def test_backup_restore(self):
        s = self.secret("set", "--name", "saved", "--value", "keep me", "--tags", "x=y")
        blob = self.path("saved.blob")
        self.assertIsNone(self.secret("backup", "--name", "saved", "--file", blob))
        self.assertGreater(os.path.getsize(blob), 16)
        self.assertNotIn(b"keep me", self.read(blob))
        # Restoring over an existing secret is refused by the service.
        self.assertIn("(Conflict)", self.secret_fails("restore", "--file", blob))
        self.secret("delete", "--name", "saved", "-o", "none")
        self.secret("purge", "--name", "saved")
        restored = self.secret("restore", "--file", blob)
        self.assertEqual(restored["id"], s["id"])
        self.assertEqual(restored["tags"], {"x": "y"})
        self.assertEqual(self.secret("show", "--name", "saved")["value"], "keep me")
        forged = bytearray(self.read(blob))
        forged[len(forged) // 2] ^= 1
        err = self.secret_fails("restore", "--file", self.write("forged.blob", bytes(forged)))
        self.assertRegex(err, r"^ERROR: \(\w+\) ")

    # ---- output formats -------------------------------------------------------------------

    def test_table_and_tsv_output(self):
        s = self.secret("set", "--name", "tabled", "--value", "tv", "--content-type", "text/x")
        version = s["id"].rsplit("/", 1)[1]
        p = self.run_cli("secret", "show", "--vault-name", VAULT, "--name", "tabled", "-o",
                         "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(),
                         ["Name", "Version", "ContentType", "Enabled", "Expires", "Value"])
        self.assertTrue(set(lines[1]) <= {"-", " "}, lines)
        self.assertEqual(lines[2].split(), ["tabled", version, "text/x", "True", "tv"])

        p = self.run_cli("secret", "list", "--vault-name", VAULT, "-o", "table")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Name", "ContentType", "Enabled", "Expires", "Updated"])
        self.assertIn("tabled", [line.split()[0] for line in lines[2:]])

        p = self.run_cli("secret", "show", "--vault-name", VAULT, "--name", "tabled", "-o", "tsv")
        self.assertEqual(p.stdout.rstrip("\n").split("\t"),
                         ["tabled", version, "text/x", "True", "", "tv"])

    # ---- errors ---------------------------------------------------------------------------

    def test_errors(self):
        err = self.secret_fails("show", "--name", "never-made")
        self.assertEqual(err.strip(), "ERROR: (SecretNotFound) " + not_found_message("never-made"))
        err = self.secret_fails("show", "--id", self.vault_url + "/secrets/never-made/" + "0" * 32)
        self.assertIn("(SecretNotFound)", err)
        self.assertIn("(SecretNotFound)", self.secret_fails("delete", "--name", "never-made"))
        self.assertIn("(SecretNotFound)", self.secret_fails("recover", "--name", "never-made"))
        self.assertIn("(SecretNotFound)", self.secret_fails("purge", "--name", "never-made"))
        # Oversized: the service refuses, the value is not echoed.
        err = self.secret_fails("set", "--name", "huge", "--value", "Q" * 25601)
        self.assertRegex(err, r"^ERROR: \(\w+\) ")
        self.assertNotIn("Q" * 100, err)

        # Usage errors: exit 2, nothing sent.
        self.assertIn("--value", self.secret_fails("set", "--name", "x", rc=2))
        self.secret_fails("set", "--name", "x", "--value", "v", "--file", "f", rc=2)
        self.assertIn("--encoding", self.secret_fails("set", "--name", "x", "--value", "v",
                                                      "--encoding", "base64", rc=2))
        self.assertIn("--encoding", self.secret_fails(
            "set", "--name", "x", "--file", self.write("e.txt", b"e"), "--encoding", "utf-16",
            rc=2))
        self.assertIn("--name", self.secret_fails("show", rc=2))
        self.assertIn("--vault-name", self.secret_fails("show", "--name", "x", "--no-vault", rc=2,
                                                       KEY_VAULT_NAME=None))
        self.secret_fails("download", "--name", "x", rc=2)   # --file is required
        self.secret_fails("backup", "--name", "x", rc=2)
        self.assertIn("--id must be", self.secret_fails(
            "show", "--id", self.vault_url + "/keys/not-a-secret", rc=2))
        self.assertIn("ISO 8601", self.secret_fails("set", "--name", "x", "--value", "v",
                                                    "--expires", "tomorrow", rc=2))
        self.assertIn("Cannot read", self.secret_fails("set", "--name", "x", "--file",
                                                       self.path("missing.txt")))


if __name__ == "__main__":
    h.main()
