#include "coffre/keys/cryptography/cryptography_client.h"

#include <boost/json.hpp>
#include <mutex>
#include <optional>

#include "client/encoding.h"
#include "client/json_util.h"
#include "client/key_client_impl.h"
#include "client/key_serializers.h"
#include "client/local_crypto.h"
#include "coffre/core/exception.h"
#include "coffre/keys/key_client.h"

namespace coffre::keys::cryptography {

// ---- well-known values -----------------------------------------------------------------------

const SignatureAlgorithm SignatureAlgorithm::RS256("RS256");
const SignatureAlgorithm SignatureAlgorithm::RS384("RS384");
const SignatureAlgorithm SignatureAlgorithm::RS512("RS512");
const SignatureAlgorithm SignatureAlgorithm::PS256("PS256");
const SignatureAlgorithm SignatureAlgorithm::PS384("PS384");
const SignatureAlgorithm SignatureAlgorithm::PS512("PS512");
const SignatureAlgorithm SignatureAlgorithm::ES256("ES256");
const SignatureAlgorithm SignatureAlgorithm::ES384("ES384");
const SignatureAlgorithm SignatureAlgorithm::ES512("ES512");
const SignatureAlgorithm SignatureAlgorithm::ES256K("ES256K");

const KeyWrapAlgorithm KeyWrapAlgorithm::Rsa15("RSA1_5");
const KeyWrapAlgorithm KeyWrapAlgorithm::RsaOaep("RSA-OAEP");
const KeyWrapAlgorithm KeyWrapAlgorithm::RsaOaep256("RSA-OAEP-256");
const KeyWrapAlgorithm KeyWrapAlgorithm::A128KW("A128KW");
const KeyWrapAlgorithm KeyWrapAlgorithm::A192KW("A192KW");
const KeyWrapAlgorithm KeyWrapAlgorithm::A256KW("A256KW");
const KeyWrapAlgorithm KeyWrapAlgorithm::CkmAesKeyWrap("CKM_AES_KEY_WRAP");
const KeyWrapAlgorithm KeyWrapAlgorithm::CkmAesKeyWrapPad("CKM_AES_KEY_WRAP_PAD");

const EncryptionAlgorithm EncryptionAlgorithm::Rsa15("RSA1_5");
const EncryptionAlgorithm EncryptionAlgorithm::RsaOaep("RSA-OAEP");
const EncryptionAlgorithm EncryptionAlgorithm::RsaOaep256("RSA-OAEP-256");
const EncryptionAlgorithm EncryptionAlgorithm::A128Gcm("A128GCM");
const EncryptionAlgorithm EncryptionAlgorithm::A192Gcm("A192GCM");
const EncryptionAlgorithm EncryptionAlgorithm::A256Gcm("A256GCM");
const EncryptionAlgorithm EncryptionAlgorithm::A128Cbc("A128CBC");
const EncryptionAlgorithm EncryptionAlgorithm::A192Cbc("A192CBC");
const EncryptionAlgorithm EncryptionAlgorithm::A256Cbc("A256CBC");
const EncryptionAlgorithm EncryptionAlgorithm::A128CbcPad("A128CBCPAD");
const EncryptionAlgorithm EncryptionAlgorithm::A192CbcPad("A192CBCPAD");
const EncryptionAlgorithm EncryptionAlgorithm::A256CbcPad("A256CBCPAD");

// ---- parameters ------------------------------------------------------------------------------

namespace {

std::vector<uint8_t> IvOrRandom(const std::vector<uint8_t>& iv) {
  return iv.empty() ? _detail::RandomIv() : iv;
}

}  // namespace

EncryptParameters::EncryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> plaintext,
                                     std::vector<uint8_t> iv, std::vector<uint8_t> aad)
    : Algorithm(std::move(algorithm)),
      Plaintext(std::move(plaintext)),
      AdditionalAuthenticatedData(std::move(aad)),
      iv_(std::move(iv)) {}

