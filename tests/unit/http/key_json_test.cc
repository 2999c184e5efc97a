// Tests for http/key_json: the exact wire JSON of KeyBundle, DeletedKeyBundle, KeyItem,
// DeletedKeyItem and errors, and the parsing of create/update request bodies.
// Shapes follow the AKV keys wire reference (akv-keys-api.md, sections 1, 3 and 5).
#include "http/key_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

namespace coffre::http {
namespace {

namespace json = boost::json;
using service::KeyType;

constexpr char kBase[] = "https://dev.localhost:8443";
constexpr char kVersion[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kCreated = 1'700'000'000;

// Serializes and re-parses, as a client would see the object.
json::value Wire(const json::object& o) { return json::parse(json::serialize(o)); }

json::value Expect(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << "bad expected JSON in test: " << text;
  return v;
}

service::KeyAttributes Attributes() {
  service::KeyAttributes a;
  a.enabled = true;
  a.created = kCreated;
  a.updated = kCreated + 1;
  a.recoverable_days = 90;
  a.recovery_level = "Recoverable+Purgeable";
  return a;
}

service::KeyBundle RsaBundle() {
  service::KeyBundle b;
  b.name = "k1";
  b.version = kVersion;
  b.key.kty = KeyType::kRsa;
  b.key.key_ops = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
  b.key.params.family = crypto::KeyFamily::kRsa;
  b.key.params.n = {0xfb, 0xff, 0xbe};  // "-_--": must use the URL-safe alphabet
  b.key.params.e = {0x01, 0x00, 0x01};
  b.attributes = Attributes();
  return b;
}

service::KeyBundle EcBundle() {
  service::KeyBundle b;
  b.name = "ec1";
  b.version = kVersion;
  b.key.kty = KeyType::kEc;
  b.key.key_ops = {"sign", "verify"};
  b.key.params.family = crypto::KeyFamily::kEc;
  b.key.params.curve = crypto::Curve::kP256;
  b.key.params.x = Bytes(32, 0xff);
  for (uint8_t i = 0; i < 32; ++i) b.key.params.y.push_back(i);
  b.attributes = Attributes();
  b.attributes.recoverable_days = 7;
  b.attributes.recovery_level = "CustomizedRecoverable+Purgeable";
  return b;
}

constexpr char kRsaKeyJson[] =
    R"({"kid":"https://dev.localhost:8443/keys/k1/0123456789abcdef0123456789abcdef",
        "kty":"RSA","key_ops":["encrypt","decrypt","sign","verify","wrapKey","unwrapKey"],
        "n":"-_--","e":"AQAB"})";
constexpr char kRsaAttributesJson[] =
    R"({"enabled":true,"created":1700000000,"updated":1700000001,"recoverableDays":90,
        "recoveryLevel":"Recoverable+Purgeable"})";

// ---- KeyBundle

TEST(KeyBundleJson, Rsa) {
  json::value got = Wire(KeyBundleJson(RsaBundle(), kBase));
  json::value want = Expect(std::string(R"({"key":)") + kRsaKeyJson + R"(,"attributes":)" +
                            kRsaAttributesJson + "}");
  EXPECT_EQ(got, want) << json::serialize(got);
}

TEST(KeyBundleJson, Ec) {
  json::value got = Wire(KeyBundleJson(EcBundle(), kBase));
  json::value want = Expect(R"({
    "key":{"kid":"https://dev.localhost:8443/keys/ec1/0123456789abcdef0123456789abcdef",
           "kty":"EC","key_ops":["sign","verify"],"crv":"P-256",
           "x":"__________________________________________8",
           "y":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},
    "attributes":{"enabled":true,"created":1700000000,"updated":1700000001,"recoverableDays":7,
                  "recoveryLevel":"CustomizedRecoverable+Purgeable"}})");
  EXPECT_EQ(got, want) << json::serialize(got);
}

