"""Persistence: graceful restart keeps everything; kill -9 during a burst of creates loses no
acknowledged write; key material is not stored in plaintext."""

import os
import re
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

AV = "7.4"

# DER PKCS#8 RSA private key: SEQUENCE(len16) INTEGER 0 SEQUENCE { OID rsaEncryption }
RE_PKCS8_RSA = re.compile(rb"\x30\x82..\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",
                          re.DOTALL)
# DER PKCS#1 RSAPrivateKey (2048..4096): SEQUENCE(len16) INTEGER 0 INTEGER(len16) modulus
RE_PKCS1_RSA = re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82..\x00", re.DOTALL)
# DER PKCS#8 EC private key: ... INTEGER 0 SEQUENCE { OID id-ecPublicKey
RE_PKCS8_EC = re.compile(rb"\x02\x01\x00\x30.\x06\x07\x2a\x86\x48\xce\x3d\x02\x01", re.DOTALL)
# DER SEC1 ECPrivateKey: INTEGER 1, OCTET STRING scalar, [0] named-curve OID
RE_SEC1_EC = re.compile(
    rb"\x02\x01\x01\x04(?:\x20.{32}\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"   # P-256
    rb"|\x30.{48}\xa0\x07\x06\x05\x2b\x81\x04\x00\x22"                             # P-384
    rb"|\x42.{66}\xa0\x07\x06\x05\x2b\x81\x04\x00\x23"                             # P-521
    rb"|\x20.{32}\xa0\x07\x06\x05\x2b\x81\x04\x00\x0a)",                           # secp256k1
    re.DOTALL)
PEM_MARKERS = (b"BEGIN PRIVATE KEY", b"BEGIN RSA PRIVATE KEY", b"BEGIN EC PRIVATE KEY",
               b"BEGIN ENCRYPTED PRIVATE KEY")


def strip_host(obj, base):
    """Replace the vault base URL in all strings (ports may move across restarts)."""
    if isinstance(obj, dict):
        return {k: strip_host(v, base) for k, v in obj.items()}
    if isinstance(obj, list):
        return [strip_host(v, base) for v in obj]
    if isinstance(obj, str):
        return obj.replace(base, "BASE")
    return obj


