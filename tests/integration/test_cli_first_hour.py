"""A new user's first hour with the `coffre` binary (issue 15), through the real binary.

- `coffre --version` / `coffre version`: version, git commit, build type, OpenSSL and SQLite.
- An unknown command says so and suggests the nearest one (`kye` -> `key`), exit 2.
- `-h` on every command lists the global options too and ends with an example of that command.
- Offline commands refuse a data dir that does not exist or holds no store, and create nothing.
- One server per data dir: a second server on it refuses ("data dir ... in use by PID N") and
  leaves dev.env alone.
- `principal create` prints the environment lines to paste (stderr) beside the JSON (stdout),
  online and offline, and those lines sign in.
- examples/python/kv_keys.py and build/examples/kv_keys run as the README says (dev.env).
- `cmake --install` puts the coffre binary in PREFIX/bin; sourcing dev.env puts the build's
  coffre on PATH.
- `coffre server` settings from COFFRE_* variables and a TOML --config file (flags > environment
  > file > defaults), shown by --print-config; a server starts from a config file alone.
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

GLOBAL_OPTIONS = ("--log-level", "--output", "--server", "--admin-token", "--ca-file")


def run(*args, env=None, cwd=None, timeout=60):
    return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else h.clean_env(), cwd=cwd)


def subcommands(help_text):
    """Names listed under "Subcommands:" in a help text."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def parse_exports(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^export ([A-Z_]+)=(.*)$", line)
        if m:
            value = m.group(2)
            if value.startswith("'") and value.endswith("'"):
                value = value[1:-1].replace("'\\''", "'")
            out[m.group(1)] = value
    return out


