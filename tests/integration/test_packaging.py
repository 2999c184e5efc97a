"""`make deb`: the Debian packages CPack builds (cmake/packaging.cmake), inspected with dpkg-deb.

Builds the packages from the configured build dir into a temporary directory (cpack -G DEB), then
checks without installing anything:
- coffre: /usr/bin/coffre (runs: --version), the systemd unit (runs `coffre server --config
  /etc/coffre/coffre.toml` as the coffre user with hardening options, state in /var/lib/coffre),
  /etc/coffre/coffre.toml and /etc/default/coffre as conffiles,
  /var/lib/coffre with mode 0700, maintainer scripts that create the coffre system user and
  never delete the store on purge, and library dependencies from dpkg-shlibdeps;
- coffre-dev: the client library, its headers, CMake package and pkg-config file.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

BUILD_DIR = os.path.dirname(h.COFFRE_BIN)


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kw)


class PackagingTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
        if not os.path.exists(config) or not shutil.which("dpkg-deb"):
            raise unittest.SkipTest("no CPack configuration in %s or no dpkg-deb" % BUILD_DIR)
        cls.tmp = tempfile.mkdtemp(prefix="coffre-deb-")
        p = run("cpack", "-G", "DEB", "--config", config, "-B", cls.tmp, cwd=BUILD_DIR)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("cpack failed:\n%s%s" % (p.stdout, p.stderr))
        debs = [f for f in os.listdir(cls.tmp) if f.endswith(".deb")]
        cls.server_deb = os.path.join(cls.tmp, next(f for f in debs if f.startswith("coffre_")))
        cls.dev_deb = os.path.join(cls.tmp, next(f for f in debs if f.startswith("coffre-dev_")))
        cls.server_files = cls.contents(cls.server_deb)
        cls.dev_files = cls.contents(cls.dev_deb)
        cls.control_dir = os.path.join(cls.tmp, "control")
        p = run("dpkg-deb", "-e", cls.server_deb, cls.control_dir)
        assert p.returncode == 0, p.stderr
        cls.root = os.path.join(cls.tmp, "root")
        p = run("dpkg-deb", "-x", cls.server_deb, cls.root)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def contents(deb):
        """{path: (mode string, owner)} from dpkg-deb -c."""
        p = run("dpkg-deb", "-c", deb)
        assert p.returncode == 0, p.stderr
        files = {}
        for line in p.stdout.splitlines():
            parts = line.split(None, 5)
            path = parts[5].split(" -> ")[0]
            files[path.lstrip(".").rstrip("/") or "/"] = (parts[0], parts[1])
        return files

    def field(self, deb, name):
        p = run("dpkg-deb", "-f", deb, name)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def read_control(self, name):
        with open(os.path.join(self.control_dir, name)) as f:
            return f.read()

    def test_server_package_fields(self):
        self.assertEqual(self.field(self.server_deb, "Package"), "coffre")
        depends = self.field(self.server_deb, "Depends")
        self.assertIn("adduser", depends)
        for library in ("libssl3", "libsqlite3-0", "libpq5", "libcurl4"):
            self.assertIn(library, depends)
        self.assertEqual(self.field(self.dev_deb, "Package"), "coffre-dev")

    def test_binary_is_installed_and_runs(self):
        mode, owner = self.server_files["/usr/bin/coffre"]
        self.assertEqual(mode, "-rwxr-xr-x")
        self.assertEqual(owner, "root/root")
        binary = os.path.join(self.root, "usr", "bin", "coffre")
        p = run(binary, "--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("coffre "), p.stdout)

    def test_state_directory_is_private(self):
        mode, _ = self.server_files["/var/lib/coffre"]
        self.assertEqual(mode, "drwx------")

    def test_systemd_unit(self):
        self.assertIn("/lib/systemd/system/coffre.service", self.server_files)
        with open(os.path.join(self.root, "lib", "systemd", "system", "coffre.service")) as f:
            unit = f.read()
        settings = {}
        for line in unit.splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
        self.assertEqual(settings["User"], ["coffre"])
        self.assertEqual(settings["Group"], ["coffre"])
        self.assertEqual(settings["ExecStart"],
                         ["/usr/bin/coffre server --config /etc/coffre/coffre.toml"])
        self.assertEqual(settings["EnvironmentFile"], ["-/etc/default/coffre"])
        self.assertEqual(settings["StateDirectory"], ["coffre"])
        self.assertEqual(settings["StateDirectoryMode"], ["0700"])
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                           ("PrivateDevices", "yes"), ("CapabilityBoundingSet", ""),
                           ("MemoryDenyWriteExecute", "yes"), ("UMask", "0077"),
                           ("SystemCallArchitectures", "native")):
            self.assertEqual(settings.get(key), [value], key)
        if shutil.which("systemd-analyze"):
            p = run("systemd-analyze", "verify", "--man=no",
                    os.path.join(self.root, "lib", "systemd", "system", "coffre.service"))
            # The unit names /usr/bin/coffre, which this machine need not have.
            problems = [line for line in (p.stdout + p.stderr).splitlines()
                        if "coffre.service" in line and "/usr/bin/coffre" not in line
                        and "Command" not in line]
            self.assertEqual(problems, [], p.stdout + p.stderr)

    def test_conffiles(self):
        self.assertIn("/etc/default/coffre", self.server_files)
        self.assertIn("/etc/coffre/coffre.toml", self.server_files)
        self.assertEqual(sorted(self.read_control("conffiles").split()),
                         ["/etc/coffre/coffre.toml", "/etc/default/coffre"])

    def test_shipped_config_file(self):
        # The packaged binary reads the packaged configuration: a production server (no --dev)
        # in /var/lib/coffre with its TLS files under /etc/coffre/tls.
        binary = os.path.join(self.root, "usr", "bin", "coffre")
        config = os.path.join(self.root, "etc", "coffre", "coffre.toml")
        env = {"PATH": "/usr/bin:/bin"}
        p = run(binary, "server", "--config", config, "--print-config", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('data-dir = "/var/lib/coffre"\n', p.stdout)
        self.assertIn('tls-cert = "/etc/coffre/tls/cert.pem"\n', p.stdout)
        self.assertIn('tls-key = "/etc/coffre/tls/key.pem"\n', p.stdout)
        self.assertIn("dev = false\n", p.stdout)

    def test_maintainer_scripts(self):
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control_dir, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            p = run("sh", "-n", path)
            self.assertEqual(p.returncode, 0, p.stderr)
        postinst = self.read_control("postinst")
        self.assertRegex(postinst, r"adduser --system --group[^\n]*\\\n[^\n]*coffre\n")
        self.assertIn("install -d -m 0700 -o coffre -g coffre /var/lib/coffre", postinst)
        postrm = self.read_control("postrm")
        self.assertNotRegex(postrm, r"rm -[a-z]*r[a-z]* [^\n]*/var/lib/coffre")
        self.assertNotIn("deluser", postrm)

    def test_postinst_creates_the_user_once(self):
        # Run the real postinst with adduser, install, chown, chmod and getent replaced by
        # recorders: it asks for a system user, then makes the private state directory.
        bin_dir = os.path.join(self.tmp, "fake-bin")
        log = os.path.join(self.tmp, "calls.log")
        os.makedirs(bin_dir, exist_ok=True)
        for tool, rc in (("adduser", 0), ("install", 0), ("chown", 0), ("chmod", 0),
                         ("getent", 2), ("systemctl", 0)):
            with open(os.path.join(bin_dir, tool), "w") as f:
                f.write('#!/bin/sh\necho "%s $*" >> "%s"\nexit %d\n' % (tool, log, rc))
            os.chmod(os.path.join(bin_dir, tool), 0o755)
        env = {"PATH": bin_dir + ":/usr/bin:/bin"}
        p = run("sh", os.path.join(self.control_dir, "postinst"), "configure", "", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(log) as f:
            calls = f.read().splitlines()
        adduser = [c for c in calls if c.startswith("adduser ")]
        self.assertEqual(len(adduser), 1, calls)
        self.assertIn("--system", adduser[0])
        self.assertTrue(adduser[0].endswith(" coffre"), adduser[0])
        self.assertIn("install -d -m 0700 -o coffre -g coffre /var/lib/coffre", calls)
        # An existing user is left alone.
        os.remove(log)
        with open(os.path.join(bin_dir, "getent"), "w") as f:
            f.write('#!/bin/sh\necho "coffre:x:999:999::/var/lib/coffre:/usr/sbin/nologin"\n')
        p = run("sh", os.path.join(self.control_dir, "postinst"), "configure", "0.1.0", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            self.assertFalse([c for c in f.read().splitlines() if c.startswith("adduser ")])

    def test_dev_package(self):
        self.assertTrue(any(re.match(r"^/usr/lib/.*libcoffre_keys\.(a|so)", f)
                            for f in self.dev_files), sorted(self.dev_files))
        for header in ("/usr/include/coffre/keys/keys.h",
                       "/usr/include/coffre/secrets/secret_client.h"):
            self.assertIn(header, self.dev_files)
        self.assertTrue(any(f.endswith("/cmake/coffre/coffreConfig.cmake") for f in self.dev_files))
        self.assertTrue(any(f.endswith("/pkgconfig/coffre-keys.pc") for f in self.dev_files))
        # Nothing of the server in it, and no headers in the server package.
        self.assertNotIn("/usr/bin/coffre", self.dev_files)
        self.assertFalse([f for f in self.server_files if f.startswith("/usr/include")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