TEST(KeyBundleJson, CurveNamesAndHsmTypes) {
  struct Case {
    crypto::Curve curve;
    const char* name;
  };
  for (const Case& c :
       {Case{crypto::Curve::kP256, "P-256"}, Case{crypto::Curve::kP384, "P-384"},
        Case{crypto::Curve::kP521, "P-521"}, Case{crypto::Curve::kP256K, "P-256K"}}) {
    service::KeyBundle b = EcBundle();
    b.key.kty = KeyType::kEcHsm;
    b.key.params.curve = c.curve;
    json::value got = Wire(KeyBundleJson(b, kBase));
    EXPECT_EQ(got.at("key").at("crv"), c.name);
    EXPECT_EQ(got.at("key").at("kty"), "EC-HSM");
  }
  service::KeyBundle rsa = RsaBundle();
  rsa.key.kty = KeyType::kRsaHsm;
  EXPECT_EQ(Wire(KeyBundleJson(rsa, kBase)).at("key").at("kty"), "RSA-HSM");
}

TEST(KeyBundleJson, NeverCarriesPrivateFields) {
  for (const service::KeyBundle& b : {RsaBundle(), EcBundle()}) {
    json::value got = Wire(KeyBundleJson(b, kBase));
    const json::object& key = got.at("key").as_object();
    for (const char* field : {"d", "dp", "dq", "qi", "p", "q", "k", "key_hsm"}) {
      EXPECT_FALSE(key.contains(field)) << field;
    }
  }
  // A symmetric key shows no material at all.
  service::KeyBundle oct = RsaBundle();
  oct.key.kty = KeyType::kOctHsm;
  oct.key.key_ops = {"encrypt", "decrypt"};
  json::value got = Wire(KeyBundleJson(oct, kBase));
  EXPECT_EQ(got.at("key"), Expect(R"({
      "kid":"https://dev.localhost:8443/keys/k1/0123456789abcdef0123456789abcdef",
      "kty":"oct-HSM","key_ops":["encrypt","decrypt"]})"));
}

TEST(KeyBundleJson, NbfExpAndTagsOnlyWhenSet) {
  service::KeyBundle b = RsaBundle();
  b.attributes.enabled = false;
  b.attributes.not_before = 1'600'000'000;
  b.attributes.expires = 1'900'000'000;
  b.tags = {{"env", "prod"}, {"owner", "team \"a\""}};
  json::value got = Wire(KeyBundleJson(b, kBase));
  json::value want = Expect(std::string(R"({"key":)") + kRsaKeyJson + R"(,
      "attributes":{"enabled":false,"nbf":1600000000,"exp":1900000000,"created":1700000000,
                    "updated":1700000001,"recoverableDays":90,
                    "recoveryLevel":"Recoverable+Purgeable"},
      "tags":{"env":"prod","owner":"team \"a\""}})");
  EXPECT_EQ(got, want) << json::serialize(got);

  // Only one of the two.
  b = RsaBundle();
  b.attributes.expires = 5;
  got = Wire(KeyBundleJson(b, kBase));
  EXPECT_FALSE(got.at("attributes").as_object().contains("nbf"));
  EXPECT_EQ(got.at("attributes").at("exp"), 5);
  EXPECT_FALSE(got.as_object().contains("tags")) << "no \"tags\" key when a key has none";
}

TEST(KeyBundleJson, KidUsesTheGivenBaseUrl) {
  json::value got = Wire(KeyBundleJson(RsaBundle(), "https://myvault.vault.azure.net"));
  EXPECT_EQ(got.at("key").at("kid"),
            "https://myvault.vault.azure.net/keys/k1/0123456789abcdef0123456789abcdef");
}

// ---- DeletedKeyBundle

