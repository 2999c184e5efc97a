// KeyClient and CryptographyClient over a scripted transport: request shapes, paging through
// nextLink, long-running operations, error mapping, local versus remote cryptography.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/encoding.h"
#include "coffre/core/exception.h"
#include "coffre/identity/identity.h"
#include "coffre/keys/keys.h"
#include "test_support.h"

namespace coffre::keys {
namespace {

namespace json = boost::json;
using coffre::testing::FakeTransport;
using coffre::testing::MakeResponse;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::Request;

constexpr const char* kVault = "https://myvault.vault.azure.net";

using coffre::testing::PathOf;
using coffre::testing::ScriptedVault;

struct Harness {
  std::shared_ptr<ScriptedVault> vault = std::make_shared<ScriptedVault>();
  std::shared_ptr<FakeTransport> transport;
  std::unique_ptr<KeyClient> client;

  Harness() {
    transport = std::make_shared<FakeTransport>([v = vault](const Request& r) { return (*v)(r); });
    KeyClientOptions options;
    options.Transport.Transport = transport;
    options.Retry.MaxRetries = 0;
    client = std::make_unique<KeyClient>(
        kVault, std::make_shared<identity::StaticTokenCredential>("tok"), options);
  }

  // Requests after the challenge probe, as "METHOD path".
  std::vector<std::string> Sent() {
    std::vector<std::string> out;
    for (const auto& r : transport->requests()) {
      if (!r.GetHeader("Authorization")) continue;
      out.push_back(std::string(core::http::HttpMethodToString(r.GetMethod())) + " " + PathOf(r));
    }
    return out;
  }
};

TEST(KeyClient, RejectsNonHttpsVaults) {
  auto credential = std::make_shared<identity::StaticTokenCredential>("t");
  EXPECT_THROW(KeyClient("http://myvault.vault.azure.net", credential), std::invalid_argument);
  EXPECT_THROW(KeyClient("myvault", credential), std::invalid_argument);
  EXPECT_THROW(KeyClient("https://v.vault.azure.net/some/path", credential), std::invalid_argument);
  EXPECT_THROW(KeyClient(kVault, nullptr), std::invalid_argument);
  EXPECT_EQ(KeyClient("https://MyVault.vault.azure.net:443/", credential).GetUrl(),
            "https://myvault.vault.azure.net");
}

TEST(KeyClient, CreateGetAndUpdateShapes) {
  Harness h;
  h.vault->bodies["POST /keys/k1/create?api-version=7.5"] = {coffre::testing::kEcBundle};
  h.vault->bodies["GET /keys/k1/?api-version=7.5"] = {coffre::testing::kEcBundle};
  h.vault->bodies["GET /keys/k1/eaa877afabe64208a82d0a315e32a8a7?api-version=7.5"] = {
      coffre::testing::kEcBundle};
  h.vault->bodies["PATCH /keys/k1/eaa877afabe64208a82d0a315e32a8a7?api-version=7.5"] = {
      coffre::testing::kEcBundle};

  CreateEcKeyOptions ec("k1");
  ec.CurveName = KeyCurveName::P256;
  auto created = h.client->CreateEcKey(ec);
  EXPECT_EQ(created.Value.Name(), "k1");
  EXPECT_EQ(created.RawResponse->GetStatusCode(), HttpStatusCode::Ok);
  EXPECT_EQ(h.client->GetKey("k1").Value.Properties.Version, "eaa877afabe64208a82d0a315e32a8a7");
  EXPECT_EQ(h.client->GetKey("k1", "eaa877afabe64208a82d0a315e32a8a7").Value.GetKeyType(),
            KeyVaultKeyType::Ec);
  KeyProperties update = created.Value.Properties;
  update.Enabled = false;
  h.client->UpdateKeyProperties(update, std::vector<KeyOperation>{KeyOperation::Verify});

  auto requests = h.transport->requests();
  // probe + create, then three more
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].GetBody(), "");
  EXPECT_EQ(json::parse(requests[1].GetBody()),
            json::parse(R"({"kty":"EC","crv":"P-256","attributes":{}})"));
  EXPECT_EQ(requests[1].GetHeader("Content-Type").Value(), "application/json");
  EXPECT_EQ(requests[1].GetHeader("Authorization").Value(), "Bearer tok");
  auto patch = json::parse(requests[4].GetBody());
  EXPECT_EQ(patch.at("attributes").at("enabled"), false);
  EXPECT_EQ(patch.at("key_ops"), json::parse(R"(["verify"])"));
}

