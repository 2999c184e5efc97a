#include "app/commands.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "app/data_dir.h"
#include "app/dev_environment.h"
#include "app/operations_probe.h"
#include "app/principal_env.h"
#include "app/test_harness_setup.h"
#include "audit/audit_log.h"
#include "auth/access_checker.h"
#include "auth/access_control.h"
#include "auth/admin_token.h"
#include "auth/identity_endpoints.h"
#include "auth/sign_in_throttle.h"
#include "auth/token_authority.h"
#include "common/logging.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "http/arm_api.h"
#include "http/router.h"
#include "http/server.h"
#include "service/background_jobs.h"
#include "service/barrier.h"
#include "service/crypto_service.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/resource_groups.h"
#include "service/rotation_scheduler.h"
#include "service/certificate_service.h"
#include "service/secret_service.h"
#include "service/vault_admin.h"
#include "service/vault_directory.h"
#include "store/key_version_cache.h"
#include "store/store.h"

namespace coffre::app {
namespace {

constexpr const char* kDevVault = "dev";
constexpr const char* kAuditChainPurpose = "coffre/audit-chain/v1";

// How often the background jobs run: COFFRE_BACKGROUND_INTERVAL_SECONDS (1..3600) shortens the
// interval, for tests.
std::chrono::seconds BackgroundInterval() {
  constexpr auto kDefault = service::BackgroundJobs::kDefaultInterval;
  const char* text = std::getenv("COFFRE_BACKGROUND_INTERVAL_SECONDS");
  if (text == nullptr || *text == '\0') return kDefault;
  int seconds = 0;
  const char* end = text + std::strlen(text);
  auto [stop, ec] = std::from_chars(text, end, seconds);
  if (ec != std::errc() || stop != end || seconds < 1 || seconds > 3600) return kDefault;
  return std::chrono::seconds(seconds);
}

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return 1;
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

// The store named by --storage (sqlite:PATH or postgresql://...), by default SQLite in the data
// dir.
Result<std::unique_ptr<store::Store>> OpenStore(const std::string& data_dir,
                                                const std::string& storage = {}) {
  COFFRE_RETURN_IF_ERROR(EnsurePrivateDirectory(data_dir));
  if (storage.empty()) return store::OpenSqliteStore(JoinPath(data_dir, "coffre.db"));
  return store::OpenStore(storage);
}

Result<std::string> TenantId(store::Store& store) {
  return store.GetOrPutSetting("tenant_id", crypto::RandomUuid());
}

// The built-in identity the managed-identity endpoint signs in as in --dev.
Result<auth::Identity> DevIdentity(store::Store& store) {
  auth::Identity identity;
  COFFRE_ASSIGN_OR_RETURN(identity.object_id,
                          store.GetOrPutSetting("dev_identity_object_id", crypto::RandomUuid()));
  COFFRE_ASSIGN_OR_RETURN(identity.app_id,
                          store.GetOrPutSetting("dev_identity_client_id", crypto::RandomUuid()));
  identity.name = "coffre-dev";
  return identity;
}

// Full rights for the dev identity on a vault made in --dev.
Status GrantDevIdentity(store::Store& store, const auth::Identity& identity,
                        const std::string& vault) {
  store::AccessPolicyRecord policy;
  policy.vault = vault;
  policy.object_id = identity.object_id;
  policy.keys = auth::AllPermissions(auth::PermissionKind::kKeys);
  policy.secrets = auth::AllPermissions(auth::PermissionKind::kSecrets);
  policy.certificates = auth::AllPermissions(auth::PermissionKind::kCertificates);
  return store.PutAccessPolicy(policy);
}

// The admin token: created (and written to DATA_DIR/admin.token, 0600) on first start. The
// token the file still holds (so dev.env can carry it) is kept in `text`, empty otherwise.
struct PreparedAdminToken {
  auth::AdminToken token;
  std::string text;
};

Result<PreparedAdminToken> PrepareAdminToken(store::Store& store, const std::string& data_dir) {
  std::string path = JoinPath(data_dir, "admin.token");
  COFFRE_ASSIGN_OR_RETURN(auto stored, ReadPrivateFileIfExists(path));
  std::string token = stored.value_or("");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  std::string created;
  COFFRE_ASSIGN_OR_RETURN(auto admin_token, auth::AdminToken::LoadOrCreate(store, &created, token));
  if (!created.empty()) {
    COFFRE_RETURN_IF_ERROR(WriteFileAtomically(path, created + "\n", 0600));
    spdlog::info("a new admin token was written to {}", path);
    token = std::move(created);
  }
  if (!token.empty() && !admin_token.Verify(token)) token.clear();  // a stale file
  return PreparedAdminToken{admin_token, std::move(token)};
}

Result<std::pair<std::string, SecureString>> LoadTlsFiles(const ServerConfig& config) {
  if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
    return Status::BadParameter(
        "Without --dev, --tls-cert and --tls-key are required (PEM files).");
  }
  COFFRE_ASSIGN_OR_RETURN(auto cert, ReadFileIfExists(config.tls_cert_file));
  COFFRE_ASSIGN_OR_RETURN(auto key, ReadPrivateFileIfExists(config.tls_key_file));
  if (!cert || !key) return Status::BadParameter("The TLS certificate or key file does not exist.");
  SecureString key_pem(key->begin(), key->end());
  SecureWipe(key->data(), key->size());
  return std::pair<std::string, SecureString>{*cert, std::move(key_pem)};
}

// ---- start-up

// The vaults named on the command line (and "dev" in --dev), created if absent.
Status EnsureVaults(service::VaultDirectory& vaults, const std::vector<std::string>& names,
                    const Clock& clock) {
  for (const auto& name : names) {
    store::VaultRecord vault;
    vault.name = name;
    vault.created = clock.NowSeconds();
    COFFRE_RETURN_IF_ERROR(vaults.Ensure(vault));
  }
  return Status::Ok();
}

// Listeners and threads; the TLS certificate is the caller's to add.
http::ServerOptions ListenerOptions(const ServerConfig& config, bool reads_are_local,
                                    audit::AuditLog* audit_log) {
  http::ServerOptions options;
  options.audit_log = audit_log;
  if (!config.bind_addresses.empty()) options.bind_addresses = config.bind_addresses;
  options.https_port = config.https_port;
  options.http_port = config.http_port;
  options.io_threads = config.io_threads;
  options.compute_on_io_threads = reads_are_local;
  // SQLite commits concurrent writes as one group: the more writers wait at once, the more one
  // sync covers, so its worker pool is sized for waiting, not for the cores. PostgreSQL reads
  // and writes queue for the store's 8 connections instead; more threads than that only lengthen
  // the queue's tail.
  const int io_threads = config.io_threads > 0
                             ? config.io_threads
                             : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  options.worker_threads = reads_are_local ? std::max(16, 8 * io_threads) : 8;
  return options;
}

// ---- --dev

struct DevSetup {
  auth::Identity identity;      // what the managed-identity endpoint signs in as
  std::string identity_header;  // the managed-identity secret
  DevTlsFiles tls;
};

// The dev identity with full rights on `vault_names`, the managed-identity secret, and the dev
// certificate covering every vault in the store.
Result<DevSetup> SetUpDev(store::Store& store, const std::string& data_dir,
                          const std::vector<std::string>& vault_names) {
  DevSetup dev;
  COFFRE_ASSIGN_OR_RETURN(dev.identity, DevIdentity(store));
  for (const auto& name : vault_names) {
    COFFRE_RETURN_IF_ERROR(GrantDevIdentity(store, dev.identity, name));
  }
  COFFRE_ASSIGN_OR_RETURN(dev.identity_header, LoadOrCreateIdentityHeader(data_dir));
  COFFRE_ASSIGN_OR_RETURN(auto all_vaults, store.ListVaults());
  std::vector<std::string> cert_vaults;
  for (const auto& v : all_vaults) cert_vaults.push_back(v.name);
  COFFRE_ASSIGN_OR_RETURN(dev.tls, PrepareDevTls(data_dir, cert_vaults));
  return dev;
}

// A vault made through the admin API in --dev is reachable as NAME.localhost at once: the dev
// certificate is reissued to cover it, and the dev identity may use it. Made once `server`
// exists (it serves the certificate).
std::function<Status(const store::VaultRecord&)> DevVaultCreatedHook(store::Store& store,
                                                                     const auth::Identity& identity,
                                                                     const std::string& data_dir,
                                                                     http::Server& server) {
  // Two vaults created at once must not reissue the certificate from stale vault lists.
  auto certificate_mutex = std::make_shared<std::mutex>();
  return [&store, &identity, data_dir, &server,
          certificate_mutex](const store::VaultRecord& vault) -> Status {
    COFFRE_RETURN_IF_ERROR(GrantDevIdentity(store, identity, vault.name));
    std::lock_guard lock(*certificate_mutex);
    COFFRE_ASSIGN_OR_RETURN(auto all, store.ListVaults());
    std::vector<std::string> names;
    for (const auto& v : all) names.push_back(v.name);
    COFFRE_ASSIGN_OR_RETURN(auto tls, PrepareDevTls(data_dir, names));
    return server.SetCertificate(tls.server.cert_pem, tls.server.key_pem);
  };
}

// Writes dev.env and prints where it is. Called only once the listeners accept requests: the file's
// presence means "ready".
Status AnnounceDevEnvironment(const DevSetup& dev, const std::string& data_dir,
                              const http::Server& server, const std::string& admin_token) {
  DevEnvValues values{data_dir,
                      server.https_port(),
                      server.http_port(),
                      dev.identity_header,
                      dev.tls.ca_pem_path,
                      dev.tls.ca_bundle_path,
                      admin_token};
  std::string env = DevEnvText(values);
  // Written before dev.env, whose presence means "ready".
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(JoinPath(data_dir, "az.sh"), DevAzText(values), 0600));
  const std::string proxy_path = JoinPath(data_dir, kDevProxyEnvFile);
  COFFRE_ASSIGN_OR_RETURN(auto proxy_choice, ReadFileIfExists(proxy_path));
  if (!proxy_choice) {
    COFFRE_RETURN_IF_ERROR(WriteFileAtomically(proxy_path, DevProxyEnvText(), 0600));
  }
  const std::string env_path = JoinPath(data_dir, "dev.env");
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(env_path, env, 0600));
  SecureWipe(env.data(), env.size());
  // Only where the credentials are: stdout ends up in CI logs and terminal scrollback.
  std::cout << "coffre dev server ready: https://" << kDevVault
            << ".localhost:" << server.https_port() << "\n"
            << "  environment (credentials, CA bundle): " << env_path << "  (run: . " << env_path
            << ")\n"
            << "  Azure CLI sign-in: " << JoinPath(data_dir, "az.sh") << "  (or: coffre dev az)\n"
            << "  admin token: " << JoinPath(data_dir, "admin.token") << "\n"
            << std::flush;
  return Status::Ok();
}

}  // namespace