TEST(DeletedKeyBundleJson, AddsRecoveryIdAndDates) {
  service::DeletedKeyBundle d;
  d.bundle = RsaBundle();
  d.bundle.tags = {{"t", "v"}};
  d.deletion.deleted_date = 1'700'000'100;
  d.deletion.scheduled_purge_date = 1'700'000'100 + 90 * 86400;
  json::value got = Wire(DeletedKeyBundleJson(d, kBase));
  json::value want = Expect(std::string(R"({
      "recoveryId":"https://dev.localhost:8443/deletedkeys/k1",
      "deletedDate":1700000100,"scheduledPurgeDate":1707776100,
      "key":)") + kRsaKeyJson +
                            R"(,"attributes":)" + kRsaAttributesJson + R"(,"tags":{"t":"v"}})");
  EXPECT_EQ(got, want) << json::serialize(got);
}

// ---- KeyItem / DeletedKeyItem

TEST(KeyItemJson, VersionLessKidWithoutVersion) {
  service::KeyItem item;
  item.name = "k1";
  item.attributes = Attributes();
  json::value got = Wire(KeyItemJson(item, kBase));
  json::value want = Expect(std::string(R"({"kid":"https://dev.localhost:8443/keys/k1",
                                            "attributes":)") +
                            kRsaAttributesJson + "}");
  EXPECT_EQ(got, want) << json::serialize(got);
}

TEST(KeyItemJson, VersionedKidAndTags) {
  service::KeyItem item;
  item.name = "k1";
  item.version = kVersion;
  item.attributes = Attributes();
  item.tags = {{"a", "1"}};
  json::value got = Wire(KeyItemJson(item, kBase));
  json::value want = Expect(std::string(R"({
      "kid":"https://dev.localhost:8443/keys/k1/0123456789abcdef0123456789abcdef",
      "attributes":)") + kRsaAttributesJson +
                            R"(,"tags":{"a":"1"}})");
  EXPECT_EQ(got, want) << json::serialize(got);
  // List items never carry key material.
  EXPECT_FALSE(got.as_object().contains("key"));
}

TEST(DeletedKeyItemJson, Shape) {
  service::DeletedKeyItem item;
  item.item.name = "gone";
  item.item.attributes = Attributes();
  item.deletion = {100, 200};
  json::value got = Wire(DeletedKeyItemJson(item, kBase));
  json::value want = Expect(std::string(R"({
      "recoveryId":"https://dev.localhost:8443/deletedkeys/gone","deletedDate":100,
      "scheduledPurgeDate":200,"kid":"https://dev.localhost:8443/keys/gone","attributes":)") +
                            kRsaAttributesJson + "}");
  EXPECT_EQ(got, want) << json::serialize(got);
}

// ---- errors

TEST(ErrorJson, WithoutInnerError) {
  json::value got = json::parse(ErrorJson(Status::NotFound("KeyNotFound", "No \"such\" key")));
  EXPECT_EQ(got, Expect(R"({"error":{"code":"KeyNotFound","message":"No \"such\" key"}})"));
}

TEST(ErrorJson, WithInnerError) {
  json::value got = json::parse(
      ErrorJson(Status::Conflict("Key k is deleted.", "ObjectIsDeletedButRecoverable")));
  EXPECT_EQ(got, Expect(R"({"error":{"code":"Conflict","message":"Key k is deleted.",
                                     "innererror":{"code":"ObjectIsDeletedButRecoverable"}}})"));
}

// ---- ParseJsonObject

TEST(ParseJsonObject, AcceptsObjects) {
  auto parsed = ParseJsonObject(R"(  {"a":1,"b":{"c":[1,2,{"d":null}]}}  )");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->at("a"), 1);
  ASSERT_TRUE(ParseJsonObject("{}").ok());
  ASSERT_TRUE(ParseJsonObject(R"({"s":"h\u00e9llo \u2603"})").ok());
  ASSERT_TRUE(ParseJsonObject("{\"s\":\"h\xc3\xa9llo\"}").ok());
}