EncryptParameters EncryptParameters::Rsa15Parameters(const std::vector<uint8_t>& p) {
  return EncryptParameters(EncryptionAlgorithm::Rsa15, p);
}
EncryptParameters EncryptParameters::RsaOaepParameters(const std::vector<uint8_t>& p) {
  return EncryptParameters(EncryptionAlgorithm::RsaOaep, p);
}
EncryptParameters EncryptParameters::RsaOaep256Parameters(const std::vector<uint8_t>& p) {
  return EncryptParameters(EncryptionAlgorithm::RsaOaep256, p);
}
EncryptParameters EncryptParameters::A128GcmParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& aad) {
  return EncryptParameters(EncryptionAlgorithm::A128Gcm, p, {}, aad);
}
EncryptParameters EncryptParameters::A192GcmParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& aad) {
  return EncryptParameters(EncryptionAlgorithm::A192Gcm, p, {}, aad);
}
EncryptParameters EncryptParameters::A256GcmParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& aad) {
  return EncryptParameters(EncryptionAlgorithm::A256Gcm, p, {}, aad);
}
EncryptParameters EncryptParameters::A128CbcParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A128Cbc, p, IvOrRandom(iv), {});
}
EncryptParameters EncryptParameters::A192CbcParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A192Cbc, p, IvOrRandom(iv), {});
}
EncryptParameters EncryptParameters::A256CbcParameters(const std::vector<uint8_t>& p,
                                                       const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A256Cbc, p, IvOrRandom(iv), {});
}
EncryptParameters EncryptParameters::A128CbcPadParameters(const std::vector<uint8_t>& p,
                                                          const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A128CbcPad, p, IvOrRandom(iv), {});
}
EncryptParameters EncryptParameters::A192CbcPadParameters(const std::vector<uint8_t>& p,
                                                          const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A192CbcPad, p, IvOrRandom(iv), {});
}
EncryptParameters EncryptParameters::A256CbcPadParameters(const std::vector<uint8_t>& p,
                                                          const std::vector<uint8_t>& iv) {
  return EncryptParameters(EncryptionAlgorithm::A256CbcPad, p, IvOrRandom(iv), {});
}

DecryptParameters::DecryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> ciphertext,
                                     std::vector<uint8_t> iv, std::vector<uint8_t> tag,
                                     std::vector<uint8_t> aad)
    : Algorithm(std::move(algorithm)),
      Ciphertext(std::move(ciphertext)),
      AdditionalAuthenticatedData(std::move(aad)),
      AuthenticationTag(std::move(tag)),
      iv_(std::move(iv)) {}

DecryptParameters DecryptParameters::Rsa15Parameters(const std::vector<uint8_t>& c) {
  return DecryptParameters(EncryptionAlgorithm::Rsa15, c);
}
DecryptParameters DecryptParameters::RsaOaepParameters(const std::vector<uint8_t>& c) {
  return DecryptParameters(EncryptionAlgorithm::RsaOaep, c);
}
DecryptParameters DecryptParameters::RsaOaep256Parameters(const std::vector<uint8_t>& c) {
  return DecryptParameters(EncryptionAlgorithm::RsaOaep256, c);
}
DecryptParameters DecryptParameters::A128GcmParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv,
                                                       const std::vector<uint8_t>& tag,
                                                       const std::vector<uint8_t>& aad) {
  return DecryptParameters(EncryptionAlgorithm::A128Gcm, c, iv, tag, aad);
}
DecryptParameters DecryptParameters::A192GcmParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv,
                                                       const std::vector<uint8_t>& tag,
                                                       const std::vector<uint8_t>& aad) {
  return DecryptParameters(EncryptionAlgorithm::A192Gcm, c, iv, tag, aad);
}
DecryptParameters DecryptParameters::A256GcmParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv,
                                                       const std::vector<uint8_t>& tag,
                                                       const std::vector<uint8_t>& aad) {
  return DecryptParameters(EncryptionAlgorithm::A256Gcm, c, iv, tag, aad);
}
DecryptParameters DecryptParameters::A128CbcParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A128Cbc, c, iv, {}, {});
}
DecryptParameters DecryptParameters::A192CbcParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A192Cbc, c, iv, {}, {});
}
DecryptParameters DecryptParameters::A256CbcParameters(const std::vector<uint8_t>& c,
                                                       const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A256Cbc, c, iv, {}, {});
}
DecryptParameters DecryptParameters::A128CbcPadParameters(const std::vector<uint8_t>& c,
                                                          const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A128CbcPad, c, iv, {}, {});
}
DecryptParameters DecryptParameters::A192CbcPadParameters(const std::vector<uint8_t>& c,
                                                          const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A192CbcPad, c, iv, {}, {});
}
DecryptParameters DecryptParameters::A256CbcPadParameters(const std::vector<uint8_t>& c,
                                                          const std::vector<uint8_t>& iv) {
  return DecryptParameters(EncryptionAlgorithm::A256CbcPad, c, iv, {}, {});
}

