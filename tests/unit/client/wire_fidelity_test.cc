// The client reads recorded service answers into models and writes request bodies the service
// accepts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/encoding.h"
#include "client/key_serializers.h"
#include "coffre/core/exception.h"
#include "test_support.h"

namespace coffre::keys::_detail {
namespace {

namespace json = boost::json;
using coffre::testing::kDeletedKeysPage;
using coffre::testing::kDeletedRsaBundle;
using coffre::testing::kEcBundle;
using coffre::testing::kKeysPage1;
using coffre::testing::kKeysPage2;
using coffre::testing::kRotationPolicy;

TEST(WireFidelity, DeletedRsaKeyBundle) {
  DeletedKey key = ParseDeletedKeyBundle(kDeletedRsaBundle);
  EXPECT_EQ(key.Name(), "CreateSoftKeyTest");
  EXPECT_EQ(key.Properties.Version, "78deebed173b48e48f55abf87ed4cf71");
  EXPECT_EQ(key.Properties.VaultUrl, "https://myvault.vault.azure.net");
  EXPECT_EQ(
      key.Id(),
      "https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71");
  EXPECT_EQ(key.GetKeyType(), KeyVaultKeyType::Rsa);
  ASSERT_EQ(key.KeyOperations().size(), 6u);
  EXPECT_EQ(key.KeyOperations()[4], KeyOperation::WrapKey);
  EXPECT_TRUE(key.Key.SupportsOperation(KeyOperation::Sign));
  EXPECT_FALSE(key.Key.SupportsOperation(KeyOperation::Import));
  EXPECT_EQ(key.Key.N.size(), 256u);
  EXPECT_EQ(key.Key.E, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_TRUE(key.Key.D.empty());
  EXPECT_EQ(key.Properties.Enabled.Value(), true);
  EXPECT_EQ(key.Properties.CreatedOn.Value().ToUnixSeconds(), 1493942451);
  EXPECT_EQ(key.Properties.CreatedOn.Value().ToString(), "2017-05-05T00:00:51Z");
  EXPECT_FALSE(key.Properties.ExpiresOn.HasValue());
  EXPECT_FALSE(key.Properties.RecoverableDays.HasValue());
  EXPECT_EQ(key.Properties.RecoveryLevel, "Recoverable+Purgeable");
  EXPECT_EQ(key.Properties.Tags.at("purpose"), "unit test");
  EXPECT_EQ(key.Properties.Tags.size(), 2u);
  EXPECT_EQ(key.RecoveryId, "https://myvault.vault.azure.net/deletedkeys/CreateSoftKeyTest");
  EXPECT_EQ(key.DeletedDate.ToUnixSeconds(), 1493942452);
  EXPECT_EQ(key.ScheduledPurgeDate.ToUnixSeconds() - key.DeletedDate.ToUnixSeconds(), 7776000);
}

TEST(WireFidelity, EcKeyBundle) {
  KeyVaultKey key = ParseKeyBundle(kEcBundle);
  EXPECT_EQ(key.Name(), "k1");
  EXPECT_EQ(key.Properties.Version, "eaa877afabe64208a82d0a315e32a8a7");
  EXPECT_EQ(key.GetKeyType(), KeyVaultKeyType::Ec);
  ASSERT_TRUE(key.Key.CurveName.HasValue());
  EXPECT_EQ(key.Key.CurveName.Value(), KeyCurveName::P256);
  EXPECT_EQ(key.Key.X.size(), 32u);
  EXPECT_EQ(key.Key.Y.size(), 32u);
  EXPECT_TRUE(key.Key.N.empty());
  EXPECT_EQ(key.Properties.RecoverableDays.Value(), 7);
  EXPECT_EQ(key.Properties.RecoveryLevel, "CustomizedRecoverable+Purgeable");
  EXPECT_TRUE(key.Properties.Tags.empty());
  EXPECT_FALSE(key.Properties.Managed);
}

TEST(WireFidelity, KeyListPagesWithNextLink) {
  KeyPropertiesPage page = ParseKeyListResult(kKeysPage1);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].Name, "k1");
  EXPECT_EQ(page.items[0].Version, "");  // /keys items carry version-less ids
  EXPECT_EQ(page.items[0].Id, "https://myvault.vault.azure.net/keys/k1");
  EXPECT_EQ(page.items[0].Tags.at("purpose"), "unit test");
  EXPECT_EQ(page.items[1].Enabled.Value(), false);
  EXPECT_EQ(page.items[1].NotBefore.Value().ToUnixSeconds(), 1493938000);
  EXPECT_EQ(page.items[1].ExpiresOn.Value().ToUnixSeconds(), 1893938000);
  EXPECT_EQ(page.items[1].RecoverableDays.Value(), 90);
  EXPECT_TRUE(page.items[1].Managed);
  ASSERT_TRUE(page.next_link.has_value());
  EXPECT_EQ(page.next_link->rfind(
                "https://myvault.vault.azure.net:443/keys?api-version=7.2&$skiptoken=", 0),
            0u);