std::string Nested(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

TEST(ParseJsonObject, Rejections) {
  const std::vector<std::string> bad = {
      "",
      "   ",
      "{",
      "not json",
      "{\"a\":1,}",
      "{} trailing",
      "{/*comment*/}",
      "[]",
      "[{\"kty\":\"RSA\"}]",
      "\"string\"",
      "42",
      "null",
      "true",
      Nested(40),
      "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}",
      "{\"a\":\"\xff\"}",
      "{\"\xc3\x28\":1}",
      "{\"a\":\"\xed\xa0\x80\"}",  // UTF-8-encoded surrogate
      std::string("{\"a\":1}\0", 8),
  };
  for (const std::string& body : bad) {
    auto parsed = ParseJsonObject(body);
    ASSERT_FALSE(parsed.ok()) << "accepted: " << body;
    EXPECT_EQ(parsed.status().kind(), ErrorKind::kBadRequest) << body;
    EXPECT_EQ(parsed.status().code(), "BadParameter") << body;
  }
  EXPECT_TRUE(ParseJsonObject(Nested(10)).ok());
  // The documented limit: nesting depth 32.
  EXPECT_TRUE(ParseJsonObject(Nested(32)).ok());
  EXPECT_FALSE(ParseJsonObject(Nested(33)).ok());
}

// ---- ParseCreateKeyRequest

service::CreateKeyRequest MustParseCreate(std::string_view body) {
  auto object = ParseJsonObject(body);
  EXPECT_TRUE(object.ok()) << body;
  if (!object.ok()) return {};
  auto parsed = ParseCreateKeyRequest(*object);
  EXPECT_TRUE(parsed.ok()) << body << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : service::CreateKeyRequest{};
}

Status CreateError(std::string_view body) {
  auto object = ParseJsonObject(body);
  EXPECT_TRUE(object.ok()) << "test body must be a JSON object: " << body;
  if (!object.ok()) return object.status();
  auto parsed = ParseCreateKeyRequest(*object);
  return parsed.ok() ? Status::Ok() : parsed.status();
}

TEST(ParseCreateKeyRequest, PythonRsaBody) {
  service::CreateKeyRequest r = MustParseCreate(R"({"kty":"RSA","key_size":2048})");
  EXPECT_EQ(r.kty, KeyType::kRsa);
  EXPECT_EQ(r.key_size, 2048);
  EXPECT_FALSE(r.public_exponent.has_value());
  EXPECT_FALSE(r.curve.has_value());
  EXPECT_FALSE(r.key_ops.has_value());
  EXPECT_FALSE(r.tags.has_value());
  EXPECT_FALSE(r.attributes.enabled.has_value());
  EXPECT_FALSE(r.attributes.not_before.has_value());
  EXPECT_FALSE(r.attributes.expires.has_value());
}

TEST(ParseCreateKeyRequest, JsEcBodyWithEmptyAttributes) {
  service::CreateKeyRequest r = MustParseCreate(R"({"kty":"EC","attributes":{}})");
  EXPECT_EQ(r.kty, KeyType::kEc);
  EXPECT_FALSE(r.curve.has_value());
  EXPECT_FALSE(r.key_size.has_value());
  EXPECT_FALSE(r.attributes.enabled.has_value());
}

TEST(ParseCreateKeyRequest, EveryField) {
  service::CreateKeyRequest r = MustParseCreate(R"({
      "kty":"RSA-HSM","key_size":3072,"public_exponent":65537,
      "key_ops":["sign","verify","import","export"],
      "attributes":{"enabled":false,"nbf":1600000000,"exp":1900000000,"exportable":false,
                    "created":1,"updated":2,"recoveryLevel":"x","recoverableDays":3},
      "tags":{"b":"2","a":"1"},
      "unknown_property":{"ignored":true}})");
  EXPECT_EQ(r.kty, KeyType::kRsaHsm);
  EXPECT_EQ(r.key_size, 3072);
  EXPECT_EQ(r.public_exponent, 65537u);
  ASSERT_TRUE(r.key_ops.has_value());
  EXPECT_EQ(*r.key_ops, (std::vector<std::string>{"sign", "verify", "import", "export"}));
  EXPECT_EQ(r.attributes.enabled, false);
  EXPECT_EQ(r.attributes.not_before, 1600000000);
  EXPECT_EQ(r.attributes.expires, 1900000000);
  ASSERT_TRUE(r.tags.has_value());
  service::Tags tags = *r.tags;
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (service::Tags{{"a", "1"}, {"b", "2"}}));
}

