"""The Python SDK's KeyClient (azure-keyvault-keys 4.8.0b3, Debian) against Coffre, plus the raw
wire details the SDKs depend on."""

import datetime
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError  # noqa: E402

RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
EC_OPS = ["sign", "verify"]
CURVES = {"P-256": 32, "P-384": 48, "P-521": 66, "P-256K": 32}
NINETY_DAYS = 90 * 86400
PRIVATE_FIELDS = ("d", "dp", "dq", "qi", "p", "q", "k", "key_hsm")
UTC = datetime.timezone.utc


def utcnow():
    return datetime.datetime.now(UTC)


def ec_point_on_curve(crv, x, y):
    """Check the public point with python3-cryptography when available (None if unavailable)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        return None
    curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
             "P-256K": ec.SECP256K1}[crv]()
    nums = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve)
    try:
        nums.public_key()
        return True
    except ValueError:
        return False


class KeysPythonTest(h.ServerTestCase):
    VAULTS = ("other",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = cls.server.key_client()
        cls.vault = cls.server.vault_url()

    # ---- helpers --------------------------------------------------------------------------

    def kid_re(self, name, vault=None):
        base = re.escape(vault or self.vault)
        return r"^%s/keys/%s/[0-9a-f]{32}$" % (base, re.escape(name))

    def check_common(self, key, name, kty, ops):
        self.assertEqual(key.name, name)
        self.assertRegex(key.id, self.kid_re(name))
        self.assertEqual(key.key.kid, key.id)
        self.assertEqual(key.key_type, kty)
        self.assertEqual(sorted(key.key_operations), sorted(ops))
        self.assertRegex(key.properties.version, r"^[0-9a-f]{32}$")
        self.assertEqual(key.properties.vault_url, self.vault)
        p = key.properties
        self.assertIs(p.enabled, True)
        now = utcnow()
        self.assertLess(abs((p.created_on - now).total_seconds()), 120)
        self.assertLess(abs((p.updated_on - now).total_seconds()), 120)
        self.assertEqual(p.recovery_level, "Recoverable+Purgeable")
        self.assertEqual(p.recoverable_days, 90)
        for f in PRIVATE_FIELDS:
            self.assertFalse(getattr(key.key, f, None), "private field %s returned" % f)

    def check_rsa(self, key, name, bits, kty="RSA"):
        self.check_common(key, name, kty, RSA_OPS)
        n = key.key.n
        self.assertEqual(len(n), bits // 8)
        self.assertGreaterEqual(n[0], 0x80, "modulus is not %d bits" % bits)
        self.assertEqual(n[-1] & 1, 1, "modulus is even")
        self.assertEqual(key.key.e, b"\x01\x00\x01")

    def check_ec(self, key, name, crv, kty="EC"):
        self.check_common(key, name, kty, EC_OPS)
        self.assertEqual(key.key.crv, crv)
        self.assertEqual(len(key.key.x), CURVES[crv])
        self.assertEqual(len(key.key.y), CURVES[crv])
        self.assertIn(ec_point_on_curve(crv, key.key.x, key.key.y), (None, True),
                      "EC point not on %s" % crv)

    def assertSdkError(self, ctx, status, code, message=None):
        e = ctx.exception
        self.assertEqual(e.status_code, status)
        err = json.loads(e.response.text())["error"]
        self.assertEqual(err["code"], code)
        self.assertTrue(e.message.startswith("(%s) " % code), e.message)
        if message is not None:
            self.assertEqual(err["message"], message)
            self.assertEqual(e.message.split("\n")[0], "(%s) %s" % (code, message))

    def raw_pages(self, path, maxresults, vault="dev", limit=200):
        """Follow nextLink from GET path?maxresults=N; returns (items, pages)."""
        s = self.server
        r = s.api("GET", path, query="maxresults=%d" % maxresults, host=s.vault_host(vault))
        items, pages = [], []
        for _ in range(limit):
            j = self.assertOk(r)
            self.assertIn("value", j)
            self.assertIn("nextLink", j, "page without nextLink member: %r" % j)
            self.assertLessEqual(len(j["value"]), maxresults)
            pages.append(j)
            items.extend(j["value"])
            if j["nextLink"] is None:
                return items, pages
            self.assertTrue(j["nextLink"].startswith(s.vault_url(vault) + "/"), j["nextLink"])
            self.assertIn("skiptoken", urllib.parse.unquote(j["nextLink"]))
            r = s.follow(j["nextLink"])
        self.fail("paging did not end after %d pages" % limit)

    # ---- create ---------------------------------------------------------------------------

    def test_create_rsa_2048(self):
        key = self.client.create_rsa_key("rsa-2048", size=2048, tags={"env": "test", "team": "kms"})
        self.check_rsa(key, "rsa-2048", 2048)
        self.assertEqual(key.properties.tags, {"env": "test", "team": "kms"})
        got = self.client.get_key("rsa-2048")
        self.assertEqual(got.id, key.id)
        self.assertEqual(got.key.n, key.key.n)
        self.assertEqual(got.properties.tags, {"env": "test", "team": "kms"})

    def test_create_rsa_default_size(self):
        key = self.client.create_key("rsa-default", "RSA")
        self.check_rsa(key, "rsa-default", 2048)
        self.assertFalse(key.properties.tags)

    def test_create_rsa_3072_public_exponent(self):
        key = self.client.create_rsa_key("rsa-3072", size=3072, public_exponent=65537)
        self.check_rsa(key, "rsa-3072", 3072)

    def test_create_rsa_hsm_4096(self):
        key = self.client.create_rsa_key("rsa-hsm-4096", size=4096, hardware_protected=True)
        self.check_rsa(key, "rsa-hsm-4096", 4096, kty="RSA-HSM")

    def test_create_rsa_hsm_2048(self):
        key = self.client.create_rsa_key("rsa-hsm-2048", size=2048, hardware_protected=True)
        self.check_rsa(key, "rsa-hsm-2048", 2048, kty="RSA-HSM")

    def test_create_ec_all_curves(self):
        for crv in CURVES:
            with self.subTest(crv=crv):
                name = "ec-" + crv.replace("P-", "p").lower()
                key = self.client.create_ec_key(name, curve=crv)
                self.check_ec(key, name, crv)
                got = self.client.get_key(name)
                self.assertEqual((got.key.x, got.key.y), (key.key.x, key.key.y))

    def test_create_ec_default_curve(self):
        key = self.client.create_ec_key("ec-default")
        self.check_ec(key, "ec-default", "P-256")

    def test_create_ec_hsm(self):
        for crv in ("P-256", "P-384"):
            with self.subTest(crv=crv):
                name = "ec-hsm-" + crv[2:]
                key = self.client.create_ec_key(name, curve=crv, hardware_protected=True)
                self.check_ec(key, name, crv, kty="EC-HSM")

    def test_create_with_attributes_and_ops(self):
        nbf = (utcnow() - datetime.timedelta(days=1)).replace(microsecond=0)
        exp = (utcnow() + datetime.timedelta(days=365)).replace(microsecond=0)
        key = self.client.create_ec_key("ec-attrs", curve="P-384", enabled=False, not_before=nbf,
                                        expires_on=exp, key_operations=["sign"], tags={"k": "v"})
        self.assertIs(key.properties.enabled, False)
        self.assertEqual(key.properties.not_before, nbf)
        self.assertEqual(key.properties.expires_on, exp)
        self.assertEqual(key.key_operations, ["sign"])
        self.assertEqual(key.properties.tags, {"k": "v"})

    # ---- versions, get, update ------------------------------------------------------------

    def test_versions_and_get_by_version(self):
        k1 = self.client.create_rsa_key("versioned", size=2048)
        k2 = self.client.create_rsa_key("versioned", size=2048)
        self.assertNotEqual(k1.properties.version, k2.properties.version)
        self.assertNotEqual(k1.key.n, k2.key.n)
        latest = self.client.get_key("versioned")
        self.assertEqual(latest.id, k2.id)
        old = self.client.get_key("versioned", k1.properties.version)
        self.assertEqual(old.id, k1.id)
        self.assertEqual(old.key.n, k1.key.n)
        versions = list(self.client.list_properties_of_key_versions("versioned"))
        self.assertEqual(sorted(v.version for v in versions),
                         sorted([k1.properties.version, k2.properties.version]))
        for v in versions:
            self.assertRegex(v.id, self.kid_re("versioned"))
        with self.assertRaises(ResourceNotFoundError) as ctx:
            self.client.get_key("versioned", "0" * 32)
        self.assertSdkError(ctx, 404, "KeyNotFound")

    def test_update_key_properties(self):
        k1 = self.client.create_ec_key("updatable")
        time.sleep(1.1)   # so that `updated` can differ from `created`
        exp = (utcnow() + datetime.timedelta(days=30)).replace(microsecond=0)
        nbf = (utcnow() - datetime.timedelta(hours=1)).replace(microsecond=0)
        upd = self.client.update_key_properties("updatable", enabled=False, expires_on=exp,
                                                not_before=nbf, tags={"state": "off"},
                                                key_operations=["verify"])
        self.assertEqual(upd.id, k1.id)
        self.assertIs(upd.properties.enabled, False)
        self.assertEqual(upd.properties.expires_on, exp)
        self.assertEqual(upd.properties.not_before, nbf)
        self.assertEqual(upd.properties.tags, {"state": "off"})
        self.assertEqual(upd.key_operations, ["verify"])
        self.assertEqual(upd.properties.created_on, k1.properties.created_on)
        self.assertGreater(upd.properties.updated_on, k1.properties.updated_on)
        self.assertEqual((upd.key.x, upd.key.y), (k1.key.x, k1.key.y))
        got = self.client.get_key("updatable")
        self.assertIs(got.properties.enabled, False)
        self.assertEqual(got.properties.tags, {"state": "off"})
        self.assertEqual(got.key_operations, ["verify"])
        # tags replaced, not merged; other attributes untouched when not sent
        upd2 = self.client.update_key_properties("updatable", tags={"x": "y"})
        self.assertEqual(upd2.properties.tags, {"x": "y"})
        self.assertIs(upd2.properties.enabled, False)
        self.assertEqual(upd2.properties.expires_on, exp)
        # update an older version only
        k2 = self.client.create_ec_key("updatable")
        self.client.update_key_properties("updatable", k1.properties.version, enabled=True)
        self.assertIs(self.client.get_key("updatable", k1.properties.version).properties.enabled, True)
        self.assertIs(self.client.get_key("updatable").properties.enabled, True)
        self.assertEqual(self.client.get_key("updatable").id, k2.id)
        with self.assertRaises(ResourceNotFoundError):
            self.client.update_key_properties("never-created", enabled=True)

    def test_get_unknown_key(self):
        with self.assertRaises(ResourceNotFoundError) as ctx:
            self.client.get_key("no-such-key")
        self.assertSdkError(ctx, 404, "KeyNotFound", h.key_not_found_message("no-such-key"))

    def test_name_case_insensitive(self):
        k1 = self.client.create_ec_key("MyKey")
        got = self.client.get_key("mykey")
        self.assertEqual(got.properties.version, k1.properties.version)
        self.assertEqual(self.client.get_key("MYKEY").properties.version, k1.properties.version)
        k2 = self.client.create_ec_key("mykey")   # new version of the same key
        versions = list(self.client.list_properties_of_key_versions("MYKEY"))
        self.assertEqual(sorted(v.version for v in versions),
                         sorted([k1.properties.version, k2.properties.version]))
        names = [p.name.lower() for p in self.client.list_properties_of_keys()]
        self.assertEqual(names.count("mykey"), 1)

    # ---- lists ----------------------------------------------------------------------------

    def test_list_keys_paging(self):
        created = {"page-%02d" % i for i in range(30)}
        for n in sorted(created):
            self.client.create_ec_key(n)
        props = list(self.client.list_properties_of_keys(max_page_size=7))
        names = [p.name for p in props]
        self.assertEqual(len(names), len(set(n.lower() for n in names)), "duplicates in list")
        self.assertTrue(created <= set(names), created - set(names))
        for p in props:
            self.assertEqual(p.id, "%s/keys/%s" % (self.vault, p.name))
            self.assertIsNone(p.version)
        # raw paging with maxresults=3 and nextLink
        items, pages = self.raw_pages("/keys", 3)
        kids = [i["kid"] for i in items]
        self.assertEqual(len(kids), len(set(k.lower() for k in kids)), "duplicates across pages")
        self.assertEqual(set(k.rsplit("/", 1)[1] for k in kids), set(names))
        self.assertIsNone(pages[-1]["nextLink"])
        self.assertGreaterEqual(len(pages), 10)
        for i in items:
            self.assertRegex(i["kid"], r"^%s/keys/[0-9A-Za-z-]+$" % re.escape(self.vault))
            self.assertIn("attributes", i)
            self.assertNotIn("key", i)
        # default page size is at most 25
        r = self.server.api("GET", "/keys")
        j = self.assertOk(r)
        self.assertLessEqual(len(j["value"]), 25)
        self.assertIsNotNone(j["nextLink"])
        # maxresults=25 is accepted
        self.assertOk(self.server.api("GET", "/keys", query="maxresults=25"))

    def test_list_versions_paging(self):
        made = [self.client.create_ec_key("many-versions").properties.version for _ in range(27)]
        props = list(self.client.list_properties_of_key_versions("many-versions", max_page_size=5))
        self.assertEqual(sorted(p.version for p in props), sorted(made))
        for p in props:
            self.assertRegex(p.id, self.kid_re("many-versions"))
        items, pages = self.raw_pages("/keys/many-versions/versions", 25)
        self.assertEqual(len(pages), 2)
        self.assertEqual(sorted(i["kid"].rsplit("/", 1)[1] for i in items), sorted(made))
        self.assertIsNone(pages[-1]["nextLink"])

    # ---- delete / recover / purge ---------------------------------------------------------

    def test_delete_recover_purge_cycle(self):
        c = self.client
        k1 = c.create_rsa_key("lifecycle", size=2048, tags={"a": "1"})
        k2 = c.create_rsa_key("lifecycle", size=2048, tags={"a": "2"})
        t0 = int(time.time())
        poller = c.begin_delete_key("lifecycle")
        poller.wait(timeout=30)
        self.assertTrue(poller.done())
        deleted = poller.result()
        self.assertEqual(deleted.recovery_id, "%s/deletedkeys/lifecycle" % self.vault)
        self.assertEqual(deleted.id, k2.id)
        self.assertEqual(deleted.key.n, k2.key.n)
        self.assertEqual(deleted.properties.tags, {"a": "2"})
        dd = int(deleted.deleted_date.timestamp())
        self.assertLessEqual(abs(dd - t0), 60)
        self.assertEqual(int(deleted.scheduled_purge_date.timestamp()) - dd, NINETY_DAYS)

        # deleted: not gettable, name not reusable
        with self.assertRaises(ResourceNotFoundError) as ctx:
            c.get_key("lifecycle")
        self.assertSdkError(ctx, 404, "KeyNotFound", h.key_not_found_message("lifecycle"))
        with self.assertRaises(ResourceExistsError) as ctx:
            c.create_rsa_key("lifecycle", size=2048)
        self.assertSdkError(ctx, 409, "Conflict", h.conflict_message("lifecycle"))
        r = self.server.api("POST", "/keys/lifecycle/create", body={"kty": "EC"})
        err = self.assertJsonError(r, 409, "Conflict", h.conflict_message("lifecycle"))
        self.assertEqual(err.get("innererror", {}).get("code"), "ObjectIsDeletedButRecoverable")
        self.assertNotIn("lifecycle", [p.name for p in c.list_properties_of_keys()])

        # get / list deleted
        dk = c.get_deleted_key("lifecycle")
        self.assertEqual(dk.id, k2.id)
        self.assertEqual(dk.recovery_id, deleted.recovery_id)
        self.assertEqual(dk.deleted_date, deleted.deleted_date)
        listed = {d.name: d for d in c.list_deleted_keys()}
        self.assertIn("lifecycle", listed)
        self.assertEqual(listed["lifecycle"].recovery_id, deleted.recovery_id)
        items, _ = self.raw_pages("/deletedkeys", 5)
        item = [i for i in items if i["kid"].lower().endswith("/keys/lifecycle")]
        self.assertEqual(len(item), 1, items)
        for f in ("recoveryId", "deletedDate", "scheduledPurgeDate", "attributes"):
            self.assertIn(f, item[0])
        self.assertEqual(item[0]["kid"], "%s/keys/lifecycle" % self.vault)

        # recover
        rp = c.begin_recover_deleted_key("lifecycle")
        rp.wait(timeout=30)
        rec = rp.result()
        self.assertEqual(rec.id, k2.id)
        self.assertEqual(c.get_key("lifecycle").id, k2.id)
        self.assertEqual(c.get_key("lifecycle", k1.properties.version).key.n, k1.key.n)
        self.assertEqual(len(list(c.list_properties_of_key_versions("lifecycle"))), 2)
        with self.assertRaises(ResourceNotFoundError) as ctx:
            c.get_deleted_key("lifecycle")
        self.assertSdkError(ctx, 404, "KeyNotFound", "Deleted Key not found: lifecycle")

        # delete again + purge
        c.begin_delete_key("lifecycle").wait(timeout=30)
        c.purge_deleted_key("lifecycle")
        with self.assertRaises(ResourceNotFoundError):
            c.get_deleted_key("lifecycle")
        with self.assertRaises(ResourceNotFoundError):
            c.get_key("lifecycle")
        self.assertNotIn("lifecycle", [d.name for d in c.list_deleted_keys()])
        # create after purge: a brand-new key with one version
        k3 = c.create_rsa_key("lifecycle", size=2048)
        self.assertNotIn(k3.properties.version, (k1.properties.version, k2.properties.version))
        self.assertEqual([v.version for v in c.list_properties_of_key_versions("lifecycle")],
                         [k3.properties.version])
        self.assertFalse(k3.properties.tags)

    def test_delete_unknown(self):
        with self.assertRaises(ResourceNotFoundError) as ctx:
            self.client.begin_delete_key("never-existed")
        self.assertSdkError(ctx, 404, "KeyNotFound", h.key_not_found_message("never-existed"))
        with self.assertRaises(ResourceNotFoundError):
            self.client.purge_deleted_key("never-existed")
        with self.assertRaises(ResourceNotFoundError):
            self.client.begin_recover_deleted_key("never-existed")

    def test_double_delete(self):
        self.client.create_ec_key("double-delete")
        self.client.begin_delete_key("double-delete").wait(timeout=30)
        with self.assertRaises(ResourceNotFoundError):
            self.client.begin_delete_key("double-delete")

    # ---- vaults ---------------------------------------------------------------------------

    def test_second_vault_isolated(self):
        s = self.server
        other = s.key_client("other")
        ko = other.create_ec_key("iso-key", curve="P-384")
        self.assertRegex(ko.id, self.kid_re("iso-key", vault=s.vault_url("other")))
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_key("iso-key")
        kd = self.client.create_ec_key("iso-key")
        self.assertNotEqual(kd.properties.version, ko.properties.version)
        self.assertEqual(len(list(other.list_properties_of_key_versions("iso-key"))), 1)
        other_names = {p.name for p in other.list_properties_of_keys()}
        self.assertEqual(other_names, {"iso-key"})
        self.client.begin_delete_key("iso-key").wait(timeout=30)
        self.assertEqual(other.get_key("iso-key").id, ko.id)
        self.assertNotIn("iso-key", [d.name for d in other.list_deleted_keys()])

    def test_unknown_vault(self):
        s = self.server
        r = s.api("GET", "/keys", host="nope.localhost:%d" % s.port, sni="localhost")
        self.assertJsonError(r, 404)

    def test_bare_localhost_is_dev(self):
        s = self.server
        self.client.create_ec_key("bare-host")
        for host in ("localhost:%d" % s.port, "127.0.0.1:%d" % s.port, "[::1]:%d" % s.port):
            with self.subTest(host=host):
                # follow the challenge, as a client would: token for the resource the server names
                probe = s.api("GET", "/keys/bare-host", host=host, token=None)
                self.assertEqual(probe.status, 401, probe)
                m = re.search(r'resource="([^"]+)"', probe.header("WWW-Authenticate") or "")
                self.assertIsNotNone(m, probe)
                r = s.api("GET", "/keys/bare-host", host=host, token=s.msi_token(m.group(1)))
                j = self.assertOk(r)
                self.assertRegex(j["key"]["kid"], r"^https://%s/keys/bare-host/[0-9a-f]{32}$" % re.escape(host))

    # ---- raw wire -------------------------------------------------------------------------

    def test_raw_latest_paths(self):
        s = self.server
        k = self.client.create_ec_key("paths")
        a = self.assertOk(s.api("GET", "/keys/paths"))
        b = self.assertOk(s.api("GET", "/keys/paths/"))
        c = self.assertOk(s.api("GET", "/keys/paths/" + k.properties.version))
        self.assertEqual(a, b)
        self.assertEqual(a, c)
        self.assertEqual(a["key"]["kid"], k.id)

    def test_raw_api_versions(self):
        s = self.server
        self.client.create_ec_key("api-versions")
        for v in ("2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.3-preview",
                  "7.4-preview.1", "7.6-preview.2", "2025-07-01"):
            with self.subTest(api_version=v):
                self.assertOk(s.api("GET", "/keys/api-versions", api_version=v))
        r = s.request("GET", "/keys/api-versions?api%2Dversion=7.4")
        self.assertOk(r)
        r = s.request("GET", "/keys/api-versions?api%2Dversion=2025-07-01&foo=bar")
        self.assertOk(r)

    def test_raw_js_style_bodies(self):
        s = self.server
        r = s.api("POST", "/keys/js-rsa/create", body={"kty": "RSA", "key_size": 2048, "attributes": {}},
                  api_version="2025-07-01")
        j = self.assertOk(r)
        self.assertEqual(j["key"]["kty"], "RSA")
        self.assertEqual(len(h.b64url_decode(j["key"]["n"])), 256)
        r = s.api("POST", "/keys/js-ec/create",
                  body={"kty": "EC", "crv": "P-521", "attributes": {}, "tags": {}})
        j = self.assertOk(r)
        self.assertEqual(j["key"]["crv"], "P-521")

    def test_raw_bundle_shape(self):
        s = self.server
        r = s.api("POST", "/keys/shape/create", body={"kty": "RSA"})
        j = self.assertOk(r)
        self.assertEqual(set(j), {"key", "attributes"}, "unexpected members (tags must be absent): %r" % j)
        key = j["key"]
        self.assertEqual(set(key), {"kid", "kty", "key_ops", "n", "e"})
        for f in ("n", "e"):
            self.assertRegex(key[f], r"^[A-Za-z0-9_-]+$", "not unpadded base64url")
        self.assertEqual(key["e"], "AQAB")
        self.assertEqual(sorted(key["key_ops"]), sorted(RSA_OPS))
        a = j["attributes"]
        for f in ("created", "updated"):
            self.assertIsInstance(a[f], int)
        self.assertIs(a["enabled"], True)
        self.assertEqual(a["recoveryLevel"], "Recoverable+Purgeable")
        self.assertEqual(a["recoverableDays"], 90)
        self.assertNotIn("nbf", a)
        self.assertNotIn("exp", a)
        r = s.api("POST", "/keys/shape-ec/create", body={"kty": "EC", "crv": "P-256"})
        key = self.assertOk(r)["key"]
        self.assertEqual(set(key), {"kid", "kty", "key_ops", "crv", "x", "y"})
        self.assertEqual(sorted(key["key_ops"]), sorted(EC_OPS))

    def test_raw_create_with_attributes(self):
        s = self.server
        now = int(time.time())
        body = {"kty": "EC", "crv": "P-384", "key_ops": ["sign"],
                "attributes": {"enabled": False, "nbf": now - 10, "exp": now + 86400},
                "tags": {"purpose": "raw"}}
        j = self.assertOk(s.api("POST", "/keys/raw-attrs/create", body=body))
        self.assertEqual(j["key"]["key_ops"], ["sign"])
        self.assertIs(j["attributes"]["enabled"], False)
        self.assertEqual(j["attributes"]["nbf"], now - 10)
        self.assertEqual(j["attributes"]["exp"], now + 86400)
        self.assertEqual(j["tags"], {"purpose": "raw"})
        # PATCH with empty version = latest
        p = self.assertOk(s.api("PATCH", "/keys/raw-attrs/", body={"attributes": {"enabled": True}}))
        self.assertIs(p["attributes"]["enabled"], True)
        self.assertEqual(p["tags"], {"purpose": "raw"})

    def test_raw_delete_and_purge_wire(self):
        s = self.server
        made = self.assertOk(s.api("POST", "/keys/raw-del/create", body={"kty": "EC"}))
        r = s.api("DELETE", "/keys/raw-del")
        j = self.assertOk(r)
        self.assertEqual(j["recoveryId"], "%s/deletedkeys/raw-del" % self.vault)
        self.assertEqual(j["key"]["kid"], made["key"]["kid"])
        self.assertEqual(j["scheduledPurgeDate"] - j["deletedDate"], NINETY_DAYS)
        g = self.assertOk(s.api("GET", "/deletedkeys/raw-del"))
        self.assertEqual(g["recoveryId"], j["recoveryId"])
        self.assertJsonError(s.api("GET", "/deletedkeys/nothing-here"), 404, "KeyNotFound",
                             "Deleted Key not found: nothing-here")
        r = s.api("DELETE", "/deletedkeys/raw-del")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertJsonError(s.api("DELETE", "/deletedkeys/raw-del"), 404, "KeyNotFound")
        self.assertJsonError(s.api("GET", "/keys/raw-del"), 404, "KeyNotFound",
                             h.key_not_found_message("raw-del"))

    def test_raw_recover_wire(self):
        s = self.server
        made = self.assertOk(s.api("POST", "/keys/raw-rec/create", body={"kty": "EC"}))
        self.assertOk(s.api("DELETE", "/keys/raw-rec"))
        rec = self.assertOk(s.api("POST", "/deletedkeys/raw-rec/recover"))
        self.assertEqual(rec["key"]["kid"], made["key"]["kid"])
        self.assertNotIn("recoveryId", rec)
        self.assertOk(s.api("GET", "/keys/raw-rec/"))
        self.assertJsonError(s.api("POST", "/deletedkeys/raw-rec/recover"), 404, "KeyNotFound")


if __name__ == "__main__":
    h.main()