int RunServer(const ServerConfig& config) {
  if (Status logging = ConfigureLogging(config.log_level, config.log_format); !logging.ok()) {
    return Fail(logging);
  }
  const Clock& clock = SystemClock::Instance();
  const std::string data_dir = AbsolutePath(config.data_dir);
  auto store = OpenStore(data_dir, config.storage);
  if (!store.ok()) return Fail(store.status());
  *store = store::WithKeyVersionCache(std::move(*store), clock);
  auto barrier = service::Barrier::LoadOrCreate(
      config.master_key_file.empty() ? JoinPath(data_dir, "master.key") : config.master_key_file);
  if (!barrier.ok()) return Fail(barrier.status());
  auto tenant = TenantId(**store);
  if (!tenant.ok()) return Fail(tenant.status());
  auto tokens =
      auth::TokenAuthority::Open(JoinPath(data_dir, "token-signing-key.pem"), *tenant, clock);
  if (!tokens.ok()) return Fail(tokens.status());

  auto admin_token = PrepareAdminToken(**store, data_dir);
  if (!admin_token.ok()) return Fail(admin_token.status());
  // Test-harness mode moves the clock the service layer and background jobs read; tokens,
  // caches, throttles and the audit log keep the real one.
  auto harness = MakeTestHarness(config, **store, clock);
  if (!harness.ok()) return Fail(harness.status());
  const Clock& service_clock = *harness ? static_cast<const Clock&>(*(*harness)->clock) : clock;

  service::VaultDirectory vaults(**store, clock);
  std::vector<std::string> vault_names = config.vaults;
  if (config.dev) vault_names.insert(vault_names.begin(), kDevVault);
  if (Status ensured = EnsureVaults(vaults, vault_names, clock); !ensured.ok()) {
    return Fail(ensured);
  }

  // The chain key comes from the master key: verifying needs the data dir or the master key.
  // The head of each committed group is kept in the store, outside the audit directory.
  const std::string audit_dir =
      AbsolutePath(config.audit_dir.empty() ? JoinPath(data_dir, "audit") : config.audit_dir);
  audit::AuditChain chain;
  chain.key = barrier->DeriveKey(kAuditChainPurpose);
  // The admin API's audit routes read the same directory and check the chain with the same key.
  audit::AuditSource audit_source{audit_dir, chain.key,
                                  [&store = **store, setting = audit::AuditHeadSetting(audit_dir)] {
                                    auto head = store.GetSetting(setting);
                                    return head.ok() && *head ? **head : std::string();
                                  }};
  chain.record_head = [&store = **store,
                       setting = audit::AuditHeadSetting(audit_dir)](const std::string& head) {
    if (Status stored = store.PutSetting(setting, head); !stored.ok()) {
      spdlog::warn("audit log: the chain head could not be recorded: {}", stored.message());
    }
  };
  chain.anchor_interval = std::chrono::milliseconds(100);
  auto audit_log = audit::AuditLog::Open(audit_dir, config.audit_file_bytes, std::move(chain));
  if (!audit_log.ok()) return Fail(audit_log.status());

  http::ServerOptions options =
      ListenerOptions(config, (*store)->maintenance().ReadsAreLocal(), audit_log->get());
  DevSetup dev;
  if (config.dev) {
    auto set_up = SetUpDev(**store, data_dir, vault_names);
    if (!set_up.ok()) return Fail(set_up.status());
    dev = std::move(*set_up);
    options.cert_chain_pem = dev.tls.server.cert_pem;
    options.private_key_pem = dev.tls.server.key_pem;
    options.mint_certificate = [ca = dev.tls.ca](const std::string& server_name)
        -> Result<std::pair<std::string, SecureString>> {
      COFFRE_ASSIGN_OR_RETURN(auto issued,
                              crypto::IssueServerCertificate(ca, {server_name}, {}, 30));
      return std::make_pair(std::move(issued.cert_pem), std::move(issued.key_pem));
    };
  } else {
    auto tls = LoadTlsFiles(config);
    if (!tls.ok()) return Fail(tls.status());
    options.cert_chain_pem = std::move(tls->first);
    options.private_key_pem = std::move(tls->second);
  }

  service::MaterialBarrier material(std::move(*barrier));
  service::KeyService keys(**store, material, service_clock);
  service::SecretService secrets(**store, material, service_clock);
  // A certificate's secret names its key by path; the JSON adds the host the client used.
  service::CertificateService certificates(**store, material, service_clock,
                                           [](const store::VaultRecord&) { return std::string(); });
  service::CryptoService crypto(**store, material, service_clock);
  service::RotationScheduler rotations(**store, keys, vaults, service_clock);
  // Replicas sharing a store take turns; each names itself with a fresh id. The jobs' lease is
  // between replicas, on the real clock; purges and rotations read the service clock.
  service::BackgroundJobs background_jobs(**store, keys, &secrets, rotations, clock,
                                          crypto::RandomUuid(), BackgroundInterval());
  if (*harness) ConnectBackgroundJobs(**harness, **store, background_jobs);
  auth::IdentityEndpoints identity(**tokens, **store, dev.identity_header, dev.identity);
  auth::AccessChecker access(**store, clock);
  service::VaultAdmin::Hooks admin_hooks;
  admin_hooks.access_changed = [&access] { access.Forget(); };
  service::VaultAdmin vault_admin(**store, vaults, service_clock, std::move(admin_hooks));
  http::AdminContext admin{vault_admin, admin_token->token, **tokens, clock, &audit_source,
                           harness->get()};
  auth::SignInThrottle sign_ins(clock, {.failures_per_address = config.max_failed_sign_ins,
                                        .failures_per_client = config.max_failed_sign_ins,
                                        .window = std::chrono::seconds(60)});
  service::ResourceGroups resource_groups(**store, vault_admin, service_clock);
  http::ArmOperations arm_operations;
  http::ArmContext arm{vault_admin, resource_groups, **tokens, &admin_token->token,
                       arm_operations};
  ServerOperationsProbe operations(**store, audit_log->get(), clock);
  http::Router router({keys, crypto, vaults, **tokens, identity, access, &admin, &sign_ins,
                       &secrets, config.arm || config.dev ? &arm : nullptr, harness->get(),
                       &operations, &certificates});
  http::Server server(std::move(options), router);
  // Set before the server starts, so no request sees it half-made.
  if (config.dev) {
    vault_admin.OnVaultCreated(DevVaultCreatedHook(**store, dev.identity, data_dir, server));
  }
  if (Status started = server.Start(); !started.ok()) return Fail(started);
  spdlog::info("coffre listening: https port {}, http port {}", server.https_port(),
               server.http_port());
  if (config.dev) {
    if (Status announced = AnnounceDevEnvironment(dev, data_dir, server, admin_token->text);
        !announced.ok()) {
      return Fail(announced);
    }
  }

  server.RunPeriodically(background_jobs.interval(),
                         [&background_jobs] { background_jobs.RunOnce(); });
  server.Wait();
  spdlog::info("coffre stopped");
  return 0;
}

