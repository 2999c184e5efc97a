// SecretClient over a scripted transport: the request of every call, response parsing, paging
// through nextLink, delete/recover operations and error mapping.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/secret_serializers.h"
#include "coffre/core/exception.h"
#include "coffre/identity/identity.h"
#include "coffre/secrets/secrets.h"
#include "test_support.h"

namespace coffre::secrets {
namespace {

namespace json = boost::json;
using coffre::testing::FakeTransport;
using coffre::testing::PathOf;
using coffre::testing::ScriptedVault;
using core::http::HttpStatusCode;
using core::http::Request;

constexpr const char* kVault = "https://myvault.vault.azure.net";

// Shapes from the secrets REST reference examples and recordings.
constexpr const char* kSecretBundle = R"({"value":"mysecretvalue",
 "id":"https://myvault.vault.azure.net/secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79",
 "contentType":"text/plain","tags":{"env":"prod"},
 "attributes":{"enabled":true,"nbf":1493938000,"exp":1893938000,"created":1493938410,
  "updated":1493938411,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90}})";
// What PATCH, restore and recover answer: no value.
constexpr const char* kSecretBundleWithoutValue = R"({
 "id":"https://myvault.vault.azure.net/secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79",
 "attributes":{"enabled":false,"created":1493938410,"updated":1493938500,
  "recoveryLevel":"Recoverable+Purgeable"}})";
constexpr const char* kCertificateSecret = R"({"value":"MIIKZAIBAzCCCiAGCSqGSIb3DQEHAaCC",
 "id":"https://myvault.vault.azure.net/secrets/cert1/9c54e0b4bd0d4bc7acc3b1d0b58e0a77",
 "contentType":"application/x-pkcs12",
 "kid":"https://myvault.vault.azure.net/keys/cert1/9c54e0b4bd0d4bc7acc3b1d0b58e0a77",
 "managed":true,"attributes":{"enabled":true,"created":1493938410,"updated":1493938410,
  "recoveryLevel":"Recoverable+Purgeable"}})";
constexpr const char* kDeletedSecretBundle = R"({
 "recoveryId":"https://myvault.vault.azure.net/deletedsecrets/GetDeletedSecretTest",
 "deletedDate":1493938433,"scheduledPurgeDate":1501714433,
 "id":"https://myvault.vault.azure.net/secrets/GetDeletedSecretTest/1e2a0c2a4e104e08b4f6e01b5b7a7a93",
 "attributes":{"enabled":true,"created":1493938433,"updated":1493938433,
  "recoveryLevel":"Recoverable+Purgeable"}})";
constexpr const char* kSecretsPage1 = R"({"value":[
 {"id":"https://myvault.vault.azure.net/secrets/s1","attributes":{"enabled":true,"created":1493938289,"updated":1493938289,"recoveryLevel":"Recoverable+Purgeable"},"contentType":"text/plain"},
 {"id":"https://myvault.vault.azure.net/secrets/cert1","attributes":{"enabled":true,"created":1493938290,"updated":1493938290,"recoveryLevel":"Recoverable+Purgeable"},"contentType":"application/x-pkcs12","managed":true}],
 "nextLink":"https://myvault.vault.azure.net:443/secrets?api-version=7.5&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4MCJ9&maxresults=2"})";
constexpr const char* kSecretsPage2 = R"({"value":[
 {"id":"https://myvault.vault.azure.net/secrets/s3","attributes":{"enabled":false,"created":1493938292,"updated":1493938292,"recoveryLevel":"Recoverable+Purgeable"},"tags":{"a":"b"}}],
 "nextLink":null})";
constexpr const char* kVersionsPage = R"({"value":[
 {"id":"https://myvault.vault.azure.net/secrets/s1/0a1b2c3d4e5f60718293a4b5c6d7e8f9","attributes":{"enabled":true,"created":1493938289,"updated":1493938289}},
 {"id":"https://myvault.vault.azure.net/secrets/s1/ffeeddccbbaa99887766554433221100","attributes":{"enabled":false,"created":1493938300,"updated":1493938300}}],
 "nextLink":null})";
constexpr const char* kDeletedPage = R"({"value":[
 {"id":"https://myvault.vault.azure.net/secrets/gone","recoveryId":"https://myvault.vault.azure.net/deletedsecrets/gone",
  "deletedDate":1493937855,"scheduledPurgeDate":1501713855,
  "attributes":{"enabled":true,"created":1493937855,"updated":1493937855,"recoveryLevel":"Recoverable+Purgeable"}}],
 "nextLink":null})";