class VersionAndHelpTest(unittest.TestCase):
    """No server needed."""

    def test_version_flag(self):
        p = run("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        # "unknown" only for a build from a source tree without git.
        self.assertRegex(p.stdout, r"^coffre \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown), ")
        self.assertRegex(p.stdout, r"\b(RelWithDebInfo|Release|Debug|Sanitize|MinSizeRel)\b")
        self.assertRegex(p.stdout, r"(?m)^OpenSSL 3\.")
        self.assertRegex(p.stdout, r"(?m)^SQLite 3\.\d+")

    def test_version_command(self):
        p = run("version")
        self.assertEqual(p.returncode, 0, p.stderr)
        info = json.loads(p.stdout)
        self.assertEqual(sorted(info), ["buildType", "gitCommit", "openssl", "sqlite", "version"])
        self.assertRegex(info["version"], r"^\d+\.\d+\.\d+$")
        self.assertRegex(info["gitCommit"], r"^([0-9a-f]{7,}(-dirty)?|unknown)$")
        self.assertTrue(info["openssl"].startswith("OpenSSL 3."), info)
        self.assertRegex(info["sqlite"], r"^3\.\d+")
        # The commit is one of this source tree's (the build's; HEAD may have moved on since).
        if info["gitCommit"] != "unknown":
            sha = info["gitCommit"].split("-")[0]
            known = subprocess.run(["git", "cat-file", "-e", sha + "^{commit}"],
                                   cwd=h.SOURCE_DIR, capture_output=True, text=True)
            inside = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=h.SOURCE_DIR,
                                    capture_output=True, text=True)
            if inside.returncode == 0:
                self.assertEqual(known.returncode, 0, "no commit %s in %s" % (sha, h.SOURCE_DIR))
        table = run("version", "-o", "table")
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertIn("GitCommit", table.stdout)

    def test_unknown_command_suggests_nearest(self):
        cases = [(("kye",), "'kye'", "key"),
                 (("-o", "table", "secert", "list"), "'secert'", "secret"),
                 (("key", "shwo", "--name", "x"), "'shwo'", "show"),
                 (("vault", "craete"), "'craete'", "create"),
                 (("--server", "https://localhost:1", "principal", "lsit"), "'lsit'", "list")]
        for args, word, nearest in cases:
            p = run(*args)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertIn(word + " is not a command", p.stderr, args)
            self.assertIn("Did you mean '%s'?" % nearest, p.stderr, args)
        p = run("zzzzzzzz")
        self.assertEqual(p.returncode, 2)
        self.assertIn("'zzzzzzzz' is not a command of 'coffre'", p.stderr)
        self.assertNotIn("Did you mean", p.stderr)

    def test_every_command_help_lists_global_options_and_an_example(self):
        seen = 0
        pending = [[]]
        while pending:
            path = pending.pop()
            p = run(*(path + ["-h"]))
            self.assertEqual(p.returncode, 0, (path, p.stderr))
            text = p.stdout
            children = subcommands(text)
            pending.extend(path + [c] for c in children)
            if not path:
                continue
            seen += 1
            for option in GLOBAL_OPTIONS + ("--version",):
                self.assertIn(option, text, "coffre %s -h lacks %s" % (" ".join(path), option))
            m = re.search(r"Example:\n  (.+)\n", text + "\n")
            self.assertIsNotNone(m, "coffre %s -h has no example" % " ".join(path))
            example = m.group(1)
            if not children:
                # A leaf's example runs that very command.
                self.assertIn("coffre " + " ".join(path), example, path)
        self.assertGreater(seen, 50)

    def test_cli_docs_are_generated_from_the_help(self):
        script = os.path.join(h.SOURCE_DIR, "scripts", "gen_cli_docs.py")
        docs = os.path.join(h.SOURCE_DIR, "docs", "cli.md")
        p = subprocess.run([h.PYTHON, script, "--check", h.COFFRE_BIN, docs],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(docs) as f:
            text = f.read()
        for section in ("## coffre version", "## coffre key create", "## coffre secret set",
                        "## coffre role assignment create", "## Global options"):
            self.assertIn(section + "\n", text)


def toml_settings(text):
    """{key: raw value text} of `key = value` lines."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z-]+) = (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class ServerConfigTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="coffre-config-")
        self.env = {k: v for k, v in h.clean_env().items() if not k.startswith("COFFRE_")}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, text):
        path = os.path.join(self.tmp, "coffre.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def print_config(self, *args, **env):
        p = run("server", *args, "--print-config", env=dict(self.env, **env), cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return toml_settings(p.stdout)

    def test_defaults(self):
        s = self.print_config()
        self.assertEqual(s["port"], "8443")
        self.assertEqual(s["http-port"], "8080")
        self.assertEqual(s["data-dir"], '"./coffre-data"')
        self.assertEqual(s["bind"], '["127.0.0.1", "::1"]')
        self.assertEqual(s["dev"], "false")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "coffre-data")),
                         "--print-config created the data dir")

    def test_flags_beat_environment_beat_file(self):
        path = self.config('port = 5555\nhttp-port = 5556\ndata-dir = "/srv/file"\n'
                           'bind = ["0.0.0.0"]\ndev = true\naudit-file-bytes = 100000\n')
        s = self.print_config("--config", path)
        self.assertEqual((s["port"], s["http-port"], s["data-dir"], s["bind"], s["dev"],
                          s["audit-file-bytes"]),
                         ("5555", "5556", '"/srv/file"', '["0.0.0.0"]', "true", "100000"))
        s = self.print_config("--config", path, COFFRE_PORT="6666", COFFRE_BIND="10.0.0.1,::",
                              COFFRE_DATA_DIR="/srv/env")
        self.assertEqual((s["port"], s["http-port"], s["data-dir"], s["bind"]),
                         ("6666", "5556", '"/srv/env"', '["10.0.0.1", "::"]'))
        s = self.print_config("--config", path, "--port", "7777", "--data-dir", "/srv/flag",
                              COFFRE_PORT="6666", COFFRE_DATA_DIR="/srv/env")
        self.assertEqual((s["port"], s["data-dir"]), ("7777", '"/srv/flag"'))
        # The file may come from the environment too.
        s = self.print_config(COFFRE_CONFIG=path)
        self.assertEqual(s["port"], "5555")

    def test_every_flag_has_an_environment_variable(self):
        env = {"COFFRE_DATA_DIR": "/d", "COFFRE_PORT": "1", "COFFRE_HTTP_PORT": "2",
               "COFFRE_BIND": "::1", "COFFRE_VAULTS": "a,b", "COFFRE_DEV": "true",
               "COFFRE_ARM": "true", "COFFRE_STORAGE": "postgresql://app:hunter2@db/coffre",
               "COFFRE_MASTER_KEY_FILE": "/k", "COFFRE_TLS_CERT": "/c", "COFFRE_TLS_KEY": "/p",
               "COFFRE_IO_THREADS": "3", "COFFRE_AUDIT_DIR": "/a",
               "COFFRE_AUDIT_FILE_BYTES": "8192", "COFFRE_MAX_FAILED_SIGN_INS": "7",
               "COFFRE_TEST_HARNESS": "true", "COFFRE_THROTTLE": "0.5",
               "COFFRE_LOG_LEVEL": "debug", "COFFRE_LOG_FORMAT": "json"}
        s = self.print_config(**env)
        self.assertEqual(s, {"data-dir": '"/d"', "port": "1", "http-port": "2",
                             "bind": '["::1"]', "vault": '["a", "b"]', "dev": "true", "arm": "true",
                             "storage": '"postgresql://app:***@db/coffre"',
                             "master-key-file": '"/k"', "tls-cert": '"/c"', "tls-key": '"/p"',
                             "io-threads": "3", "audit-dir": '"/a"',
                             "audit-file-bytes": "8192", "max-failed-sign-ins": "7",
                             "test-harness": "true", "throttle": '"0.5"',
                             "log-level": '"debug"', "log-format": '"json"'})
        help_text = run("server", "--help", env=self.env).stdout
        for name in env:
            self.assertIn(name, help_text)

    def test_bad_config_files_are_refused(self):
        cases = [("prot = 1\n", "unknown setting 'prot'"),
                 ("port = \n", "Cannot read the config file"),
                 ("port = 1.5\n", "'port'"),
                 ("audit-file-bytes = 1\n", "'audit-file-bytes'"),
                 ("bind = [1, 2]\n", "list of strings")]
        for text, message in cases:
            p = run("server", "--config", self.config(text), "--print-config", env=self.env)
            self.assertEqual(p.returncode, 2, (text, p.stdout, p.stderr))
            self.assertIn(message, p.stderr, text)
        p = run("server", "--config", os.path.join(self.tmp, "missing.toml"), "--print-config",
                env=self.env)
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_server_starts_from_a_config_file(self):
        port = h.free_port()
        http_port = h.free_port(exclude=(port,))
        data_dir = os.path.join(self.tmp, "data")
        path = self.config('dev = true\nport = %d\nhttp-port = %d\ndata-dir = "%s"\n'
                           'vault = ["from-file"]\n' % (port, http_port, data_dir))
        log = open(os.path.join(self.tmp, "server.log"), "wb")
        proc = subprocess.Popen([h.COFFRE_BIN, "server", "--config", path], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=self.env, cwd=self.tmp)
        try:
            devenv = os.path.join(data_dir, "dev.env")
            deadline = time.monotonic() + h.START_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                if os.path.exists(devenv):
                    break
                time.sleep(0.1)
            self.assertTrue(os.path.exists(devenv), "no dev.env; rc=%s" % proc.poll())
            with open(devenv) as f:
                env = h.parse_env_file(f.read())
            self.assertEqual(env["COFFRE_SERVER"], "https://localhost:%d" % port)
            self.assertEqual(env["IDENTITY_ENDPOINT"],
                             "http://127.0.0.1:%d/msi/token" % http_port)
        finally:
            proc.terminate()
            try:
                proc.wait(h.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            log.close()


class DataDirTest(h.ServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="coffre-first-hour-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- offline commands never create a store -------------------------------------------

    def test_offline_commands_refuse_missing_data_dir(self):
        missing = os.path.join(self.tmp, "no-such-dir")
        for args in (["principal", "create", "--name", "a"], ["principal", "list"],
                     ["principal", "delete", "--name", "a"], ["store", "check"]):
            p = run(*args, "--data-dir", missing)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn("ERROR:", p.stderr, args)
            self.assertFalse(os.path.exists(missing), "%s created the data dir" % args)
        p = run("principal", "create", "--name", "a", "--data-dir", missing)
        self.assertEqual(p.returncode, 2)
        self.assertIn("does not exist", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_offline_commands_refuse_dir_without_store(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        for args in (["principal", "create", "--name", "a"], ["principal", "list"]):
            p = run(*args, "--data-dir", empty)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("holds no Coffre store", p.stderr)
        self.assertEqual(os.listdir(empty), [])

    # ---- one server per data dir ---------------------------------------------------------

    def test_second_server_on_same_data_dir_refuses(self):
        devenv = os.path.join(self.server.data_dir, "dev.env")
        before = os.stat(devenv).st_mtime_ns
        port = h.free_port(exclude=(self.server.port, self.server.http_port))
        http_port = h.free_port(exclude=(self.server.port, self.server.http_port, port))
        p = run("server", "--dev", "--data-dir", self.server.data_dir, "--port", port,
                "--http-port", http_port, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("in use by PID %d" % self.server.proc.pid, p.stderr)
        self.assertEqual(os.stat(devenv).st_mtime_ns, before, "dev.env was rewritten")
        self.assertTrue(self.server.running())
        self.assertEqual(self.server.http_get("/healthz").status, 200)

    def test_lock_is_released_when_the_server_stops(self):
        # A server killed with -9 leaves the file but not the lock: the next start works.
        with h.Coffre(label="lock-restart") as server:
            server.restart(kill=True)
            self.assertEqual(server.http_get("/healthz").status, 200)
            with open(os.path.join(server.data_dir, "server.lock")) as f:
                self.assertEqual(f.read().strip(), str(server.proc.pid))

    # ---- principal create prints the lines to paste --------------------------------------

    def check_principal_lines(self, p, authority):
        self.assertEqual(p.returncode, 0, p.stderr)
        created = json.loads(p.stdout)  # stdout stays one JSON document
        lines = parse_exports(p.stderr)
        self.assertEqual(lines, {"AZURE_TENANT_ID": "adfs", "AZURE_CLIENT_ID": created["appId"],
                                 "AZURE_CLIENT_SECRET": created["password"],
                                 "AZURE_AUTHORITY_HOST": authority})
        return created, lines

    def test_principal_create_prints_environment_lines(self):
        env = self.server.env()
        p = run("principal", "create", "--name", "paste-online", env=env)
        created, lines = self.check_principal_lines(p, self.server.local_resource)
        # The very environment the quickstart tests sign in with (test_cli_admin runs
        # Microsoft's quickstart with it).
        adfs = self.server.adfs_env(created)
        for name, value in lines.items():
            self.assertEqual(adfs[name], value, name)

        p = run("principal", "create", "--name", "paste-offline", "--data-dir",
                self.server.data_dir)
        self.check_principal_lines(p, self.server.local_resource)

    # ---- the quickstart examples the README points to -------------------------------------

    def check_quickstart(self, command, key_name):
        p = subprocess.run(command, input=key_name + "\n", capture_output=True, text=True,
                           env=self.server.env(), timeout=120, cwd=self.server.root)
        detail = "rc=%s\n%s%s" % (p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, detail)
        self.assertEqual(p.stdout.splitlines(), [
            "Input a name for your key > Creating a key in dev called '%s' ..." % key_name,
            " done.",
            "Retrieving your key from dev.",
            "Key with name '%s' was found." % key_name,
            "Deleting your key from dev ...",
            " done."], detail)
        r = self.server.api("GET", "/deletedkeys/" + key_name)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["key"]["kty"], "RSA")

    def test_python_example(self):
        self.check_quickstart(
            [h.PYTHON, os.path.join(h.SOURCE_DIR, "examples", "python", "kv_keys.py")],
            "example-python")

    def test_cpp_example(self):
        binary = os.path.join(os.path.dirname(h.COFFRE_BIN), "examples", "kv_keys")
        if not os.path.exists(binary):
            self.skipTest("build/examples/kv_keys not built")
        self.check_quickstart([binary], "example-cpp")

    # ---- coffre on PATH --------------------------------------------------------------------

    def test_dev_env_puts_coffre_on_path(self):
        devenv = os.path.join(self.server.data_dir, "dev.env")
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp}
        p = subprocess.run(["/bin/sh", "-c", '. "$1" && command -v coffre && coffre --version',
                            "sh", devenv], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(os.path.realpath(lines[0]), os.path.realpath(h.COFFRE_BIN))
        self.assertTrue(lines[1].startswith("coffre "), p.stdout)

    def test_cmake_install_installs_the_binary(self):
        build_dir = os.path.dirname(h.COFFRE_BIN)
        if not os.path.exists(os.path.join(build_dir, "cmake_install.cmake")):
            self.skipTest("COFFRE_BIN is not in a CMake build dir")
        prefix = os.path.join(self.tmp, "prefix")
        p = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        installed = os.path.join(prefix, "bin", "coffre")
        self.assertTrue(os.access(installed, os.X_OK), p.stdout)
        v = subprocess.run([installed, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertTrue(v.stdout.startswith("coffre "), v.stdout)
        # The client library beside it, as before.
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "coffre", "keys")))
        libraries = [f for _, _, files in os.walk(prefix) for f in files
                     if f.startswith("libcoffre_keys")]
        self.assertTrue(libraries, "no client library under %s" % prefix)


if __name__ == "__main__":
    unittest.main(verbosity=2)