TEST(ParseCreateKeyRequest, EveryKtyAndCurve) {
  struct KtyCase {
    const char* name;
    KeyType type;
  };
  for (const KtyCase& c : {KtyCase{"RSA", KeyType::kRsa}, KtyCase{"RSA-HSM", KeyType::kRsaHsm},
                           KtyCase{"EC", KeyType::kEc}, KtyCase{"EC-HSM", KeyType::kEcHsm},
                           KtyCase{"oct", KeyType::kOct}, KtyCase{"oct-HSM", KeyType::kOctHsm}}) {
    EXPECT_EQ(MustParseCreate(std::string(R"({"kty":")") + c.name + "\"}").kty, c.type) << c.name;
  }
  struct CrvCase {
    const char* name;
    crypto::Curve curve;
  };
  for (const CrvCase& c :
       {CrvCase{"P-256", crypto::Curve::kP256}, CrvCase{"P-384", crypto::Curve::kP384},
        CrvCase{"P-521", crypto::Curve::kP521}, CrvCase{"P-256K", crypto::Curve::kP256K}}) {
    EXPECT_EQ(MustParseCreate(std::string(R"({"kty":"EC","crv":")") + c.name + "\"}").curve,
              c.curve)
        << c.name;
  }
}

TEST(ParseCreateKeyRequest, EmptyKeyOpsIsPresentAndEmpty) {
  service::CreateKeyRequest r = MustParseCreate(R"({"kty":"EC","key_ops":[]})");
  ASSERT_TRUE(r.key_ops.has_value());
  EXPECT_TRUE(r.key_ops->empty());
}

TEST(ParseCreateKeyRequest, NullsAreAbsent) {
  service::CreateKeyRequest r = MustParseCreate(R"({
      "kty":"EC","key_size":null,"public_exponent":null,"crv":null,"key_ops":null,
      "tags":null,"attributes":null})");
  EXPECT_EQ(r.kty, KeyType::kEc);
  EXPECT_FALSE(r.key_size.has_value());
  EXPECT_FALSE(r.public_exponent.has_value());
  EXPECT_FALSE(r.curve.has_value());
  EXPECT_FALSE(r.key_ops.has_value());
  EXPECT_FALSE(r.tags.has_value());

  r = MustParseCreate(
      R"({"kty":"EC","attributes":{"enabled":null,"nbf":null,"exp":null,"exportable":null}})");
  EXPECT_FALSE(r.attributes.enabled.has_value());
  EXPECT_FALSE(r.attributes.not_before.has_value());
  EXPECT_FALSE(r.attributes.expires.has_value());
}

TEST(ParseCreateKeyRequest, KtyIsRequired) {
  for (const char* body : {"{}", R"({"kty":null})", R"({"key_size":2048})"}) {
    Status s = CreateError(body);
    ASSERT_FALSE(s.ok()) << body;
    EXPECT_EQ(s.code(), "BadParameter");
    EXPECT_EQ(s.message(), "The property \"kty\" is required.") << body;
  }
}

