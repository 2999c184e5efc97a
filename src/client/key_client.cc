#include "coffre/keys/key_client.h"

#include <algorithm>

#include "client/encoding.h"
#include "client/key_client_impl.h"
#include "client/key_serializers.h"
#include "client/url.h"

namespace coffre::keys {

// ---- well-known values -----------------------------------------------------------------------

const KeyOperation KeyOperation::Encrypt("encrypt");
const KeyOperation KeyOperation::Decrypt("decrypt");
const KeyOperation KeyOperation::Sign("sign");
const KeyOperation KeyOperation::Verify("verify");
const KeyOperation KeyOperation::WrapKey("wrapKey");
const KeyOperation KeyOperation::UnwrapKey("unwrapKey");
const KeyOperation KeyOperation::Import("import");
const KeyOperation KeyOperation::Export("export");

const KeyVaultKeyType KeyVaultKeyType::Ec("EC");
const KeyVaultKeyType KeyVaultKeyType::EcHsm("EC-HSM");
const KeyVaultKeyType KeyVaultKeyType::Rsa("RSA");
const KeyVaultKeyType KeyVaultKeyType::RsaHsm("RSA-HSM");
const KeyVaultKeyType KeyVaultKeyType::Oct("oct");
const KeyVaultKeyType KeyVaultKeyType::OctHsm("oct-HSM");

const KeyCurveName KeyCurveName::P256("P-256");
const KeyCurveName KeyCurveName::P256K("P-256K");
const KeyCurveName KeyCurveName::P384("P-384");
const KeyCurveName KeyCurveName::P521("P-521");

const KeyEncryptionAlgorithm KeyEncryptionAlgorithm::CkmRsaAesKeyWrap("CKM_RSA_AES_KEY_WRAP");
const KeyEncryptionAlgorithm KeyEncryptionAlgorithm::RsaAesKeyWrap256("RSA_AES_KEY_WRAP_256");
const KeyEncryptionAlgorithm KeyEncryptionAlgorithm::RsaAesKeyWrap384("RSA_AES_KEY_WRAP_384");

const LifetimeActionType LifetimeActionType::Rotate("Rotate");
const LifetimeActionType LifetimeActionType::Notify("Notify");

bool JsonWebKey::SupportsOperation(const KeyOperation& operation) const {
  return std::find(key_ops_.begin(), key_ops_.end(), operation) != key_ops_.end();
}

CreateRsaKeyOptions::CreateRsaKeyOptions(std::string name, bool hardware_protected)
    : name_(std::move(name)),
      key_type_(hardware_protected ? KeyVaultKeyType::RsaHsm : KeyVaultKeyType::Rsa) {}

CreateEcKeyOptions::CreateEcKeyOptions(std::string name, bool hardware_protected)
    : name_(std::move(name)),
      key_type_(hardware_protected ? KeyVaultKeyType::EcHsm : KeyVaultKeyType::Ec) {}

CreateOctKeyOptions::CreateOctKeyOptions(std::string name, bool hardware_protected)
    : name_(std::move(name)),
      key_type_(hardware_protected ? KeyVaultKeyType::OctHsm : KeyVaultKeyType::Oct) {}

// ---- KeyClientImpl ---------------------------------------------------------------------------

namespace _detail {

std::shared_ptr<coffre::_detail::HttpPipeline> MakeVaultPipeline(
    const std::string& vault_url,
    std::shared_ptr<const core::credentials::TokenCredential> credential,
    const KeyClientOptions& options) {
  return coffre::_detail::MakeVaultPipeline(vault_url, std::move(credential), options,
                                            !options.DisableChallengeResourceVerification);
}

KeyClientImpl::KeyClientImpl(const std::string& vault_url,
                             std::shared_ptr<const core::credentials::TokenCredential> credential,
                             const KeyClientOptions& options)
    : VaultClient(vault_url, std::move(credential), options, options.ApiVersion,
                  !options.DisableChallengeResourceVerification),
      options_(options) {}

}  // namespace _detail

// ---- KeyClient -------------------------------------------------------------------------------

namespace {

using _detail::ParseResponse;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::RawResponse;

void RequireName(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("The key name must not be empty.");
}

Response<KeyVaultKey> KeyResponse(std::unique_ptr<RawResponse> raw) {
  KeyVaultKey key = ParseResponse(raw, _detail::ParseKeyBundle);
  return Response<KeyVaultKey>(std::move(key), std::move(raw));
}

std::string MaxResultsQuery(const Nullable<int32_t>& max_results) {
  if (!max_results.HasValue()) return {};
  return "maxresults=" + std::to_string(max_results.Value());
}

// Fills one page of key properties from `url`.
void LoadKeyPage(KeyPropertiesPagedResponse& page, const _detail::KeyClientImpl& client,
                 const std::string& url, const core::Context& context) {
  auto raw = client.Send(HttpMethod::Get, url, {}, context);
  auto parsed = ParseResponse(raw, _detail::ParseKeyListResult);
  page.Items = std::move(parsed.items);
  page.NextPageToken =
      parsed.next_link ? Nullable<std::string>(*parsed.next_link) : Nullable<std::string>();
  page.RawResponse = std::move(raw);
}

void LoadDeletedPage(DeletedKeyPagedResponse& page, const _detail::KeyClientImpl& client,
                     const std::string& url, const core::Context& context) {
  auto raw = client.Send(HttpMethod::Get, url, {}, context);
  auto parsed = ParseResponse(raw, _detail::ParseDeletedKeyListResult);
  page.Items = std::move(parsed.items);
  page.NextPageToken =
      parsed.next_link ? Nullable<std::string>(*parsed.next_link) : Nullable<std::string>();
  page.RawResponse = std::move(raw);
}

}  // namespace

KeyClient::KeyClient(const std::string& vault_url,
                     std::shared_ptr<const core::credentials::TokenCredential> credential,
                     KeyClientOptions options)
    : impl_(std::make_shared<_detail::KeyClientImpl>(vault_url, std::move(credential), options)) {}

std::string KeyClient::GetUrl() const { return impl_->vault_url(); }

Response<KeyVaultKey> KeyClient::GetKey(const std::string& name, const GetKeyOptions& options,
                                        const core::Context& context) const {
  RequireName(name);
  // "/keys/{name}/" (empty version) is how the SDKs ask for the latest version.
  return KeyResponse(
      impl_->Send(HttpMethod::Get, impl_->Url({"keys", name, options.Version}), {}, context));
}

Response<KeyVaultKey> KeyClient::GetKey(const std::string& name, const std::string& version,
                                        const core::Context& context) const {
  GetKeyOptions options;
  options.Version = version;
  return GetKey(name, options, context);
}

Response<KeyVaultKey> KeyClient::CreateKey(const std::string& name, const KeyVaultKeyType& key_type,
                                           const CreateKeyOptions& options,
                                           const core::Context& context) const {
  RequireName(name);
  std::string body = _detail::SerializeCreateKey(key_type, options, {}, {}, {});
  return KeyResponse(
      impl_->Send(HttpMethod::Post, impl_->Url({"keys", name, "create"}), body, context));
}

Response<KeyVaultKey> KeyClient::CreateRsaKey(const CreateRsaKeyOptions& o,
                                              const core::Context& context) const {
  RequireName(o.GetName());
  std::string body =
      _detail::SerializeCreateKey(o.GetKeyType(), o, o.KeySize, o.PublicExponent, {});
  return KeyResponse(
      impl_->Send(HttpMethod::Post, impl_->Url({"keys", o.GetName(), "create"}), body, context));
}

Response<KeyVaultKey> KeyClient::CreateEcKey(const CreateEcKeyOptions& o,
                                             const core::Context& context) const {
  RequireName(o.GetName());
  std::string body = _detail::SerializeCreateKey(o.GetKeyType(), o, {}, {}, o.CurveName);
  return KeyResponse(
      impl_->Send(HttpMethod::Post, impl_->Url({"keys", o.GetName(), "create"}), body, context));
}

Response<KeyVaultKey> KeyClient::CreateOctKey(const CreateOctKeyOptions& o,
                                              const core::Context& context) const {
  RequireName(o.GetName());
  std::string body = _detail::SerializeCreateKey(o.GetKeyType(), o, o.KeySize, {}, {});
  return KeyResponse(
      impl_->Send(HttpMethod::Post, impl_->Url({"keys", o.GetName(), "create"}), body, context));
}

KeyPropertiesPagedResponse KeyClient::GetPropertiesOfKeys(const GetPropertiesOfKeysOptions& options,
                                                          const core::Context& context) const {
  KeyPropertiesPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"keys"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadKeyPage(page, *impl_, url, context);
  return page;
}

KeyPropertiesPagedResponse KeyClient::GetPropertiesOfKeyVersions(
    const std::string& name, const GetPropertiesOfKeyVersionsOptions& options,
    const core::Context& context) const {
  RequireName(name);
  KeyPropertiesPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"keys", name, "versions"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadKeyPage(page, *impl_, url, context);
  return page;
}

DeletedKeyPagedResponse KeyClient::GetDeletedKeys(const GetDeletedKeysOptions& options,
                                                  const core::Context& context) const {
  DeletedKeyPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"deletedkeys"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadDeletedPage(page, *impl_, url, context);
  return page;
}

void KeyPropertiesPagedResponse::OnNextPage(const core::Context& context) {
  std::string url = client_->PageUrl(NextPageToken.Value());
  CurrentPageToken = url;
  LoadKeyPage(*this, *client_, url, context);
}

void DeletedKeyPagedResponse::OnNextPage(const core::Context& context) {
  std::string url = client_->PageUrl(NextPageToken.Value());
  CurrentPageToken = url;
  LoadDeletedPage(*this, *client_, url, context);
}

Response<KeyVaultKey> KeyClient::UpdateKeyProperties(
    const KeyProperties& properties, const Nullable<std::vector<KeyOperation>>& key_operations,
    const core::Context& context) const {
  RequireName(properties.Name);
  std::string body = _detail::SerializeUpdateKey(properties, key_operations);
  return KeyResponse(impl_->Send(
      HttpMethod::Patch, impl_->Url({"keys", properties.Name, properties.Version}), body, context));
}

DeleteKeyOperation KeyClient::StartDeleteKey(const std::string& name,
                                             const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Delete, impl_->Url({"keys", name}), {}, context);
  DeleteKeyOperation operation(impl_, name);
  operation.value_ = ParseResponse(raw, _detail::ParseDeletedKeyBundle);
  // Without a recovery id the vault has no soft delete: the key is gone already.
  operation.status_ = operation.value_.RecoveryId.empty() ? core::OperationStatus::Succeeded
                                                          : core::OperationStatus::Running;
  operation.raw_response_ = std::move(raw);
  return operation;
}

