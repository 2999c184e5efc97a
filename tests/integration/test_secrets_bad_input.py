"""Malformed and hostile secret requests against Coffre: every one gets a clean Key Vault error,
stores nothing, never echoes a value, and leaves the server serving."""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
from test_bad_input import case, deep_json, invalid_name, unknown_version  # noqa: E402

AV = "api-version=7.4"
GOOD = "good-secret"
GOOD_VALUE = "good-value-5f2a"
GOOD_TAGS = {"keep": "me"}


def put(name, body, **kw):
    secret = kw.pop("secret", "bad-" + name.replace("_", "-"))
    return case(name, "PUT", "/secrets/%s?%s" % (secret, AV), body=body, **kw)


def restore(name, body, **kw):
    return case(name, "POST", "/secrets/restore?" + AV, body=body, **kw)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


CASES = [
    # --- values and content types --------------------------------------------------------------
    put("value_25601_bytes", {"value": "x" * 25601}),
    put("value_25600_multibyte_over", {"value": "\u00e9" * 12801}),  # 25,602 bytes of UTF-8
    put("value_600k", {"value": "y" * 600000}),
    put("value_missing", {"contentType": "text/plain"}),
    put("value_null", {"value": None}),
    put("value_number", {"value": 42}),
    put("value_object", {"value": {"nested": "x"}}),
    put("value_array", {"value": ["a"]}),
    put("content_type_256", {"value": "v", "contentType": "c" * 256}),
    put("content_type_number", {"value": "v", "contentType": 7}),
    put("value_invalid_utf8", b'{"value":"\xff\xfe\xc3"}'),
    put("content_type_invalid_utf8", b'{"value":"v","contentType":"\xc0\xaf"}'),
    # --- JSON --------------------------------------------------------------------------------
    put("malformed_json", '{"value": "v",'),
    put("top_level_array", '["v"]'),
    put("top_level_string", '"v"'),
    put("empty_body", b""),
    put("trailing_garbage", '{"value":"v"} xyz'),
    put("nested_100000", deep_json(100000).replace('"kty":"EC"', '"value":"v"')),
    put("nested_1000", deep_json(1000).replace('"kty":"EC"', '"value":"v"')),
    # --- attributes and tags -------------------------------------------------------------------
    put("attributes_string", {"value": "v", "attributes": "enabled"}),
    put("enabled_string", {"value": "v", "attributes": {"enabled": "yes"}}),
    put("exp_string", {"value": "v", "attributes": {"exp": "tomorrow"}}),
    put("nbf_huge", '{"value":"v","attributes":{"nbf":123456789012345678901234567890}}'),
    put("tags_16", {"value": "v", "tags": {"t%02d" % i: "v" for i in range(16)}}),
    put("tag_value_257", {"value": "v", "tags": {"n": "v" * 257}}),
    put("tags_value_number", {"value": "v", "tags": {"a": 1}}),
    put("bad_body_on_existing", {"value": 5}, secret=GOOD),
    # --- names, versions, api-versions -----------------------------------------------------------
    put("name_underscore", {"value": "v"}, secret="bad_name", message=invalid_name("bad_name")),
    put("name_128", {"value": "v"}, secret="s" * 128, message=invalid_name("s" * 128)),
    case("name_dot_get", "GET", "/secrets/a.b?" + AV, message=invalid_name("a.b")),
    case("name_encoded_slash", "GET", "/secrets/a%2Fb?" + AV, code=None, statuses=(400, 404)),
    case("deleted_name_invalid", "GET", "/deletedsecrets/bad_name?" + AV,
         message=invalid_name("bad_name")),
    case("version_not_hex", "GET", "/secrets/%s/zzzz?%s" % (GOOD, AV), status=404,
         code="SecretNotFound"),
    case("version_unknown", "GET", "/secrets/%s/%s?%s" % (GOOD, "0" * 32, AV), status=404,
         code="SecretNotFound"),
    case("api_version_7_99", "PUT", "/secrets/bad-av?api-version=7.99", body={"value": "v"},
         prefix=unknown_version("7.99")),
    case("api_version_missing", "GET", "/secrets/" + GOOD),
    case("api_version_word", "GET", "/secrets?api-version=latest",
         prefix=unknown_version("latest")),
    # --- paging --------------------------------------------------------------------------------
    case("maxresults_26", "GET", "/secrets?%s&maxresults=26" % AV),
    case("maxresults_0_versions", "GET", "/secrets/%s/versions?%s&maxresults=0" % (GOOD, AV)),
    case("maxresults_word_deleted", "GET", "/deletedsecrets?%s&maxresults=x" % AV),
    case("skiptoken_not_base64", "GET", "/secrets?%s&$skiptoken=%%21%%21%%21" % AV,
         message="The $skiptoken is not valid."),
    case("skiptoken_forged_name", "GET", "/secrets?%s&$skiptoken=%s" % (AV, b64u(b"ZZZ\x01")),
         message="The $skiptoken is not valid."),
    case("skiptoken_forged_sequence", "GET", "/secrets/%s/versions?%s&$skiptoken=%s"
         % (GOOD, AV, b64u(b"-5")), message="The $skiptoken is not valid."),
    case("skiptoken_deleted_forged", "GET", "/deletedsecrets?%s&$skiptoken=%s"
         % (AV, b64u(b"\x00\x1f")), message="The $skiptoken is not valid."),
    # --- backups -------------------------------------------------------------------------------
    restore("restore_not_base64", {"value": "!!!not base64!!!"}),
    restore("restore_value_missing", {}),
    restore("restore_value_number", {"value": 12}),
    restore("restore_forged_magic", {"value": b64u(b"CFSB\x01" + os.urandom(64))}),
    restore("restore_wrong_format_version", {"value": b64u(b"CFSB\x02" + os.urandom(64))}),
    restore("restore_short", {"value": b64u(b"CFSB")}),
    restore("restore_random", {"value": b64u(os.urandom(300))}),
    restore("restore_malformed_json", '{"value":'),
    # --- updates -------------------------------------------------------------------------------
    case("patch_malformed", "PATCH", "/secrets/%s/?%s" % (GOOD, AV), body="{"),
    case("patch_content_type_256", "PATCH", "/secrets/%s/?%s" % (GOOD, AV),
         body={"contentType": "c" * 256}),
    case("patch_tags_16", "PATCH", "/secrets/%s/?%s" % (GOOD, AV),
         body={"tags": {"t%02d" % i: "v" for i in range(16)}}),
    case("patch_enabled_string", "PATCH", "/secrets/%s/?%s" % (GOOD, AV),
         body={"attributes": {"enabled": "no"}}),
    case("patch_unknown_version", "PATCH", "/secrets/%s/%s?%s" % (GOOD, "0" * 32, AV),
         body={"attributes": {"enabled": False}}, status=404, code="SecretNotFound"),
    # --- routing and state ---------------------------------------------------------------------
    case("wrong_method_post_secret", "POST", "/secrets/%s?%s" % (GOOD, AV), body={},
         status=405, code=None),
    case("wrong_method_delete_list", "DELETE", "/secrets?" + AV, status=405, code=None),
    case("wrong_method_backup_put", "PUT", "/secrets/%s/backup?%s" % (GOOD, AV),
         body={"value": "v"}, status=405, code=None),
    case("unknown_route", "GET", "/secrets/%s/versions/extra?%s" % (GOOD, AV), status=404,
         code=None),
    case("recover_unknown", "POST", "/deletedsecrets/unknown-s/recover?" + AV, status=404,
         code="SecretNotFound", message="Deleted Secret not found: unknown-s"),
    case("purge_unknown", "DELETE", "/deletedsecrets/unknown-s?" + AV, status=404,
         code="SecretNotFound"),
    case("delete_unknown", "DELETE", "/secrets/unknown-s?" + AV, status=404,
         code="SecretNotFound"),
    case("backup_unknown", "POST", "/secrets/unknown-s/backup?" + AV, status=404,
         code="SecretNotFound"),
    case("no_token", "PUT", "/secrets/bad-nt?" + AV, body={"value": "v"}, token=None,
         status=401, code="Unauthorized"),
]


class SecretsBadInputTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        r = s.api("PUT", "/secrets/" + GOOD, body={"value": GOOD_VALUE, "tags": GOOD_TAGS})
        if r.status != 200:
            raise h.HarnessError("could not set %s: %r" % (GOOD, r))
        cls.good = r.json()
        # A key backup is no secret backup.
        r = s.api("POST", "/keys/bad-input-key/create", body={"kty": "EC"})
        assert r.status == 200, r
        cls.key_backup = s.api("POST", "/keys/bad-input-key/backup").json()["value"]

    def assertServerHealthy(self):
        s = self.server
        self.assertEqual(s.healthz().status, 200)
        r = s.api("GET", "/secrets/" + GOOD)
        self.assertEqual(r.status, 200, "normal get after the bad request: %r" % r)
        self.assertEqual(r.json()["value"], GOOD_VALUE)

    def run_case(self, c):
        s = self.server
        r = s.request(c["method"], c["path"], body=c["body"], headers=c["headers"],
                      token=c["token"], content_type=c["content_type"])
        if c["statuses"]:
            self.assertIn(r.status, c["statuses"], r)
            self.assertJsonError(r, r.status)
        else:
            self.assertJsonError(r, c["status"], c["code"], message=c["message"],
                                 message_prefix=c["prefix"])
        self.assertNotIn(GOOD_VALUE.encode(), r.body)
        self.assertServerHealthy()

    def test_restore_key_backup_as_secret(self):
        r = self.server.api("POST", "/secrets/restore", body={"value": self.key_backup})
        self.assertJsonError(r, 400, "BadParameter")

    def test_restore_truncated_and_flipped_real_backup(self):
        s = self.server
        blob = s.api("POST", "/secrets/%s/backup" % GOOD).json()["value"]
        raw = h.b64url_decode(blob)
        for bad in (raw[:len(raw) // 2], raw[:-1], raw + b"\x00",
                    raw[:10] + bytes([raw[10] ^ 0x80]) + raw[11:]):
            r = s.api("POST", "/secrets/restore", body={"value": b64u(bad)})
            self.assertJsonError(r, 400, "BadParameter")
        self.assertServerHealthy()

    def test_zz_nothing_stored(self):
        s = self.server
        j = self.assertOk(s.api("GET", "/secrets", query="maxresults=25"))
        self.assertEqual([i["id"].rsplit("/", 1)[1] for i in j["value"]], [GOOD])
        self.assertIsNone(j["nextLink"])
        self.assertEqual(self.assertOk(s.api("GET", "/deletedsecrets"))["value"], [])
        j = self.assertOk(s.api("GET", "/secrets/%s/versions" % GOOD))
        self.assertEqual(len(j["value"]), 1)
        g = self.assertOk(s.api("GET", "/secrets/" + GOOD))
        self.assertEqual(g.get("tags"), GOOD_TAGS)
        self.assertEqual(g["value"], GOOD_VALUE)
        self.assertNotIn(GOOD_VALUE, s.log_text())


def _make(c):
    def t(self):
        self.run_case(c)
    t.__doc__ = "%s %s -> %s" % (c["method"], c["path"][:80], c["statuses"] or c["status"])
    return t


for _i, _c in enumerate(CASES):
    setattr(SecretsBadInputTest, "test_case_%03d_%s" % (_i, _c["name"]), _make(_c))


if __name__ == "__main__":
    h.main()