TEST(ParseCreateKeyRequest, UnknownKty) {
  Status s = CreateError(R"({"kty":"OKP"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "BadParameter");
  EXPECT_EQ(s.message(), "Invalid kty value: OKP");
}

TEST(ParseCreateKeyRequest, RejectsWrongTypesAndValues) {
  const std::vector<std::string> bad = {
      // kty
      R"({"kty":1})",
      R"({"kty":true})",
      R"({"kty":["RSA"]})",
      R"({"kty":{}})",
      R"({"kty":"rsa"})",
      R"({"kty":"Rsa"})",
      R"({"kty":"RSA "})",
      R"({"kty":""})",
      R"({"kty":"OKP-HSM"})",
      // key_size
      R"({"kty":"RSA","key_size":"2048"})",
      R"({"kty":"RSA","key_size":2048.5})",
      R"({"kty":"RSA","key_size":true})",
      R"({"kty":"RSA","key_size":[2048]})",
      R"({"kty":"RSA","key_size":{}})",
      R"({"kty":"RSA","key_size":-1})",
      R"({"kty":"RSA","key_size":-2048})",
      R"({"kty":"RSA","key_size":1e30})",
      R"({"kty":"RSA","key_size":18446744073709551615})",
      R"({"kty":"RSA","key_size":9223372036854775807})",
      R"({"kty":"RSA","key_size":99999999999999999999999999})",
      R"({"kty":"RSA","key_size":-9223372036854775808})",
      R"({"kty":"RSA","key_size":4294969344})",  // 2^32 + 2048: must not wrap to 2048
      // public_exponent
      R"({"kty":"RSA","public_exponent":"65537"})",
      R"({"kty":"RSA","public_exponent":-3})",
      R"({"kty":"RSA","public_exponent":4294967297})",
      R"({"kty":"RSA","public_exponent":2147483648})",
      R"({"kty":"RSA","public_exponent":1.5})",
      R"({"kty":"RSA","public_exponent":[65537]})",
      // crv
      R"({"kty":"EC","crv":256})",
      R"({"kty":"EC","crv":"p-256"})",
      R"({"kty":"EC","crv":"P256"})",
      R"({"kty":"EC","crv":"Ed25519"})",
      R"({"kty":"EC","crv":""})",
      R"({"kty":"EC","crv":["P-256"]})",
      // key_ops
      R"({"kty":"EC","key_ops":"sign"})",
      R"({"kty":"EC","key_ops":[1]})",
      R"({"kty":"EC","key_ops":["sign",null]})",
      R"({"kty":"EC","key_ops":["fly"]})",
      R"({"kty":"EC","key_ops":["Sign"]})",
      R"({"kty":"EC","key_ops":{"sign":true}})",
      R"({"kty":"EC","key_ops":[["sign"]]})",
      // attributes
      R"({"kty":"EC","attributes":[]})",
      R"({"kty":"EC","attributes":"x"})",
      R"({"kty":"EC","attributes":1})",
      R"({"kty":"EC","attributes":true})",
      R"({"kty":"EC","attributes":{"enabled":"true"}})",
      R"({"kty":"EC","attributes":{"enabled":1}})",
      R"({"kty":"EC","attributes":{"nbf":"1"}})",
      R"({"kty":"EC","attributes":{"nbf":1.5}})",
      R"({"kty":"EC","attributes":{"nbf":-1}})",
      R"({"kty":"EC","attributes":{"nbf":true}})",
      R"({"kty":"EC","attributes":{"nbf":253402300800}})",
      R"({"kty":"EC","attributes":{"nbf":18446744073709551615}})",
      R"({"kty":"EC","attributes":{"exp":"1"}})",
      R"({"kty":"EC","attributes":{"exp":-5}})",
      R"({"kty":"EC","attributes":{"exp":1e300}})",
      R"({"kty":"EC","attributes":{"exp":253402300800}})",
      R"({"kty":"EC","attributes":{"exportable":"true"}})",
      R"({"kty":"EC","attributes":{"exportable":1}})",
      R"({"kty":"EC","attributes":{"exportable":true}})",
      // tags
      R"({"kty":"EC","tags":[]})",
      R"({"kty":"EC","tags":"a=b"})",
      R"({"kty":"EC","tags":1})",
      R"({"kty":"EC","tags":{"a":1}})",
      R"({"kty":"EC","tags":{"a":true}})",
      R"({"kty":"EC","tags":{"a":{"b":"c"}}})",
      R"({"kty":"EC","tags":{"a":["x"]}})",
      R"({"kty":"EC","tags":{"ok":"v","a":1}})",
  };
  for (const std::string& body : bad) {
    Status s = CreateError(body);
    ASSERT_FALSE(s.ok()) << "accepted: " << body;
    EXPECT_EQ(s.kind(), ErrorKind::kBadRequest) << body;
    EXPECT_EQ(s.code(), "BadParameter") << body;
  }
}

TEST(ParseCreateKeyRequest, IntegerBounds) {
  EXPECT_EQ(MustParseCreate(R"({"kty":"RSA","key_size":0})").key_size, 0);
  EXPECT_EQ(MustParseCreate(R"({"kty":"RSA","public_exponent":2147483647})").public_exponent,
            2147483647u);
  service::CreateKeyRequest r =
      MustParseCreate(R"({"kty":"EC","attributes":{"nbf":0,"exp":253402300799}})");
  EXPECT_EQ(r.attributes.not_before, 0);
  EXPECT_EQ(r.attributes.expires, 253402300799);
}

TEST(ParseCreateKeyRequest, ExportableTrueIsRejected) {
  Status s = CreateError(R"({"kty":"RSA","attributes":{"exportable":true}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "BadParameter");
  EXPECT_EQ(MustParseCreate(R"({"kty":"RSA","attributes":{"exportable":false}})").kty,
            KeyType::kRsa);
}

TEST(ParseCreateKeyRequest, TypeErrorsNameTheProperty) {
  Status s = CreateError(R"({"kty":"RSA","key_size":"big"})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("key_size"), std::string::npos) << s.message();
  s = CreateError(R"({"kty":"RSA","tags":[]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tags"), std::string::npos) << s.message();
}

// ---- ParseUpdateKeyRequest

Result<service::UpdateKeyRequest> ParseUpdate(std::string_view body) {
  auto object = ParseJsonObject(body);
  EXPECT_TRUE(object.ok()) << body;
  if (!object.ok()) return object.status();
  return ParseUpdateKeyRequest(*object);
}

TEST(ParseUpdateKeyRequest, EmptyBodyChangesNothing) {
  auto r = ParseUpdate("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->key_ops.has_value());
  EXPECT_FALSE(r->tags.has_value());
  EXPECT_FALSE(r->attributes.enabled.has_value());
  EXPECT_FALSE(r->attributes.not_before.has_value());
  EXPECT_FALSE(r->attributes.expires.has_value());
}

TEST(ParseUpdateKeyRequest, EveryField) {
  auto r = ParseUpdate(R"({"key_ops":["verify"],
                           "attributes":{"enabled":false,"nbf":10,"exp":20},
                           "tags":{"x":"y"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key_ops, (std::vector<std::string>{"verify"}));
  EXPECT_EQ(r->attributes.enabled, false);
  EXPECT_EQ(r->attributes.not_before, 10);
  EXPECT_EQ(r->attributes.expires, 20);
  EXPECT_EQ(r->tags, (service::Tags{{"x", "y"}}));
}

TEST(ParseUpdateKeyRequest, EmptyTagsMeansClearAndNullMeansUnchanged) {
  auto r = ParseUpdate(R"({"tags":{}})");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->tags.has_value());
  EXPECT_TRUE(r->tags->empty());
  r = ParseUpdate(R"({"tags":null,"key_ops":null,"attributes":null})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->tags.has_value());
  EXPECT_FALSE(r->key_ops.has_value());
}

TEST(ParseUpdateKeyRequest, RejectsWrongTypes) {
  for (const char* body : {
           R"({"key_ops":"sign"})",
           R"({"key_ops":["nope"]})",
           R"({"attributes":[]})",
           R"({"attributes":{"enabled":"false"}})",
           R"({"attributes":{"nbf":"10"}})",
           R"({"attributes":{"exp":-1}})",
           R"({"attributes":{"exportable":true}})",
           R"({"tags":[]})",
           R"({"tags":{"a":2}})",
       }) {
    auto r = ParseUpdate(body);
    ASSERT_FALSE(r.ok()) << "accepted: " << body;
    EXPECT_EQ(r.status().code(), "BadParameter") << body;
  }
}

}  // namespace
}  // namespace coffre::http