int CreatePrincipalCommand(const std::string& data_dir, const std::string& name) {
  auto store = OpenStore(AbsolutePath(data_dir));
  if (!store.ok()) return Fail(store.status());
  auto tenant = TenantId(**store);
  if (!tenant.ok()) return Fail(tenant.status());
  auto created = auth::CreatePrincipal(**store, name, SystemClock::Instance());
  if (!created.ok()) return Fail(created.status());
  boost::json::object out;
  out["appId"] = created->record.client_id;
  out["displayName"] = created->record.name;
  out["password"] = created->secret;
  out["tenant"] = *tenant;
  out["objectId"] = created->record.object_id;
  std::cout << boost::json::serialize(out) << std::endl;
  // The lines to paste go to stderr, so that stdout stays one JSON document for scripts.
  std::cerr << kPrincipalEnvHeading
            << PrincipalEnvLines(created->record.client_id, created->secret,
                                 AuthorityHostFromDataDir(AbsolutePath(data_dir)))
            << std::flush;
  SecureWipe(created->secret.data(), created->secret.size());
  return 0;
}

int ListPrincipalsCommand(const std::string& data_dir) {
  auto store = OpenStore(AbsolutePath(data_dir));
  if (!store.ok()) return Fail(store.status());
  auto principals = (*store)->ListPrincipals();
  if (!principals.ok()) return Fail(principals.status());
  boost::json::array out;
  for (const auto& p : *principals) {
    out.push_back(boost::json::object{{"appId", p.client_id},
                                      {"displayName", p.name},
                                      {"objectId", p.object_id},
                                      {"created", p.created}});
  }
  std::cout << boost::json::serialize(out) << std::endl;
  return 0;
}

