// End-to-end driver of the C++ client, run by tests/integration/test_client_cpp.py against a live
// Coffre server (credentials and CA bundle come from the server's dev.env).
//
//   client_e2e all              every KeyClient / CryptographyClient method ($COFFRE_VAULT_URL)
//   client_e2e secrets          every SecretClient method ($COFFRE_VAULT_URL)
//   client_e2e adfs             EnvironmentCredential (client secret, ADFS) lists keys
//   client_e2e adfs-bad         the same with a wrong secret: must fail to authenticate
//   client_e2e retry URL        GetKey through a fault-injecting server (429, 503, 200)
//   client_e2e retry-exhaust URL  the same server answering 503 forever: must give up
//
// Prints "ok - NAME" / "not ok - NAME: DETAIL" per check and exits 1 if any check failed.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coffre/core/curl_transport.h"
#include "coffre/core/exception.h"
#include "coffre/identity/identity.h"
#include "coffre/keys/keys.h"
#include "coffre/secrets/secrets.h"

namespace {

using coffre::core::RequestFailedException;
using coffre::core::http::HttpStatusCode;
using namespace coffre::keys;                // NOLINT: a test driver
using namespace coffre::keys::cryptography;  // NOLINT
using Bytes = std::vector<uint8_t>;

int g_failures = 0;
int g_checks = 0;

struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Expect(bool condition, const std::string& what) {
  if (!condition) throw CheckFailed(what);
}

template <class A, class B>
void ExpectEq(const A& actual, const B& expected, const std::string& what) {
  if (!(actual == expected)) {
    std::ostringstream out;
    out << what << ": got '" << actual << "', expected '" << expected << "'";
    throw CheckFailed(out.str());
  }
}

void Check(const std::string& name, const std::function<void()>& body) {
  ++g_checks;
  try {
    body();
    std::cout << "ok - " << name << std::endl;
  } catch (const std::exception& e) {
    ++g_failures;
    std::cout << "not ok - " << name << ": " << e.what() << std::endl;
  }
}

// Runs `call`, which must throw RequestFailedException with this status and error code.
void ExpectFailure(const std::function<void()>& call, int status, const std::string& code) {
  try {
    call();
  } catch (const RequestFailedException& e) {
    ExpectEq(static_cast<int>(e.StatusCode), status, "status");
    if (!code.empty()) ExpectEq(e.ErrorCode, code, "error code");
    Expect(!e.RequestId.empty(), "x-ms-request-id is set");
    Expect(!e.Message.empty(), "message is set");
    return;
  }
  throw CheckFailed("no RequestFailedException");
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Wraps the curl transport and remembers what went over the wire.
class CountingTransport : public coffre::core::http::HttpTransport {
 public:
  CountingTransport() : inner_(std::make_shared<coffre::core::http::CurlTransport>()) {}

  std::unique_ptr<coffre::core::http::RawResponse> Send(
      const coffre::core::http::Request& request, const coffre::core::Context& context) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::string url = request.GetUrl();
      std::string path = url.substr(url.find('/', 8));
      path = path.substr(0, path.find('?'));
      log_.push_back(std::string(coffre::core::http::HttpMethodToString(request.GetMethod())) +
                     " " + path);
      if (!request.GetHeader("Authorization")) ++unauthenticated_;
    }
    return inner_->Send(request, context);
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
  }
  size_t Count(const std::string& suffix) {
    auto log = Log();
    return static_cast<size_t>(std::count_if(log.begin(), log.end(), [&](const std::string& s) {
      return s.size() >= suffix.size() &&
             s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    }));
  }
  int Unauthenticated() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unauthenticated_;
  }

 private:
  std::shared_ptr<coffre::core::http::CurlTransport> inner_;
  std::mutex mutex_;
  std::vector<std::string> log_;
  int unauthenticated_ = 0;
};

Bytes BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw CheckFailed("EVP_PKEY_get_bn_param");
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

// A locally generated RSA key as a private JWK (for ImportKey).
JsonWebKey GenerateRsaJwk() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) throw CheckFailed("EVP_RSA_gen");
  JsonWebKey jwk;
  jwk.KeyType = KeyVaultKeyType::Rsa;
  jwk.N = BnParam(key, OSSL_PKEY_PARAM_RSA_N);
  jwk.E = BnParam(key, OSSL_PKEY_PARAM_RSA_E);
  jwk.D = BnParam(key, OSSL_PKEY_PARAM_RSA_D);
  jwk.P = BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR1);
  jwk.Q = BnParam(key, OSSL_PKEY_PARAM_RSA_FACTOR2);
  jwk.DP = BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT1);
  jwk.DQ = BnParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT2);
  jwk.QI = BnParam(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  EVP_PKEY_free(key);
  return jwk;
}

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

coffre::DateTime DateTimeFromSeconds(int64_t seconds) {
  return coffre::DateTime::FromUnixSeconds(seconds);
}

