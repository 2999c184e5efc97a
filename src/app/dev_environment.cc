#include "app/dev_environment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "app/data_dir.h"
#include "crypto/random.h"

namespace coffre::app {
namespace {

constexpr int kCaValidDays = 3650;
constexpr int kServerCertValidDays = 397;
constexpr int64_t kRenewBeforeSeconds = 30 * 86400;
constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// The directory of the running `coffre` binary (dev.env puts it on PATH), double-quoted for a
// POSIX shell; empty if unknown.
std::string QuotedBinaryDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return "";
  std::string quoted;
  for (char c : exe.parent_path().string()) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') quoted += '\\';
    quoted += c;
  }
  return quoted;
}

std::vector<std::string> DevDnsNames(const std::vector<std::string>& vault_names) {
  std::vector<std::string> names = {"localhost", "*.vault.azure.net"};
  for (const auto& vault : vault_names) names.push_back(vault + ".localhost");
  return names;
}

// `replaced` is set when a new CA was made (every certificate of the old one must be reissued).
Result<crypto::CertificateAndKey> LoadOrCreateCa(const std::string& data_dir, bool* replaced) {
  std::string cert_path = JoinPath(data_dir, "ca.pem");
  std::string key_path = JoinPath(data_dir, "ca.key");
  COFFRE_ASSIGN_OR_RETURN(auto cert, ReadFileIfExists(cert_path));
  COFFRE_ASSIGN_OR_RETURN(auto key, ReadPrivateFileIfExists(key_path));
  *replaced = false;
  if (cert && key) {
    // A dev CA from before name constraints could vouch for any host in shells that trust it:
    // it is replaced (ca.pem and ca-bundle.pem are rewritten in place; a copy imported into a
    // system trust store must be imported again).
    auto constrained = crypto::CertificateIsNameConstrained(*cert);
    if (constrained.ok() && *constrained) {
      crypto::CertificateAndKey ca{*cert, SecureString(key->begin(), key->end())};
      SecureWipe(key->data(), key->size());
      return ca;
    }
    SecureWipe(key->data(), key->size());
    spdlog::warn("the dev CA in {} is not name-constrained; replacing it", cert_path);
  }
  *replaced = true;
  COFFRE_ASSIGN_OR_RETURN(auto ca, crypto::CreateDevCa("Coffre dev CA", kCaValidDays));
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(key_path, ca.key_pem, 0600));
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(cert_path, ca.cert_pem, 0644));
  return ca;
}

bool CoversNames(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  return std::all_of(want.begin(), want.end(), [&](const std::string& name) {
    return std::find(have.begin(), have.end(), name) != have.end();
  });
}

}  // namespace

Result<DevTlsFiles> PrepareDevTls(const std::string& data_dir,
                                  const std::vector<std::string>& vault_names) {
  bool new_ca = false;
  COFFRE_ASSIGN_OR_RETURN(auto ca, LoadOrCreateCa(data_dir, &new_ca));
  DevTlsFiles files;
  files.ca_pem_path = JoinPath(data_dir, "ca.pem");
  files.ca_bundle_path = JoinPath(data_dir, "ca-bundle.pem");

  std::string cert_path = JoinPath(data_dir, "server.pem");
  std::string key_path = JoinPath(data_dir, "server.key");
  std::vector<std::string> names = DevDnsNames(vault_names);
  COFFRE_ASSIGN_OR_RETURN(auto cert, ReadFileIfExists(cert_path));
  COFFRE_ASSIGN_OR_RETURN(auto key, ReadPrivateFileIfExists(key_path));
  bool reuse = false;
  if (cert && key && !new_ca) {
    auto have = crypto::CertificateDnsNames(*cert);
    auto not_after = crypto::CertificateNotAfter(*cert);
    reuse = have.ok() && not_after.ok() && CoversNames(*have, names) &&
            *not_after > static_cast<int64_t>(std::time(nullptr)) + kRenewBeforeSeconds;
  }
  if (reuse) {
    files.server = {*cert, SecureString(key->begin(), key->end())};
  } else {
    COFFRE_ASSIGN_OR_RETURN(files.server,
                            crypto::IssueServerCertificate(ca, names, {"127.0.0.1", "::1"},
                                                           kServerCertValidDays));
    COFFRE_RETURN_IF_ERROR(WriteFileAtomically(key_path, files.server.key_pem, 0600));
    COFFRE_RETURN_IF_ERROR(WriteFileAtomically(cert_path, files.server.cert_pem, 0644));
  }
  if (key) SecureWipe(key->data(), key->size());

  COFFRE_ASSIGN_OR_RETURN(auto system_cas, ReadFileIfExists(kSystemCaBundle));
  std::string bundle = system_cas.value_or("");
  if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  bundle += ca.cert_pem;
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(files.ca_pem_path, ca.cert_pem, 0644));
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(files.ca_bundle_path, bundle, 0644));
  return files;
}

