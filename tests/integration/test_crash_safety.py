"""Crash safety: SIGKILL in the middle of a mixed load, on SQLite and on PostgreSQL.

Several client threads run creates, new versions, rotations, tag updates, deletes, recovers and
purges over raw HTTPS for up to LOAD_SECONDS; the server is killed with SIGKILL part-way. Each
thread owns its key names, so it knows exactly what every acknowledged (2xx) operation left
behind; the one operation a thread had in flight when the server died may or may not have
happened, but never half. After the kill `coffre store check` must pass (every sealed key of
every version opens, references consistent); after a restart every acknowledged operation must
be there (versions with their public keys, tags, deletions, purges), nothing unacknowledged may
be half-present, and a sample of keys still signs or decrypts with the public key acknowledged
before the crash.

Secret writes run beside the keys load (their own threads and names): sets of new versions,
property updates, reads, deletes, recovers and purges. After the restart every acknowledged
secret version is there with the value acknowledged for it, and a set in flight at the kill left
either nothing or one whole version holding the value sent.

Bounded: LOAD_SECONDS, MAX_OPS, request timeouts; the whole file runs in about a minute.
"""

import base64
import hashlib
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
import pg_support  # noqa: E402

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
except ImportError:  # the crypto sample then goes through the server's verify/encrypt
    ec = None

LOAD_SECONDS = 20.0          # planned length of the load
KILL_AFTER = (6.0, 10.0)     # the kill comes at a random moment in this window
THREADS = 6
NAMES_PER_THREAD = 4
MAX_OPS = 4000               # over all threads
REQUEST_TIMEOUT = 20.0
SAMPLE = 8                   # keys whose material is exercised after the restart
SECRET_THREADS = 3
SECRETS_PER_THREAD = 3


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def version_of(kid):
    return kid.rstrip("/").rsplit("/", 1)[1]


def public_part(jwk):
    return {k: jwk.get(k) for k in ("kty", "crv", "x", "y", "n", "e")}


class KeyModel:
    """What the acknowledged operations on one key name left behind."""

    def __init__(self, name):
        self.name = name
        self.state = "absent"      # absent (never created or purged), active, deleted
        self.versions = []         # acknowledged version ids, oldest first
        self.jwk = {}              # version -> public JWK acknowledged at creation
        self.tags = {}             # version -> tags acknowledged last
        self.doubt = None          # (op, detail) in flight when the server died
        self.lock = threading.Lock()


class Load:
    """The client threads and their record of acknowledged operations."""

    def __init__(self, server, seed):
        self.s = server
        self.rng = random.Random(seed)
        self.models = {}
        self.owned = []
        for t in range(THREADS):
            names = ["t%d-k%d" % (t, i) for i in range(NAMES_PER_THREAD)]
            self.owned.append(names)
            for n in names:
                self.models[n] = KeyModel(n)
        self.killed = threading.Event()
        self.stop = threading.Event()
        self.ops = 0
        self.acked = 0
        self.unexpected = []       # (op, name, response) answered with an error before the kill
        self.counter_lock = threading.Lock()

    def api(self, method, path, body=None):
        return self.s.api(method, path, body=body, timeout=REQUEST_TIMEOUT)

    def take_op(self):
        with self.counter_lock:
            if self.ops >= MAX_OPS:
                return False
            self.ops += 1
            return True

    def run_thread(self, t, deadline):
        rng = random.Random(self.rng.random())
        names = self.owned[t]
        counter = 0
        while time.monotonic() < deadline and not self.stop.is_set() and self.take_op():
            m = self.models[rng.choice(names)]
            counter += 1
            op, detail = self.choose(m, rng, counter)
            try:
                r = self.perform(m, op, detail)
            except Exception as e:  # the server died under us (or before we sent)
                m.doubt = (op, detail)
                if not self.killed.is_set():
                    self.unexpected.append((op, m.name, repr(e)))
                return
            if r.status // 100 != 2:
                m.doubt = (op, detail)
                if not self.killed.is_set():
                    self.unexpected.append((op, m.name, r))
                return
            self.apply(m, op, detail, r)
            with self.counter_lock:
                self.acked += 1

    def choose(self, m, rng, counter):
        if m.state == "absent":
            return "create", {"kty": "RSA" if rng.random() < 0.15 else "EC"}
        if m.state == "deleted":
            return ("purge", None) if rng.random() < 0.6 else ("recover", None)
        x = rng.random()
        if x < 0.18:
            return "new_version", {"kty": "RSA" if rng.random() < 0.1 else "EC"}
        if x < 0.33:
            return "rotate", None
        if x < 0.63:
            version = rng.choice(m.versions)
            return "update", {"version": version, "tags": {"u": "%d" % counter,
                                                            "v": version[:8]}}
        if x < 0.83:
            return "read", None
        return "delete", None

    def perform(self, m, op, detail):
        n = m.name
        if op in ("create", "new_version"):
            body = {"kty": detail["kty"]}
            if detail["kty"] == "RSA":
                body["key_size"] = 2048
            return self.api("POST", "/keys/%s/create" % n, body)
        if op == "rotate":
            return self.api("POST", "/keys/%s/rotate" % n)
        if op == "update":
            return self.api("PATCH", "/keys/%s/%s" % (n, detail["version"]),
                            {"tags": detail["tags"]})
        if op == "read":
            return self.api("GET", "/keys/%s" % n)
        if op == "delete":
            return self.api("DELETE", "/keys/%s" % n)
        if op == "recover":
            return self.api("POST", "/deletedkeys/%s/recover" % n)
        if op == "purge":
            return self.api("DELETE", "/deletedkeys/%s" % n)
        raise AssertionError(op)

    def apply(self, m, op, detail, r):
        if op in ("create", "new_version", "rotate"):
            j = r.json()
            v = version_of(j["key"]["kid"])
            if op == "create":
                m.versions, m.jwk, m.tags = [], {}, {}
            m.versions.append(v)
            m.jwk[v] = public_part(j["key"])
            m.tags[v] = j.get("tags") or {}
            m.state = "active"
        elif op == "update":
            m.tags[detail["version"]] = r.json().get("tags") or {}
        elif op == "read":
            # While the load runs, "latest" is always the last acknowledged version.
            got = version_of(r.json()["key"]["kid"])
            if got != m.versions[-1]:
                self.unexpected.append(("read", m.name, "latest %s, expected %s" % (
                    got, m.versions[-1])))
        elif op == "delete":
            m.state = "deleted"
        elif op == "recover":
            m.state = "active"
        elif op == "purge":
            m.state = "absent"
            m.versions, m.jwk, m.tags = [], {}, {}