Response<DeletedKey> KeyClient::GetDeletedKey(const std::string& name,
                                              const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Get, impl_->Url({"deletedkeys", name}), {}, context);
  DeletedKey key = ParseResponse(raw, _detail::ParseDeletedKeyBundle);
  return Response<DeletedKey>(std::move(key), std::move(raw));
}

Response<PurgedKey> KeyClient::PurgeDeletedKey(const std::string& name,
                                               const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Delete, impl_->Url({"deletedkeys", name}), {}, context,
                         {HttpStatusCode::NoContent, HttpStatusCode::Ok});
  return Response<PurgedKey>(PurgedKey{}, std::move(raw));
}

RecoverDeletedKeyOperation KeyClient::StartRecoverDeletedKey(const std::string& name,
                                                             const core::Context& context) const {
  RequireName(name);
  auto raw =
      impl_->Send(HttpMethod::Post, impl_->Url({"deletedkeys", name, "recover"}), {}, context);
  RecoverDeletedKeyOperation operation(impl_, name);
  operation.value_ = ParseResponse(raw, _detail::ParseKeyBundle);
  operation.status_ = core::OperationStatus::Running;
  operation.raw_response_ = std::move(raw);
  return operation;
}

Response<BackupKeyResult> KeyClient::BackupKey(const std::string& name,
                                               const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Post, impl_->Url({"keys", name, "backup"}), {}, context);
  BackupKeyResult result{ParseResponse(raw, _detail::ParseBytesValue)};
  return Response<BackupKeyResult>(std::move(result), std::move(raw));
}

