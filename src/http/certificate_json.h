// Key Vault JSON for certificates: rendering CertificateBundle, CertificateItem, the deleted
// forms, the certificate operation, the policy, issuers and contacts, and parsing the create,
// import, merge and update bodies. Identifiers are built from `base_url` ("https://host[:port]"),
// the scheme and Host the client used.
//
// An import's value and password are parsed in a wiping buffer and never pass through a JSON
// document that would free them unwiped.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "service/certificate_service.h"

namespace coffre::http {

boost::json::object CertificateBundleJson(const service::CertificateBundle& bundle,
                                          std::string_view base_url);
boost::json::object DeletedCertificateBundleJson(const service::DeletedCertificateBundle& deleted,
                                                 std::string_view base_url);
boost::json::object CertificateItemJson(const service::CertificateItem& item,
                                        std::string_view base_url);
boost::json::object DeletedCertificateItemJson(const service::DeletedCertificateItem& item,
                                               std::string_view base_url);
boost::json::object CertificateOperationJson(const service::CertificateOperation& op,
                                             std::string_view base_url);
boost::json::object CertificatePolicyBundleJson(std::string_view name,
                                                const service::CertificatePolicy& policy,
                                                int64_t updated, std::string_view base_url);
boost::json::object IssuerJson(const service::CertificateIssuer& issuer, std::string_view base_url);
boost::json::object IssuerItemJson(const service::CertificateIssuer& issuer,
                                   std::string_view base_url);
boost::json::object ContactsJson(const std::vector<service::CertificateContact>& contacts,
                                 std::string_view base_url);

// POST /certificates/{name}/create body: {"policy"?, "attributes"?, "tags"?}; the policy is
// read over Key Vault's defaults.
Result<service::CreateCertificateRequest> ParseCreateCertificateRequest(
    const boost::json::object& body);
// POST /certificates/{name}/import body: {"value", "pwd"?, "policy"?, "attributes"?, "tags"?}.
Result<service::ImportCertificateRequest> ParseImportCertificateRequest(std::string_view body);
// POST /certificates/{name}/pending/merge body: {"x5c": [base64...], "attributes"?, "tags"?}.
struct MergeCertificateRequest {
  std::vector<Bytes> x5c;
  service::AttributeChanges attributes;
  std::optional<service::Tags> tags;
};
Result<MergeCertificateRequest> ParseMergeCertificateRequest(const boost::json::object& body);

}  // namespace coffre::http