std::string SecretNotFoundBody(const std::string& name) {
  return R"({"error":{"code":"SecretNotFound","message":"A secret with (name/id) )" + name +
         R"( was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}})";
}

struct Harness {
  std::shared_ptr<ScriptedVault> vault = std::make_shared<ScriptedVault>();
  std::shared_ptr<FakeTransport> transport;
  std::unique_ptr<SecretClient> client;

  Harness() {
    vault->not_found_body = SecretNotFoundBody("x");
    transport = std::make_shared<FakeTransport>([v = vault](const Request& r) { return (*v)(r); });
    SecretClientOptions options;
    options.Transport.Transport = transport;
    options.Retry.MaxRetries = 0;
    client = std::make_unique<SecretClient>(
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
  json::value LastBody() { return json::parse(transport->requests().back().GetBody()); }
};

TEST(SecretClient, RejectsBadVaultsAndNames) {
  auto credential = std::make_shared<identity::StaticTokenCredential>("t");
  EXPECT_THROW(SecretClient("http://myvault.vault.azure.net", credential), std::invalid_argument);
  EXPECT_THROW(SecretClient("https://v.vault.azure.net/secrets", credential),
               std::invalid_argument);
  EXPECT_THROW(SecretClient(kVault, nullptr), std::invalid_argument);
  EXPECT_EQ(SecretClient("https://MyVault.vault.azure.net:443/", credential).GetUrl(),
            "https://myvault.vault.azure.net");
  EXPECT_THROW(KeyVaultSecret("", "v"), std::invalid_argument);
  Harness h;
  EXPECT_THROW(h.client->GetSecret(""), std::invalid_argument);
  EXPECT_THROW(h.client->SetSecret("", "v"), std::invalid_argument);
  EXPECT_THROW(h.client->StartDeleteSecret(""), std::invalid_argument);
  EXPECT_TRUE(h.transport->requests().empty());
}

TEST(SecretClient, SetSecretSendsTheValueOnlyAfterTheChallenge) {
  Harness h;
  h.vault->bodies["PUT /secrets/mysecretname?api-version=7.5"] = {kSecretBundle};
  auto set = h.client->SetSecret("mysecretname", "mysecretvalue");
  EXPECT_EQ(set.Value.Value.Value(), "mysecretvalue");
  EXPECT_EQ(set.RawResponse->GetStatusCode(), HttpStatusCode::Ok);
  auto requests = h.transport->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].GetBody(), "");  // the probe never carries the secret
  EXPECT_FALSE(requests[0].GetHeader("Authorization").HasValue());
  EXPECT_EQ(json::parse(requests[1].GetBody()), json::parse(R"({"value":"mysecretvalue"})"));
  EXPECT_EQ(requests[1].GetHeader("Content-Type").Value(), "application/json");
  EXPECT_EQ(requests[1].GetHeader("Authorization").Value(), "Bearer tok");
}

TEST(SecretClient, SetSecretWithProperties) {
  Harness h;
  h.vault->bodies["PUT /secrets/s1?api-version=7.5"] = {kSecretBundle};
  KeyVaultSecret secret("ignored-name", "p@ss\"word\n\x01\xc3\xa9");
  secret.Properties.ContentType = "text/plain";
  secret.Properties.Enabled = false;
  secret.Properties.NotBefore = DateTime::FromUnixSeconds(1700000000);
  secret.Properties.ExpiresOn = DateTime::FromUnixSeconds(1800000000);
  secret.Properties.Tags = {{"env", "prod"}, {"team", ""}};
  h.client->SetSecret("s1", secret);
  EXPECT_EQ(h.Sent(), std::vector<std::string>{"PUT /secrets/s1?api-version=7.5"});
  EXPECT_EQ(h.LastBody(), json::parse(R"({"value":"p@ss\"word\n\u0001\u00e9",
    "contentType":"text/plain","attributes":{"enabled":false,"nbf":1700000000,"exp":1800000000},
    "tags":{"env":"prod","team":""}})"));
}