Result<std::string> LoadOrCreateIdentityHeader(const std::string& data_dir) {
  std::string path = JoinPath(data_dir, "identity-header");
  COFFRE_ASSIGN_OR_RETURN(auto existing, ReadPrivateFileIfExists(path));
  if (existing) {
    std::string value = *existing;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.size() >= 16) return value;
  }
  std::string secret = crypto::RandomHex(24);
  COFFRE_RETURN_IF_ERROR(WriteFileAtomically(path, secret + "\n", 0600));
  return secret;
}

std::string DevEnvText(const DevEnvValues& v) {
  std::string https = std::to_string(v.https_port);
  std::string plain = std::to_string(v.http_port);
  std::string text;
  text += "# Coffre dev environment: source this file (. " + v.data_dir + "/dev.env)\n";
  text += "export IDENTITY_ENDPOINT=http://127.0.0.1:" + plain + "/msi/token\n";
  text += "export IDENTITY_HEADER=" + v.identity_header + "\n";
  text += "export REQUESTS_CA_BUNDLE=" + v.ca_bundle_path + "\n";
  text += "export CURL_CA_BUNDLE=" + v.ca_bundle_path + "\n";
  text += "export SSL_CERT_FILE=" + v.ca_bundle_path + "\n";
  text += "export NODE_EXTRA_CA_CERTS=" + v.ca_pem_path + "\n";
  text += "export KEY_VAULT_NAME=dev\n";
  text += "export COFFRE_VAULT_URL=https://dev.localhost:" + https + "\n";
  // For the coffre CLI (admin commands and `coffre key ... --vault-name V`).
  text += "export COFFRE_SERVER=https://localhost:" + https + "\n";
  if (!v.admin_token.empty()) text += "export COFFRE_ADMIN_TOKEN=" + v.admin_token + "\n";
  if (std::string dir = QuotedBinaryDir(); !dir.empty()) {
    text += "export PATH=\"" + dir + ":$PATH\"\n";  // `coffre` itself
  }
  text += "# To run Microsoft's quickstart unchanged (https://NAME.vault.azure.net) through the\n";
  text += "# local proxy, uncomment these two lines:\n";
  text += "# export HTTPS_PROXY=http://127.0.0.1:" + plain + "\n";
  text += "# export NO_PROXY=127.0.0.1,localhost,.localhost\n";
  return text;
}

std::string DevAzText(const DevEnvValues& v) {
  const std::string https = std::to_string(v.https_port);
  const std::string base = "https://localhost:" + https;
  std::string text;
  text += "# Coffre and the Azure CLI: source this file (. " + v.data_dir + "/az.sh).\n";
  text += "# It registers this server as the cloud \"Coffre\" in an az config dir of its own\n";
  text += "# (~/.azure is left alone), selects it and signs in as the dev managed identity.\n";
  text += "export AZURE_CONFIG_DIR=" + v.data_dir + "/azure-cli\n";
  text += "export AZURE_CORE_COLLECT_TELEMETRY=false\n";
  text += "export REQUESTS_CA_BUNDLE=" + v.ca_bundle_path + "\n";
  text += "# The dev managed identity as the Azure CLI knows it (App Service, 2017-09-01).\n";
  text += "export APPSETTING_WEBSITE_SITE_NAME=coffre\n";
  text += "export MSI_ENDPOINT=http://127.0.0.1:" + std::to_string(v.http_port) + "/msi/token\n";
  text += "export MSI_SECRET=" + v.identity_header + "\n";
  text += "az cloud register --name Coffre --endpoint-resource-manager " + base +
          "/ --endpoint-active-directory " + base +
          "/adfs --endpoint-active-directory-resource-id " + base +
          " --endpoint-active-directory-graph-resource-id " + base +
          " --suffix-keyvault-dns .localhost:" + https + " --output none 2>/dev/null ||\n";
  text += "  az cloud update --name Coffre --endpoint-resource-manager " + base +
          "/ --endpoint-active-directory " + base +
          "/adfs --endpoint-active-directory-resource-id " + base +
          " --endpoint-active-directory-graph-resource-id " + base +
          " --suffix-keyvault-dns .localhost:" + https + " --output none\n";
  text += "az cloud set --name Coffre --output none\n";
  text += "az login --identity --output none\n";
  text += "# Or sign in as a principal (coffre principal create --name NAME prints its appId and\n";
  text += "# password):\n";
  text += "#   az login --service-principal --username APP_ID --password PASSWORD --tenant adfs\n";
  text += "# A token for the vaults (what AzureCliCredential asks for):\n";
  text += "#   az account get-access-token --resource " + base + "\n";
  return text;
}

}  // namespace coffre::app
