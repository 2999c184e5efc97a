"""Key rotation (POST /keys/{name}/rotate), rotation policies (GET/PUT /keys/{name}/rotationpolicy),
random bytes (POST /rng) and the release stub, through the Python SDK (azure-keyvault-keys
4.8.0b3) and raw HTTPS. The rotation scheduler itself is unit-tested with a fake clock."""

import base64
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.keyvault.keys import (KeyRotationLifetimeAction, KeyRotationPolicy,  # noqa: E402
                                 KeyRotationPolicyAction)

DAY = 86400


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


unb64u = h.b64url_decode


def rotate_after(duration):
    return {"trigger": {"timeAfterCreate": duration}, "action": {"type": "Rotate"}}


def rotate_before(duration):
    return {"trigger": {"timeBeforeExpiry": duration}, "action": {"type": "Rotate"}}


def notify_before(duration):
    return {"trigger": {"timeBeforeExpiry": duration}, "action": {"type": "Notify"}}


def policy(actions, expiry=None):
    attrs = {} if expiry is None else {"expiryTime": expiry}
    return {"lifetimeActions": actions, "attributes": attrs}


def action_name(a):
    return getattr(a, "value", a)


class RotationPythonTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc = cls.server.key_client()
        cls.vault = cls.server.vault_url()

    def ok(self, r, status=200):
        return self.assertOk(r, status)

    def create(self, name, body):
        return self.ok(self.server.api("POST", "/keys/%s/create" % name, body))

    def get_policy(self, name):
        return self.ok(self.server.api("GET", "/keys/%s/rotationpolicy" % name))

    def put_policy(self, name, body):
        return self.server.api("PUT", "/keys/%s/rotationpolicy" % name, body)

    def versions(self, name):
        j = self.ok(self.server.api("GET", "/keys/%s/versions" % name, query="maxresults=25"))
        self.assertIsNone(j.get("nextLink"))
        return [i["kid"].rsplit("/", 1)[1] for i in j["value"]]

    # ---- rotate --------------------------------------------------------------------------

    def test_rotate_rsa_keeps_type_size_ops_and_tags(self):
        s = self.server
        old = self.create("rot-rsa", {"kty": "RSA", "key_size": 3072, "key_ops": ["sign", "verify"],
                                      "tags": {"team": "a", "env": "test"}})
        d = hashlib.sha256(b"rotate").digest()
        old_sig = self.ok(s.api("POST", "/keys/rot-rsa//sign", {"alg": "RS256", "value": b64u(d)}))
        self.assertEqual(old_sig["kid"], old["key"]["kid"])
        new = self.kc.rotate_key("rot-rsa")
        self.assertRegex(new.id, r"^%s/keys/rot-rsa/[0-9a-f]{32}$" % re.escape(self.vault))
        self.assertNotEqual(new.id, old["key"]["kid"])
        self.assertEqual(new.key_type, "RSA")
        self.assertEqual(len(new.key.n), 384)
        self.assertEqual(new.key.e, unb64u(old["key"]["e"]))
        self.assertNotEqual(new.key.n, unb64u(old["key"]["n"]), "rotation must make new key material")
        self.assertEqual(sorted(new.key_operations), ["sign", "verify"])
        self.assertEqual(new.properties.tags, {"team": "a", "env": "test"})
        self.assertIs(new.properties.enabled, True)
        self.assertLess(abs(new.properties.created_on.timestamp() - time.time()), 120)
        self.assertEqual(self.kc.get_key("rot-rsa").id, new.id, "the rotated version is the latest")
        self.assertEqual(set(self.versions("rot-rsa")), {old["key"]["kid"].rsplit("/", 1)[1], new.properties.version})
        # raw: 200 KeyBundle of the new version
        j = self.ok(s.api("POST", "/keys/rot-rsa/rotate"))
        self.assertEqual(j["key"]["kty"], "RSA")
        self.assertEqual(len(unb64u(j["key"]["n"])), 384)
        self.assertEqual(sorted(j["key"]["key_ops"]), ["sign", "verify"])
        self.assertEqual(j.get("tags"), {"team": "a", "env": "test"})
        self.assertNotIn("d", j["key"])
        self.assertEqual(len(self.versions("rot-rsa")), 3)
        # version-less ops now use the newest version; the old version still verifies its signature
        sig = self.ok(s.api("POST", "/keys/rot-rsa//sign", {"alg": "RS256", "value": b64u(d)}))
        self.assertEqual(sig["kid"], j["key"]["kid"])
        r = s.api("POST", "/keys/rot-rsa/%s/verify" % old["key"]["kid"].rsplit("/", 1)[1],
                  {"alg": "RS256", "digest": b64u(d), "value": old_sig["value"]})
        self.assertEqual(self.ok(r), {"value": True})
        r = s.api("POST", "/keys/rot-rsa//verify", {"alg": "RS256", "digest": b64u(d), "value": old_sig["value"]})
        self.assertEqual(self.ok(r), {"value": False})

    def test_rotate_ec_and_hsm_keys(self):
        for kty, crv in (("EC", "P-384"), ("EC-HSM", "P-256K"), ("EC", "P-521")):
            with self.subTest(kty=kty, crv=crv):
                name = "rot-%s-%s" % (kty.lower(), crv.lower())
                old = self.create(name, {"kty": kty, "crv": crv, "tags": {"crv": crv}})
                new = self.kc.rotate_key(name)
                self.assertEqual(new.key_type, kty)
                self.assertEqual(new.key.crv, crv)
                self.assertEqual(len(new.key.x), len(unb64u(old["key"]["x"])))
                self.assertNotEqual(new.key.x, unb64u(old["key"]["x"]))
                self.assertEqual(sorted(new.key_operations), ["sign", "verify"])
                self.assertEqual(new.properties.tags, {"crv": crv})
        old = self.create("rot-rsahsm", {"kty": "RSA-HSM", "key_size": 2048})
        new = self.kc.rotate_key("rot-rsahsm")
        self.assertEqual(new.key_type, "RSA-HSM")
        self.assertEqual(len(new.key.n), 256)
        self.assertEqual(sorted(new.key_operations), sorted(old["key"]["key_ops"]))
        self.assertFalse(new.properties.tags)

    def test_rotate_oct_keeps_the_size(self):
        s = self.server
        for kty, bits in (("oct", 128), ("oct-HSM", 192), ("oct", 256)):
            with self.subTest(kty=kty, bits=bits):
                name = "rot-%s-%d" % (kty.lower(), bits)
                self.create(name, {"kty": kty, "key_size": bits, "key_ops": ["encrypt", "decrypt"], "tags": {"b": str(bits)}})
                j = self.ok(s.api("POST", "/keys/%s/rotate" % name))
                self.assertEqual(j["key"]["kty"], kty)
                self.assertEqual(sorted(j["key"]), ["key_ops", "kid", "kty"])
                self.assertEqual(sorted(j["key"]["key_ops"]), ["decrypt", "encrypt"])
                self.assertEqual(j.get("tags"), {"b": str(bits)})
                kid = j["key"]["kid"]
                # the size shows through the algorithms the new version accepts
                e = self.ok(s.api("POST", "/keys/%s/%s/encrypt" % (name, kid.rsplit("/", 1)[1]),
                                  {"alg": "A%dGCM" % bits, "value": b64u(b"sized")}))
                self.assertEqual(e["kid"], kid)
                other = 256 if bits != 256 else 128
                self.assertJsonError(s.api("POST", "/keys/%s//encrypt" % name,
                                           {"alg": "A%dGCM" % other, "value": b64u(b"sized")}), 400, "BadParameter")

    def test_rotate_applies_the_policy_expiry(self):
        s = self.server
        self.create("rot-exp", {"kty": "EC"})
        self.ok(self.put_policy("rot-exp", policy([rotate_after("P14D")], "P30D")))
        before = int(time.time())
        j = self.ok(s.api("POST", "/keys/rot-exp/rotate"))
        exp = j["attributes"].get("exp")
        self.assertIsNotNone(exp, "a rotated version gets exp = now + expiryTime")
        self.assertLessEqual(abs(exp - (before + 30 * DAY)), 120, j)

    def test_rotate_errors(self):
        s = self.server
        self.assertJsonError(s.api("POST", "/keys/no-such-key/rotate"), 404, "KeyNotFound")
        with self.assertRaises(ResourceNotFoundError):
            self.kc.rotate_key("no-such-key")
        self.create("rot-deleted", {"kty": "EC"})
        self.ok(s.api("DELETE", "/keys/rot-deleted"))
        self.assertJsonError(s.api("POST", "/keys/rot-deleted/rotate"), 404, "KeyNotFound")

    # ---- policies ------------------------------------------------------------------------

    def test_default_policy(self):
        self.create("pol-default", {"kty": "RSA"})
        j = self.get_policy("pol-default")
        self.assertEqual(j, {"id": "%s/keys/pol-default/rotationpolicy" % self.vault,
                             "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                                  "action": {"type": "Notify"}}],
                             "attributes": {}})
        p = self.kc.get_key_rotation_policy("pol-default")
        self.assertEqual(p.id, "%s/keys/pol-default/rotationpolicy" % self.vault)
        self.assertEqual(len(p.lifetime_actions), 1)
        self.assertEqual(action_name(p.lifetime_actions[0].action).lower(), "notify")
        self.assertEqual(p.lifetime_actions[0].time_before_expiry, "P30D")
        self.assertIsNone(p.lifetime_actions[0].time_after_create)
        self.assertIsNone(p.expires_in)

    def test_put_get_replace_policy_via_sdk(self):
        self.create("pol-sdk", {"kty": "EC"})
        before = int(time.time())
        actions = [KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D"),
                   KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
        p = self.kc.update_key_rotation_policy("pol-sdk", KeyRotationPolicy(lifetime_actions=actions, expires_in="P2Y"))
        self.assertEqual(p.id, "%s/keys/pol-sdk/rotationpolicy" % self.vault)
        self.assertEqual(p.expires_in, "P2Y")
        got = sorted((action_name(a.action).lower(), a.time_after_create, a.time_before_expiry)
                     for a in p.lifetime_actions)
        self.assertEqual(got, [("notify", None, "P30D"), ("rotate", "P90D", None)])
        self.assertLess(abs(p.created_on.timestamp() - before), 120)
        self.assertLess(abs(p.updated_on.timestamp() - before), 120)
        g = self.kc.get_key_rotation_policy("pol-sdk")
        self.assertEqual(g.expires_in, "P2Y")
        self.assertEqual(sorted((action_name(a.action).lower(), a.time_after_create, a.time_before_expiry)
                                for a in g.lifetime_actions), got)
        # replace: PUT replaces the whole policy
        p2 = self.kc.update_key_rotation_policy(
            "pol-sdk", KeyRotationPolicy(),
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P45D")])
        self.assertEqual([(action_name(a.action).lower(), a.time_after_create) for a in p2.lifetime_actions],
                         [("rotate", "P45D")])
        self.assertIsNone(p2.expires_in)
        g = self.kc.get_key_rotation_policy("pol-sdk")
        self.assertEqual([(action_name(a.action).lower(), a.time_after_create, a.time_before_expiry)
                          for a in g.lifetime_actions], [("rotate", "P45D", None)])
        self.assertIsNone(g.expires_in)

    def test_put_policy_raw_shape(self):
        self.create("pol-raw", {"kty": "RSA"})
        now = int(time.time())
        body = policy([rotate_before("P30D"), notify_before("P7D")], "P90D")
        j = self.ok(self.put_policy("pol-raw", body))
        self.assertEqual(j["id"], "%s/keys/pol-raw/rotationpolicy" % self.vault)
        self.assertEqual(j["lifetimeActions"], body["lifetimeActions"])
        self.assertEqual(j["attributes"]["expiryTime"], "P90D")
        self.assertEqual(set(j["attributes"]), {"expiryTime", "created", "updated"})
        for f in ("created", "updated"):
            self.assertIsInstance(j["attributes"][f], int)
            self.assertLessEqual(abs(j["attributes"][f] - now), 120)
        self.assertEqual(self.get_policy("pol-raw"), j)
        # lower-case action types are accepted and answered in the canonical spelling
        body = {"lifetimeActions": [{"trigger": {"timeAfterCreate": "P60D"}, "action": {"type": "rotate"}},
                                    {"trigger": {"timeBeforeExpiry": "P10D"}, "action": {"type": "notify"}}],
                "attributes": {"expiryTime": "P1Y"}}
        j = self.ok(self.put_policy("pol-raw", body))
        self.assertEqual([a["action"]["type"] for a in j["lifetimeActions"]], ["Rotate", "Notify"])
        self.assertEqual(self.get_policy("pol-raw")["lifetimeActions"], j["lifetimeActions"])
        self.assertGreaterEqual(j["attributes"]["updated"], j["attributes"]["created"])
        # a policy without actions
        j = self.ok(self.put_policy("pol-raw", policy([], "P28D")))
        self.assertEqual(j["attributes"]["expiryTime"], "P28D")
        self.assertFalse(j.get("lifetimeActions"))

    def test_policy_limits_accepted(self):
        self.create("pol-limits", {"kty": "EC"})
        good = [
            ("rotate after exactly P7D", policy([rotate_after("P7D")])),
            ("rotate after P2M", policy([rotate_after("P2M")])),
            ("rotate after P1Y", policy([rotate_after("P1Y")])),
            ("expiry exactly P28D", policy([rotate_after("P7D")], "P28D")),
            ("expiry P2Y", policy([], "P2Y")),
            ("rotate before expiry P7D", policy([rotate_before("P7D")], "P90D")),
            ("notify P30D with expiry", policy([notify_before("P30D")], "P90D")),
            ("rotate and notify", policy([rotate_after("P30D"), notify_before("P10D")], "P60D")),
            # The service takes its own default policy back unchanged (JS keyRotation sample).
            ("notify without expiryTime", policy([notify_before("P30D")])),
            ("rotate before expiry without expiryTime", policy([rotate_before("P30D")])),
        ]
        for what, body in good:
            with self.subTest(what):
                j = self.ok(self.put_policy("pol-limits", body))
                self.assertEqual(j["lifetimeActions"], body["lifetimeActions"])
                self.assertEqual(j["attributes"].get("expiryTime"), body["attributes"].get("expiryTime"))

    def test_policy_validation_errors(self):
        self.create("pol-bad", {"kty": "RSA"})
        keep = self.ok(self.put_policy("pol-bad", policy([rotate_after("P90D")], "P1Y")))
        bad = [
            ("two rotate actions", policy([rotate_after("P30D"), rotate_after("P60D")], "P1Y")),
            ("rotate after and before", policy([rotate_after("P30D"), rotate_before("P30D")], "P1Y")),
            ("two notify actions", policy([notify_before("P30D"), notify_before("P10D")], "P1Y")),
            ("three actions", policy([rotate_after("P30D"), notify_before("P10D"), notify_before("P20D")], "P1Y")),
            ("rotate after P6D", policy([rotate_after("P6D")])),
            ("rotate after PT48H", policy([rotate_after("PT48H")])),
            ("rotate after P1D", policy([rotate_after("P1D")], "P1Y")),
            ("rotate before expiry P6D", policy([rotate_before("P6D")], "P90D")),
            ("expiry P27D", policy([rotate_after("P7D")], "P27D")),
            ("expiry P27D alone", policy([], "P27D")),
            ("expiry P1D", policy([], "P1D")),
            ("notify after create", policy([{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Notify"}}],
                                           "P90D")),
            ("trigger with both times", policy([{"trigger": {"timeAfterCreate": "P30D", "timeBeforeExpiry": "P30D"},
                                                 "action": {"type": "Rotate"}}], "P90D")),
            ("trigger empty", policy([{"trigger": {}, "action": {"type": "Rotate"}}], "P90D")),
            ("unknown action", policy([{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Explode"}}])),
            ("duration not ISO 8601", policy([rotate_after("30 days")])),
            ("expiry not ISO 8601", policy([rotate_after("P30D")], "two years")),
        ]
        for what, body in bad:
            with self.subTest(what):
                self.assertJsonError(self.put_policy("pol-bad", body), 400, "BadParameter")
                self.assertEqual(self.get_policy("pol-bad"), keep, "a rejected PUT must not change the policy")
        # the SDK surfaces the same
        with self.assertRaises(HttpResponseError) as ctx:
            self.kc.update_key_rotation_policy(
                "pol-bad", KeyRotationPolicy(),
                lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P6D")])
        self.assertEqual(ctx.exception.status_code, 400)

    def test_policy_of_missing_key(self):
        s = self.server
        self.assertJsonError(s.api("GET", "/keys/no-such-key/rotationpolicy"), 404, "KeyNotFound")
        self.assertJsonError(self.put_policy("no-such-key", policy([rotate_after("P30D")])), 404, "KeyNotFound")

    # ---- random bytes --------------------------------------------------------------------

    def test_random_bytes(self):
        for n in (1, 2, 16, 32, 127, 128):
            with self.subTest(count=n):
                self.assertEqual(len(self.kc.get_random_bytes(n)), n)
        a, b = self.kc.get_random_bytes(32), self.kc.get_random_bytes(32)
        self.assertNotEqual(a, b)
        j = self.ok(self.server.api("POST", "/rng", {"count": 4}))
        self.assertEqual(set(j), {"value"})
        self.assertRegex(j["value"], r"^[A-Za-z0-9_-]+$")
        self.assertEqual(len(unb64u(j["value"])), 4)
        j = self.ok(self.server.api("POST", "/rng", {"count": 128}))
        self.assertEqual(len(unb64u(j["value"])), 128)
        self.assertGreater(len(set(unb64u(j["value"]))), 32, "128 random bytes with few distinct values")

    def test_random_bytes_errors(self):
        s = self.server
        for what, body in (("zero", {"count": 0}), ("129", {"count": 129}), ("negative", {"count": -1}),
                           ("missing", {}), ("string", {"count": "four"}), ("huge", {"count": 1 << 40})):
            with self.subTest(what):
                self.assertJsonError(s.api("POST", "/rng", body), 400, "BadParameter")
        with self.assertRaises(HttpResponseError) as ctx:
            self.kc.get_random_bytes(129)
        self.assertEqual(ctx.exception.status_code, 400)

    # ---- release -------------------------------------------------------------------------

    def test_release_answers_an_akv_error(self):
        s = self.server
        j = self.create("rel-key", {"kty": "RSA"})
        v = j["key"]["kid"].rsplit("/", 1)[1]
        for path in ("/keys/rel-key/%s/release" % v, "/keys/rel-key//release"):
            with self.subTest(path=path):
                r = s.api("POST", path, {"target": "eyJhbGciOiJub25lIn0.e30."})
                self.assertGreaterEqual(r.status, 400, r)
                self.assertLess(r.status, 600, r)
                self.assertNotEqual(r.status, 404, "release must be routed, not unknown: %r" % r)
                err = self.assertJsonError(r, r.status)
                self.assertTrue(err["code"] and err["message"], r)
        with self.assertRaises(HttpResponseError) as ctx:
            self.kc.release_key("rel-key", "eyJhbGciOiJub25lIn0.e30.")
        self.assertGreaterEqual(ctx.exception.status_code, 400)


if __name__ == "__main__":
    h.main()