int DeletePrincipalCommand(const std::string& data_dir, const std::string& name) {
  auto store = OpenStore(AbsolutePath(data_dir));
  if (!store.ok()) return Fail(store.status());
  Status deleted = (*store)->DeletePrincipal(name);
  if (!deleted.ok()) return Fail(deleted);
  return 0;
}

int VerifyAuditCommand(const AuditVerifyConfig& config) {
  const std::vector<std::string>& files = config.files;
  if (files.empty()) {
    std::cerr << "coffre audit verify: name the audit files, oldest first" << std::endl;
    return 2;
  }
  // The data dir: given, or the one the files sit in (DATA_DIR/audit/audit-*.jsonl).
  std::string data_dir = config.data_dir;
  if (data_dir.empty()) {
    std::filesystem::path guess =
        std::filesystem::path(AbsolutePath(files.front())).parent_path().parent_path();
    std::error_code ec;
    if (std::filesystem::exists(guess / "master.key", ec)) data_dir = guess.string();
  }
  audit::VerifyOptions options;
  // A chain that does not start at the very first line (older files rotated away) is checked
  // from its first line on.
  options.allow_partial = true;
  bool anchored = false;
  if (!data_dir.empty() || !config.master_key_file.empty()) {
    data_dir = AbsolutePath(data_dir.empty() ? "." : data_dir);
    const std::string key_path =
        config.master_key_file.empty() ? JoinPath(data_dir, "master.key") : config.master_key_file;
    std::error_code ec;
    if (!std::filesystem::exists(key_path, ec)) {
      return Fail(Status::NotFound("NotFound", "No master key at " + key_path + "."));
    }
    auto barrier = service::Barrier::LoadOrCreate(key_path);
    if (!barrier.ok()) return Fail(barrier.status());
    options.key = barrier->DeriveKey(kAuditChainPurpose);
    auto store =
        config.storage.empty() && !std::filesystem::exists(JoinPath(data_dir, "coffre.db"))
            ? Result<std::unique_ptr<store::Store>>(Status::NotFound("NotFound", "no store"))
            : OpenStore(data_dir, config.storage);
    if (store.ok()) {
      const std::string audit_dir =
          AbsolutePath(config.audit_dir.empty() ? JoinPath(data_dir, "audit") : config.audit_dir);
      auto head = (*store)->GetSetting(audit::AuditHeadSetting(audit_dir));
      if (!head.ok()) return Fail(head.status());
      if (*head) {
        options.head = **head;
        anchored = true;
      }
    }
  }
  auto result = audit::VerifyAuditFiles(files, options);
  if (!result.ok) {
    std::cout << "audit log damaged: " << result.problem << std::endl;
    return 1;
  }
  std::cout << "audit log intact: " << result.lines << " lines" << std::endl;
  if (options.key.empty()) {
    std::cout << "note: checked without the chain key (no data dir): only unkeyed lines could be "
                 "checked"
              << std::endl;
  }
  if (result.unkeyed_lines > 0) {
    std::cout << "note: " << result.unkeyed_lines
              << " lines predate keyed chains: they carry only an unkeyed hash, so an edit there "
                 "with every later hash recomputed would not show"
              << std::endl;
  }
  if (anchored) {
    std::cout << "anchor: the store's head (seq " << result.anchored_seq
              << ") is present: no line up to it was dropped" << std::endl;
  } else {
    std::cout << "note: no anchored head found in the store: lines dropped from the end would not "
                 "show"
              << std::endl;
  }
  return 0;
}

}  // namespace coffre::app