Response<KeyVaultKey> KeyClient::RestoreKeyBackup(const std::vector<uint8_t>& backup,
                                                  const core::Context& context) const {
  return KeyResponse(impl_->Send(HttpMethod::Post, impl_->Url({"keys", "restore"}),
                                 _detail::SerializeRestore(backup), context));
}

Response<KeyVaultKey> KeyClient::ImportKey(const std::string& name, const JsonWebKey& key_material,
                                           const core::Context& context) const {
  return ImportKey(ImportKeyOptions(name, key_material), context);
}

Response<KeyVaultKey> KeyClient::ImportKey(const ImportKeyOptions& options,
                                           const core::Context& context) const {
  RequireName(options.Name());
  return KeyResponse(impl_->Send(HttpMethod::Put, impl_->Url({"keys", options.Name()}),
                                 _detail::SerializeImportKey(options), context));
}

Response<KeyVaultKey> KeyClient::RotateKey(const std::string& name,
                                           const core::Context& context) const {
  RequireName(name);
  return KeyResponse(
      impl_->Send(HttpMethod::Post, impl_->Url({"keys", name, "rotate"}), {}, context));
}

Response<KeyRotationPolicy> KeyClient::GetKeyRotationPolicy(const std::string& name,
                                                            const core::Context& context) const {
  RequireName(name);
  auto raw =
      impl_->Send(HttpMethod::Get, impl_->Url({"keys", name, "rotationpolicy"}), {}, context);
  KeyRotationPolicy policy = ParseResponse(raw, _detail::ParseRotationPolicy);
  return Response<KeyRotationPolicy>(std::move(policy), std::move(raw));
}