TEST(SecretClient, SetSecretBodyEscapesEveryValueExactly) {
  std::string every_byte;
  for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
  std::string ascii(every_byte.begin(), every_byte.begin() + 127);
  for (const std::string& value : {std::string(), std::string("plain"), ascii,
                                   std::string(25600, 'x'), std::string("\"\\\b\f\n\r\t/")}) {
    std::string body = _detail::SerializeSetSecret(value, SecretProperties());
    json::value parsed = json::parse(body);
    EXPECT_EQ(parsed.at("value").as_string(), value);
    std::string literal;
    _detail::AppendJsonString(literal, value);
    EXPECT_EQ(literal.size(), _detail::JsonStringLength(value));
    EXPECT_EQ(literal, json::serialize(json::string(value)));
  }
}

TEST(SecretClient, ParsesLargeEscapedValuesFromWipedStorage) {
  std::string value(25600, 'a');
  value[0] = '"';
  value[100] = '\n';
  value[25599] = '\\';
  std::string body =
      R"({"id":"https://myvault.vault.azure.net/secrets/big/0123456789abcdef0123456789abcdef","value":)" +
      json::serialize(json::string(value)) + "}";
  KeyVaultSecret secret = _detail::ParseSecretBundle(body);
  EXPECT_EQ(secret.Value.Value(), value);
  EXPECT_EQ(secret.Properties.Version, "0123456789abcdef0123456789abcdef");
  EXPECT_THROW(_detail::ParseSecretBundle(""), std::invalid_argument);
  EXPECT_THROW(_detail::ParseSecretBundle(R"({"value":)"), std::invalid_argument);
  EXPECT_THROW(_detail::ParseSecretListResult("null"), std::invalid_argument);
}

TEST(SecretClient, GetSecretParsesEveryField) {
  Harness h;
  h.vault->bodies["GET /secrets/mysecretname/?api-version=7.5"] = {kSecretBundle};
  h.vault->bodies["GET /secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79?api-version=7.5"] = {
      kSecretBundle};
  h.vault->bodies["GET /secrets/cert1/?api-version=7.5"] = {kCertificateSecret};
  KeyVaultSecret s = h.client->GetSecret("mysecretname").Value;
  EXPECT_EQ(s.Name, "mysecretname");
  EXPECT_EQ(s.Value.Value(), "mysecretvalue");
  EXPECT_EQ(
      s.Id,
      "https://myvault.vault.azure.net/secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79");
  const SecretProperties& p = s.Properties;
  EXPECT_EQ(p.Id, s.Id);
  EXPECT_EQ(p.Name, "mysecretname");
  EXPECT_EQ(p.Version, "4387e9f3d6e14c459867679a90fd0f79");
  EXPECT_EQ(p.VaultUrl, kVault);
  EXPECT_EQ(p.ContentType.Value(), "text/plain");
  EXPECT_EQ(p.Tags.at("env"), "prod");
  EXPECT_TRUE(p.Enabled.Value());
  EXPECT_EQ(p.NotBefore.Value().ToUnixSeconds(), 1493938000);
  EXPECT_EQ(p.ExpiresOn.Value().ToUnixSeconds(), 1893938000);
  EXPECT_EQ(p.CreatedOn.Value().ToUnixSeconds(), 1493938410);
  EXPECT_EQ(p.UpdatedOn.Value().ToUnixSeconds(), 1493938411);
  EXPECT_EQ(p.RecoveryLevel.Value(), "Recoverable+Purgeable");
  EXPECT_EQ(p.RecoverableDays.Value(), 90);
  EXPECT_FALSE(p.Managed);
  EXPECT_FALSE(p.KeyId.HasValue());

  GetSecretOptions options;
  options.Version = "4387e9f3d6e14c459867679a90fd0f79";
  EXPECT_EQ(h.client->GetSecret("mysecretname", options).Value.Value.Value(), "mysecretvalue");

  KeyVaultSecret cert = h.client->GetSecret("cert1").Value;
  EXPECT_TRUE(cert.Properties.Managed);
  EXPECT_EQ(cert.Properties.KeyId.Value(),
            "https://myvault.vault.azure.net/keys/cert1/9c54e0b4bd0d4bc7acc3b1d0b58e0a77");
  EXPECT_EQ(cert.Properties.ContentType.Value(), "application/x-pkcs12");
}