TEST(KeyClient, PagingFollowsNextLink) {
  Harness h;
  h.vault->bodies["GET /keys?api-version=7.5&maxresults=2"] = {coffre::testing::kKeysPage1};
  h.vault->bodies
      ["GET "
       "/keys?api-version=7.2&$skiptoken="
       "eyJOZXh0TWFya2VyIjoiMiE4MCFNREF3TURFeElXdGxlUzlMTWdBIiwiVGFyZ2V0TG9jYXRpb24iOjB9&"
       "maxresults=2"] = {coffre::testing::kKeysPage2};
  GetPropertiesOfKeysOptions options;
  options.MaxResults = 2;
  std::vector<std::string> names;
  int pages = 0;
  for (auto page = h.client->GetPropertiesOfKeys(options); page.HasPage(); page.MoveToNextPage()) {
    ++pages;
    for (const auto& item : page.Items) names.push_back(item.Name);
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(names, (std::vector<std::string>{"k1", "k2", "k3"}));
  // The nextLink (with its :443 and its own api-version) is followed verbatim.
  auto sent = h.Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].rfind("GET /keys?api-version=7.2&$skiptoken=", 0), 0u);
}

TEST(KeyClient, ResumesFromAPageTokenAndRefusesForeignLinks) {
  Harness h;
  h.vault->bodies["GET /deletedkeys?api-version=7.5"] = {coffre::testing::kDeletedKeysPage};
  auto page = h.client->GetDeletedKeys();
  ASSERT_EQ(page.Items.size(), 1u);
  EXPECT_FALSE(page.NextPageToken.HasValue());
  page.MoveToNextPage();
  EXPECT_FALSE(page.HasPage());

  GetPropertiesOfKeyVersionsOptions foreign;
  foreign.NextPageToken = "https://evil.example.com/keys/k/versions?api-version=7.5";
  EXPECT_THROW(h.client->GetPropertiesOfKeyVersions("k", foreign), std::invalid_argument);
  EXPECT_TRUE(h.transport->requests().size() <= 2u);  // nothing went to evil.example.com
  for (const auto& r : h.transport->requests()) {
    EXPECT_EQ(r.GetUrl().find("evil"), std::string::npos);
  }
}

TEST(KeyClient, DeleteOperationPollsUntilTheDeletedKeyAppears) {
  Harness h;
  h.vault->bodies["DELETE /keys/CreateSoftKeyTest?api-version=7.5"] = {
      coffre::testing::kDeletedRsaBundle};
  h.vault->statuses["GET /deletedkeys/CreateSoftKeyTest?api-version=7.5"] = {404, 404, 200};
  h.vault->bodies["GET /deletedkeys/CreateSoftKeyTest?api-version=7.5"] = {
      coffre::testing::KeyNotFoundBody("CreateSoftKeyTest"),
      coffre::testing::KeyNotFoundBody("CreateSoftKeyTest"), coffre::testing::kDeletedRsaBundle};
  DeleteKeyOperation operation = h.client->StartDeleteKey("CreateSoftKeyTest");
  EXPECT_FALSE(operation.IsDone());
  EXPECT_EQ(operation.Value().RecoveryId,
            "https://myvault.vault.azure.net/deletedkeys/CreateSoftKeyTest");
  EXPECT_EQ(operation.GetResumeToken(), "CreateSoftKeyTest");
  operation.Poll();
  EXPECT_EQ(operation.Status(), core::OperationStatus::Running);
  auto done = operation.PollUntilDone(std::chrono::milliseconds(1));
  EXPECT_TRUE(operation.IsDone());
  EXPECT_TRUE(operation.HasValue());
  EXPECT_EQ(done.Value.Name(), "CreateSoftKeyTest");
  EXPECT_EQ(done.RawResponse->GetStatusCode(), HttpStatusCode::Ok);
  auto sent = h.Sent();
  EXPECT_EQ(
      std::count(sent.begin(), sent.end(), "GET /deletedkeys/CreateSoftKeyTest?api-version=7.5"),
      3);
}

