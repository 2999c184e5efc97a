#include "coffre/secrets/secret_client.h"

#include "client/secret_serializers.h"
#include "client/url.h"
#include "client/vault_client.h"

namespace coffre::secrets {

namespace _detail {

// The state behind SecretClient, shared with its pages and operations.
class SecretClientImpl final : public coffre::_detail::VaultClient {
 public:
  SecretClientImpl(const std::string& vault_url,
                   std::shared_ptr<const core::credentials::TokenCredential> credential,
                   const SecretClientOptions& options)
      : VaultClient(vault_url, std::move(credential), options, options.ApiVersion,
                    !options.DisableChallengeResourceVerification) {}
};

}  // namespace _detail

namespace {

using coffre::_detail::BodyKind;
using coffre::_detail::ParseResponse;
using core::http::HttpMethod;
using core::http::HttpStatusCode;
using core::http::RawResponse;

void RequireName(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("The secret name must not be empty.");
}

Response<KeyVaultSecret> SecretResponse(std::unique_ptr<RawResponse> raw) {
  KeyVaultSecret secret = ParseResponse(raw, _detail::ParseSecretBundle);
  return Response<KeyVaultSecret>(std::move(secret), std::move(raw));
}

std::string MaxResultsQuery(const Nullable<int32_t>& max_results) {
  if (!max_results.HasValue()) return {};
  return "maxresults=" + std::to_string(max_results.Value());
}

void LoadPropertiesPage(SecretPropertiesPagedResponse& page,
                        const _detail::SecretClientImpl& client, const std::string& url,
                        const core::Context& context) {
  auto raw = client.Send(HttpMethod::Get, url, {}, context);
  auto parsed = ParseResponse(raw, _detail::ParseSecretListResult);
  page.Items = std::move(parsed.items);
  page.NextPageToken =
      parsed.next_link ? Nullable<std::string>(*parsed.next_link) : Nullable<std::string>();
  page.RawResponse = std::move(raw);
}

void LoadDeletedPage(DeletedSecretPagedResponse& page, const _detail::SecretClientImpl& client,
                     const std::string& url, const core::Context& context) {
  auto raw = client.Send(HttpMethod::Get, url, {}, context);
  auto parsed = ParseResponse(raw, _detail::ParseDeletedSecretListResult);
  page.Items = std::move(parsed.items);
  page.NextPageToken =
      parsed.next_link ? Nullable<std::string>(*parsed.next_link) : Nullable<std::string>();
  page.RawResponse = std::move(raw);
}

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

// ---- models --------------------------------------------------------------------------------

SecretProperties SecretProperties::CreateFromURL(const std::string& url) {
  auto parts = coffre::_detail::ParseVaultObjectId(url, "secrets", "deletedsecrets");
  if (!parts) throw std::invalid_argument("Not a secret identifier: " + url);
  SecretProperties p(parts->name);
  p.Id = url;
  p.VaultUrl = parts->vault_url;
  p.Version = parts->version;
  return p;
}

KeyVaultSecret::KeyVaultSecret(std::string name, std::string value)
    : Name(std::move(name)), Value(std::move(value)), Properties(Name) {
  if (Name.empty()) throw std::invalid_argument("The secret name must not be empty.");
}

DeletedSecret::DeletedSecret(std::string name) {
  Name = name;
  Properties.Name = std::move(name);
}

// ---- SecretClient --------------------------------------------------------------------------

SecretClient::SecretClient(const std::string& vault_url,
                           std::shared_ptr<const core::credentials::TokenCredential> credential,
                           SecretClientOptions options)
    : impl_(
          std::make_shared<_detail::SecretClientImpl>(vault_url, std::move(credential), options)) {}

std::string SecretClient::GetUrl() const { return impl_->vault_url(); }

Response<KeyVaultSecret> SecretClient::GetSecret(const std::string& name,
                                                 const GetSecretOptions& options,
                                                 const core::Context& context) const {
  RequireName(name);
  // "/secrets/{name}/" (empty version) is how the SDKs ask for the latest version.
  return SecretResponse(
      impl_->Send(HttpMethod::Get, impl_->Url({"secrets", name, options.Version}), {}, context));
}

Response<KeyVaultSecret> SecretClient::SetSecret(const std::string& name, const std::string& value,
                                                 const core::Context& context) const {
  RequireName(name);
  return SecretResponse(impl_->Send(HttpMethod::Put, impl_->Url({"secrets", name}),
                                    _detail::SerializeSetSecret(value, SecretProperties()), context,
                                    {HttpStatusCode::Ok}, BodyKind::Sensitive));
}

Response<KeyVaultSecret> SecretClient::SetSecret(const std::string& name,
                                                 const KeyVaultSecret& secret,
                                                 const core::Context& context) const {
  RequireName(name);
  const std::string empty;
  const std::string& value = secret.Value.HasValue() ? secret.Value.Value() : empty;
  return SecretResponse(impl_->Send(HttpMethod::Put, impl_->Url({"secrets", name}),
                                    _detail::SerializeSetSecret(value, secret.Properties), context,
                                    {HttpStatusCode::Ok}, BodyKind::Sensitive));
}

Response<KeyVaultSecret> SecretClient::UpdateSecretProperties(const SecretProperties& properties,
                                                              const core::Context& context) const {
  RequireName(properties.Name);
  return SecretResponse(impl_->Send(HttpMethod::Patch,
                                    impl_->Url({"secrets", properties.Name, properties.Version}),
                                    _detail::SerializeUpdateSecret(properties), context));
}

SecretPropertiesPagedResponse SecretClient::GetPropertiesOfSecrets(
    const GetPropertiesOfSecretsOptions& options, const core::Context& context) const {
  SecretPropertiesPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"secrets"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadPropertiesPage(page, *impl_, url, context);
  return page;
}

SecretPropertiesPagedResponse SecretClient::GetPropertiesOfSecretsVersions(
    const std::string& name, const GetPropertiesOfSecretsVersionsOptions& options,
    const core::Context& context) const {
  RequireName(name);
  SecretPropertiesPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"secrets", name, "versions"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadPropertiesPage(page, *impl_, url, context);
  return page;
}

DeletedSecretPagedResponse SecretClient::GetDeletedSecrets(const GetDeletedSecretsOptions& options,
                                                           const core::Context& context) const {
  DeletedSecretPagedResponse page;
  page.client_ = impl_;
  std::string url = impl_->Url({"deletedsecrets"}, MaxResultsQuery(options.MaxResults));
  if (options.NextPageToken.HasValue()) {
    url = impl_->PageUrl(options.NextPageToken.Value());
    page.CurrentPageToken = url;
  }
  LoadDeletedPage(page, *impl_, url, context);
  return page;
}

void SecretPropertiesPagedResponse::OnNextPage(const core::Context& context) {
  std::string url = client_->PageUrl(NextPageToken.Value());
  CurrentPageToken = url;
  LoadPropertiesPage(*this, *client_, url, context);
}

void DeletedSecretPagedResponse::OnNextPage(const core::Context& context) {
  std::string url = client_->PageUrl(NextPageToken.Value());
  CurrentPageToken = url;
  LoadDeletedPage(*this, *client_, url, context);
}

DeleteSecretOperation SecretClient::StartDeleteSecret(const std::string& name,
                                                      const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Delete, impl_->Url({"secrets", name}), {}, context);
  DeleteSecretOperation operation(impl_, name);
  operation.value_ = ParseResponse(raw, _detail::ParseDeletedSecretBundle);
  // Without a recovery id the vault has no soft delete: the secret is gone already.
  operation.status_ = operation.value_.RecoveryId.empty() ? core::OperationStatus::Succeeded
                                                          : core::OperationStatus::Running;
  operation.raw_response_ = std::move(raw);
  return operation;
}

Response<DeletedSecret> SecretClient::GetDeletedSecret(const std::string& name,
                                                       const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Get, impl_->Url({"deletedsecrets", name}), {}, context);
  DeletedSecret secret = ParseResponse(raw, _detail::ParseDeletedSecretBundle);
  return Response<DeletedSecret>(std::move(secret), std::move(raw));
}