int RunAll() {
  const std::string vault_url = Env("COFFRE_VAULT_URL");
  if (vault_url.empty()) {
    std::cerr << "COFFRE_VAULT_URL is not set" << std::endl;
    return 2;
  }
  auto credential = std::make_shared<coffre::identity::DefaultAzureCredential>();
  auto transport = std::make_shared<CountingTransport>();
  KeyClientOptions options;
  options.Transport.Transport = transport;
  KeyClient client(vault_url, credential, options);

  std::string rsa_version;
  Check("create RSA key", [&] {
    CreateRsaKeyOptions o("e2e-rsa");
    o.KeySize = 2048;
    o.PublicExponent = 65537;
    o.Tags["purpose"] = "e2e";
    o.ExpiresOn = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
    auto key = client.CreateRsaKey(o).Value;
    ExpectEq(key.Name(), "e2e-rsa", "name");
    ExpectEq(key.GetKeyType().ToString(), "RSA", "kty");
    ExpectEq(key.Key.N.size(), 256u, "modulus bytes");
    Expect(key.Key.E == Bytes({1, 0, 1}), "e = AQAB");
    ExpectEq(key.Properties.VaultUrl, vault_url, "vault url from kid");
    ExpectEq(key.Properties.Version.size(), 32u, "version length");
    ExpectEq(key.Properties.Tags.at("purpose"), "e2e", "tag");
    Expect(key.Properties.ExpiresOn.HasValue(), "exp set");
    Expect(key.Properties.Enabled.Value(), "enabled");
    Expect(key.Key.SupportsOperation(KeyOperation::Encrypt), "encrypt allowed by default");
    rsa_version = key.Properties.Version;
  });
  Check("challenge probe only once", [&] {
    // The first request was the body-less probe; every later one carried the cached token.
    ExpectEq(transport->Unauthenticated(), 1, "requests without a token");
  });
  Check("create EC keys (P-256, P-384) and CreateKey", [&] {
    CreateEcKeyOptions p256("e2e-ec");
    p256.CurveName = KeyCurveName::P256;
    auto key = client.CreateEcKey(p256).Value;
    ExpectEq(key.Key.CurveName.Value().ToString(), "P-256", "curve");
    ExpectEq(key.Key.X.size(), 32u, "x");
    CreateEcKeyOptions p384("e2e-ec384");
    p384.CurveName = KeyCurveName::P384;
    ExpectEq(client.CreateEcKey(p384).Value.Key.X.size(), 48u, "P-384 x");
    CreateKeyOptions generic;
    generic.KeyOperations = {KeyOperation::Sign, KeyOperation::Verify};
    auto plain = client.CreateKey("e2e-generic", KeyVaultKeyType::Ec, generic).Value;
    ExpectEq(plain.KeyOperations().size(), 2u, "key_ops as requested");
  });
  Check("create oct key", [&] {
    CreateOctKeyOptions o("e2e-oct", true);
    o.KeySize = 256;
    auto key = client.CreateOctKey(o).Value;
    Expect(key.GetKeyType() == KeyVaultKeyType::OctHsm || key.GetKeyType() == KeyVaultKeyType::Oct,
           "kty oct: " + key.GetKeyType().ToString());
    Expect(key.Key.K.empty(), "no symmetric material returned");
  });
  Check("get key latest and by version", [&] {
    auto latest = client.GetKey("e2e-rsa");
    ExpectEq(latest.Value.Properties.Version, rsa_version, "latest version");
    ExpectEq(static_cast<int>(latest.RawResponse->GetStatusCode()), 200, "status");
    auto exact = client.GetKey("e2e-rsa", rsa_version).Value;
    ExpectEq(exact.Id(), vault_url + "/keys/e2e-rsa/" + rsa_version, "kid");
  });
  Check("update key properties", [&] {
    KeyProperties p("e2e-rsa");
    p.Enabled = false;
    p.Tags["purpose"] = "updated";
    auto updated =
        client
            .UpdateKeyProperties(
                p, std::vector<KeyOperation>{KeyOperation::Encrypt, KeyOperation::Decrypt,
                                             KeyOperation::Sign, KeyOperation::Verify,
                                             KeyOperation::WrapKey, KeyOperation::UnwrapKey})
            .Value;
    Expect(!updated.Properties.Enabled.Value(), "disabled");
    ExpectEq(updated.Properties.Tags.at("purpose"), "updated", "tag");
    // Encrypting with a disabled key is refused; the local path must not paper over it.
    auto crypto = client.GetCryptographyClient("e2e-rsa");
    ExpectFailure([&] { crypto.Encrypt(EncryptParameters::RsaOaep256Parameters(Text("x"))); }, 403,
                  "Forbidden");
    p.Enabled = true;
    p.Version = rsa_version;
    Expect(client.UpdateKeyProperties(p).Value.Properties.Enabled.Value(), "enabled again");
  });
  Check("paging across several pages (27 keys, maxresults 5 and default 25)", [&] {
    for (int i = 0; i < 27; ++i) {
      CreateEcKeyOptions o("e2e-page-" + std::to_string(i));
      client.CreateEcKey(o);
    }
    std::set<std::string> names;
    int pages = 0;
    GetPropertiesOfKeysOptions small;
    small.MaxResults = 5;
    for (auto page = client.GetPropertiesOfKeys(small); page.HasPage(); page.MoveToNextPage()) {
      ++pages;
      Expect(page.Items.size() <= 5, "page size <= 5");
      for (const auto& item : page.Items) {
        Expect(item.Version.empty(), "list items are version-less");
        names.insert(item.Name);
      }
    }
    for (int i = 0; i < 27; ++i) {
      Expect(names.count("e2e-page-" + std::to_string(i)) == 1, "all keys listed");
    }
    Expect(pages >= 7, "at least 7 pages of 5, got " + std::to_string(pages));
    int default_pages = 0;
    size_t total = 0;
    for (auto page = client.GetPropertiesOfKeys(); page.HasPage(); page.MoveToNextPage()) {
      ++default_pages;
      total += page.Items.size();
    }
    Expect(default_pages >= 2, "at least 2 default pages");
    ExpectEq(total, names.size(), "same keys either way");
    // Resume from a page token.
    GetPropertiesOfKeysOptions resume;
    resume.MaxResults = 5;
    auto first = client.GetPropertiesOfKeys(resume);
    resume.NextPageToken = first.NextPageToken.Value();
    auto second = client.GetPropertiesOfKeys(resume);
    Expect(!second.Items.empty() && second.Items[0].Name != first.Items[0].Name, "resumed");
  });
  Check("key versions paging and rotate", [&] {
    for (int i = 0; i < 3; ++i) client.CreateRsaKey(CreateRsaKeyOptions("e2e-versions"));
    auto before = client.GetKey("e2e-versions").Value;
    auto rotated = client.RotateKey("e2e-versions").Value;
    Expect(rotated.Properties.Version != before.Properties.Version, "new version");
    ExpectEq(rotated.Key.N.size(), 256u, "same kind of key");
    std::set<std::string> versions;
    int pages = 0;
    GetPropertiesOfKeyVersionsOptions o;
    o.MaxResults = 1;
    for (auto page = client.GetPropertiesOfKeyVersions("e2e-versions", o); page.HasPage();
         page.MoveToNextPage()) {
      ++pages;
      for (const auto& item : page.Items) versions.insert(item.Version);
    }
    ExpectEq(versions.size(), 4u, "versions");
    Expect(pages >= 4, "one version per page");
    Expect(versions.count(rotated.Properties.Version) == 1, "rotated version listed");
  });
  Check("rotation policy", [&] {
    auto initial = client.GetKeyRotationPolicy("e2e-versions").Value;
    Expect(initial.Id.find("/keys/e2e-versions/rotationpolicy") != std::string::npos, "id");
    KeyRotationPolicy policy;
    LifetimeActionsType rotate;
    rotate.Trigger.TimeAfterCreate = "P90D";
    rotate.Action = LifetimeActionType::Rotate;
    LifetimeActionsType notify;
    notify.Trigger.TimeBeforeExpiry = "P30D";
    notify.Action = LifetimeActionType::Notify;
    policy.LifetimeActions = {rotate, notify};
    policy.ExpiresIn = "P2Y";
    auto stored = client.UpdateKeyRotationPolicy("e2e-versions", policy).Value;
    ExpectEq(stored.LifetimeActions.size(), 2u, "actions");
    ExpectEq(stored.ExpiresIn.Value(), "P2Y", "expiry time");
    Expect(stored.CreatedOn.HasValue(), "created");
    auto read = client.GetKeyRotationPolicy("e2e-versions").Value;
    Expect(read.LifetimeActions[0].Action == LifetimeActionType::Rotate, "rotate action");
    ExpectEq(read.LifetimeActions[0].Trigger.TimeAfterCreate.Value(), "P90D", "trigger");
  });
  Check("import key", [&] {
    JsonWebKey jwk = GenerateRsaJwk();
    ImportKeyOptions o("e2e-imported", jwk);
    o.Properties.Tags["source"] = "openssl";
    auto imported = client.ImportKey(o).Value;
    Expect(imported.Key.N == jwk.N, "same modulus");
    Expect(imported.Key.D.empty(), "private part not returned");
    ExpectEq(imported.Properties.Tags.at("source"), "openssl", "tag");
    auto again = client.ImportKey("e2e-imported", jwk).Value;
    Expect(again.Properties.Version != imported.Properties.Version, "new version");
  });
  Check("random bytes", [&] {
    ExpectEq(client.GetRandomBytes(GetRandomBytesOptions{16}).Value.RandomBytes.size(), 16u,
             "count");
    ExpectFailure([&] { client.GetRandomBytes(GetRandomBytesOptions{0}); }, 400, "BadParameter");
  });
  Check("release key is refused by this server", [&] {
    KeyReleaseOptions release;
    release.Target = "attestation-token";
    ExpectFailure([&] { client.ReleaseKey("e2e-rsa", "", release); }, 400, "");
  });
  Check("delete, get deleted, list deleted, recover", [&] {
    auto operation = client.StartDeleteKey("e2e-ec384");
    ExpectEq(operation.Value().RecoveryId, vault_url + "/deletedkeys/e2e-ec384", "recovery id");
    ExpectEq(operation.GetResumeToken(), "e2e-ec384", "resume token");
    auto deleted = operation.PollUntilDone(std::chrono::milliseconds(200)).Value;
    Expect(operation.IsDone(), "done");
    ExpectEq(deleted.Name(), "e2e-ec384", "deleted name");
    auto fetched = client.GetDeletedKey("e2e-ec384").Value;
    Expect(fetched.ScheduledPurgeDate > fetched.DeletedDate, "purge date after delete date");
    ExpectFailure([&] { client.GetKey("e2e-ec384"); }, 404, "KeyNotFound");
    auto resumed = DeleteKeyOperation::CreateFromResumeToken("e2e-ec384", client);
    Expect(resumed.IsDone(), "resumed operation is done");
    client.StartDeleteKey("e2e-page-0").PollUntilDone(std::chrono::milliseconds(100));
    client.StartDeleteKey("e2e-page-1").PollUntilDone(std::chrono::milliseconds(100));
    std::set<std::string> names;
    GetDeletedKeysOptions o;
    o.MaxResults = 1;
    int pages = 0;
    for (auto page = client.GetDeletedKeys(o); page.HasPage(); page.MoveToNextPage()) {
      ++pages;
      for (const auto& item : page.Items) names.insert(item.Name());
    }
    Expect(names.count("e2e-ec384") && names.count("e2e-page-0") && names.count("e2e-page-1"),
           "deleted keys listed");
    Expect(pages >= 3, "deleted keys paged");
    auto recover = client.StartRecoverDeletedKey("e2e-ec384");
    auto recovered = recover.PollUntilDone(std::chrono::milliseconds(200)).Value;
    ExpectEq(recovered.Name(), "e2e-ec384", "recovered");
    ExpectEq(client.GetKey("e2e-ec384").Value.Key.X.size(), 48u, "usable again");
    auto resumed_recover = RecoverDeletedKeyOperation::CreateFromResumeToken("e2e-ec384", client);
    Expect(resumed_recover.IsDone() && resumed_recover.HasValue(), "resumed recover is done");
    ExpectEq(client.GetUrl(), vault_url, "GetUrl");
  });
  Check("errors: 404 KeyNotFound, 409 Conflict, 400 BadParameter", [&] {
    ExpectFailure([&] { client.GetKey("e2e-does-not-exist"); }, 404, "KeyNotFound");
    ExpectFailure([&] { client.GetDeletedKey("e2e-rsa"); }, 404, "KeyNotFound");
    ExpectFailure([&] { client.StartDeleteKey("e2e-does-not-exist"); }, 404, "KeyNotFound");
    ExpectFailure([&] { client.StartRecoverDeletedKey("e2e-does-not-exist"); }, 404, "KeyNotFound");
    // e2e-page-0 is soft-deleted: its name cannot be reused.
    ExpectFailure([&] { client.CreateEcKey(CreateEcKeyOptions("e2e-page-0")); }, 409, "Conflict");
    GetPropertiesOfKeysOptions too_many;
    too_many.MaxResults = 26;
    ExpectFailure([&] { client.GetPropertiesOfKeys(too_many); }, 400, "BadParameter");
    try {
      client.GetKey("e2e-does-not-exist");
    } catch (const RequestFailedException& e) {
      Expect(e.Message.find("e2e-does-not-exist") != std::string::npos, "message names the key");
      Expect(!e.ClientRequestId.empty(), "client request id echoed");
    }
  });
  Check("purge", [&] {
    client.PurgeDeletedKey("e2e-page-1");
    ExpectFailure([&] { client.GetDeletedKey("e2e-page-1"); }, 404, "KeyNotFound");
    ExpectFailure([&] { client.PurgeDeletedKey("e2e-page-1"); }, 404, "");
  });
  Check("backup and restore", [&] {
    auto backup = client.BackupKey("e2e-generic").Value.BackupKey;
    Expect(backup.size() > 32, "backup blob");
    ExpectFailure([&] { client.RestoreKeyBackup(backup); }, 409, "");  // name in use
    client.StartDeleteKey("e2e-generic").PollUntilDone(std::chrono::milliseconds(100));
    client.PurgeDeletedKey("e2e-generic");
    auto restored = client.RestoreKeyBackup(backup).Value;
    ExpectEq(restored.Name(), "e2e-generic", "restored");
    ExpectEq(client.GetKey("e2e-generic").Value.KeyOperations().size(), 2u, "key ops kept");
    ExpectFailure([&] { client.RestoreKeyBackup(Text("garbage")); }, 400, "");
  });

  // ---- cryptography ------------------------------------------------------------------------
  Check("RSA encrypt locally, decrypt remotely", [&] {
    auto crypto = client.GetCryptographyClient("e2e-rsa");
    Bytes plaintext = Text("attack at dawn");
    for (const auto& alg : {EncryptionAlgorithm::RsaOaep, EncryptionAlgorithm::RsaOaep256,
                            EncryptionAlgorithm::Rsa15}) {
      size_t remote_before = transport->Count("/encrypt");
      auto encrypted = crypto.Encrypt(EncryptParameters(alg, plaintext)).Value;
      ExpectEq(transport->Count("/encrypt"), remote_before, alg.ToString() + " stayed local");
      ExpectEq(encrypted.Ciphertext.size(), 256u, "ciphertext size");
      ExpectEq(encrypted.KeyId, vault_url + "/keys/e2e-rsa/" + rsa_version, "key id");
      auto decrypted = crypto.Decrypt(DecryptParameters(alg, encrypted.Ciphertext)).Value;
      Expect(decrypted.Plaintext == plaintext, alg.ToString() + " round trip");
    }
    Expect(transport->Count("/decrypt") >= 3, "decrypt went to the service");
  });
  Check("RSA wrap locally, unwrap remotely", [&] {
    auto crypto = client.GetCryptographyClient("e2e-rsa", rsa_version);
    Bytes key(32, 0x42);
    auto wrapped = crypto.WrapKey(KeyWrapAlgorithm::RsaOaep256, key).Value;
    ExpectEq(transport->Count("/wrapkey"), 0u, "wrap stayed local");
    auto unwrapped = crypto.UnwrapKey(KeyWrapAlgorithm::RsaOaep256, wrapped.EncryptedKey).Value;
    Expect(unwrapped.Key == key, "unwrap round trip");
  });
  Check("RSA sign remotely, verify locally and remotely", [&] {
    auto crypto = client.GetCryptographyClient("e2e-rsa");
    Bytes data = Text("signed content");
    for (const auto& alg :
         {SignatureAlgorithm::RS256, SignatureAlgorithm::PS384, SignatureAlgorithm::RS512}) {
      auto signature = crypto.SignData(alg, data).Value;
      ExpectEq(signature.Signature.size(), 256u, "signature size");
      size_t verify_before = transport->Count("/verify");
      Expect(crypto.VerifyData(alg, data, signature.Signature).Value.IsValid,
             alg.ToString() + " verifies locally");
      ExpectEq(transport->Count("/verify"), verify_before, "verify stayed local");
      Bytes tampered = signature.Signature;
      tampered[0] ^= 1;
      Expect(!crypto.VerifyData(alg, data, tampered).Value.IsValid, "tampered fails");
    }
    // The service's verify, through a remote-only client built from the key id.
    CryptographyClientOptions remote_only;
    remote_only.UseLocalCryptography = false;
    remote_only.Transport.Transport = transport;
    CryptographyClient remote(vault_url + "/keys/e2e-rsa", credential, remote_only);
    auto signature = remote.SignData(SignatureAlgorithm::PS256, data).Value;
    size_t verify_before = transport->Count("/verify");
    Expect(remote.VerifyData(SignatureAlgorithm::PS256, data, signature.Signature).Value.IsValid,
           "remote verify");
    ExpectEq(transport->Count("/verify"), verify_before + 1, "verify went to the service");
    Bytes tampered = signature.Signature;
    tampered[5] ^= 1;
    Expect(!remote.VerifyData(SignatureAlgorithm::PS256, data, tampered).Value.IsValid,
           "remote verify of a bad signature");
  });
  Check("EC sign and verify (ES256, ES384)", [&] {
    auto p256 = client.GetCryptographyClient("e2e-ec");
    auto signature = p256.SignData(SignatureAlgorithm::ES256, Text("ec data")).Value;
    ExpectEq(signature.Signature.size(), 64u, "raw r||s");
    Expect(p256.VerifyData(SignatureAlgorithm::ES256, Text("ec data"), signature.Signature)
               .Value.IsValid,
           "ES256 verifies");
    Expect(!p256.VerifyData(SignatureAlgorithm::ES256, Text("other"), signature.Signature)
                .Value.IsValid,
           "other data fails");
    auto p384 = client.GetCryptographyClient("e2e-ec384");
    auto sig384 = p384.SignData(SignatureAlgorithm::ES384, Text("ec data")).Value;
    ExpectEq(sig384.Signature.size(), 96u, "P-384 r||s");
    Expect(
        p384.VerifyData(SignatureAlgorithm::ES384, Text("ec data"), sig384.Signature).Value.IsValid,
        "ES384 verifies");
    // KeyClient-built EC key known up front: verify without any GET.
    CryptographyClientOptions local_options;
    local_options.Transport.Transport = transport;
    CryptographyClient known(client.GetKey("e2e-ec").Value, credential, local_options);
    size_t verify_before = transport->Count("/verify");
    Expect(known.VerifyData(SignatureAlgorithm::ES256, Text("ec data"), signature.Signature)
               .Value.IsValid,
           "verify with a known key");
    ExpectEq(transport->Count("/verify"), verify_before, "no service call");
  });
  Check("AES (oct) encrypt, decrypt, wrap, unwrap", [&] {
    auto crypto = client.GetCryptographyClient("e2e-oct");
    Bytes plaintext = Text("symmetric secret");
    Bytes aad = Text("context");
    auto gcm = crypto.Encrypt(EncryptParameters::A256GcmParameters(plaintext, aad)).Value;
    ExpectEq(gcm.Iv.size(), 12u, "service-made nonce");
    ExpectEq(gcm.AuthenticationTag.size(), 16u, "tag");
    auto opened = crypto
                      .Decrypt(DecryptParameters::A256GcmParameters(gcm.Ciphertext, gcm.Iv,
                                                                    gcm.AuthenticationTag, aad))
                      .Value;
    Expect(opened.Plaintext == plaintext, "GCM round trip");
    auto cbc = crypto.Encrypt(EncryptParameters::A256CbcPadParameters(plaintext)).Value;
    ExpectEq(cbc.Iv.size(), 16u, "client-made IV kept in the result");
    auto plain = crypto.Decrypt(DecryptParameters::A256CbcPadParameters(cbc.Ciphertext, cbc.Iv));
    Expect(plain.Value.Plaintext == plaintext, "CBC-PAD round trip");
    Bytes key(32, 7);
    auto wrapped = crypto.WrapKey(KeyWrapAlgorithm::A256KW, key).Value;
    ExpectEq(wrapped.EncryptedKey.size(), 40u, "RFC 3394 output");
    Expect(crypto.UnwrapKey(KeyWrapAlgorithm::A256KW, wrapped.EncryptedKey).Value.Key == key,
           "KW round trip");
  });
  Check("crypto errors map to RequestFailedException", [&] {
    auto missing = client.GetCryptographyClient("e2e-does-not-exist");
    ExpectFailure([&] { missing.Sign(SignatureAlgorithm::RS256, Bytes(32, 1)); }, 404,
                  "KeyNotFound");
    // EC keys do not permit encrypt: refused by the service, not attempted locally.
    auto ec = client.GetCryptographyClient("e2e-ec");
    ExpectFailure([&] { ec.Encrypt(EncryptParameters::RsaOaepParameters(Text("x"))); }, 403,
                  "Forbidden");
    // An algorithm that does not fit the key type.
    auto rsa = client.GetCryptographyClient("e2e-rsa");
    ExpectFailure([&] { rsa.Sign(SignatureAlgorithm::ES256, Bytes(32, 1)); }, 400, "BadParameter");
  });
  Check("one client from many threads", [&] {
    int probes_before = transport->Unauthenticated();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          try {
            auto key = client.GetKey("e2e-page-" + std::to_string(2 + (t + i) % 20)).Value;
            auto crypto = client.GetCryptographyClient(key.Name());
            auto sig = crypto.SignData(SignatureAlgorithm::ES256, Text("t")).Value;
            if (crypto.VerifyData(SignatureAlgorithm::ES256, Text("t"), sig.Signature)
                    .Value.IsValid) {
              ++ok;
            }
          } catch (const std::exception& e) {
            std::cerr << "thread: " << e.what() << std::endl;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ExpectEq(ok.load(), 40, "successful calls");
    // The client learned the challenge long ago: no thread probes again.
    ExpectEq(transport->Unauthenticated(), probes_before, "no new challenge probe");
  });

  std::cout << (g_checks - g_failures) << "/" << g_checks << " checks passed" << std::endl;
  return g_failures == 0 ? 0 : 1;
}

// ---- secrets ---------------------------------------------------------------------------------

int RunSecrets() {
  namespace sec = coffre::secrets;
  const std::string vault_url = Env("COFFRE_VAULT_URL");
  if (vault_url.empty()) {
    std::cerr << "COFFRE_VAULT_URL is not set" << std::endl;
    return 2;
  }
  auto credential = std::make_shared<coffre::identity::DefaultAzureCredential>();
  auto transport = std::make_shared<CountingTransport>();
  sec::SecretClientOptions options;
  options.Transport.Transport = transport;
  sec::SecretClient client(vault_url, credential, options);
  const auto poll = std::chrono::milliseconds(50);

  // JSON specials, control characters and non-ASCII text survive the round trip unchanged.
  const std::string tricky = "p@ss \"w0rd\"\\ \n\t\x01 \xc3\xa9\xe2\x82\xac \xf0\x9f\x94\x91";
  std::string first_version;
  Check("set and get a secret", [&] {
    auto set = client.SetSecret("e2e-secret", tricky).Value;
    ExpectEq(set.Name, "e2e-secret", "name");
    Expect(set.Value.HasValue() && set.Value.Value() == tricky, "value echoed");
    ExpectEq(set.Properties.Version.size(), 32u, "version length");
    ExpectEq(set.Properties.VaultUrl, vault_url, "vault url from id");
    ExpectEq(set.Id, vault_url + "/secrets/e2e-secret/" + set.Properties.Version, "id");
    Expect(set.Properties.Enabled.Value(), "enabled by default");
    Expect(set.Properties.CreatedOn.HasValue() && set.Properties.UpdatedOn.HasValue(), "times");
    Expect(!set.Properties.Managed, "not managed");
    first_version = set.Properties.Version;
    auto got = client.GetSecret("e2e-secret").Value;
    Expect(got.Value.Value() == tricky, "value read back");
    ExpectEq(got.Properties.Version, first_version, "latest version");
  });
  Check("challenge probe only once",
        [&] { ExpectEq(transport->Unauthenticated(), 1, "requests without a token"); });
  std::string second_version;
  Check("a second set makes a new version; both versions read", [&] {
    sec::KeyVaultSecret secret("e2e-secret", "second value");
    secret.Properties.ContentType = "text/plain";
    secret.Properties.Tags = {{"env", "e2e"}, {"empty", ""}};
    secret.Properties.NotBefore = DateTimeFromSeconds(1700000000);
    // Already expired: expiry is informational, the secret still reads.
    secret.Properties.ExpiresOn = DateTimeFromSeconds(1700000600);
    auto set = client.SetSecret("e2e-secret", secret).Value;
    second_version = set.Properties.Version;
    Expect(second_version != first_version, "new version");
    auto latest = client.GetSecret("e2e-secret").Value;
    ExpectEq(latest.Value.Value(), "second value", "latest value");
    ExpectEq(latest.Properties.ContentType.Value(), "text/plain", "content type");
    ExpectEq(latest.Properties.Tags.at("env"), "e2e", "tag");
    ExpectEq(latest.Properties.Tags.at("empty"), "", "empty tag");
    ExpectEq(latest.Properties.NotBefore.Value().ToUnixSeconds(), 1700000000, "nbf");
    ExpectEq(latest.Properties.ExpiresOn.Value().ToUnixSeconds(), 1700000600, "exp");
    sec::GetSecretOptions first;
    first.Version = first_version;
    Expect(client.GetSecret("e2e-secret", first).Value.Value.Value() == tricky, "old version");
  });
  Check("list versions", [&] {
    std::set<std::string> versions;
    for (auto page = client.GetPropertiesOfSecretsVersions("e2e-secret"); page.HasPage();
         page.MoveToNextPage()) {
      for (const auto& item : page.Items) {
        ExpectEq(item.Name, "e2e-secret", "item name");
        versions.insert(item.Version);
      }
    }
    Expect(versions == std::set<std::string>({first_version, second_version}), "both versions");
  });
  Check("update properties never changes the value; a disabled version is 403", [&] {
    sec::SecretProperties properties("e2e-secret");
    properties.Version = first_version;
    properties.Enabled = false;
    properties.ContentType = "application/x-test";
    auto updated = client.UpdateSecretProperties(properties).Value;
    Expect(!updated.Value.HasValue(), "no value in the PATCH answer");
    Expect(!updated.Properties.Enabled.Value(), "disabled");
    ExpectEq(updated.Properties.ContentType.Value(), "application/x-test", "content type");
    sec::GetSecretOptions first;
    first.Version = first_version;
    ExpectFailure([&] { client.GetSecret("e2e-secret", first); }, 403, "Forbidden");
    // The other version still reads; re-enabling the first brings back its value.
    ExpectEq(client.GetSecret("e2e-secret").Value.Value.Value(), "second value", "latest");
    properties.Enabled = true;
    client.UpdateSecretProperties(properties);
    Expect(client.GetSecret("e2e-secret", first).Value.Value.Value() == tricky, "value kept");
  });
  Check("list secrets across pages", [&] {
    for (int i = 0; i < 12; ++i) client.SetSecret("e2e-page-" + std::to_string(i), "v");
    sec::GetPropertiesOfSecretsOptions o;
    o.MaxResults = 5;
    std::set<std::string> names;
    int pages = 0;
    for (auto page = client.GetPropertiesOfSecrets(o); page.HasPage(); page.MoveToNextPage()) {
      ++pages;
      Expect(page.Items.size() <= 5u, "at most maxresults per page");
      for (const auto& item : page.Items) {
        names.insert(item.Name);
        Expect(item.Version.empty(), "list ids carry no version");
        Expect(page.RawResponse->GetBodyAsString().find("\"value\":\"v\"") == std::string::npos,
               "no values in lists");
      }
    }
    Expect(pages >= 3, "several pages");
    for (int i = 0; i < 12; ++i) {
      Expect(names.count("e2e-page-" + std::to_string(i)) == 1, "page secret listed");
    }
    Expect(names.count("e2e-secret") == 1, "e2e-secret listed");
  });
  Check("delete, 409 on the deleted name, recover", [&] {
    client.SetSecret("e2e-delete", "to delete");
    auto operation = client.StartDeleteSecret("e2e-delete");
    ExpectEq(operation.Value().RecoveryId, vault_url + "/deletedsecrets/e2e-delete", "recoveryId");
    Expect(operation.Value().DeletedOn.HasValue(), "deletedDate");
    Expect(operation.Value().ScheduledPurgeDate.HasValue(), "scheduledPurgeDate");
    auto deleted = operation.PollUntilDone(poll).Value;
    ExpectEq(deleted.Name, "e2e-delete", "deleted name");
    ExpectEq(client.GetDeletedSecret("e2e-delete").Value.RecoveryId,
             vault_url + "/deletedsecrets/e2e-delete", "get deleted");
    bool listed = false;
    for (auto page = client.GetDeletedSecrets(); page.HasPage(); page.MoveToNextPage()) {
      for (const auto& item : page.Items) listed = listed || item.Name == "e2e-delete";
    }
    Expect(listed, "in the deleted list");
    ExpectFailure([&] { client.SetSecret("e2e-delete", "again"); }, 409, "Conflict");
    ExpectFailure([&] { client.GetSecret("e2e-delete"); }, 404, "SecretNotFound");
    auto recovered = client.StartRecoverDeletedSecret("e2e-delete").PollUntilDone(poll).Value;
    ExpectEq(recovered.Name, "e2e-delete", "recovered name");
    ExpectEq(client.GetSecret("e2e-delete").Value.Value.Value(), "to delete", "value back");
  });
  Check("purge", [&] {
    client.StartDeleteSecret("e2e-delete").PollUntilDone(poll);
    auto purged = client.PurgeDeletedSecret("e2e-delete");
    ExpectEq(static_cast<int>(purged.RawResponse->GetStatusCode()), 204, "purge status");
    ExpectFailure([&] { client.GetDeletedSecret("e2e-delete"); }, 404, "");
    client.SetSecret("e2e-delete", "reused");  // the name is free again
  });
  Check("backup, purge, restore; restore over an existing name is 409", [&] {
    auto backup = client.BackupSecret("e2e-secret").Value;
    Expect(backup.Secret.size() > 16, "backup blob");
    ExpectFailure([&] { client.RestoreSecretBackup(backup); }, 409, "");
    client.StartDeleteSecret("e2e-secret").PollUntilDone(poll);
    client.PurgeDeletedSecret("e2e-secret");
    auto restored = client.RestoreSecretBackup(backup).Value;
    ExpectEq(restored.Name, "e2e-secret", "restored name");
    ExpectEq(client.GetSecret("e2e-secret").Value.Value.Value(), "second value", "latest value");
    sec::GetSecretOptions first;
    first.Version = first_version;
    Expect(client.GetSecret("e2e-secret", first).Value.Value.Value() == tricky, "old version");
    Bytes forged = backup.Secret;
    forged[forged.size() / 2] ^= 1;
    ExpectFailure([&] { client.RestoreSecretBackup(forged); }, 400, "");
  });
  Check("limits and errors", [&] {
    const std::string largest(25600, 'x');
    ExpectEq(client.SetSecret("e2e-large", largest).Value.Value.Value().size(), 25600u, "25 KB");
    ExpectFailure([&] { client.SetSecret("e2e-large", largest + "x"); }, 400, "");
    ExpectFailure([&] { client.GetSecret("no-such-secret"); }, 404, "SecretNotFound");
    ExpectFailure([&] { client.GetSecret("bad_name"); }, 400, "");
    sec::GetSecretOptions missing;
    missing.Version = "0123456789abcdef0123456789abcdef";
    ExpectFailure([&] { client.GetSecret("e2e-secret", missing); }, 404, "SecretNotFound");
  });

  std::cout << (g_checks - g_failures) << "/" << g_checks << " checks passed" << std::endl;
  return g_failures == 0 ? 0 : 1;
}

int RunAdfs(bool expect_failure) {
  const std::string vault_url = Env("COFFRE_VAULT_URL");
  KeyClient client(vault_url, std::make_shared<coffre::identity::DefaultAzureCredential>());
  try {
    auto page = client.GetPropertiesOfKeys();
    if (expect_failure) {
      std::cout << "not ok - a wrong secret was accepted" << std::endl;
      return 1;
    }
    std::cout << "ok - listed " << page.Items.size() << " keys with a client secret" << std::endl;
    return 0;
  } catch (const coffre::core::credentials::AuthenticationException& e) {
    std::cout << (expect_failure ? "ok" : "not ok") << " - authentication failed: " << e.what()
              << std::endl;
    return expect_failure ? 0 : 1;
  }
}

int RunRetry(const std::string& url, bool exhaust) {
  KeyClientOptions options;
  // The fault server answers for https://localhost:PORT, which no resource can be a parent of.
  options.DisableChallengeResourceVerification = true;
  options.Retry.MaxRetries = 3;
  options.Retry.RetryDelay = std::chrono::milliseconds(100);
  KeyClient client(url, std::make_shared<coffre::identity::StaticTokenCredential>("static-token"),
                   options);
  try {
    auto key = client.GetKey("retry-key").Value;
    std::cout << "GOT " << key.Name() << " " << key.Properties.Version << std::endl;
    return exhaust ? 1 : 0;
  } catch (const RequestFailedException& e) {
    std::cout << "FAILED " << static_cast<int>(e.StatusCode) << " " << e.ErrorCode << " "
              << e.RequestId << std::endl;
    return exhaust ? 0 : 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "all";
  try {
    if (mode == "all") return RunAll();
    if (mode == "secrets") return RunSecrets();
    if (mode == "adfs") return RunAdfs(false);
    if (mode == "adfs-bad") return RunAdfs(true);
    if ((mode == "retry" || mode == "retry-exhaust") && argc > 2) {
      return RunRetry(argv[2], mode == "retry-exhaust");
    }
  } catch (const std::exception& e) {
    std::cout << "not ok - " << mode << ": " << e.what() << std::endl;
    return 1;
  }
  std::cerr << "usage: client_e2e [all | secrets | adfs | adfs-bad | retry URL | retry-exhaust URL]"
            << std::endl;
  return 2;
}