class SecretModel:
    """What the acknowledged operations on one secret name left behind."""

    def __init__(self, name):
        self.name = name
        self.state = "absent"
        self.versions = []         # acknowledged version ids, oldest first
        self.values = {}           # version -> value acknowledged
        self.tags = {}             # version -> tags acknowledged last
        self.doubt = None          # (op, detail) in flight when the server died


class SecretLoad(Load):
    """Client threads writing secrets; each owns its names, like the keys load."""

    def __init__(self, server, seed):
        super().__init__(server, seed)
        self.models = {}
        self.owned = []
        for t in range(SECRET_THREADS):
            names = ["t%d-s%d" % (t, i) for i in range(SECRETS_PER_THREAD)]
            self.owned.append(names)
            for n in names:
                self.models[n] = SecretModel(n)

    def choose(self, m, rng, counter):
        value = "%s value %d %s" % (m.name, counter, os.urandom(6).hex())
        if m.state == "absent":
            return "set", {"value": value}
        if m.state == "deleted":
            return ("purge", None) if rng.random() < 0.6 else ("recover", None)
        x = rng.random()
        if x < 0.4:
            return "set", {"value": value}
        if x < 0.55:
            version = rng.choice(m.versions)
            return "update", {"version": version, "tags": {"u": "%d" % counter}}
        if x < 0.88:
            return "read", None
        return "delete", None

    def perform(self, m, op, detail):
        n = m.name
        if op == "set":
            return self.api("PUT", "/secrets/%s" % n, {"value": detail["value"]})
        if op == "update":
            return self.api("PATCH", "/secrets/%s/%s" % (n, detail["version"]),
                            {"tags": detail["tags"]})
        if op == "read":
            return self.api("GET", "/secrets/%s" % n)
        if op == "delete":
            return self.api("DELETE", "/secrets/%s" % n)
        if op == "recover":
            return self.api("POST", "/deletedsecrets/%s/recover" % n)
        if op == "purge":
            return self.api("DELETE", "/deletedsecrets/%s" % n)
        raise AssertionError(op)

    def apply(self, m, op, detail, r):
        if op == "set":
            j = r.json()
            v = version_of(j["id"])
            if m.state == "absent":
                m.versions, m.values, m.tags = [], {}, {}
            if j.get("value") != detail["value"]:
                self.unexpected.append(("set", m.name, "answered another value"))
            m.versions.append(v)
            m.values[v] = detail["value"]
            m.tags[v] = {}
            m.state = "active"
        elif op == "update":
            m.tags[detail["version"]] = r.json().get("tags") or {}
        elif op == "read":
            j = r.json()
            if version_of(j["id"]) != m.versions[-1] or j["value"] != m.values[m.versions[-1]]:
                self.unexpected.append(("read", m.name, "latest is not the last acknowledged"))
        elif op == "delete":
            m.state = "deleted"
        elif op == "recover":
            m.state = "active"
        elif op == "purge":
            m.state = "absent"
            m.versions, m.values, m.tags = [], {}, {}


