// The --dev environment: a dev CA and a server certificate it issues (kept in the data dir and
// reused), the CA bundle clients trust, the managed-identity secret, and dev.env.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coffre/status.h"
#include "crypto/x509.h"

namespace coffre::app {

struct DevTlsFiles {
  std::string ca_pem_path;           // DATA_DIR/ca.pem
  std::string ca_bundle_path;        // DATA_DIR/ca-bundle.pem: system CAs + dev CA
  crypto::CertificateAndKey server;  // certificate for every dev name
};

// Loads the dev CA (creating it on first start) and a server certificate covering localhost,
// 127.0.0.1, ::1, NAME.localhost for each vault and *.vault.azure.net, reissuing it when the
// names changed or it expires within 30 days. Writes ca.pem and ca-bundle.pem.
Result<DevTlsFiles> PrepareDevTls(const std::string& data_dir,
                                  const std::vector<std::string>& vault_names);

// The managed-identity secret (DATA_DIR/identity-header, 0600), created on first start.
Result<std::string> LoadOrCreateIdentityHeader(const std::string& data_dir);

struct DevEnvValues {
  std::string data_dir;  // absolute
  uint16_t https_port = 0;
  uint16_t http_port = 0;
  std::string identity_header;
  std::string ca_pem_path;
  std::string ca_bundle_path;
  std::string admin_token;  // empty if DATA_DIR/admin.token no longer holds it
};

// The text of dev.env: export lines a shell can source.
std::string DevEnvText(const DevEnvValues& values);

// The text of az.sh, beside dev.env: the commands that register this server as a cloud with
// the Azure CLI (in its own config dir), select it and sign in as the dev managed identity,
// then the ones for a principal and for a token. A shell can source it.
std::string DevAzText(const DevEnvValues& values);

}  // namespace coffre::app