Response<KeyRotationPolicy> KeyClient::UpdateKeyRotationPolicy(
    const std::string& name, const KeyRotationPolicy& rotation_policy,
    const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Put, impl_->Url({"keys", name, "rotationpolicy"}),
                         _detail::SerializeRotationPolicy(rotation_policy), context);
  KeyRotationPolicy policy = ParseResponse(raw, _detail::ParseRotationPolicy);
  return Response<KeyRotationPolicy>(std::move(policy), std::move(raw));
}

Response<GetRandomBytesResult> KeyClient::GetRandomBytes(const GetRandomBytesOptions& options,
                                                         const core::Context& context) const {
  auto raw = impl_->Send(HttpMethod::Post, impl_->Url({"rng"}),
                         _detail::SerializeRandomBytes(options.Count), context);
  GetRandomBytesResult result{ParseResponse(raw, _detail::ParseBytesValue)};
  return Response<GetRandomBytesResult>(std::move(result), std::move(raw));
}

Response<ReleaseKeyResult> KeyClient::ReleaseKey(const std::string& name,
                                                 const std::string& version,
                                                 const KeyReleaseOptions& options,
                                                 const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Post, impl_->Url({"keys", name, version, "release"}),
                         _detail::SerializeRelease(options), context);
  ReleaseKeyResult result{ParseResponse(raw, _detail::ParseStringValue)};
  return Response<ReleaseKeyResult>(std::move(result), std::move(raw));
}

// ---- operations ------------------------------------------------------------------------------