// ---- the client ------------------------------------------------------------------------------

namespace _detail {

namespace json = boost::json;
using core::http::HttpMethod;
using core::http::RawResponse;

// The result of one key operation: {"kid","value","iv"?,"tag"?,"aad"?}.
struct OperationResult {
  std::string kid;
  std::vector<uint8_t> value;
  std::vector<uint8_t> iv;
  std::vector<uint8_t> tag;
  std::vector<uint8_t> aad;
};

OperationResult ParseOperationResult(std::string_view body) {
  auto o = coffre::_detail::ParseObject(body);
  if (!o) throw std::invalid_argument("The service returned an invalid key operation result");
  OperationResult r;
  r.kid = coffre::_detail::GetString(*o, "kid").value_or("");
  auto value = coffre::_detail::GetBytes(*o, "value");
  if (!value) throw std::invalid_argument("The key operation result has no base64url value");
  r.value = std::move(*value);
  r.iv = coffre::_detail::GetBytes(*o, "iv").value_or(std::vector<uint8_t>());
  r.tag = coffre::_detail::GetBytes(*o, "tag").value_or(std::vector<uint8_t>());
  r.aad = coffre::_detail::GetBytes(*o, "aad").value_or(std::vector<uint8_t>());
  return r;
}

bool ParseVerifyResult(std::string_view body) {
  auto o = coffre::_detail::ParseObject(body);
  auto value = o ? coffre::_detail::GetBool(*o, "value") : std::nullopt;
  if (!value) throw std::invalid_argument("The service returned an invalid verify result");
  return *value;
}

class CryptographyClientImpl {
 public:
  CryptographyClientImpl(const std::string& key_id,
                         std::shared_ptr<coffre::_detail::HttpPipeline> pipeline,
                         std::string api_version, bool use_local)
      : pipeline_(std::move(pipeline)),
        api_version_(std::move(api_version)),
        use_local_(use_local) {
    auto parts = keys::_detail::ParseKeyId(key_id);
    if (!parts || parts->name.empty()) {
      throw std::invalid_argument("Not a key identifier (https://VAULT/keys/NAME[/VERSION]): " +
                                  key_id);
    }
    keys::_detail::VaultOrigin(key_id);  // https only
    key_id_ = parts->vault_url + "/keys/" + coffre::_detail::PercentEncode(parts->name);
    if (!parts->version.empty()) key_id_ += "/" + coffre::_detail::PercentEncode(parts->version);
    fetched_ = !use_local_;
  }

  void SetKnownKey(const KeyVaultKey& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    key_ = key.Key;
    if (!key.Key.Id.empty()) key_id_ = key.Key.Id;
    not_before_ = key.Properties.NotBefore;
    expires_on_ = key.Properties.ExpiresOn;
    enabled_ = key.Properties.Enabled.ValueOr(true);
    fetched_ = true;
  }

  std::string KeyId() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return key_id_;
  }