class CrashSafetyMixin:
    """The test body, run once per backend (setUpClass provides self.server)."""

    server = None

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json() if status != 204 else None

    def list_versions(self, name):
        s = self.server
        r = s.api("GET", "/keys/%s/versions" % name, query="maxresults=25")
        out = []
        for _ in range(50):
            j = self.ok(r)
            out += j["value"]
            if not j.get("nextLink"):
                return out
            r = s.follow(j["nextLink"])
        self.fail("version paging of %s did not end" % name)

    def all_names(self, path):
        s = self.server
        r = s.api("GET", path, query="maxresults=25")
        names = []
        for _ in range(100):
            j = self.ok(r)
            names += [i["kid"].split("/keys/", 1)[1].split("/")[0] for i in j["value"]]
            if not j.get("nextLink"):
                return names
            r = s.follow(j["nextLink"])
        self.fail("paging of %s did not end" % path)

    def all_secret_names(self, path):
        s = self.server
        r = s.api("GET", path, query="maxresults=25")
        names = []
        for _ in range(100):
            j = self.ok(r)
            names += [i["id"].split("/secrets/", 1)[1].split("/")[0] for i in j["value"]]
            if not j.get("nextLink"):
                return names
            r = s.follow(j["nextLink"])
        self.fail("paging of %s did not end" % path)

    def verify_secret(self, m, info):
        """Compares one secret with its model: state, versions and every value."""
        s = self.server
        op = m.doubt[0] if m.doubt else None
        g = s.api("GET", "/secrets/" + m.name)
        d = s.api("GET", "/deletedsecrets/" + m.name)
        self.assertIn(g.status, (200, 404), g)
        self.assertIn(d.status, (200, 404), d)
        actual = "active" if g.status == 200 else "deleted" if d.status == 200 else "absent"
        allowed = {m.state}
        if op == "set" and m.state == "absent":
            allowed = {"absent", "active"}
        elif op == "delete":
            allowed = {"active", "deleted"}
        elif op == "recover":
            allowed = {"deleted", "active"}
        elif op == "purge":
            allowed = {"deleted", "absent"}
        self.assertIn(actual, allowed, "secret %s is %s, model %s, in doubt %s (%s)" % (
            m.name, actual, m.state, op, info))
        if actual == "absent":
            return
        if actual == "deleted":
            self.ok(s.api("POST", "/deletedsecrets/%s/recover" % m.name))
        r = s.api("GET", "/secrets/%s/versions" % m.name, query="maxresults=25")
        listed = []
        for _ in range(50):
            j = self.ok(r)
            listed += [version_of(i["id"]) for i in j["value"]]
            if not j.get("nextLink"):
                break
            r = s.follow(j["nextLink"])
        acked = [] if (op == "set" and m.state == "absent") else list(m.versions)
        listed_set = set(listed)
        self.assertEqual(len(listed), len(listed_set), "%s lists a version twice" % m.name)
        extra = listed_set - set(acked)
        self.assertLessEqual(set(acked), listed_set, "secret %s lost acknowledged versions (%s)"
                             % (m.name, info))
        self.assertLessEqual(len(extra), 1 if op == "set" else 0,
                             "secret %s has versions nobody acknowledged: %s (%s)" % (
                                 m.name, extra, info))
        latest = self.ok(s.api("GET", "/secrets/" + m.name))
        self.assertEqual(version_of(latest["id"]), listed[-1], "%s latest" % m.name)
        for v in listed:
            j = self.ok(s.api("GET", "/secrets/%s/%s" % (m.name, v)))
            if v in m.values:
                self.assertEqual(j["value"], m.values[v], "%s/%s value changed" % (m.name, v))
                want = [m.tags[v]]
                if op == "update" and m.doubt[1]["version"] == v:
                    want.append(m.doubt[1]["tags"])
                self.assertIn(j.get("tags") or {}, want, "%s/%s tags" % (m.name, v))
            else:
                # The set in flight at the kill: whole, with the value it sent.
                self.assertEqual(j["value"], m.doubt[1]["value"], "%s/%s half-written" % (
                    m.name, v))

    # ---- the test -------------------------------------------------------------------------

    def test_sigkill_during_mixed_load(self):
        s = self.server
        seed = int(os.environ.get("COFFRE_CRASH_SEED", str(int(time.time()))))
        load = Load(s, seed)
        secret_load = SecretLoad(s, seed + 1)
        rng = random.Random(seed)
        kill_at = rng.uniform(*KILL_AFTER)
        start = time.monotonic()
        deadline = start + LOAD_SECONDS
        threads = [threading.Thread(target=load.run_thread, args=(t, deadline), daemon=True)
                   for t in range(THREADS)]
        threads += [threading.Thread(target=secret_load.run_thread, args=(t, deadline),
                                     daemon=True) for t in range(SECRET_THREADS)]
        for t in threads:
            t.start()
        while time.monotonic() < start + kill_at and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        load.killed.set()
        secret_load.killed.set()
        s.kill9()
        for t in threads:
            t.join(REQUEST_TIMEOUT + 5)
        load.stop.set()
        secret_load.stop.set()
        self.assertFalse(any(t.is_alive() for t in threads), "client threads did not stop")
        info = "seed %d, kill after %.1fs, %d ops sent, %d acknowledged" % (
            seed, kill_at, load.ops, load.acked)
        states = {}
        for m in load.models.values():
            states[m.state] = states.get(m.state, 0) + 1
        doubts = sorted(m.doubt[0] for m in load.models.values() if m.doubt)
        print("\n[%s] %s; keys by state %s; in doubt: %s" % (
            type(self).__name__, info, states, doubts), file=sys.stderr)
        secret_doubts = sorted(m.doubt[0] for m in secret_load.models.values() if m.doubt)
        print("[%s] secrets: %d ops sent, %d acknowledged; in doubt: %s" % (
            type(self).__name__, secret_load.ops, secret_load.acked, secret_doubts),
            file=sys.stderr)
        self.assertEqual(load.unexpected, [], "errors before the kill (%s)" % info)
        self.assertEqual(secret_load.unexpected, [], "secret errors before the kill (%s)" % info)
        self.assertGreater(load.acked, 50, "too little load before the kill (%s)" % info)
        self.assertGreater(secret_load.acked, 20, "too few secret writes before the kill")

        # The store as the crash left it: every sealed key opens, references consistent.
        p = s.store_check()
        self.assertEqual(p.returncode, 0, "store check after the kill (%s):\n%s%s" % (
            info, p.stdout, p.stderr))
        self.assertIn("store check: OK", p.stdout)

        s.restart()
        models = load.models
        # Nothing but our keys, active or deleted.
        names = set(self.all_names("/keys")) | set(self.all_names("/deletedkeys"))
        self.assertLessEqual(names, set(models), info)

        sample = []
        for name in sorted(models):
            m = models[name]
            with self.subTest(key=name, doubt=m.doubt):
                sample += self.verify_key(m, info)
        self.assertGreater(len(sample), 0, info)
        rng.shuffle(sample)
        for name, version, jwk in sample[:SAMPLE]:
            with self.subTest(sample=name, version=version):
                self.exercise(name, version, jwk)

        secret_names = set(self.all_secret_names("/secrets")) | set(
            self.all_secret_names("/deletedsecrets"))
        self.assertLessEqual(secret_names, set(secret_load.models), info)
        for name in sorted(secret_load.models):
            m = secret_load.models[name]
            with self.subTest(secret=name, doubt=m.doubt):
                self.verify_secret(m, info)

        # And once more after the restart and the recoveries.
        p = s.store_check()
        self.assertEqual(p.returncode, 0, "store check after the restart (%s):\n%s%s" % (
            info, p.stdout, p.stderr))

    def verify_key(self, m, info):
        """Compares one key with its model; returns (name, version, jwk) of usable versions."""
        s = self.server
        op = m.doubt[0] if m.doubt else None
        g = s.api("GET", "/keys/" + m.name)
        d = s.api("GET", "/deletedkeys/" + m.name)
        self.assertIn(g.status, (200, 404), g)
        self.assertIn(d.status, (200, 404), d)
        self.assertFalse(g.status == 200 and d.status == 200, "%s both active and deleted" % m.name)
        actual = "active" if g.status == 200 else "deleted" if d.status == 200 else "absent"

        allowed = {m.state}
        if op == "create":
            allowed = {"absent", "active"}
        elif op == "delete":
            allowed = {"active", "deleted"}
        elif op == "recover":
            allowed = {"deleted", "active"}
        elif op == "purge":
            allowed = {"deleted", "absent"}
        self.assertIn(actual, allowed, "%s is %s, model %s, in doubt %s (%s)" % (
            m.name, actual, m.state, op, info))
        if actual == "absent":
            return []

        acked = list(m.versions)
        if actual == "deleted":
            latest = version_of(d.json()["key"]["kid"])
            self.assertEqual(latest, acked[-1], "%s deleted with another latest (%s)" % (
                m.name, info))
            # Look inside: recover it, then check every version as for an active key.
            self.ok(s.api("POST", "/deletedkeys/%s/recover" % m.name))
            g = s.api("GET", "/keys/" + m.name)
            self.ok(g)

        listed = self.list_versions(m.name)
        got = [version_of(i["kid"]) for i in listed]
        self.assertEqual(len(got), len(set(got)), "%s lists a version twice" % m.name)
        extra_ok = op in ("new_version", "rotate") or (op == "create" and m.state == "absent")
        if op == "create" and m.state == "absent":
            acked = []
        if got != acked:
            self.assertTrue(extra_ok and got[:-1] == acked and len(got) == len(acked) + 1,
                            "%s versions %s, acknowledged %s, in doubt %s (%s)" % (
                                m.name, got, acked, op, info))
        latest = version_of(g.json()["key"]["kid"])
        self.assertEqual(latest, got[-1], "%s latest is not its last version" % m.name)

        usable = []
        tags_listed = {version_of(i["kid"]): (i.get("tags") or {}) for i in listed}
        for v in got:
            j = self.ok(s.api("GET", "/keys/%s/%s" % (m.name, v)))
            jwk = public_part(j["key"])
            if v in m.jwk:
                self.assertEqual(jwk, m.jwk[v], "%s/%s public key changed" % (m.name, v))
                want = [m.tags[v]]
                if op == "update" and m.doubt[1]["version"] == v:
                    want.append(m.doubt[1]["tags"])
                self.assertIn(j.get("tags") or {}, want, "%s/%s tags" % (m.name, v))
                self.assertEqual(tags_listed[v], j.get("tags") or {})
            usable.append((m.name, v, jwk))
        return usable

    def exercise(self, name, version, jwk):
        """Uses the private key of one version with the public key acknowledged for it."""
        s = self.server
        if jwk["kty"] in ("EC", "EC-HSM"):
            digest = hashlib.sha256(("%s/%s" % (name, version)).encode()).digest()
            sig = self.ok(s.api("POST", "/keys/%s/%s/sign" % (name, version),
                                body={"alg": "ES256", "value": b64u(digest)}))["value"]
            raw = h.b64url_decode(sig)
            self.assertEqual(len(raw), 64)
            if ec is not None:
                x = int.from_bytes(h.b64url_decode(jwk["x"]), "big")
                y = int.from_bytes(h.b64url_decode(jwk["y"]), "big")
                public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
                der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                           int.from_bytes(raw[32:], "big"))
                public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            else:
                r = self.ok(s.api("POST", "/keys/%s/%s/verify" % (name, version),
                                  body={"alg": "ES256", "digest": b64u(digest), "value": sig}))
                self.assertTrue(r["value"])
        else:
            secret = os.urandom(32)
            if ec is not None:
                n = int.from_bytes(h.b64url_decode(jwk["n"]), "big")
                e = int.from_bytes(h.b64url_decode(jwk["e"]), "big")
                public = rsa.RSAPublicNumbers(e, n).public_key()
                ct = public.encrypt(secret, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                         algorithm=hashes.SHA1(), label=None))
                ct = b64u(ct)
            else:
                ct = self.ok(s.api("POST", "/keys/%s/%s/encrypt" % (name, version),
                                   body={"alg": "RSA-OAEP", "value": b64u(secret)}))["value"]
            pt = self.ok(s.api("POST", "/keys/%s/%s/decrypt" % (name, version),
                               body={"alg": "RSA-OAEP", "value": ct}))["value"]
            self.assertEqual(h.b64url_decode(pt), secret)


class SqliteCrashSafetyTest(CrashSafetyMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.Coffre(label=cls.__name__)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()


class PostgresCrashSafetyTest(CrashSafetyMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pg_support.PostgresServer().start()
        cls.key_dir = tempfile.mkdtemp(prefix="coffre-it-key-")
        url = cls.pg.create_database()
        cls.server = h.Coffre(label=cls.__name__, extra_args=[
            "--storage", url, "--master-key-file", os.path.join(cls.key_dir, "master.key")])
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            cls.pg.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()
        shutil.rmtree(cls.key_dir, ignore_errors=True)


if __name__ == "__main__":
    h.main()
