"""Replicas: two `coffre server` processes on one PostgreSQL database give the same answers.

Server A starts on a fresh database (--storage) with a master key file (--master-key-file);
server B starts on the same database and master key with A's dev CA, certificate, token-signing
key, identity header and admin token. Then:
- a key created through one is readable (and usable) through the other at once;
- concurrent new versions and rotations of one key through both never lose, duplicate or
  interleave versions, and "latest" is the same on both;
- racing deletes and purges through both: exactly one wins;
- a key deleted or disabled through one is refused by the other within 1 s;
- a due policy rotation happens exactly once across the replicas (background jobs every second:
  COFFRE_BACKGROUND_INTERVAL_SECONDS=1), and still happens (once) when one replica has died;
- `coffre store check` passes on the shared store at the end.
"""

import base64
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
import pg_support  # noqa: E402

VISIBILITY_BOUND = 1.0     # seconds: a change through one replica is seen by the other
RACE_SECONDS = 6.0
REQUEST_TIMEOUT = 30.0


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def version_of(kid):
    return kid.rstrip("/").rsplit("/", 1)[1]


class ReplicaTest(unittest.TestCase):
    a = None
    b = None
    pg = None

    @classmethod
    def setUpClass(cls):
        os.environ["COFFRE_BACKGROUND_INTERVAL_SECONDS"] = "1"
        cls.pg = pg_support.PostgresServer().start()
        cls.key_dir = tempfile.mkdtemp(prefix="coffre-it-key-")
        args = ["--storage", cls.pg.create_database(),
                "--master-key-file", os.path.join(cls.key_dir, "master.key")]
        cls.a = h.Coffre(label="replica-a", extra_args=args)
        cls.b = h.Coffre(label="replica-b", extra_args=args)
        try:
            cls.a.start()
            cls.b.start_replica_of(cls.a)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.a, cls.b):
            if s is not None:
                s.cleanup()
        if cls.pg is not None:
            cls.pg.stop()
        shutil.rmtree(cls.key_dir, ignore_errors=True)
        os.environ.pop("COFFRE_BACKGROUND_INTERVAL_SECONDS", None)

    # ---- helpers --------------------------------------------------------------------------

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json() if status != 204 else None

    def versions(self, s, name):
        r = s.api("GET", "/keys/%s/versions" % name, query="maxresults=25")
        out = []
        for _ in range(100):
            j = self.ok(r)
            out += [version_of(i["kid"]) for i in j["value"]]
            if not j.get("nextLink"):
                return out
            r = s.follow(j["nextLink"])
        self.fail("version paging did not end")

    def latest(self, s, name):
        return version_of(self.ok(s.api("GET", "/keys/" + name))["key"]["kid"])

    def sign(self, s, name, version=""):
        digest = hashlib.sha256(name.encode()).digest()
        path = "/keys/%s/%s/sign" % (name, version) if version else "/keys/%s/sign" % name
        return s.api("POST", path, body={"alg": "ES256", "value": b64u(digest)})

    def assert_same_everywhere(self, name):
        """Both replicas list the same versions in the same order and agree on latest."""
        va, vb = self.versions(self.a, name), self.versions(self.b, name)
        self.assertEqual(va, vb, "%s: replicas list different versions" % name)
        self.assertEqual(len(va), len(set(va)), "%s: a version is listed twice" % name)
        la, lb = self.latest(self.a, name), self.latest(self.b, name)
        self.assertEqual(la, lb, "%s: replicas disagree on latest" % name)
        self.assertEqual(la, va[-1], "%s: latest is not the last version" % name)
        return va

    # ---- tests ----------------------------------------------------------------------------

    def test_1_created_on_one_is_readable_on_the_other_at_once(self):
        for i, (writer, reader) in enumerate([(self.a, self.b), (self.b, self.a)] * 3):
            name = "seen-%d" % i
            j = self.ok(writer.api("POST", "/keys/%s/create" % name, body={"kty": "EC"}))
            got = self.ok(reader.api("GET", "/keys/" + name))
            self.assertEqual(version_of(got["key"]["kid"]), version_of(j["key"]["kid"]))
            self.assertEqual({k: got["key"].get(k) for k in ("kty", "crv", "x", "y")},
                             {k: j["key"].get(k) for k in ("kty", "crv", "x", "y")})
            # The other replica opens the sealed key at once, and the first verifies it.
            sig = self.ok(self.sign(reader, name))["value"]
            digest = hashlib.sha256(name.encode()).digest()
            v = self.ok(writer.api("POST", "/keys/%s/verify" % name,
                                   body={"alg": "ES256", "digest": b64u(digest), "value": sig}))
            self.assertTrue(v["value"])
            # An update through the reader shows through the writer at once.
            self.ok(reader.api("PATCH", "/keys/%s/%s" % (name, version_of(j["key"]["kid"])),
                               body={"tags": {"via": "other"}}))
            self.assertEqual(self.ok(writer.api("GET", "/keys/" + name)).get("tags"),
                             {"via": "other"})

    def test_2_concurrent_versions_through_both_are_never_lost_or_interleaved(self):
        name = "contended"
        first = version_of(self.ok(self.a.api("POST", "/keys/%s/create" % name,
                                              body={"kty": "EC"}))["key"]["kid"])
        acked = {}          # thread -> versions it got acknowledged, in order
        errors = []
        deadline = time.monotonic() + RACE_SECONDS

        def worker(t, server):
            mine = acked.setdefault(t, [])
            for i in range(40):
                if time.monotonic() > deadline:
                    return
                if i % 2 == 0:
                    r = server.api("POST", "/keys/%s/create" % name, body={"kty": "EC"},
                                   timeout=REQUEST_TIMEOUT)
                else:
                    r = server.api("POST", "/keys/%s/rotate" % name, timeout=REQUEST_TIMEOUT)
                if r.status != 200:
                    errors.append((t, r))
                    return
                mine.append(version_of(r.json()["key"]["kid"]))

        threads = [threading.Thread(target=worker, args=(t, self.a if t % 2 else self.b),
                                    daemon=True) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(RACE_SECONDS + REQUEST_TIMEOUT + 10)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        listed = self.assert_same_everywhere(name)
        every = [first] + [v for vs in acked.values() for v in vs]
        self.assertGreater(len(every), 10)
        self.assertEqual(sorted(listed), sorted(every), "lost or extra versions")
        self.assertEqual(listed[0], first)
        position = {v: i for i, v in enumerate(listed)}
        for t, vs in acked.items():
            self.assertEqual([position[v] for v in vs], sorted(position[v] for v in vs),
                             "thread %d's versions are out of order" % t)

    def test_3_racing_creates_of_a_new_key_all_land(self):
        name = "born-twice"
        barrier = threading.Barrier(6)
        results = []

        def create(server):
            barrier.wait(10)
            results.append(server.api("POST", "/keys/%s/create" % name, body={"kty": "EC"},
                                      timeout=REQUEST_TIMEOUT))

        threads = [threading.Thread(target=create, args=(s,), daemon=True)
                   for s in (self.a, self.b) * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(REQUEST_TIMEOUT + 15)
        self.assertEqual([r.status for r in results], [200] * 6, results)
        listed = self.assert_same_everywhere(name)
        self.assertEqual(sorted(listed), sorted(version_of(r.json()["key"]["kid"])
                                                for r in results))

    def race(self, method, path, n=6):
        barrier = threading.Barrier(n)
        results = []

        def call(server):
            barrier.wait(10)
            results.append(server.api(method, path, timeout=REQUEST_TIMEOUT))

        threads = [threading.Thread(target=call, args=(s,), daemon=True)
                   for s in (self.a, self.b) * (n // 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(REQUEST_TIMEOUT + 15)
        return results

    def test_4_racing_deletes_and_purges_through_both_one_wins(self):
        name = "raced"
        for _ in range(2):
            self.ok(self.a.api("POST", "/keys/%s/create" % name, body={"kty": "EC"}))
        latest = self.latest(self.b, name)
        deletes = self.race("DELETE", "/keys/" + name)
        self.assertEqual(sorted(r.status for r in deletes), [200] + [404] * 5, deletes)
        winner = [r for r in deletes if r.status == 200][0].json()
        self.assertEqual(version_of(winner["key"]["kid"]), latest)
        for s in (self.a, self.b):
            self.assertEqual(s.api("GET", "/keys/" + name).status, 404)
            self.ok(s.api("GET", "/deletedkeys/" + name))
        purges = self.race("DELETE", "/deletedkeys/" + name)
        self.assertEqual(sorted(r.status for r in purges), [204] + [404] * 5, purges)
        for s in (self.a, self.b):
            self.assertEqual(s.api("GET", "/deletedkeys/" + name).status, 404)
            self.assertEqual(s.api("GET", "/keys/" + name).status, 404)

    def test_5_rotations_racing_a_delete_are_all_kept(self):
        name = "rot-vs-del"
        self.ok(self.a.api("POST", "/keys/%s/create" % name, body={"kty": "EC"}))
        acked = []
        refused = []
        stop = time.monotonic() + 8.0

        def rotate():
            while time.monotonic() < stop:
                r = self.a.api("POST", "/keys/%s/rotate" % name, timeout=REQUEST_TIMEOUT)
                if r.status == 200:
                    acked.append(version_of(r.json()["key"]["kid"]))
                else:
                    refused.append(r)
                    return

        threads = [threading.Thread(target=rotate, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        deleted = self.ok(self.b.api("DELETE", "/keys/" + name))
        for t in threads:
            t.join(REQUEST_TIMEOUT + 10)
        self.assertTrue(all(r.status in (404, 409) for r in refused), refused)
        self.assertGreater(len(acked), 0)
        # Every acknowledged rotation is in the deleted key: recover it through the other side.
        self.ok(self.a.api("POST", "/deletedkeys/%s/recover" % name))
        listed = self.assert_same_everywhere(name)
        self.assertLessEqual(set(acked), set(listed))
        self.assertEqual(len(listed), len(acked) + 1)
        self.assertEqual(version_of(deleted["key"]["kid"]), listed[-1])

    def assert_refused_within_bound(self, check, what):
        """`check` sends a request to the other replica and returns True once it is refused.
        Called right after the change was acknowledged: polls until refused, then checks that a
        request sent once VISIBILITY_BOUND has passed is refused. Returns when the first refused
        request was sent (seconds after the change), or None."""
        start = time.monotonic()
        first = None
        while time.monotonic() - start < VISIBILITY_BOUND:
            sent = time.monotonic()
            if check():
                first = sent - start
                break
            time.sleep(0.02)
        remaining = start + VISIBILITY_BOUND - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        self.assertTrue(check(), "%s: still served %.1fs after the change" % (
            what, VISIBILITY_BOUND))
        print("\n[replicas] %s: refused %s after the change" % (
            what, "%.2fs" % first if first is not None else "only at the bound"), file=sys.stderr)
        return first

    def test_6_deleted_or_disabled_through_one_is_refused_by_the_other_within_1s(self):
        for name in ("gone-soon", "off-soon"):
            self.ok(self.a.api("POST", "/keys/%s/create" % name, body={"kty": "EC"}))
            # B has the key's material cached from a use.
            self.ok(self.sign(self.b, name))

        self.ok(self.a.api("DELETE", "/keys/gone-soon"))
        self.assert_refused_within_bound(
            lambda: self.sign(self.b, "gone-soon").status == 404 and
            self.b.api("GET", "/keys/gone-soon").status == 404, "key deleted through A")

        version = self.latest(self.a, "off-soon")
        self.ok(self.a.api("PATCH", "/keys/off-soon/" + version,
                           body={"attributes": {"enabled": False}}))
        self.assert_refused_within_bound(lambda: self.sign(self.b, "off-soon").status == 403,
                                         "key disabled through A")
        self.assertFalse(self.ok(self.b.api("GET", "/keys/off-soon"))["attributes"]["enabled"])

    def test_6b_vault_changes_through_one_reach_the_other_within_1s(self):
        vault = "shortlived"
        self.a.create_vault(vault)

        def list_on_b():
            # B's dev certificate does not name the new vault: SNI for "dev", Host for the vault.
            return self.b.request("GET", "/keys?api-version=7.4",
                                  host="%s.localhost:%d" % (vault, self.b.port),
                                  sni="dev.localhost")

        self.ok(list_on_b())   # B has the vault cached now
        # Switched to RBAC through A: the dev identity has no role there, so B must refuse.
        r = self.a.admin("PATCH", "vaults/" + vault, {"enableRbacAuthorization": True})
        self.assertEqual(r.status, 200, r)
        self.assert_refused_within_bound(lambda: list_on_b().status == 403,
                                         "vault switched to RBAC through A")
        r = self.a.admin("DELETE", "vaults/" + vault)
        self.assertEqual(r.status, 204, r)
        self.assert_refused_within_bound(lambda: list_on_b().status == 404,
                                         "vault deleted through A")

    def test_7_a_due_rotation_happens_once_across_replicas(self):
        names = ["due-%d" % i for i in range(3)]
        exp = int(time.time()) + 86400   # inside the 30-day trigger: due at once
        policy = {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                       "action": {"type": "Rotate"}}],
                  "attributes": {"expiryTime": "P90D"}}
        firsts = {}
        for i, name in enumerate(names):
            writer = (self.a, self.b)[i % 2]
            j = self.ok(writer.api("POST", "/keys/%s/create" % name,
                                   body={"kty": "EC", "attributes": {"exp": exp}}))
            firsts[name] = version_of(j["key"]["kid"])
            self.ok(writer.api("PUT", "/keys/%s/rotationpolicy" % name, body=policy))
        deadline = time.monotonic() + 15
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                if len(self.versions(self.a, name)) >= 2:
                    pending.discard(name)
            time.sleep(0.2)
        self.assertEqual(pending, set(), "no automatic rotation within 15 s: is "
                         "COFFRE_BACKGROUND_INTERVAL_SECONDS honoured?")
        time.sleep(4.0)   # several more background runs on both replicas
        for name in names:
            listed = self.assert_same_everywhere(name)
            self.assertEqual(len(listed), 2, "%s rotated %d times" % (name, len(listed) - 1))
            self.assertEqual(listed[0], firsts[name])
            line = "rotated key %s in vault dev (policy)" % name
            count = self.a.log_text().count(line) + self.b.log_text().count(line)
            self.assertEqual(count, 1, "%r logged %d times across the replicas" % (line, count))

    def test_7b_background_jobs_move_to_the_other_replica_when_one_dies(self):
        # Whichever replica holds the job lease, B must run the jobs once A is gone (its lease
        # runs out after two intervals).
        self.a.kill9()
        try:
            name = "due-after-failover"
            exp = int(time.time()) + 86400
            j = self.ok(self.b.api("POST", "/keys/%s/create" % name,
                                   body={"kty": "EC", "attributes": {"exp": exp}}))
            self.ok(self.b.api("PUT", "/keys/%s/rotationpolicy" % name, body={
                "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                     "action": {"type": "Rotate"}}],
                "attributes": {"expiryTime": "P90D"}}))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and len(self.versions(self.b, name)) < 2:
                time.sleep(0.2)
            time.sleep(3.0)
            listed = self.versions(self.b, name)
            self.assertEqual(len(listed), 2, listed)
            self.assertEqual(listed[0], version_of(j["key"]["kid"]))
            self.assertEqual(self.b.log_text().count("rotated key %s in vault dev (policy)" % name),
                             1)
        finally:
            self.a.restart()
        self.assert_same_everywhere(name)

    def test_8_store_check_passes_on_the_shared_store(self):
        p = self.a.store_check()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("store check: OK", p.stdout)
        self.assertNotIn("postgresql://", p.stdout + p.stderr)


if __name__ == "__main__":
    h.main()