  // Learns the key once (GET), so later operations can run locally and all go to one version.
  // A refusal leaves the client remote-only; the service reports any real problem itself.
  void EnsureKey(const core::Context& context) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fetched_) return;
    try {
      auto raw = Send(HttpMethod::Get, key_id_ + (Versionless() ? "/" : ""), {}, context);
      if (raw->GetStatusCode() == core::http::HttpStatusCode::Ok) {
        KeyVaultKey key = keys::_detail::ParseKeyBundle(raw->GetBodyAsString());
        key_ = key.Key;
        if (!key.Key.Id.empty()) key_id_ = key.Key.Id;
        not_before_ = key.Properties.NotBefore;
        expires_on_ = key.Properties.ExpiresOn;
        enabled_ = key.Properties.Enabled.ValueOr(true);
      }
    } catch (const std::invalid_argument&) {
      // An unreadable key bundle only disables local operations.
    }
    fetched_ = true;
  }

  // The key for a local operation `op`, if the key is known and allows it now.
  std::optional<JsonWebKey> LocalKey(const KeyOperation& op, bool needs_validity_window) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!use_local_ || !key_ || !enabled_) return std::nullopt;
    if (!key_->KeyOperations().empty() && !key_->SupportsOperation(op)) return std::nullopt;
    if (needs_validity_window) {
      auto now = std::chrono::system_clock::now();
      if (not_before_.HasValue() && now < not_before_.Value()) return std::nullopt;
      if (expires_on_.HasValue() && now > expires_on_.Value()) return std::nullopt;
    }
    return key_;
  }

  std::unique_ptr<RawResponse> Remote(const std::string& operation, const json::object& body,
                                      const core::Context& context) const {
    std::string key_id = KeyId();
    auto raw = Send(HttpMethod::Post, key_id + "/" + operation, json::serialize(body), context);
    if (raw->GetStatusCode() != core::http::HttpStatusCode::Ok) {
      throw core::RequestFailedException(std::move(raw));
    }
    return raw;
  }

 private:
  bool Versionless() const {
    auto parts = keys::_detail::ParseKeyId(key_id_);
    return parts && parts->version.empty();
  }

  std::unique_ptr<RawResponse> Send(HttpMethod method, const std::string& url, std::string body,
                                    const core::Context& context) const {
    core::http::Request request(method, url + "?api-version=" + api_version_, std::move(body));
    if (!request.GetBody().empty()) request.SetHeader("Content-Type", "application/json");
    return pipeline_->Send(request, context);
  }

  std::shared_ptr<coffre::_detail::HttpPipeline> pipeline_;
  std::string api_version_;
  bool use_local_;
  mutable std::mutex mutex_;
  std::string key_id_;
  bool fetched_ = false;
  std::optional<JsonWebKey> key_;
  bool enabled_ = true;
  Nullable<DateTime> not_before_;
  Nullable<DateTime> expires_on_;
};

}  // namespace _detail

namespace {

using coffre::_detail::Base64UrlEncode;
using core::http::RawResponse;
namespace json = boost::json;

// A local result has no HTTP exchange behind it; it gets a synthetic 200.
std::unique_ptr<RawResponse> LocalResponse() {
  return std::make_unique<RawResponse>(1, 1, core::http::HttpStatusCode::Ok, "OK (local)");
}

_detail::OperationResult ParseResult(std::unique_ptr<RawResponse>& raw) {
  return keys::_detail::ParseResponse(raw, _detail::ParseOperationResult);
}

json::object OperationBody(const std::string& algorithm, const std::vector<uint8_t>& value) {
  return json::object{{"alg", algorithm}, {"value", Base64UrlEncode(value)}};
}

}  // namespace

CryptographyClient::CryptographyClient(std::shared_ptr<_detail::CryptographyClientImpl> impl)
    : impl_(std::move(impl)) {}