TEST(SecretClient, UpdatePropertiesPatchesTheVersionWithoutTheValue) {
  Harness h;
  h.vault->bodies["PATCH /secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79?api-version=7.5"] =
      {kSecretBundleWithoutValue};
  h.vault->bodies["PATCH /secrets/mysecretname/?api-version=7.5"] = {kSecretBundleWithoutValue};
  SecretProperties properties = SecretProperties::CreateFromURL(
      "https://myvault.vault.azure.net/secrets/mysecretname/4387e9f3d6e14c459867679a90fd0f79");
  EXPECT_EQ(properties.Name, "mysecretname");
  properties.Enabled = false;
  properties.ContentType = "application/json";
  properties.Tags = {{"k", "v"}};
  auto updated = h.client->UpdateSecretProperties(properties).Value;
  EXPECT_FALSE(updated.Value.HasValue());
  EXPECT_FALSE(updated.Properties.Enabled.Value());
  EXPECT_EQ(h.LastBody(), json::parse(R"({"contentType":"application/json",
    "attributes":{"enabled":false},"tags":{"k":"v"}})"));

  h.client->UpdateSecretProperties(SecretProperties("mysecretname"));  // latest version
  EXPECT_EQ(h.Sent().back(), "PATCH /secrets/mysecretname/?api-version=7.5");
  EXPECT_FALSE(h.LastBody().as_object().contains("value"));
  EXPECT_THROW(SecretProperties::CreateFromURL("https://v.vault.azure.net/keys/k"),
               std::invalid_argument);
}

