"""Test-harness mode, time: `coffre dev time advance|set|reset|show` and the admin API
/coffre-admin/v1/dev/clock move the clock the service layer and background jobs read, so expiry,
rotation policies and scheduled purges happen as if the time had passed; tokens keep real time.
A production server (no --dev, no --test-harness) answers those routes 404."""

import datetime
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import http.client
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.keyvault.keys import (KeyRotationLifetimeAction, KeyRotationPolicy,  # noqa: E402
                                 KeyRotationPolicyAction)
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm  # noqa: E402

DAY = 86400


class HarnessTimeTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc = cls.server.key_client()

    def tearDown(self):
        r = self.server.admin("POST", "dev/clock/reset")
        self.assertEqual(r.status, 200, r)

    def cli(self, *args):
        p = subprocess.run([h.COFFRE_BIN] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60, env=self.server.env())
        self.assertEqual(p.returncode, 0, "coffre %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return json.loads(p.stdout)

    def credential(self):
        from azure.identity import ManagedIdentityCredential
        self.server.apply_env()
        return ManagedIdentityCredential()

    def test_show_advance_set_reset(self):
        shown = self.cli("dev", "time", "show")
        self.assertEqual(shown["offsetSeconds"], 0)
        self.assertLess(abs(shown["nowSeconds"] - time.time()), 5)
        moved = self.cli("dev", "time", "advance", "1d12h")
        self.assertEqual(moved["offsetSeconds"], 36 * 3600)
        self.assertIn("backgroundJobs", moved)
        moved = self.cli("dev", "time", "set", "2040-02-29T12:00:00Z")
        self.assertEqual(moved["now"][:16], "2040-02-29T12:00")
        r = self.server.admin("GET", "dev/clock")
        self.assertEqual(r.json()["now"][:13], "2040-02-29T12")
        self.assertEqual(self.cli("dev", "time", "reset")["offsetSeconds"], 0)

    def test_bad_input_is_refused(self):
        for body in ({}, {"by": "soon"}, {"by": "-3d"}, {"by": "0d"}, {"by": "999999999w"},
                     {"by": 1.5}):
            r = self.server.admin("POST", "dev/clock/advance", body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.error_code, "BadParameter")
        r = self.server.admin("POST", "dev/clock/set", {"to": "yesterday"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.server.admin("PUT", "dev/clock").status, 405)
        self.assertEqual(self.server.admin("GET", "dev/clock", token="wrong").status, 401)
        self.assertEqual(self.server.admin("GET", "dev/nothing").status, 404)

    def test_key_with_exp_in_10_days_is_refused_after_11(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        key = self.kc.create_rsa_key("time-exp", size=2048,
                                     expires_on=now + datetime.timedelta(days=10))
        crypto = CryptographyClient(key, self.credential())
        digest = b"\x01" * 32
        self.assertTrue(crypto.sign(SignatureAlgorithm.rs256, digest).signature)
        self.cli("dev", "time", "advance", "9d")
        self.assertTrue(crypto.sign(SignatureAlgorithm.rs256, digest).signature)
        self.cli("dev", "time", "advance", "2d")
        with self.assertRaises(HttpResponseError) as caught:
            crypto.sign(SignatureAlgorithm.rs256, digest)
        self.assertEqual(caught.exception.status_code, 403)
        self.assertIn("expired", str(caught.exception.message))
        # The token the client holds was issued before the jump: it still works (real time).
        self.assertEqual(self.kc.get_key("time-exp").name, "time-exp")
        self.cli("dev", "time", "reset")
        self.assertTrue(crypto.sign(SignatureAlgorithm.rs256, digest).signature)

    def test_created_and_updated_follow_the_clock(self):
        self.cli("dev", "time", "advance", "30d")
        key = self.kc.create_ec_key("time-stamps", curve="P-256")
        expected = time.time() + 30 * DAY
        self.assertLess(abs(key.properties.created_on.timestamp() - expected), 60)
        self.cli("dev", "time", "advance", "5d")
        updated = self.kc.update_key_properties("time-stamps", tags={"a": "b"})
        self.assertLess(abs(updated.properties.updated_on.timestamp() - expected - 5 * DAY), 60)
        self.assertLess(abs(updated.properties.created_on.timestamp() - expected), 60)

    def test_rotation_policy_p30d_rotates_once_after_31_days(self):
        self.kc.create_rsa_key("time-rotate", size=2048)
        policy = KeyRotationPolicy(lifetime_actions=[KeyRotationLifetimeAction(
            KeyRotationPolicyAction.rotate, time_after_create="P30D")])
        self.kc.update_key_rotation_policy("time-rotate", policy)
        versions = lambda: len(list(self.kc.list_properties_of_key_versions("time-rotate")))  # noqa
        self.assertEqual(versions(), 1)
        self.cli("dev", "time", "advance", "29d")
        self.assertEqual(versions(), 1)
        moved = self.cli("dev", "time", "advance", "2d")
        self.assertGreaterEqual(moved["backgroundJobs"]["rotatedKeys"], 1)
        self.assertEqual(versions(), 2)
        # Once: the new version has its own 30 days; more rounds change nothing.
        self.cli("dev", "time", "advance", "1d")
        self.cli("dev", "time", "advance", "1h")
        self.assertEqual(versions(), 2)

    def test_deleted_key_is_purged_after_the_retention(self):
        self.kc.create_rsa_key("time-purge", size=2048)
        self.kc.begin_delete_key("time-purge").result()
        deleted = self.kc.get_deleted_key("time-purge")
        purge_at = deleted.scheduled_purge_date.timestamp()
        days = (purge_at - time.time()) / DAY
        self.assertGreater(days, 6)  # the dev vault's retention, in days
        self.cli("dev", "time", "advance", "%dd" % int(days - 1))
        self.assertEqual(self.kc.get_deleted_key("time-purge").name, "time-purge")
        moved = self.cli("dev", "time", "advance", "2d")
        self.assertGreaterEqual(moved["backgroundJobs"]["purgedKeys"], 1)
        with self.assertRaises(ResourceNotFoundError):
            self.kc.get_deleted_key("time-purge")



class HarnessTimeRestartTest(h.ServerTestCase):
    """Its own server: a restarted server waits for the old process's job lease to lapse (two
    background intervals) before its jobs run again, which the tests above must not see."""

    def test_offset_survives_a_restart(self):
        r = self.server.admin("POST", "dev/clock/advance", {"by": "3d"})
        self.assertEqual(r.status, 200, r)
        self.server.restart()
        self.assertEqual(self.server.admin("GET", "dev/clock").json()["offsetSeconds"], 3 * DAY)


class ProductionServerTest(unittest.TestCase):
    """Without --dev or --test-harness the harness does not exist."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="coffre-prod-")
        self.cert = os.path.join(self.root, "cert.pem")
        self.key = os.path.join(self.root, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-days", "1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True, timeout=60)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=h.STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, name, *extra):
        data = os.path.join(self.root, name)
        port, http_port = h.free_port(), h.free_port()
        log = open(os.path.join(self.root, name + ".log"), "wb")
        proc = subprocess.Popen([h.COFFRE_BIN, "server", "--data-dir", data, "--port", str(port),
                                 "--http-port", str(http_port), "--tls-cert", self.cert,
                                 "--tls-key", self.key] + list(extra),
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                env=h.clean_env())
        log.close()
        self.procs.append(proc)
        deadline = time.time() + h.START_TIMEOUT
        while time.time() < deadline:
            if proc.poll() is not None:
                return proc, None, None
            try:
                c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        with open(os.path.join(data, "admin.token")) as f:
            token = f.read().strip()
        return proc, port, token

    def admin(self, port, token, method, path, body=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, "/coffre-admin/v1/" + path, body=data,
                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()

    def test_production_refuses_harness_routes(self):
        proc, port, token = self.start("prod")
        self.assertIsNotNone(port, "server did not start")
        self.assertEqual(self.admin(port, token, "GET", "vaults")[0], 200)
        for method, path in (("GET", "dev/clock"), ("POST", "dev/clock/advance"),
                             ("GET", "dev/faults"), ("POST", "dev/faults"),
                             ("GET", "dev/throttle")):
            status, body = self.admin(port, token, method, path, {"by": "1d"})
            self.assertEqual(status, 404, (method, path, body))

    def test_test_harness_flag_enables_it(self):
        proc, port, token = self.start("flagged", "--test-harness")
        self.assertIsNotNone(port, "server did not start")
        status, body = self.admin(port, token, "POST", "dev/clock/advance", {"by": "2d"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["offsetSeconds"], 2 * DAY)

    def test_throttle_without_harness_does_not_start(self):
        proc, port, _ = self.start("throttled", "--throttle", "azure")
        self.assertIsNone(port)
        self.assertNotEqual(proc.returncode, 0)


if __name__ == "__main__":
    h.main()