RecoverDeletedSecretOperation SecretClient::StartRecoverDeletedSecret(
    const std::string& name, const core::Context& context) const {
  RequireName(name);
  auto raw =
      impl_->Send(HttpMethod::Post, impl_->Url({"deletedsecrets", name, "recover"}), {}, context);
  RecoverDeletedSecretOperation operation(impl_, name);
  operation.value_ = ParseResponse(raw, _detail::ParseSecretBundleProperties);
  operation.status_ = core::OperationStatus::Running;
  operation.raw_response_ = std::move(raw);
  return operation;
}

Response<PurgedSecret> SecretClient::PurgeDeletedSecret(const std::string& name,
                                                        const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Delete, impl_->Url({"deletedsecrets", name}), {}, context,
                         {HttpStatusCode::NoContent, HttpStatusCode::Ok});
  return Response<PurgedSecret>(PurgedSecret{}, std::move(raw));
}

Response<BackupSecretResult> SecretClient::BackupSecret(const std::string& name,
                                                        const core::Context& context) const {
  RequireName(name);
  auto raw = impl_->Send(HttpMethod::Post, impl_->Url({"secrets", name, "backup"}), {}, context);
  BackupSecretResult result{ParseResponse(raw, _detail::ParseBackupValue)};
  return Response<BackupSecretResult>(std::move(result), std::move(raw));
}