TEST(KeyClient, RecoverOperationAndResumeTokens) {
  Harness h;
  h.vault->bodies["POST /deletedkeys/k1/recover?api-version=7.5"] = {coffre::testing::kEcBundle};
  h.vault->statuses["GET /keys/k1/?api-version=7.5"] = {404, 200};
  h.vault->bodies["GET /keys/k1/?api-version=7.5"] = {coffre::testing::KeyNotFoundBody("k1"),
                                                      coffre::testing::kEcBundle};
  auto operation = h.client->StartRecoverDeletedKey("k1");
  EXPECT_EQ(operation.Value().Name(), "k1");
  auto key = operation.PollUntilDone(std::chrono::milliseconds(1)).Value;
  EXPECT_EQ(key.Properties.Version, "eaa877afabe64208a82d0a315e32a8a7");

  h.vault->bodies["GET /deletedkeys/gone?api-version=7.5"] = {coffre::testing::kDeletedRsaBundle};
  auto resumed = DeleteKeyOperation::CreateFromResumeToken("gone", *h.client);
  EXPECT_TRUE(resumed.IsDone());
}

TEST(KeyClient, ErrorsBecomeRequestFailedException) {
  Harness h;
  try {
    h.client->GetKey("missing");
    FAIL() << "expected RequestFailedException";
  } catch (const core::RequestFailedException& e) {
    EXPECT_EQ(e.StatusCode, HttpStatusCode::NotFound);
    EXPECT_EQ(e.ErrorCode, "KeyNotFound");
    EXPECT_EQ(e.RequestId, "rid-404");
    EXPECT_FALSE(e.ClientRequestId.empty());
  }
  h.vault->statuses["POST /keys/dup/create?api-version=7.5"] = {409};
  h.vault->bodies["POST /keys/dup/create?api-version=7.5"] = {coffre::testing::ConflictBody("dup")};
  try {
    h.client->CreateRsaKey(CreateRsaKeyOptions("dup"));
    FAIL() << "expected RequestFailedException";
  } catch (const core::RequestFailedException& e) {
    EXPECT_EQ(e.StatusCode, HttpStatusCode::Conflict);
    EXPECT_EQ(e.ErrorCode, "Conflict");
  }
  h.vault->bodies["GET /keys/garbled/?api-version=7.5"] = {"{not json"};
  EXPECT_THROW(h.client->GetKey("garbled"), core::RequestFailedException);
  EXPECT_THROW(h.client->GetKey(""), std::invalid_argument);
}