CryptographyClient::CryptographyClient(
    const std::string& key_id, std::shared_ptr<const core::credentials::TokenCredential> credential,
    const CryptographyClientOptions& options) {
  std::string origin = keys::_detail::VaultOrigin(key_id);
  auto pipeline = keys::_detail::MakeVaultPipeline(origin, std::move(credential), options);
  impl_ = std::make_shared<_detail::CryptographyClientImpl>(
      key_id, std::move(pipeline), options.ApiVersion, options.UseLocalCryptography);
}

CryptographyClient::CryptographyClient(
    const KeyVaultKey& key, std::shared_ptr<const core::credentials::TokenCredential> credential,
    const CryptographyClientOptions& options)
    : CryptographyClient(key.Id(), std::move(credential), options) {
  if (options.UseLocalCryptography) impl_->SetKnownKey(key);
}

std::string CryptographyClient::GetKeyId() const { return impl_->KeyId(); }

Response<EncryptResult> CryptographyClient::Encrypt(const EncryptParameters& parameters,
                                                    const core::Context& context) const {
  impl_->EnsureKey(context);
  const std::string& alg = parameters.Algorithm.ToString();
  if (auto key = impl_->LocalKey(KeyOperation::Encrypt, true)) {
    if (auto ciphertext = _detail::LocalRsaEncrypt(*key, alg, parameters.Plaintext)) {
      EncryptResult result;
      result.KeyId = key->Id;
      result.Ciphertext = std::move(*ciphertext);
      result.Algorithm = parameters.Algorithm;
      return Response<EncryptResult>(std::move(result), LocalResponse());
    }
  }
  json::object body = OperationBody(alg, parameters.Plaintext);
  if (!parameters.GetIv().empty()) body["iv"] = Base64UrlEncode(parameters.GetIv());
  if (!parameters.AdditionalAuthenticatedData.empty()) {
    body["aad"] = Base64UrlEncode(parameters.AdditionalAuthenticatedData);
  }
  auto raw = impl_->Remote("encrypt", body, context);
  auto r = ParseResult(raw);
  EncryptResult result;
  result.KeyId = std::move(r.kid);
  result.Ciphertext = std::move(r.value);
  // CBC: the service does not echo the caller's IV, but decrypting needs it.
  result.Iv = r.iv.empty() ? parameters.GetIv() : std::move(r.iv);
  result.AuthenticationTag = std::move(r.tag);
  result.AdditionalAuthenticatedData =
      r.aad.empty() ? parameters.AdditionalAuthenticatedData : std::move(r.aad);
  result.Algorithm = parameters.Algorithm;
  return Response<EncryptResult>(std::move(result), std::move(raw));
}

Response<DecryptResult> CryptographyClient::Decrypt(const DecryptParameters& parameters,
                                                    const core::Context& context) const {
  impl_->EnsureKey(context);
  json::object body = OperationBody(parameters.Algorithm.ToString(), parameters.Ciphertext);
  if (!parameters.GetIv().empty()) body["iv"] = Base64UrlEncode(parameters.GetIv());
  if (!parameters.AuthenticationTag.empty()) {
    body["tag"] = Base64UrlEncode(parameters.AuthenticationTag);
  }
  if (!parameters.AdditionalAuthenticatedData.empty()) {
    body["aad"] = Base64UrlEncode(parameters.AdditionalAuthenticatedData);
  }
  auto raw = impl_->Remote("decrypt", body, context);
  auto r = ParseResult(raw);
  DecryptResult result{std::move(r.kid), std::move(r.value), parameters.Algorithm};
  return Response<DecryptResult>(std::move(result), std::move(raw));
}

Response<WrapResult> CryptographyClient::WrapKey(const KeyWrapAlgorithm& algorithm,
                                                 const std::vector<uint8_t>& key,
                                                 const core::Context& context) const {
  impl_->EnsureKey(context);
  if (auto local = impl_->LocalKey(KeyOperation::WrapKey, true)) {
    // RSA key wrapping is RSA encryption of the key bytes.
    if (auto wrapped = _detail::LocalRsaEncrypt(*local, algorithm.ToString(), key)) {
      WrapResult result{local->Id, std::move(*wrapped), algorithm};
      return Response<WrapResult>(std::move(result), LocalResponse());
    }
  }
  auto raw = impl_->Remote("wrapkey", OperationBody(algorithm.ToString(), key), context);
  auto r = ParseResult(raw);
  WrapResult result{std::move(r.kid), std::move(r.value), algorithm};
  return Response<WrapResult>(std::move(result), std::move(raw));
}