Response<KeyVaultSecret> SecretClient::RestoreSecretBackup(const BackupSecretResult& backup,
                                                           const core::Context& context) const {
  return RestoreSecretBackup(backup.Secret, context);
}

Response<KeyVaultSecret> SecretClient::RestoreSecretBackup(const std::vector<uint8_t>& backup,
                                                           const core::Context& context) const {
  return SecretResponse(impl_->Send(HttpMethod::Post, impl_->Url({"secrets", "restore"}),
                                    _detail::SerializeRestore(backup), context));
}

// ---- operations ----------------------------------------------------------------------------

DeleteSecretOperation::DeleteSecretOperation(
    std::shared_ptr<const _detail::SecretClientImpl> client, std::string name)
    : client_(std::move(client)), name_(std::move(name)), value_(name_) {}

std::unique_ptr<RawResponse> DeleteSecretOperation::PollInternal(const core::Context& context) {
  if (IsDone()) {
    return raw_response_ ? std::make_unique<RawResponse>(*raw_response_) : nullptr;
  }
  auto raw =
      client_->SendRaw(HttpMethod::Get, client_->Url({"deletedsecrets", name_}), {}, context);
  status_ = PollStatus(*raw);
  if (status_ == core::OperationStatus::Failed) throw core::RequestFailedException(std::move(raw));
  if (raw->GetStatusCode() == HttpStatusCode::Ok) {
    value_ = ParseResponse(raw, _detail::ParseDeletedSecretBundle);
  }
  return raw;
}

Response<DeletedSecret> DeleteSecretOperation::PollUntilDoneInternal(
    std::chrono::milliseconds period, core::Context& context) {
  while (true) {
    Poll(context);
    if (IsDone()) break;
    coffre::_detail::SleepFor(period, context);
  }
  return Response<DeletedSecret>(value_, std::make_unique<RawResponse>(*raw_response_));
}

DeleteSecretOperation DeleteSecretOperation::CreateFromResumeToken(const std::string& resume_token,
                                                                   const SecretClient& client,
                                                                   const core::Context& context) {
  RequireName(resume_token);
  DeleteSecretOperation operation(client.impl_, resume_token);
  operation.status_ = core::OperationStatus::Running;
  operation.Poll(context);
  return operation;
}

RecoverDeletedSecretOperation::RecoverDeletedSecretOperation(
    std::shared_ptr<const _detail::SecretClientImpl> client, std::string name)
    : client_(std::move(client)), name_(std::move(name)), value_(name_) {}

std::unique_ptr<RawResponse> RecoverDeletedSecretOperation::PollInternal(
    const core::Context& context) {
  if (IsDone()) {
    return raw_response_ ? std::make_unique<RawResponse>(*raw_response_) : nullptr;
  }
  auto raw = client_->SendRaw(HttpMethod::Get, client_->Url({"secrets", name_, ""}), {}, context);
  status_ = PollStatus(*raw);
  if (status_ == core::OperationStatus::Failed) throw core::RequestFailedException(std::move(raw));
  if (raw->GetStatusCode() == HttpStatusCode::Ok) {
    value_ = ParseResponse(raw, _detail::ParseSecretBundleProperties);
  }
  return raw;
}

Response<SecretProperties> RecoverDeletedSecretOperation::PollUntilDoneInternal(
    std::chrono::milliseconds period, core::Context& context) {
  while (true) {
    Poll(context);
    if (IsDone()) break;
    coffre::_detail::SleepFor(period, context);
  }
  return Response<SecretProperties>(value_, std::make_unique<RawResponse>(*raw_response_));
}

RecoverDeletedSecretOperation RecoverDeletedSecretOperation::CreateFromResumeToken(
    const std::string& resume_token, const SecretClient& client, const core::Context& context) {
  RequireName(resume_token);
  RecoverDeletedSecretOperation operation(client.impl_, resume_token);
  operation.status_ = core::OperationStatus::Running;
  operation.Poll(context);
  return operation;
}

}  // namespace coffre::secrets