namespace {

// Whether a poll's answer means the operation finished: 2xx is done; 403 also counts (the caller
// may lack get permission, as the Python and .NET pollers assume); 404 means "not yet".
core::OperationStatus PollStatus(const RawResponse& raw) {
  int status = static_cast<int>(raw.GetStatusCode());
  if (status >= 200 && status < 300) return core::OperationStatus::Succeeded;
  if (status == 403) return core::OperationStatus::Succeeded;
  if (status == 404) return core::OperationStatus::Running;
  return core::OperationStatus::Failed;
}

}  // namespace

DeleteKeyOperation::DeleteKeyOperation(std::shared_ptr<const _detail::KeyClientImpl> client,
                                       std::string name)
    : client_(std::move(client)), name_(std::move(name)), value_(name_) {}

std::unique_ptr<RawResponse> DeleteKeyOperation::PollInternal(const core::Context& context) {
  if (IsDone()) {
    return raw_response_ ? std::make_unique<RawResponse>(*raw_response_) : nullptr;
  }
  auto raw = client_->SendRaw(HttpMethod::Get, client_->Url({"deletedkeys", name_}), {}, context);
  status_ = PollStatus(*raw);
  if (status_ == core::OperationStatus::Failed) throw core::RequestFailedException(std::move(raw));
  if (raw->GetStatusCode() == HttpStatusCode::Ok) {
    value_ = _detail::ParseResponse(raw, _detail::ParseDeletedKeyBundle);
  }
  return raw;
}

Response<DeletedKey> DeleteKeyOperation::PollUntilDoneInternal(std::chrono::milliseconds period,
                                                               core::Context& context) {
  while (true) {
    Poll(context);
    if (IsDone()) break;
    coffre::_detail::SleepFor(period, context);
  }
  return Response<DeletedKey>(value_, std::make_unique<RawResponse>(*raw_response_));
}

DeleteKeyOperation DeleteKeyOperation::CreateFromResumeToken(const std::string& resume_token,
                                                             const KeyClient& client,
                                                             const core::Context& context) {
  RequireName(resume_token);
  DeleteKeyOperation operation(client.impl_, resume_token);
  operation.status_ = core::OperationStatus::Running;
  operation.Poll(context);
  return operation;
}

RecoverDeletedKeyOperation::RecoverDeletedKeyOperation(
    std::shared_ptr<const _detail::KeyClientImpl> client, std::string name)
    : client_(std::move(client)), name_(std::move(name)), value_(name_) {}

std::unique_ptr<RawResponse> RecoverDeletedKeyOperation::PollInternal(
    const core::Context& context) {
  if (IsDone()) {
    return raw_response_ ? std::make_unique<RawResponse>(*raw_response_) : nullptr;
  }
  auto raw = client_->SendRaw(HttpMethod::Get, client_->Url({"keys", name_, ""}), {}, context);
  status_ = PollStatus(*raw);
  if (status_ == core::OperationStatus::Failed) throw core::RequestFailedException(std::move(raw));
  if (raw->GetStatusCode() == HttpStatusCode::Ok) {
    value_ = _detail::ParseResponse(raw, _detail::ParseKeyBundle);
  }
  return raw;
}

Response<KeyVaultKey> RecoverDeletedKeyOperation::PollUntilDoneInternal(
    std::chrono::milliseconds period, core::Context& context) {
  while (true) {
    Poll(context);
    if (IsDone()) break;
    coffre::_detail::SleepFor(period, context);
  }
  return Response<KeyVaultKey>(value_, std::make_unique<RawResponse>(*raw_response_));
}

RecoverDeletedKeyOperation RecoverDeletedKeyOperation::CreateFromResumeToken(
    const std::string& resume_token, const KeyClient& client, const core::Context& context) {
  RequireName(resume_token);
  RecoverDeletedKeyOperation operation(client.impl_, resume_token);
  operation.status_ = core::OperationStatus::Running;
  operation.Poll(context);
  return operation;
}

}  // namespace coffre::keys