TEST(KeyClient, BackupRestoreRotationRandomPurge) {
  Harness h;
  h.vault->bodies["POST /keys/k1/backup?api-version=7.5"] = {R"({"value":"AQID"})"};
  h.vault->bodies["POST /keys/restore?api-version=7.5"] = {coffre::testing::kEcBundle};
  h.vault->bodies["POST /keys/k1/rotate?api-version=7.5"] = {coffre::testing::kEcBundle};
  h.vault->bodies["GET /keys/k1/rotationpolicy?api-version=7.5"] = {
      coffre::testing::kRotationPolicy};
  h.vault->bodies["PUT /keys/k1/rotationpolicy?api-version=7.5"] = {
      coffre::testing::kRotationPolicy};
  h.vault->bodies["POST /rng?api-version=7.5"] = {R"({"value":"MTIzNA"})"};
  h.vault->statuses["DELETE /deletedkeys/k1?api-version=7.5"] = {204};
  auto backup = h.client->BackupKey("k1").Value.BackupKey;
  EXPECT_EQ(backup, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(h.client->RestoreKeyBackup(backup).Value.Name(), "k1");
  EXPECT_EQ(h.client->RotateKey("k1").Value.Name(), "k1");
  auto policy = h.client->GetKeyRotationPolicy("k1").Value;
  EXPECT_EQ(policy.LifetimeActions.size(), 2u);
  h.client->UpdateKeyRotationPolicy("k1", policy);
  EXPECT_EQ(h.client->GetRandomBytes(GetRandomBytesOptions{4}).Value.RandomBytes.size(), 4u);
  EXPECT_EQ(h.client->PurgeDeletedKey("k1").RawResponse->GetStatusCode(),
            HttpStatusCode::NoContent);
  auto requests = h.transport->requests();
  EXPECT_EQ(json::parse(requests.back().GetBody().empty() ? "{}" : requests.back().GetBody()),
            json::parse("{}"));
}

TEST(CryptographyClient, LocalWhenThePublicKeyIsKnownRemoteOtherwise) {
  Harness h;
  // An RSA key the client fetches once; its public key is the one of kDeletedRsaBundle.
  h.vault->bodies["GET /keys/CreateSoftKeyTest/?api-version=7.5"] = {
      coffre::testing::kDeletedRsaBundle};
  h.vault->bodies
      ["POST /keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71/decrypt?api-version=7.5"] = {
      R"({"kid":"https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71","value":"aGk"})"};
  h.vault->bodies
      ["POST /keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71/sign?api-version=7.5"] = {
      R"({"kid":"https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71","value":"c2ln"})"};
  auto crypto = h.client->GetCryptographyClient("CreateSoftKeyTest");
  auto encrypted = crypto.Encrypt(cryptography::EncryptParameters::RsaOaep256Parameters({1, 2}));
  EXPECT_EQ(encrypted.Value.Ciphertext.size(), 256u);
  EXPECT_EQ(
      encrypted.Value.KeyId,
      "https://myvault.vault.azure.net/keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71");
  // Pinned to the fetched version from now on.
  EXPECT_EQ(crypto.GetKeyId(), encrypted.Value.KeyId);
  auto decrypted = crypto.Decrypt(
      cryptography::DecryptParameters::RsaOaep256Parameters(encrypted.Value.Ciphertext));
  EXPECT_EQ(decrypted.Value.Plaintext, (std::vector<uint8_t>{'h', 'i'}));
  auto signature = crypto.SignData(cryptography::SignatureAlgorithm::RS256, {'x'});
  EXPECT_EQ(signature.Value.Signature, (std::vector<uint8_t>{'s', 'i', 'g'}));
  // A garbage signature is verified locally (false), not sent anywhere.
  auto verified = crypto.Verify(cryptography::SignatureAlgorithm::RS256,
                                std::vector<uint8_t>(32, 0), std::vector<uint8_t>(256, 7));
  EXPECT_FALSE(verified.Value.IsValid);

  auto sent = h.Sent();
  EXPECT_EQ(
      sent,
      (std::vector<std::string>{
          "GET /keys/CreateSoftKeyTest/?api-version=7.5",
          "POST /keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71/decrypt?api-version=7.5",
          "POST /keys/CreateSoftKeyTest/78deebed173b48e48f55abf87ed4cf71/sign?api-version=7.5"}));
  auto sign_body = json::parse(h.transport->requests().back().GetBody());
  EXPECT_EQ(sign_body.at("alg"), "RS256");
  EXPECT_EQ(
      coffre::_detail::Base64UrlDecode(std::string(sign_body.at("value").as_string()))->size(),
      32u);  // SignData sent the SHA-256 digest
}

TEST(CryptographyClient, StaysRemoteWhenTheKeyCannotBeRead) {
  Harness h;
  h.vault->statuses["GET /keys/secret-key/?api-version=7.5"] = {403};
  h.vault->bodies["GET /keys/secret-key/?api-version=7.5"] = {
      R"({"error":{"code":"Forbidden","message":"no get permission"}})"};
  h.vault->bodies["POST /keys/secret-key/encrypt?api-version=7.5"] = {
      R"({"kid":"https://myvault.vault.azure.net/keys/secret-key/v1","value":"AQID"})"};
  auto crypto = h.client->GetCryptographyClient("secret-key");
  auto result = crypto.Encrypt(cryptography::EncryptParameters::RsaOaepParameters({9}));
  EXPECT_EQ(result.Value.Ciphertext, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(result.Value.KeyId, "https://myvault.vault.azure.net/keys/secret-key/v1");
}

}  // namespace
}  // namespace coffre::keys