Response<UnwrapResult> CryptographyClient::UnwrapKey(const KeyWrapAlgorithm& algorithm,
                                                     const std::vector<uint8_t>& encrypted_key,
                                                     const core::Context& context) const {
  impl_->EnsureKey(context);
  auto raw =
      impl_->Remote("unwrapkey", OperationBody(algorithm.ToString(), encrypted_key), context);
  auto r = ParseResult(raw);
  UnwrapResult result{std::move(r.kid), std::move(r.value), algorithm};
  return Response<UnwrapResult>(std::move(result), std::move(raw));
}

Response<SignResult> CryptographyClient::Sign(const SignatureAlgorithm& algorithm,
                                              const std::vector<uint8_t>& digest,
                                              const core::Context& context) const {
  impl_->EnsureKey(context);
  auto raw = impl_->Remote("sign", OperationBody(algorithm.ToString(), digest), context);
  auto r = ParseResult(raw);
  SignResult result{std::move(r.kid), std::move(r.value), algorithm};
  return Response<SignResult>(std::move(result), std::move(raw));
}

Response<SignResult> CryptographyClient::SignData(const SignatureAlgorithm& algorithm,
                                                  const std::vector<uint8_t>& data,
                                                  const core::Context& context) const {
  return Sign(algorithm, _detail::DigestFor(algorithm.ToString(), data), context);
}

Response<VerifyResult> CryptographyClient::Verify(const SignatureAlgorithm& algorithm,
                                                  const std::vector<uint8_t>& digest,
                                                  const std::vector<uint8_t>& signature,
                                                  const core::Context& context) const {
  impl_->EnsureKey(context);
  // Verifying is allowed outside the key's nbf..exp window.
  if (auto key = impl_->LocalKey(KeyOperation::Verify, false)) {
    if (auto valid = _detail::LocalVerify(*key, algorithm.ToString(), digest, signature)) {
      VerifyResult result{key->Id, *valid, algorithm};
      return Response<VerifyResult>(std::move(result), LocalResponse());
    }
  }
  json::object body{{"alg", algorithm.ToString()},
                    {"digest", Base64UrlEncode(digest)},
                    {"value", Base64UrlEncode(signature)}};
  auto raw = impl_->Remote("verify", body, context);
  bool valid = keys::_detail::ParseResponse(raw, _detail::ParseVerifyResult);
  VerifyResult result{impl_->KeyId(), valid, algorithm};
  return Response<VerifyResult>(std::move(result), std::move(raw));
}

Response<VerifyResult> CryptographyClient::VerifyData(const SignatureAlgorithm& algorithm,
                                                      const std::vector<uint8_t>& data,
                                                      const std::vector<uint8_t>& signature,
                                                      const core::Context& context) const {
  return Verify(algorithm, _detail::DigestFor(algorithm.ToString(), data), signature, context);
}

}  // namespace coffre::keys::cryptography

namespace coffre::keys {

cryptography::CryptographyClient KeyClient::GetCryptographyClient(
    const std::string& name, const std::string& version) const {
  if (name.empty()) throw std::invalid_argument("The key name must not be empty.");
  std::string key_id = impl_->vault_url() + "/keys/" + coffre::_detail::PercentEncode(name);
  if (!version.empty()) key_id += "/" + coffre::_detail::PercentEncode(version);
  auto impl = std::make_shared<cryptography::_detail::CryptographyClientImpl>(
      key_id, impl_->pipeline(), impl_->api_version(), true);
  return cryptography::CryptographyClient(std::move(impl));
}

}  // namespace coffre::keys