  KeyPropertiesPage last = ParseKeyListResult(kKeysPage2);
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_FALSE(last.next_link.has_value());  // "nextLink": null ends the listing
  EXPECT_FALSE(ParseKeyListResult(R"({"value":[]})").next_link.has_value());
}

TEST(WireFidelity, DeletedKeyList) {
  DeletedKeysPage page = ParseDeletedKeyListResult(kDeletedKeysPage);
  ASSERT_EQ(page.items.size(), 1u);
  const DeletedKey& key = page.items[0];
  EXPECT_EQ(key.Name(), "GetDeletedKeysTest");
  EXPECT_EQ(key.Id(), "https://myvault.vault.azure.net/keys/GetDeletedKeysTest");
  EXPECT_EQ(key.RecoveryId, "https://myvault.vault.azure.net/deletedkeys/GetDeletedKeysTest");
  EXPECT_EQ(key.DeletedDate.ToUnixSeconds(), 1493937855);
  EXPECT_EQ(key.ScheduledPurgeDate.ToUnixSeconds(), 1501713855);
  EXPECT_FALSE(page.next_link.has_value());
}

TEST(WireFidelity, RotationPolicyActionsCaseInsensitive) {
  KeyRotationPolicy policy = ParseRotationPolicy(kRotationPolicy);
  EXPECT_EQ(policy.Id, "https://myvault.vault.azure.net/keys/rotateKey/rotationpolicy");
  ASSERT_EQ(policy.LifetimeActions.size(), 2u);
  EXPECT_EQ(policy.LifetimeActions[0].Action, LifetimeActionType::Rotate);  // sent as "rotate"
  EXPECT_EQ(policy.LifetimeActions[0].Trigger.TimeAfterCreate.Value(), "P90D");
  EXPECT_FALSE(policy.LifetimeActions[0].Trigger.TimeBeforeExpiry.HasValue());
  EXPECT_EQ(policy.LifetimeActions[1].Action, LifetimeActionType::Notify);
  EXPECT_EQ(policy.ExpiresIn.Value(), "P2Y");
  EXPECT_EQ(policy.CreatedOn.Value().ToUnixSeconds(), 1482188947);
  // The 2021 preview answer for "no policy".
  KeyRotationPolicy empty = ParseRotationPolicy(R"({"lifetimeActions":null,"attributes":null})");
  EXPECT_TRUE(empty.LifetimeActions.empty());
}

TEST(WireFidelity, BytesValuesAndLenientBase64) {
  EXPECT_EQ(ParseBytesValue(R"({"value":"MTIzNA"})"), (std::vector<uint8_t>{'1', '2', '3', '4'}));
  EXPECT_EQ(ParseBytesValue(R"({"value":"MTIzNA=="})"), (std::vector<uint8_t>{'1', '2', '3', '4'}));
  EXPECT_EQ(coffre::_detail::Base64UrlDecode("-_8"), (std::vector<uint8_t>{0xfb, 0xff}));
  EXPECT_EQ(coffre::_detail::Base64UrlDecode("+/8="), (std::vector<uint8_t>{0xfb, 0xff}));
  EXPECT_FALSE(coffre::_detail::Base64UrlDecode("ab$c").has_value());
  EXPECT_EQ(coffre::_detail::Base64UrlEncode(std::vector<uint8_t>{0xfb, 0xff}), "-_8");
  EXPECT_THROW(ParseBytesValue(R"({"value":7})"), std::invalid_argument);
  EXPECT_THROW(ParseKeyBundle("not json"), std::invalid_argument);
}

TEST(WireFidelity, KeyIds) {
  auto parts = ParseKeyId("https://dev.localhost:8443/keys/k-1/0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->vault_url, "https://dev.localhost:8443");
  EXPECT_EQ(parts->name, "k-1");
  EXPECT_EQ(parts->version, "0123456789abcdef0123456789abcdef");
  auto default_port = ParseKeyId("https://myvault.vault.azure.net:443/keys/k");
  ASSERT_TRUE(default_port.has_value());
  EXPECT_EQ(default_port->vault_url, "https://myvault.vault.azure.net");
  EXPECT_EQ(default_port->version, "");
  EXPECT_FALSE(ParseKeyId("https://v.vault.azure.net/secrets/s").has_value());
  EXPECT_FALSE(ParseKeyId("https://v.vault.azure.net/keys").has_value());
  EXPECT_FALSE(ParseKeyId("not a url").has_value());
}

TEST(WireFidelity, CreateBodies) {
  CreateRsaKeyOptions rsa("k");
  rsa.KeySize = 3072;
  rsa.PublicExponent = 65537;
  rsa.KeyOperations = {KeyOperation::Sign, KeyOperation::Verify};
  rsa.ExpiresOn = DateTime::FromUnixSeconds(1893456000);
  rsa.Enabled = false;
  rsa.Tags["team"] = "crypto";
  json::value body =
      json::parse(SerializeCreateKey(rsa.GetKeyType(), rsa, rsa.KeySize, rsa.PublicExponent, {}));
  EXPECT_EQ(body, json::parse(R"({"kty":"RSA","key_size":3072,"public_exponent":65537,
    "key_ops":["sign","verify"],"attributes":{"enabled":false,"exp":1893456000},
    "tags":{"team":"crypto"}})"));

  CreateEcKeyOptions ec("e", true);
  ec.CurveName = KeyCurveName::P384;
  body = json::parse(SerializeCreateKey(ec.GetKeyType(), ec, {}, {}, ec.CurveName));
  EXPECT_EQ(body, json::parse(R"({"kty":"EC-HSM","crv":"P-384","attributes":{}})"));

  CreateOctKeyOptions oct("o");
  oct.KeySize = 256;
  body = json::parse(SerializeCreateKey(oct.GetKeyType(), oct, oct.KeySize, {}, {}));
  EXPECT_EQ(body, json::parse(R"({"kty":"oct","key_size":256,"attributes":{}})"));
}

TEST(WireFidelity, ImportAndUpdateBodies) {
  JsonWebKey jwk;
  jwk.KeyType = KeyVaultKeyType::Oct;
  jwk.K = std::vector<uint8_t>(16, 0xab);
  jwk.SetKeyOperations({KeyOperation::Encrypt});
  ImportKeyOptions import("imp", jwk);
  import.HardwareProtected = true;
  import.Properties.Enabled = true;
  json::value body = json::parse(SerializeImportKey(import));
  EXPECT_EQ(body.at("key").at("kty"), "oct");
  EXPECT_EQ(body.at("key").at("k"), "q6urq6urq6urq6urq6urqw");
  EXPECT_EQ(body.at("key").at("key_ops"), json::parse(R"(["encrypt"])"));
  EXPECT_EQ(body.at("Hsm"), true);  // capital H on the wire
  EXPECT_EQ(body.at("attributes"), json::parse(R"({"enabled":true})"));
  EXPECT_FALSE(body.at("key").as_object().contains("n"));

  KeyProperties p("k");
  p.NotBefore = DateTime::FromUnixSeconds(100);
  p.Tags["a"] = "b";
  body = json::parse(SerializeUpdateKey(p, std::vector<KeyOperation>{KeyOperation::Decrypt}));
  EXPECT_EQ(body,
            json::parse(R"({"key_ops":["decrypt"],"attributes":{"nbf":100},"tags":{"a":"b"}})"));
  body = json::parse(SerializeUpdateKey(KeyProperties("k"), {}));
  EXPECT_EQ(body, json::parse(R"({"attributes":{}})"));
}

TEST(WireFidelity, RotationPolicyBody) {
  KeyRotationPolicy policy;
  LifetimeActionsType rotate;
  rotate.Trigger.TimeAfterCreate = "P90D";
  rotate.Action = LifetimeActionType::Rotate;
  policy.LifetimeActions.push_back(rotate);
  policy.ExpiresIn = "P2Y";
  EXPECT_EQ(json::parse(SerializeRotationPolicy(policy)),
            json::parse(R"({"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},
              "action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P2Y"}})"));
  EXPECT_EQ(json::parse(SerializeRandomBytes(4)), json::parse(R"({"count":4})"));
  EXPECT_EQ(json::parse(SerializeRestore({1, 2, 3})), json::parse(R"({"value":"AQID"})"));
}

}  // namespace
}  // namespace coffre::keys::_detail

