"""Running Coffre for real (issue 15, items 11 and 12), through the real server.

- Request log: at info level (the default, and in --dev) one line per request with the time,
  method, path (only api-version kept from the query), status, milliseconds, vault, operation
  and caller; never a token or another query value. --log-format json gives one JSON object a
  line. --log-level warn silences it. COFFRE_LOG_LEVEL / COFFRE_LOG_FORMAT and the config file
  set them too (shown by --print-config).
- GET /metrics on the loopback HTTP port: Prometheus text exposition with requests by operation
  and status, latency histograms, audit and store commit figures, cache lookups, keys and secrets
  per vault, RSS and open connections. Not served over HTTPS.
- /readyz: 200 while the store and the audit log are writable, 503 once the audit log is not.
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

SECRET_QUERY = "sig=hunter2-do-not-log"


def run(*args, env=None, timeout=60):
    return subprocess.run([h.COFFRE_BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else h.clean_env())


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class RequestLogTextTest(h.ServerTestCase):

    def test_one_line_per_request_without_secrets(self):
        s = self.server
        token = s.msi_token(s.resource_for_host(s.vault_host()))
        r = s.request("GET", "/keys/no-such-key?api-version=7.5&" + SECRET_QUERY, token=token)
        self.assertEqual(r.status, 404, r)
        pattern = (r"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info "
                   r"GET /keys/no-such-key\?api-version=7\.5 404 \d+\.\dms vault=dev op=GetKey "
                   r"caller=[0-9a-f-]{36}( app=\S+)?$")
        self.assertTrue(wait_for(lambda: re.search(pattern, s.log_text())), s.log_tail(3000))
        log = s.log_text()
        self.assertNotIn("hunter2", log)
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[1], log)

    def test_identity_token_request_is_logged_without_its_query_values(self):
        s = self.server
        s.msi_raw(resource="https://vault.azure.net")
        self.assertTrue(wait_for(lambda: re.search(
            r"(?m) GET /msi/token\?api-version=\S+ 200 .*op=ManagedIdentityToken", s.log_text())),
            s.log_tail(3000))
        self.assertNotIn("resource=", s.log_text())

    def test_health_checks_are_not_logged(self):
        s = self.server
        s.healthz()
        self.assertNotRegex(s.log_text(), r" GET /healthz ")


class RequestLogJsonTest(unittest.TestCase):

    def test_json_lines(self):
        with h.Coffre(extra_args=["--log-format", "json"], label="json-log") as s:
            r = s.api("GET", "/keys/absent", query=SECRET_QUERY)
            self.assertEqual(r.status, 404, r)

            def request_lines():
                out = []
                for line in s.log_text().splitlines():
                    if line.startswith("{"):
                        out.append(json.loads(line))  # every JSON-looking line parses
                return [o for o in out if o.get("log") == "request"]

            self.assertTrue(wait_for(lambda: any(o.get("path") == "/keys/absent?api-version=" +
                                                 h.DEFAULT_API_VERSION for o in request_lines())),
                            s.log_tail(3000))
            line = [o for o in request_lines() if o.get("path", "").startswith("/keys/absent")][0]
            self.assertEqual((line["method"], line["status"], line["vault"], line["operation"],
                              line["level"]), ("GET", 404, "dev", "GetKey", "info"))
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIsInstance(line["ms"], float)
            self.assertRegex(line["caller"], r"^[0-9a-f-]{36}$")
            # The other lines are JSON too.
            self.assertTrue(any(o.get("msg", "").startswith("coffre listening")
                                for o in map(json.loads, filter(lambda l: l.startswith("{"),
                                                                s.log_text().splitlines()))))
            self.assertNotIn("hunter2", s.log_text())

    def test_warn_level_has_no_request_lines(self):
        with h.Coffre(extra_args=["--log-level", "warn"], label="quiet-log") as s:
            self.assertEqual(s.api("GET", "/keys/absent").status, 404)
            s.stop()
            self.assertNotIn("/keys/absent", s.log_text())


class LogSettingsTest(unittest.TestCase):

    def test_environment_and_config_file(self):
        tmp = tempfile.mkdtemp(prefix="coffre-logcfg-")
        try:
            env = {k: v for k, v in h.clean_env().items() if not k.startswith("COFFRE_")}
            p = run("server", "--print-config", env=env)
            self.assertIn('log-level = "info"\n', p.stdout)
            self.assertIn('log-format = "text"\n', p.stdout)
            p = run("server", "--print-config",
                    env=dict(env, COFFRE_LOG_LEVEL="debug", COFFRE_LOG_FORMAT="json"))
            self.assertIn('log-level = "debug"\n', p.stdout)
            self.assertIn('log-format = "json"\n', p.stdout)
            path = os.path.join(tmp, "c.toml")
            with open(path, "w") as f:
                f.write('log-level = "error"\nlog-format = "json"\n')
            p = run("server", "--config", path, "--print-config", env=env)
            self.assertIn('log-level = "error"\n', p.stdout, p.stderr)
            p = run("server", "--config", path, "--log-level", "warn", "--print-config", env=env)
            self.assertIn('log-level = "warn"\n', p.stdout, p.stderr)
            p = run("--log-level", "trace", "server", "--print-config", env=env)
            self.assertIn('log-level = "trace"\n', p.stdout, p.stderr)
            p = run("server", "--log-format", "xml", "--print-config", env=env)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*)\})? (?P<value>\S+)$')


def parse_metrics(text):
    """{(name, frozenset(labels)): value}, checking every line against the text format."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        name = m.group("name")
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and family not in typed:
            raise AssertionError("sample before its TYPE line: %r" % line)
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"',
                                      m.group("labels") or ""))
        samples[(name, labels)] = float(m.group("value"))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class MetricsTest(h.ServerTestCase):
    VAULTS = ("metrics-vault",)

    def scrape(self):
        r = self.server.http_get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        return parse_metrics(r.body.decode())

    def test_requests_latency_and_vault_gauges(self):
        s = self.server
        before = self.scrape()
        r = s.api("POST", "/keys/m1/create", body={"kty": "EC", "crv": "P-256"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s.api("GET", "/keys/m1").status, 200)
        self.assertEqual(s.api("GET", "/keys/m1").status, 200)
        self.assertEqual(s.api("GET", "/keys/nope").status, 404)
        self.assertEqual(s.api("PUT", "/secrets/s1", body={"value": "v"}).status, 200)
        after = self.scrape()

        def delta(name, **labels):
            return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

        self.assertEqual(delta("coffre_requests_total", operation="CreateKey", status="200"), 1)
        self.assertEqual(delta("coffre_requests_total", operation="GetKey", status="200"), 2)
        self.assertEqual(delta("coffre_requests_total", operation="GetKey", status="404"), 1)
        self.assertEqual(delta("coffre_request_duration_seconds_count", operation="GetKey"), 3)
        self.assertEqual(delta("coffre_request_duration_seconds_bucket", operation="GetKey",
                               le="+Inf"), 3)
        self.assertGreater(value(after, "coffre_request_duration_seconds_sum",
                                 operation="CreateKey"), 0)
        self.assertEqual(value(after, "coffre_vault_keys", vault="dev"), 1)
        self.assertEqual(value(after, "coffre_vault_secrets", vault="dev"), 1)
        self.assertEqual(value(after, "coffre_vault_certificates", vault="dev"), 0)
        self.assertEqual(value(after, "coffre_vault_keys", vault="metrics-vault"), 0)
        self.assertGreaterEqual(delta("coffre_audit_group_lines_sum"), 5)
        self.assertGreaterEqual(delta("coffre_audit_group_commit_seconds_count"), 1)
        self.assertGreaterEqual(delta("coffre_store_write_seconds_count"), 2)
        lookups = sum(delta("coffre_cache_lookups_total", cache="key_versions", result=r)
                      for r in ("hit", "miss"))
        self.assertGreaterEqual(lookups, 2)
        self.assertGreater(value(after, "process_resident_memory_bytes"), 1e6)
        self.assertGreaterEqual(value(after, "coffre_open_connections"), 1)  # this scrape's
        self.assertEqual(value(after, "coffre_store_up"), 1)

    def test_scrapes_are_neither_audited_nor_logged(self):
        s = self.server
        self.assertEqual(s.api("GET", "/keys/marker-before").status, 404)
        self.assertTrue(wait_for(lambda: "marker-before" in json.dumps(s.audit_lines()[-1:])))
        lines = len(s.audit_lines())
        self.scrape()
        self.assertEqual(s.http_get("/readyz").status, 200)
        self.assertEqual(s.api("GET", "/keys/marker-after").status, 404)
        self.assertTrue(wait_for(lambda: "marker-after" in json.dumps(s.audit_lines()[-1:])))
        self.assertEqual(len(s.audit_lines()), lines + 1)
        self.assertNotIn("/metrics", s.log_text())
        self.assertNotIn("/readyz", s.log_text())

    def test_not_served_over_https(self):
        r = self.server.request("GET", "/metrics", token=None)
        self.assertEqual(r.status, 404, r)
        r = self.server.http_request("POST", "/metrics")
        self.assertEqual(r.status, 405, r)

    def test_readyz(self):
        r = self.server.http_get("/readyz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ready"}))
        r = self.server.request("GET", "/readyz", token=None)
        self.assertEqual(r.status, 200, r)


class ReadyzAuditFailureTest(unittest.TestCase):
    """Once the audit log cannot be written, /readyz says 503 while /healthz stays 200."""

    def test_audit_failure(self):
        audit_dir = tempfile.mkdtemp(prefix="coffre-readyz-")
        try:
            with h.Coffre(extra_args=["--audit-dir", audit_dir, "--audit-file-bytes", "4096"],
                          label="readyz") as s:
                self.assertEqual(s.http_get("/readyz").status, 200)
                shutil.rmtree(audit_dir)
                for _ in range(40):
                    if s.api("GET", "/keys/absent").status == 500:
                        break
                r = s.http_get("/readyz")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json(), {"status": "unavailable",
                                            "reason": "The audit log cannot be written."})
                self.assertEqual(s.healthz().status, 200)
                self.assertEqual(s.http_get("/metrics").status, 200)
        finally:
            shutil.rmtree(audit_dir, ignore_errors=True)


if __name__ == "__main__":
    h.main()