TEST(SecretClient, ListsFollowNextLinkAndCarryNoValues) {
  Harness h;
  h.vault->bodies["GET /secrets?api-version=7.5&maxresults=2"] = {kSecretsPage1};
  h.vault->bodies
      ["GET /secrets?api-version=7.5&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4MCJ9&maxresults=2"] = {
      kSecretsPage2};
  GetPropertiesOfSecretsOptions options;
  options.MaxResults = 2;
  std::vector<std::string> names;
  int pages = 0;
  for (auto page = h.client->GetPropertiesOfSecrets(options); page.HasPage();
       page.MoveToNextPage()) {
    ++pages;
    for (const auto& item : page.Items) {
      names.push_back(item.Name);
      EXPECT_TRUE(item.Version.empty());
    }
    if (pages == 1) {
      EXPECT_TRUE(page.Items[1].Managed);
      EXPECT_EQ(page.Items[0].ContentType.Value(), "text/plain");
    }
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(names, (std::vector<std::string>{"s1", "cert1", "s3"}));

  h.vault->bodies["GET /secrets/s1/versions?api-version=7.5"] = {kVersionsPage};
  auto versions = h.client->GetPropertiesOfSecretsVersions("s1");
  ASSERT_EQ(versions.Items.size(), 2u);
  EXPECT_EQ(versions.Items[1].Version, "ffeeddccbbaa99887766554433221100");
  EXPECT_FALSE(versions.Items[1].Enabled.Value());

  h.vault->bodies["GET /deletedsecrets?api-version=7.5"] = {kDeletedPage};
  auto deleted = h.client->GetDeletedSecrets();
  ASSERT_EQ(deleted.Items.size(), 1u);
  EXPECT_EQ(deleted.Items[0].Name, "gone");
  EXPECT_EQ(deleted.Items[0].RecoveryId, "https://myvault.vault.azure.net/deletedsecrets/gone");
  EXPECT_EQ(deleted.Items[0].DeletedOn.Value().ToUnixSeconds(), 1493937855);
  EXPECT_EQ(deleted.Items[0].ScheduledPurgeDate.Value().ToUnixSeconds(), 1501713855);
  EXPECT_FALSE(deleted.Items[0].Value.HasValue());
  deleted.MoveToNextPage();
  EXPECT_FALSE(deleted.HasPage());
}

TEST(SecretClient, ResumesFromAPageTokenAndRefusesForeignLinks) {
  Harness h;
  h.vault->bodies
      ["GET /secrets?api-version=7.5&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4MCJ9&maxresults=2"] = {
      kSecretsPage2};
  GetPropertiesOfSecretsOptions resume;
  resume.NextPageToken =
      "https://myvault.vault.azure.net/secrets?api-version=7.5&$skiptoken="
      "eyJOZXh0TWFya2VyIjoiMiE4MCJ9&maxresults=2";
  auto page = h.client->GetPropertiesOfSecrets(resume);
  EXPECT_EQ(page.CurrentPageToken, resume.NextPageToken.Value());
  ASSERT_EQ(page.Items.size(), 1u);

  GetDeletedSecretsOptions foreign;
  foreign.NextPageToken = "https://evil.example.com/deletedsecrets?api-version=7.5";
  EXPECT_THROW(h.client->GetDeletedSecrets(foreign), std::invalid_argument);
  for (const auto& r : h.transport->requests()) {
    EXPECT_EQ(r.GetUrl().find("evil"), std::string::npos);
  }
}

TEST(SecretClient, DeleteOperationPollsUntilTheDeletedSecretAppears) {
  Harness h;
  h.vault->bodies["DELETE /secrets/GetDeletedSecretTest?api-version=7.5"] = {kDeletedSecretBundle};
  h.vault->statuses["GET /deletedsecrets/GetDeletedSecretTest?api-version=7.5"] = {404, 404, 200};
  h.vault->bodies["GET /deletedsecrets/GetDeletedSecretTest?api-version=7.5"] = {
      SecretNotFoundBody("GetDeletedSecretTest"), SecretNotFoundBody("GetDeletedSecretTest"),
      kDeletedSecretBundle};
  DeleteSecretOperation operation = h.client->StartDeleteSecret("GetDeletedSecretTest");
  EXPECT_FALSE(operation.IsDone());
  EXPECT_EQ(operation.GetResumeToken(), "GetDeletedSecretTest");
  EXPECT_EQ(operation.Value().RecoveryId,
            "https://myvault.vault.azure.net/deletedsecrets/GetDeletedSecretTest");
  EXPECT_EQ(operation.Value().DeletedOn.Value().ToUnixSeconds(), 1493938433);
  EXPECT_EQ(operation.Value().ScheduledPurgeDate.Value().ToUnixSeconds(), 1501714433);
  operation.Poll();
  EXPECT_EQ(operation.Status(), core::OperationStatus::Running);
  auto done = operation.PollUntilDone(std::chrono::milliseconds(1));
  EXPECT_TRUE(operation.HasValue());
  EXPECT_EQ(done.Value.Name, "GetDeletedSecretTest");
  EXPECT_EQ(done.RawResponse->GetStatusCode(), HttpStatusCode::Ok);
  auto sent = h.Sent();
  EXPECT_EQ(std::count(sent.begin(), sent.end(),
                       "GET /deletedsecrets/GetDeletedSecretTest?api-version=7.5"),
            3);

  // A vault without soft delete answers without a recovery id: done at once, no polling.
  Harness plain;
  plain.vault->bodies["DELETE /secrets/s?api-version=7.5"] = {kSecretBundleWithoutValue};
  EXPECT_TRUE(plain.client->StartDeleteSecret("s").IsDone());
}

TEST(SecretClient, GetDeletedRecoverPurgeAndResumeTokens) {
  Harness h;
  h.vault->bodies["GET /deletedsecrets/GetDeletedSecretTest?api-version=7.5"] = {
      kDeletedSecretBundle};
  auto deleted = h.client->GetDeletedSecret("GetDeletedSecretTest").Value;
  EXPECT_EQ(deleted.Properties.Version, "1e2a0c2a4e104e08b4f6e01b5b7a7a93");

  h.vault->bodies["POST /deletedsecrets/mysecretname/recover?api-version=7.5"] = {
      kSecretBundleWithoutValue};
  h.vault->statuses["GET /secrets/mysecretname/?api-version=7.5"] = {404, 200};
  h.vault->bodies["GET /secrets/mysecretname/?api-version=7.5"] = {
      SecretNotFoundBody("mysecretname"), kSecretBundle};
  auto recover = h.client->StartRecoverDeletedSecret("mysecretname");
  EXPECT_EQ(recover.Value().Name, "mysecretname");
  EXPECT_FALSE(recover.IsDone());
  SecretProperties recovered = recover.PollUntilDone(std::chrono::milliseconds(1)).Value;
  EXPECT_EQ(recovered.Version, "4387e9f3d6e14c459867679a90fd0f79");
  EXPECT_EQ(recovered.ContentType.Value(), "text/plain");

  h.vault->bodies["GET /deletedsecrets/GetDeletedSecretTest?api-version=7.5"] = {
      kDeletedSecretBundle};
  EXPECT_TRUE(
      DeleteSecretOperation::CreateFromResumeToken("GetDeletedSecretTest", *h.client).IsDone());
  EXPECT_TRUE(
      RecoverDeletedSecretOperation::CreateFromResumeToken("mysecretname", *h.client).IsDone());

  h.vault->statuses["DELETE /deletedsecrets/mysecretname?api-version=7.5"] = {204};
  EXPECT_EQ(h.client->PurgeDeletedSecret("mysecretname").RawResponse->GetStatusCode(),
            HttpStatusCode::NoContent);
}

TEST(SecretClient, BackupAndRestore) {
  Harness h;
  h.vault->bodies["POST /secrets/mysecretname/backup?api-version=7.5"] = {
      R"({"value":"KUF6dXJlS2V5VmF1bHRTZWNyZXRCYWNrdXBWMS5taWNyb3NvZnQuY29tZXlKcmFXUWlPaUkwTkRJ"})"};
  h.vault->bodies["POST /secrets/restore?api-version=7.5"] = {kSecretBundleWithoutValue};
  BackupSecretResult backup = h.client->BackupSecret("mysecretname").Value;
  ASSERT_FALSE(backup.Secret.empty());
  EXPECT_EQ(backup.Secret[0], ')');
  auto restored = h.client->RestoreSecretBackup(backup).Value;
  EXPECT_EQ(restored.Name, "mysecretname");
  EXPECT_EQ(
      h.LastBody(),
      json::parse(
          R"({"value":"KUF6dXJlS2V5VmF1bHRTZWNyZXRCYWNrdXBWMS5taWNyb3NvZnQuY29tZXlKcmFXUWlPaUkwTkRJ"})"));
  h.client->RestoreSecretBackup(std::vector<uint8_t>{0xfb, 0xff});
  EXPECT_EQ(h.LastBody(), json::parse(R"({"value":"-_8"})"));  // unpadded base64url
}

TEST(SecretClient, ErrorsBecomeRequestFailedException) {
  Harness h;
  try {
    h.client->GetSecret("missing");
    FAIL() << "expected RequestFailedException";
  } catch (const core::RequestFailedException& e) {
    EXPECT_EQ(e.StatusCode, HttpStatusCode::NotFound);
    EXPECT_EQ(e.ErrorCode, "SecretNotFound");
    EXPECT_EQ(e.RequestId, "rid-404");
    EXPECT_FALSE(e.ClientRequestId.empty());
  }
  h.vault->statuses["GET /secrets/off/?api-version=7.5"] = {403};
  h.vault->bodies["GET /secrets/off/?api-version=7.5"] = {
      R"({"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}})"};
  try {
    h.client->GetSecret("off");
    FAIL() << "expected RequestFailedException";
  } catch (const core::RequestFailedException& e) {
    EXPECT_EQ(e.StatusCode, HttpStatusCode::Forbidden);
    EXPECT_EQ(e.ErrorCode, "Forbidden");
    EXPECT_EQ(e.Message, "Operation get is not allowed on a disabled secret.");
  }
  h.vault->statuses["PUT /secrets/dup?api-version=7.5"] = {409};
  h.vault->bodies["PUT /secrets/dup?api-version=7.5"] = {
      R"({"error":{"code":"Conflict","message":"Secret dup is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.","innererror":{"code":"ObjectIsDeletedButRecoverable"}}})"};
  try {
    h.client->SetSecret("dup", "do-not-leak-me");
    FAIL() << "expected RequestFailedException";
  } catch (const core::RequestFailedException& e) {
    EXPECT_EQ(e.StatusCode, HttpStatusCode::Conflict);
    EXPECT_EQ(e.ErrorCode, "Conflict");
    EXPECT_EQ(std::string(e.what()).find("do-not-leak-me"), std::string::npos);
  }
  h.vault->bodies["GET /secrets/garbled/?api-version=7.5"] = {"{not json"};
  EXPECT_THROW(h.client->GetSecret("garbled"), core::RequestFailedException);
  h.vault->bodies["GET /secrets/array/?api-version=7.5"] = {"[1,2]"};
  EXPECT_THROW(h.client->GetSecret("array"), core::RequestFailedException);
  h.vault->bodies["POST /secrets/s/backup?api-version=7.5"] = {R"({"value":"***"})"};
  EXPECT_THROW(h.client->BackupSecret("s"), core::RequestFailedException);
  h.vault->statuses["GET /deletedsecrets/broken?api-version=7.5"] = {500};
  h.vault->bodies["DELETE /secrets/broken?api-version=7.5"] = {
      R"({"recoveryId":"https://myvault.vault.azure.net/deletedsecrets/broken","id":"https://myvault.vault.azure.net/secrets/broken/v"})"};
  auto operation = h.client->StartDeleteSecret("broken");
  EXPECT_THROW(operation.Poll(), core::RequestFailedException);
}

}  // namespace
}  // namespace coffre::secrets
