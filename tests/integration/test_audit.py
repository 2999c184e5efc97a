"""The audit log: one keyed, hash-chained JSON line per request in DATA_DIR/audit/audit-<seq>.jsonl.

- After a mixed workload (creates, gets, lists, crypto, deletes, denied requests, 401s, admin
  calls, token requests) every request made has its line (x-ms-request-id == requestId) with the
  right caller, vault, operation, key name/version and status.
- `coffre audit verify FILES` says intact; editing, deleting, swapping or inserting a line (each on
  a copy) is detected and the first bad line named, also when every later hash is recomputed (the
  lines carry an HMAC under a key derived from the master key), and so is dropping the last lines
  (the head of each committed group is anchored in the store).
- No secret appears in the log: tokens, admin token, client secret, identity header, plaintexts,
  decrypted values, random bytes, backups, key material (private and public).
- The chain continues across a restart.
- When the log cannot be written, requests fail with a 500 and, from then on, nothing runs: a
  key created after the failure does not exist.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

FIELDS = ("seq", "prev", "time", "requestId", "callerObjectId", "callerAppId", "clientAddress",
          "vault", "operation", "keyName", "keyVersion", "status", "latencyUs", "mac")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PLAINTEXT = b"audit: the plaintext that must never be logged"
CEK = hashlib.sha256(b"audit content encryption key").digest()
DIGEST = hashlib.sha256(b"audit digest").digest()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def forms(value):
    """Text forms a secret could take in a log."""
    if isinstance(value, str):
        out = {value}
        try:
            raw = unb64u(value)
            if len(raw) >= 8:
                out |= forms(raw)
        except (ValueError, TypeError):
            pass
        return out
    return {b64u(value), base64.b64encode(value).decode(), value.hex(),
            value.decode("latin-1") if value.isascii() else b64u(value)}


def rehash(line_obj_text):
    """A line's text with its hash recomputed as a forger without the chain key can: the MAC
    replaced by an unkeyed SHA-256."""
    at = line_obj_text.rfind(',"')
    body = line_obj_text[:at] + "}"
    return line_obj_text[:at] + ',"hash":"%s"}' % hashlib.sha256(body.encode()).hexdigest()


def rechain(lines, index):
    """Lines with line `index` and every later line re-hashed and re-chained (prev = SHA-256 of
    the line before), as a forger would after editing line `index`."""
    out = list(lines)
    for i in range(index, len(out)):
        text = out[i]
        if i > index:
            obj_prev = json.loads(text)["prev"]
            text = text.replace('"prev":"%s"' % obj_prev,
                                '"prev":"%s"' % hashlib.sha256(out[i - 1].encode()).hexdigest(), 1)
        out[i] = rehash(text)
    return out


class AuditTest(h.ServerTestCase):
    VAULTS = ()
    expected = []      # (request id, {field: value}, label)
    secrets = {}       # label -> secret value (str or bytes)

    # ---- helpers --------------------------------------------------------------------------

    @classmethod
    def remember(cls, label, r, **fields):
        rid = r.header("x-ms-request-id")
        if not rid:
            raise AssertionError("%s: no x-ms-request-id on %r" % (label, r))
        cls.expected.append((rid, fields, label))
        return r

    @classmethod
    def secret(cls, label, value):
        cls.secrets[label] = value
        return value

    def lines_by_request_id(self):
        out = {}
        for line in self.server.audit_lines():
            out.setdefault(line["requestId"], []).append(line)
        return out

    def copy_audit(self):
        d = tempfile.mkdtemp(prefix="coffre-audit-copy-", dir=self.server.root)
        files = []
        for src in self.server.audit_files():
            dst = os.path.join(d, os.path.basename(src))
            shutil.copyfile(src, dst)
            files.append(dst)
        return files

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()

    def write(self, path, lines):
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))

    def assertIntact(self, files=None):
        p = self.server.audit_verify(files)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("intact", out)
        return out

    def assertDamagedAt(self, files, path, line_numbers):
        p = self.server.audit_verify(files)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, "tampering not detected: %s" % out)
        self.assertNotIn("intact", out)
        named = ["%s:%d:" % (path, n) for n in line_numbers]
        self.assertTrue(any(n in out for n in named), "expected one of %s in %r" % (named, out))

    def middle(self, files, offset=0):
        """(path, 1-based line number) of a line in the middle of the largest file."""
        path = max(files, key=lambda f: len(self.read(f)))
        n = len(self.read(path))
        self.assertGreaterEqual(n, 10, "too few lines to tamper with")
        return path, n // 2 + offset

    # ---- workload -------------------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.run_workload()

    @classmethod
    def run_workload(cls):
        s = cls.server
        R, S = cls.remember, cls.secret
        S("identity header", s.devenv["IDENTITY_HEADER"])
        S("admin token", s.admin_token)

        r = R("msi", s.msi_raw(resource=s.local_resource), operation="ManagedIdentityToken",
              status=200)
        dev_token = S("dev token", r.json()["access_token"])
        dev = s.token_claims(dev_token)
        cls.dev_claims = dev
        dev_fields = dict(callerObjectId=dev["oid"], callerAppId=dev["appid"], vault="dev")

        # Admin calls.
        r = R("admin principal", s.admin("POST", "principals", {"name": "audit-app"}),
              callerObjectId="admin", operation="Admin POST /v1/principals", status=201, vault="")
        principal = r.json()
        cls.principal = principal
        S("client secret", principal["password"])
        r = R("admin token", s.admin("POST", "principals/audit-app/token",
                                     {"resource": s.local_resource}),
              callerObjectId="admin", operation="Admin POST /v1/principals/audit-app/token",
              status=200)
        p_token = S("principal token", r.json()["accessToken"])
        p_fields = dict(callerObjectId=principal["objectId"], callerAppId=principal["appId"],
                        vault="dev")
        R("admin policy", s.admin("PUT", "vaults/dev/accessPolicies/%s" % principal["objectId"],
                                  {"permissions": {"keys": ["get", "list"]}}),
          callerObjectId="admin", status=200,
          operation="Admin PUT /v1/vaults/dev/accessPolicies/%s" % principal["objectId"])
        R("admin list vaults", s.admin("GET", "vaults"), callerObjectId="admin",
          operation="Admin GET /v1/vaults", status=200)
        R("admin create vault", s.admin("POST", "vaults", {"name": "audited"}),
          callerObjectId="admin", operation="Admin POST /v1/vaults", status=201)
        wrong_admin = S("wrong admin token", "wrong-" + b64u(os.urandom(24)))
        r = R("admin wrong token", s.admin("GET", "vaults", token=wrong_admin), status=401)
        R("admin no token", s.admin("GET", "vaults", token=None), status=401)
        R("admin with data token", s.admin("GET", "vaults", token=dev_token), status=401)

        # ADFS client credentials.
        form = urllib.parse.urlencode({"client_id": principal["appId"],
                                       "grant_type": "client_credentials",
                                       "client_secret": principal["password"],
                                       "scope": s.local_resource + "/.default"})
        r = R("adfs", s.request("POST", "/adfs/oauth2/token", body=form, token=None,
                                host="localhost:%d" % s.port,
                                content_type="application/x-www-form-urlencoded"),
              operation="ClientCredentialsToken", callerAppId=principal["appId"], status=200)
        S("adfs token", r.json()["access_token"])

        def api(label, method, path, body=None, token=dev_token, fields=dev_fields, **expect):
            r = s.api(method, path, body=body, token=token)
            want = dict(fields)
            want.update(expect)
            return R(label, r, **want)

        # Keys: create, import, get, list, update.
        r = api("create ec", "POST", "/keys/au-ec/create", {"kty": "EC", "crv": "P-256"},
                operation="CreateKey", keyName="au-ec", status=200)
        ec = r.json()["key"]
        S("ec x", ec["x"])
        S("ec y", ec["y"])
        ec_version = ec["kid"].rsplit("/", 1)[1]
        r = api("create rsa", "POST", "/keys/au-rsa/create", {"kty": "RSA", "key_size": 2048},
                operation="CreateKey", keyName="au-rsa", status=200)
        rsa = r.json()["key"]
        S("rsa n", rsa["n"])
        rsa_version = rsa["kid"].rsplit("/", 1)[1]

        from cryptography.hazmat.primitives.asymmetric import ec as ecmod
        priv = ecmod.generate_private_key(ecmod.SECP256R1())
        pn = priv.private_numbers()
        jwk = {"kty": "EC", "crv": "P-256",
               "x": S("imported x", b64u(pn.public_numbers.x.to_bytes(32, "big"))),
               "y": S("imported y", b64u(pn.public_numbers.y.to_bytes(32, "big"))),
               "d": S("imported d", b64u(pn.private_value.to_bytes(32, "big")))}
        api("import", "PUT", "/keys/au-imported", {"key": jwk}, operation="ImportKey",
            keyName="au-imported", status=200)
        oct_k = S("imported oct k", os.urandom(32))
        api("import oct", "PUT", "/keys/au-oct", {"key": {"kty": "oct", "k": b64u(oct_k)}},
            operation="ImportKey", keyName="au-oct", status=200)
        api("get latest", "GET", "/keys/au-ec", operation="GetKey", keyName="au-ec",
            keyVersion="", status=200)
        api("get version", "GET", "/keys/au-ec/" + ec_version, operation="GetKey",
            keyName="au-ec", keyVersion=ec_version, status=200)
        api("list", "GET", "/keys", operation="GetKeys", keyName="", status=200)
        api("versions", "GET", "/keys/au-ec/versions", operation="GetKeyVersions",
            keyName="au-ec", status=200)
        api("update", "PATCH", "/keys/au-ec/" + ec_version, {"tags": {"audited": "yes"}},
            operation="UpdateKey", keyName="au-ec", keyVersion=ec_version, status=200)
        api("missing", "GET", "/keys/au-missing", operation="GetKey", keyName="au-missing",
            status=404)

        # Crypto.
        r = api("encrypt", "POST", "/keys/au-rsa/%s/encrypt" % rsa_version,
                {"alg": "RSA-OAEP-256", "value": b64u(S("plaintext", PLAINTEXT))},
                operation="Encrypt", keyName="au-rsa", keyVersion=rsa_version, status=200)
        ciphertext = r.json()["value"]
        r = api("decrypt", "POST", "/keys/au-rsa/%s/decrypt" % rsa_version,
                {"alg": "RSA-OAEP-256", "value": ciphertext},
                operation="Decrypt", keyName="au-rsa", keyVersion=rsa_version, status=200)
        S("decrypted", unb64u(r.json()["value"]))
        assert unb64u(r.json()["value"]) == PLAINTEXT
        r = api("wrap", "POST", "/keys/au-rsa/%s/wrapkey" % rsa_version,
                {"alg": "RSA-OAEP-256", "value": b64u(S("cek", CEK))},
                operation="WrapKey", keyName="au-rsa", status=200)
        r = api("unwrap", "POST", "/keys/au-rsa/%s/unwrapkey" % rsa_version,
                {"alg": "RSA-OAEP-256", "value": r.json()["value"]},
                operation="UnwrapKey", keyName="au-rsa", status=200)
        S("unwrapped", unb64u(r.json()["value"]))
        r = api("sign", "POST", "/keys/au-ec/%s/sign" % ec_version,
                {"alg": "ES256", "value": b64u(DIGEST)}, operation="Sign", keyName="au-ec",
                keyVersion=ec_version, status=200)
        api("verify", "POST", "/keys/au-ec/%s/verify" % ec_version,
            {"alg": "ES256", "digest": b64u(DIGEST), "value": r.json()["value"]},
            operation="Verify", keyName="au-ec", status=200)
        gcm_iv = os.urandom(12)
        r = api("oct encrypt", "POST", "/keys/au-oct//encrypt",
                {"alg": "A256GCM", "value": b64u(S("oct plaintext", b"oct plaintext " * 3)),
                 "iv": b64u(gcm_iv)},
                operation="Encrypt", keyName="au-oct")
        r = api("random", "POST", "/rng", {"count": 32}, operation="GetRandomBytes", status=200)
        S("random bytes", unb64u(r.json()["value"]))
        r = api("backup", "POST", "/keys/au-ec/backup", operation="BackupKey", keyName="au-ec",
                status=200)
        S("backup", r.json()["value"])

        # Delete, deleted, purge.
        api("delete", "DELETE", "/keys/au-imported", operation="DeleteKey",
            keyName="au-imported", status=200)
        api("get deleted", "GET", "/deletedkeys/au-imported", operation="GetDeletedKey",
            keyName="au-imported", status=200)
        api("list deleted", "GET", "/deletedkeys", operation="GetDeletedKeys", status=200)
        api("purge", "DELETE", "/deletedkeys/au-imported", operation="PurgeDeletedKey",
            keyName="au-imported", status=204)

        # Another caller, allowed and denied.
        api("principal get", "GET", "/keys/au-ec", token=p_token, fields=p_fields,
            operation="GetKey", keyName="au-ec", status=200)
        api("principal denied create", "POST", "/keys/au-denied/create",
            {"kty": "EC", "crv": "P-256"}, token=p_token, fields=p_fields,
            operation="CreateKey", keyName="au-denied", status=403)
        api("principal denied decrypt", "POST", "/keys/au-rsa/%s/decrypt" % rsa_version,
            {"alg": "RSA-OAEP-256", "value": ciphertext}, token=p_token, fields=p_fields,
            operation="Decrypt", keyName="au-rsa", status=403)

        # 401s: no token, garbage, the admin token on the data plane.
        api("no token", "GET", "/keys", token=None, fields={"vault": "dev"},
            callerObjectId="", operation="GetKeys", status=401)
        S("garbage token", "garbage." + b64u(os.urandom(24)) + ".sig")
        api("garbage token", "GET", "/keys/au-ec", token=cls.secrets["garbage token"],
            fields={"vault": "dev"}, callerObjectId="", operation="GetKey", keyName="au-ec",
            status=401)
        api("data plane with admin token", "GET", "/keys", token=s.admin_token,
            fields={"vault": "dev"}, callerObjectId="", status=401)

        # The new vault (admin-created, the dev identity may use it).
        r = s.api("POST", "/keys/au-there/create", body={"kty": "EC", "crv": "P-256"},
                  token=dev_token, host=s.vault_host("audited"))
        R("other vault create", r, vault="audited", operation="CreateKey", keyName="au-there",
          status=200, callerObjectId=dev["oid"])

        # Through the SDK too (its challenge probe and retries are extra lines; the calls we
        # make must each be found).
        hooked = []
        client = s.key_client(raw_response_hook=lambda resp: hooked.append(
            resp.http_response.headers.get("x-ms-request-id")))
        client.get_key("au-ec")
        client.create_ec_key("au-sdk", curve="P-256")
        cls.sdk_request_ids = [x for x in hooked if x]

    # ---- checks ---------------------------------------------------------------------------

    def test_1_every_request_has_its_line(self):
        by_id = self.lines_by_request_id()
        missing = [label for rid, _, label in self.expected if rid not in by_id]
        self.assertEqual(missing, [], "requests without an audit line")
        dup = [label for rid, _, label in self.expected if len(by_id.get(rid, [])) > 1]
        self.assertEqual(dup, [], "requests with more than one line")
        self.assertGreaterEqual(len(self.sdk_request_ids), 2)
        for rid in self.sdk_request_ids:
            self.assertIn(rid, by_id)

    def test_2_fields(self):
        by_id = self.lines_by_request_id()
        for rid, fields, label in self.expected:
            line = by_id.get(rid, [None])[0]
            if line is None:
                continue  # reported by test_1
            with self.subTest(request=label):
                for k, v in fields.items():
                    self.assertEqual(line.get(k), v, "%s: %s in %s" % (label, k, line))
                # Every harness request went over IPv4 loopback.
                self.assertEqual(line["clientAddress"], "127.0.0.1", line)

    def test_2b_admin_401_lines(self):
        by_id = self.lines_by_request_id()
        for rid, fields, label in self.expected:
            if label.startswith("admin ") and fields.get("status") == 401:
                with self.subTest(request=label):
                    line = by_id[rid][0]
                    self.assertNotEqual(line["callerObjectId"], "admin", line)
                    # Like a data-plane 401 (which names e.g. GetKeys), the line says what
                    # was attempted.
                    self.assertEqual(line["operation"], "Admin GET /v1/vaults", line)

    def test_3_line_shape_and_chain(self):
        lines = self.server.audit_lines()
        self.assertGreater(len(lines), len(self.expected))
        self.assertEqual(lines[0]["prev"], "0" * 64)
        for i, line in enumerate(lines):
            with self.subTest(seq=line.get("seq")):
                self.assertEqual(list(line.keys()), list(FIELDS))
                self.assertEqual(line["seq"], i + 1)
                self.assertRegex(line["time"], TIME_RE)
                self.assertIsInstance(line["latencyUs"], int)
                self.assertGreaterEqual(line["latencyUs"], 0)
                self.assertIsInstance(line["status"], int)
                self.assertRegex(line["mac"], r"^[0-9a-f]{64}$")
                self.assertRegex(line["prev"], r"^[0-9a-f]{64}$")
                self.assertIn(line["clientAddress"], ("127.0.0.1", "::1"))
        # prev is the SHA-256 of the previous line's text; mac covers the line without it, keyed
        # (not its plain SHA-256).
        texts = []
        for path in self.server.audit_files():
            texts.extend(self.read(path))
        for a, b in zip(texts, texts[1:]):
            self.assertEqual(json.loads(b)["prev"], hashlib.sha256(a.encode()).hexdigest())
        for t in texts:
            self.assertNotEqual(rehash(t).rsplit('"', 2)[1], json.loads(t)["mac"])

    def test_4_nothing_sensitive(self):
        text = ""
        for path in self.server.audit_files():
            with open(path, encoding="utf-8") as f:
                text += f.read()
        self.assertGreater(len(self.secrets), 15)
        for label, value in self.secrets.items():
            for form in forms(value):
                if len(form) < 8:
                    continue
                with self.subTest(secret=label):
                    self.assertNotIn(form, text, "%s appears in the audit log" % label)
        # Nor a bearer token of any shape.
        self.assertNotRegex(text, r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
        self.assertNotIn("Bearer", text)

    def test_5_verify_intact(self):
        out = self.assertIntact()
        n = len(self.server.audit_lines())
        self.assertIn("%d lines" % n, out)

    def test_6_tamper_edit(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        obj = json.loads(lines[k - 1])
        lines[k - 1] = lines[k - 1].replace('"status":%d' % obj["status"],
                                            '"status":%d' % (obj["status"] + 1), 1)
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k])

    def test_6b_tamper_edit_with_recomputed_hash(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        obj = json.loads(lines[k - 1])
        edited = lines[k - 1].replace('"callerObjectId":"%s"' % obj["callerObjectId"],
                                      '"callerObjectId":"someone-else"', 1)
        self.assertNotEqual(edited, lines[k - 1])
        lines[k - 1] = rehash(edited)
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k])

    def test_6b2_tamper_edit_and_rechain_every_later_line(self):
        # Passed the unkeyed chain: edit a line, recompute its hash and every later prev and
        # hash. Without the chain key the lines cannot carry a valid MAC.
        files = self.copy_audit()
        path, k = self.middle(files)
        later = files[files.index(path) + 1:]
        self.assertEqual(later, [], "the edited file must be the last for a full rechain")
        lines = self.read(path)
        obj = json.loads(lines[k - 1])
        lines[k - 1] = lines[k - 1].replace('"status":%d' % obj["status"],
                                            '"status":%d' % (obj["status"] + 1), 1)
        self.write(path, rechain(lines, k - 1))
        self.assertDamagedAt(files, path, [k])

    def test_6b3_truncate_last_lines(self):
        # Dropping the last lines leaves a consistent chain; the head anchored in the store
        # (outside the audit directory) shows the loss.
        files = self.copy_audit()
        path = files[-1]
        lines = self.read(path)
        self.assertGreater(len(lines), 3)
        self.write(path, lines[:-3])
        p = self.server.audit_verify(files)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, "truncation not detected: %s" % out)
        self.assertNotIn("intact", out)
        self.assertIn("removed from the end", out)

    def test_6c_tamper_delete_middle_line(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        del lines[k - 1]
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k])

    def test_6d_tamper_delete_first_line(self):
        files = self.copy_audit()
        path = files[0]
        lines = self.read(path)
        del lines[0]
        self.write(path, lines)
        # audit-000000000001.jsonl must start at seq 1 with prev 000...0.
        self.assertDamagedAt(files, path, [1])

    def test_6e_tamper_swap(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        lines[k - 1], lines[k] = lines[k], lines[k - 1]
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k])

    def test_6f_tamper_insert_copy(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        lines.insert(k - 1, lines[k - 2])   # line k-1 twice
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k])

    def test_6g_tamper_insert_forged(self):
        files = self.copy_audit()
        path, k = self.middle(files)
        lines = self.read(path)
        forged = json.loads(lines[k - 1])
        forged.pop("mac")
        forged["requestId"] = "00000000-0000-0000-0000-000000000000"
        forged["operation"] = "PurgeDeletedKey"
        forged_text = json.dumps(forged, separators=(",", ":"))
        forged_text = forged_text[:-1] + ',"hash":"x"}'
        lines.insert(k - 1, rehash(forged_text))   # same seq and prev as the real line k
        self.write(path, lines)
        self.assertDamagedAt(files, path, [k, k + 1])

    def test_6h_tamper_truncated_line(self):
        files = self.copy_audit()
        path = files[-1]
        lines = self.read(path)
        lines.append(lines[-1][: len(lines[-1]) // 2])
        self.write(path, lines)
        self.assertDamagedAt(files, path, [len(lines)])

    def test_6i_originals_untouched(self):
        self.assertIntact()

    def test_7_verify_usage(self):
        p = self.server.cli("audit", "verify")
        self.assertNotEqual(p.returncode, 0)
        p = self.server.audit_verify([os.path.join(self.server.root, "no-such-file.jsonl")])
        self.assertNotEqual(p.returncode, 0)

    def test_9_chain_survives_restart(self):
        s = self.server
        files = s.audit_files()
        last_text = self.read(files[-1])[-1]
        last = json.loads(last_text)
        s.restart()
        r = s.api("GET", "/keys/au-ec")
        self.assertOk(r)
        r2 = s.api("POST", "/keys/au-after/create", body={"kty": "EC", "crv": "P-256"})
        self.assertOk(r2)
        lines = s.audit_lines()
        after = [line for line in lines if line["seq"] > last["seq"]]
        self.assertTrue(after, "no lines after the restart")
        self.assertEqual(after[0]["seq"], last["seq"] + 1)
        self.assertEqual(after[0]["prev"], hashlib.sha256(last_text.encode()).hexdigest())
        self.assertEqual([x["seq"] for x in lines], list(range(1, len(lines) + 1)))
        by_id = {x["requestId"]: x for x in lines}
        rid = r2.header("x-ms-request-id")
        self.assertIn(rid, by_id)
        self.assertEqual(by_id[rid]["operation"], "CreateKey")
        self.assertEqual(by_id[rid]["keyName"], "au-after")
        self.assertEqual(by_id[rid]["callerObjectId"], self.dev_claims["oid"])
        out = self.assertIntact()
        self.assertIn("%d lines" % len(lines), out)


class AuditFailureTest(h.ServerTestCase):
    """The audit directory disappears; the next file rotation cannot create its file."""

    @classmethod
    def setUpClass(cls):
        cls.audit_dir = tempfile.mkdtemp(prefix="coffre-audit-fail-")
        cls.server = h.Coffre(label=cls.__name__,
                              extra_args=["--audit-dir", cls.audit_dir, "--audit-file-bytes", "4096"])
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.audit_dir, ignore_errors=True)

    def test_requests_fail_rather_than_run_unaudited(self):
        s = self.server
        self.assertOk(s.api("POST", "/keys/before/create", body={"kty": "EC", "crv": "P-256"}))
        shutil.rmtree(self.audit_dir)
        # A few hundred bytes a line: within 4096 bytes a new file is needed and cannot be made.
        statuses = []
        for i in range(40):
            r = s.api("GET", "/keys/before")
            statuses.append(r.status)
            if r.status == 500:
                self.assertJsonError(r, 500, message="The request could not be recorded in the audit log.")
                break
        self.assertEqual(statuses[-1], 500, statuses)
        # From then on nothing runs: the create is refused before it touches the store.
        r = s.api("POST", "/keys/after/create", body={"kty": "EC", "crv": "P-256"})
        self.assertJsonError(r, 500, message="The request could not be recorded in the audit log.")
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data_dir, "coffre.db"), uri=True)
        try:
            names = {row[0] for row in db.execute("SELECT name_key FROM keys WHERE vault = 'dev'")}
        finally:
            db.close()
        self.assertIn("before", names)
        self.assertNotIn("after", names)


if __name__ == "__main__":
    h.main()