class PersistenceTest(h.ServerTestCase):
    VAULTS = ("other",)

    # ---- helpers --------------------------------------------------------------------------

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json() if status != 204 else None

    def all_pages(self, path, vault="dev"):
        s = self.server
        r = s.api("GET", path, query="maxresults=25", host=s.vault_host(vault))
        items = []
        for _ in range(100):
            j = self.ok(r)
            items += j["value"]
            if not j.get("nextLink"):
                return items
            r = s.follow(j["nextLink"])
        self.fail("paging did not end")

    def snapshot(self, names_by_vault):
        s = self.server
        snap = {}
        for vault, names in names_by_vault.items():
            host = s.vault_host(vault)
            base = s.vault_url(vault)
            v = {"keys": sorted(self.all_pages("/keys", vault), key=lambda i: i["kid"]),
                 "deleted": sorted(self.all_pages("/deletedkeys", vault), key=lambda i: i["kid"])}
            for n in names:
                latest = s.api("GET", "/keys/" + n, host=host)
                v["latest:" + n] = (latest.status, latest.json())
                if latest.status == 200:
                    versions = sorted(self.all_pages("/keys/%s/versions" % n, vault), key=lambda i: i["kid"])
                    v["versions:" + n] = versions
                    for item in versions:
                        ver = item["kid"].rsplit("/", 1)[1]
                        v["version:%s:%s" % (n, ver)] = self.ok(s.api("GET", "/keys/%s/%s" % (n, ver), host=host))
                d = s.api("GET", "/deletedkeys/" + n, host=host)
                v["deleted:" + n] = (d.status, d.json())
            snap[vault] = strip_host(v, base)
        return snap

    def db_files(self):
        out = []
        for root, _, files in os.walk(self.server.data_dir):
            for f in files:
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        head = fh.read(16)
                except OSError:
                    continue
                if head == b"SQLite format 3\x00":
                    out.append(p)
        return out

    # ---- tests ----------------------------------------------------------------------------

    def test_1_graceful_restart_keeps_everything(self):
        s = self.server
        now = int(time.time())
        # rsa: two versions, the first disabled, tags
        v1 = self.ok(s.api("POST", "/keys/p-rsa/create", body={"kty": "RSA", "key_size": 2048,
                                                                 "tags": {"gen": "1"}}))
        self.ok(s.api("POST", "/keys/p-rsa/create", body={"kty": "RSA", "key_size": 3072,
                                                          "tags": {"gen": "2"}}))
        ver1 = v1["key"]["kid"].rsplit("/", 1)[1]
        self.ok(s.api("PATCH", "/keys/p-rsa/" + ver1, body={"attributes": {"enabled": False}}))
        # ec with nbf/exp and restricted ops
        self.ok(s.api("POST", "/keys/p-ec/create", body={
            "kty": "EC-HSM", "crv": "P-521", "key_ops": ["sign"],
            "attributes": {"nbf": now - 60, "exp": now + 86400 * 30}, "tags": {"t": "x"}}))
        # deleted key with two versions
        self.ok(s.api("POST", "/keys/p-deleted/create", body={"kty": "EC", "crv": "P-256K"}))
        self.ok(s.api("POST", "/keys/p-deleted/create", body={"kty": "EC"}))
        self.ok(s.api("DELETE", "/keys/p-deleted"))
        # purged key
        self.ok(s.api("POST", "/keys/p-purged/create", body={"kty": "EC"}))
        self.ok(s.api("DELETE", "/keys/p-purged"))
        self.ok(s.api("DELETE", "/deletedkeys/p-purged"), 204)
        # recovered key
        self.ok(s.api("POST", "/keys/p-recovered/create", body={"kty": "RSA"}))
        self.ok(s.api("DELETE", "/keys/p-recovered"))
        self.ok(s.api("POST", "/deletedkeys/p-recovered/recover"))
        # a key in the other vault
        self.ok(s.api("POST", "/keys/p-other/create", body={"kty": "EC", "crv": "P-384"},
                      host=s.vault_host("other")))
        names = {"dev": ["p-rsa", "p-ec", "p-deleted", "p-purged", "p-recovered", "p-other"],
                 "other": ["p-other", "p-rsa"]}
        before = self.snapshot(names)

        rc, graceful = s.stop()
        self.assertTrue(graceful, "server did not stop within %ss of SIGTERM" % h.STOP_TIMEOUT)
        self.assertEqual(rc, 0, "exit code after SIGTERM")
        s.restart()
        after = self.snapshot(names)
        self.maxDiff = None
        for vault in before:
            for k in before[vault]:
                self.assertEqual(after[vault][k], before[vault][k], "%s/%s changed across restart" % (vault, k))
        # still usable after restart: the deleted name is still blocked, new versions work
        r = s.api("POST", "/keys/p-deleted/create", body={"kty": "EC"})
        self.assertEqual(r.status, 409, r)
        self.ok(s.api("POST", "/keys/p-ec/create", body={"kty": "EC"}))

        # a second restart right away (nothing new) also keeps it
        s.restart()
        self.assertEqual(self.snapshot({"other": names["other"]})["other"], after["other"])

    def test_2_kill9_during_burst(self):
        s = self.server
        token = s.msi_token()
        host = s.vault_host()
        acked = []            # (name, version, public material)
        lock = threading.Lock()
        stop = threading.Event()
        errors_after_kill = []

        def worker(tid):
            i = 0
            deadline = time.monotonic() + 10
            while not stop.is_set() and time.monotonic() < deadline and i < 500:
                name = "burst-%d-%d" % (tid, i) if i % 5 else "burst-shared-%d" % tid
                body = {"kty": "RSA", "key_size": 2048} if (i % 7 == 3) else {"kty": "EC"}
                i += 1
                try:
                    r = s.request("POST", "/keys/%s/create?api-version=%s" % (name, AV), body=body,
                                  token=token, host=host, timeout=5)
                except Exception as e:   # connection refused/reset once killed
                    errors_after_kill.append(repr(e))
                    if stop.is_set() or not s.running():
                        return
                    continue
                if r.status == 200:
                    j = r.json()
                    k = j["key"]
                    pub = k.get("n") or (k.get("x"), k.get("y"))
                    with lock:
                        acked.append((name, k["kid"].rsplit("/", 1)[1], pub))

        threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        s.kill9()
        stop.set()
        for t in threads:
            t.join(15)
        self.assertFalse(any(t.is_alive() for t in threads), "workers did not finish")
        with lock:
            acked_now = list(acked)
        self.assertGreater(len(acked_now), 0, "no create was acknowledged before the kill")

        s.restart()
        missing = []
        for name, ver, pub in acked_now:
            r = s.api("GET", "/keys/%s/%s" % (name, ver))
            if r.status != 200:
                missing.append((name, ver, r.status))
                continue
            k = r.json()["key"]
            got = k.get("n") or (k.get("x"), k.get("y"))
            self.assertEqual(got, pub, "public key of %s/%s changed" % (name, ver))
        self.assertEqual(missing, [], "%d of %d acknowledged creates lost after kill -9" % (
            len(missing), len(acked_now)))
        # the server is fully usable afterwards
        self.ok(s.api("POST", "/keys/after-kill/create", body={"kty": "EC"}))
        print("\nkill -9 burst: %d acknowledged creates, all present" % len(acked_now), file=sys.stderr)

    def test_3_files_at_rest(self):
        s = self.server
        mk = os.path.join(s.data_dir, "master.key")
        self.assertTrue(os.path.isfile(mk), "master.key missing")
        self.assertEqual(stat.S_IMODE(os.stat(mk).st_mode), 0o600, "master.key mode")
        dbs = self.db_files()
        self.assertTrue(dbs, "no SQLite database in the data dir: %s" % os.listdir(s.data_dir))
        # create a few more keys so that the DB and its WAL hold fresh material
        for i, body in enumerate(({"kty": "RSA"}, {"kty": "RSA", "key_size": 3072}, {"kty": "EC"},
                                  {"kty": "EC", "crv": "P-384"}, {"kty": "EC-HSM", "crv": "P-256K"})):
            self.ok(s.api("POST", "/keys/at-rest-%d/create" % i, body=body))
        scanned = []
        for db in self.db_files():
            for suffix in ("", "-wal", "-journal", "-shm"):
                p = db + suffix
                if not os.path.exists(p):
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                scanned.append((os.path.basename(p), len(data)))
                for marker in PEM_MARKERS:
                    self.assertNotIn(marker, data, "%s contains %r" % (p, marker))
                for rx in (RE_PKCS8_RSA, RE_PKCS1_RSA, RE_PKCS8_EC, RE_SEC1_EC):
                    m = rx.search(data)
                    self.assertIsNone(m, "%s contains a plaintext private key structure at %d"
                                      % (p, m.start() if m else -1))
        # also after a graceful stop (checkpointed WAL)
        rc, graceful = s.stop()
        for db in self.db_files():
            with open(db, "rb") as f:
                data = f.read()
            for rx in (RE_PKCS8_RSA, RE_PKCS1_RSA, RE_PKCS8_EC, RE_SEC1_EC):
                self.assertIsNone(rx.search(data), "%s contains a plaintext private key" % db)
            for marker in PEM_MARKERS:
                self.assertNotIn(marker, data)
        print("\nscanned: %s" % scanned, file=sys.stderr)
        s.restart()


if __name__ == "__main__":
    h.main()