namespace coffre::core {
namespace {

using coffre::testing::MakeResponse;

TEST(RequestFailedException, FieldsFromKeyVaultErrorBody) {
  auto raw = MakeResponse(404, coffre::testing::KeyNotFoundBody("missing"),
                          {{"x-ms-request-id", "7a2b5e8c-1111-2222-3333-444455556666"},
                           {"x-ms-client-request-id", "client-id-1"}});
  RequestFailedException e(std::move(raw));
  EXPECT_EQ(e.StatusCode, http::HttpStatusCode::NotFound);
  EXPECT_EQ(e.ErrorCode, "KeyNotFound");
  EXPECT_EQ(e.Message.rfind("A key with (name/id) missing was not found in this key vault.", 0),
            0u);
  EXPECT_EQ(e.RequestId, "7a2b5e8c-1111-2222-3333-444455556666");
  EXPECT_EQ(e.ClientRequestId, "client-id-1");
  EXPECT_EQ(e.ReasonPhrase, "Reason");
  ASSERT_NE(e.RawResponse, nullptr);
  std::string what = e.what();
  EXPECT_NE(what.find("404"), std::string::npos);
  EXPECT_NE(what.find("KeyNotFound"), std::string::npos);
  EXPECT_NE(what.find("7a2b5e8c-1111-2222-3333-444455556666"), std::string::npos);

  RequestFailedException copy(e);  // copies deep, RawResponse included
  EXPECT_EQ(copy.ErrorCode, "KeyNotFound");
  ASSERT_NE(copy.RawResponse, nullptr);
  EXPECT_NE(copy.RawResponse.get(), e.RawResponse.get());
  EXPECT_STREQ(copy.what(), e.what());
}

TEST(RequestFailedException, ConflictAndOddBodies) {
  RequestFailedException conflict(MakeResponse(409, coffre::testing::ConflictBody("k")));
  EXPECT_EQ(conflict.StatusCode, http::HttpStatusCode::Conflict);
  EXPECT_EQ(conflict.ErrorCode, "Conflict");
  EXPECT_NE(conflict.Message.find("deleted but recoverable state"), std::string::npos);

  RequestFailedException html(MakeResponse(502, "<html>bad gateway</html>"));
  EXPECT_EQ(html.StatusCode, http::HttpStatusCode::BadGateway);
  EXPECT_EQ(html.ErrorCode, "");
  EXPECT_EQ(html.RequestId, "");

  RequestFailedException oauth(
      MakeResponse(401, R"({"error":"invalid_client","error_description":"bad secret"})"));
  EXPECT_EQ(oauth.ErrorCode, "invalid_client");
  EXPECT_EQ(oauth.Message, "bad secret");
}

}  // namespace
}  // namespace coffre::core
