#include "http/certificate_json.h"

#include <boost/json.hpp>

#include "common/base64url.h"
#include "http/key_json.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

// Largest x5c a merge takes, in entries and in decoded bytes per entry.
constexpr size_t kMaxMergeEntryBytes = 64 * 1024;

std::string CertificateId(std::string_view base_url, std::string_view name,
                          std::string_view version) {
  std::string id = std::string(base_url) + "/certificates/" + std::string(name);
  if (!version.empty()) id += "/" + std::string(version);
  return id;
}

void AddDeletion(json::object& o, const service::DeletionInfo& d, std::string_view base_url,
                 std::string_view name) {
  o["recoveryId"] = std::string(base_url) + "/deletedcertificates/" + std::string(name);
  o["deletedDate"] = d.deleted_date;
  o["scheduledPurgeDate"] = d.scheduled_purge_date;
}

json::object PolicyAttributes(const service::CertificatePolicy& policy, int64_t updated) {
  json::object a;
  a["enabled"] = policy.enabled;
  a["created"] = updated;
  a["updated"] = updated;
  return a;
}

}  // namespace

json::object CertificatePolicyBundleJson(std::string_view name,
                                         const service::CertificatePolicy& policy, int64_t updated,
                                         std::string_view base_url) {
  json::object o;
  o["id"] = CertificateId(base_url, name, "") + "/policy";
  json::object body = service::CertificatePolicyJson(policy);
  for (auto& member : body) o[member.key()] = member.value();
  o["attributes"] = PolicyAttributes(policy, updated);
  return o;
}

json::object CertificateBundleJson(const service::CertificateBundle& b, std::string_view base) {
  json::object o;
  o["id"] = CertificateId(base, b.name, b.version);
  o["kid"] = std::string(base) + "/keys/" + b.name + "/" + b.version;
  o["sid"] = std::string(base) + "/secrets/" + b.name + "/" + b.version;
  o["x5t"] = Base64UrlEncode(b.x5t);
  o["cer"] = Base64Encode(b.cer);
  o["attributes"] = AttributesJson(b.attributes);
  AddTagsJson(o, b.tags);
  o["policy"] = CertificatePolicyBundleJson(b.name, b.policy, b.policy_updated, base);
  o["contentType"] = b.policy.content_type;
  return o;
}

json::object DeletedCertificateBundleJson(const service::DeletedCertificateBundle& deleted,
                                          std::string_view base_url) {
  json::object o = CertificateBundleJson(deleted.bundle, base_url);
  AddDeletion(o, deleted.deletion, base_url, deleted.bundle.name);
  return o;
}

json::object CertificateItemJson(const service::CertificateItem& item, std::string_view base) {
  json::object o;
  o["id"] = CertificateId(base, item.name, item.version);
  o["x5t"] = Base64UrlEncode(item.x5t);
  o["attributes"] = AttributesJson(item.attributes);
  AddTagsJson(o, item.tags);
  return o;
}

json::object DeletedCertificateItemJson(const service::DeletedCertificateItem& item,
                                        std::string_view base_url) {
  json::object o = CertificateItemJson(item.item, base_url);
  AddDeletion(o, item.deletion, base_url, item.item.name);
  return o;
}

json::object CertificateOperationJson(const service::CertificateOperation& op,
                                      std::string_view base) {
  json::object o;
  o["id"] = CertificateId(base, op.name, "") + "/pending";
  json::object issuer;
  issuer["name"] = op.issuer;
  if (op.certificate_type) issuer["cty"] = *op.certificate_type;
  o["issuer"] = std::move(issuer);
  if (!op.csr.empty()) o["csr"] = Base64Encode(op.csr);
  o["cancellation_requested"] = op.cancellation_requested;
  o["status"] = op.status;
  if (op.status_details) o["status_details"] = *op.status_details;
  // No "error" member: the Python SDK (azure-keyvault-certificates 4.x) cannot read one whose
  // innererror is absent and fails the whole call; the failure's words are in status_details.
  if (op.status == "completed") o["target"] = CertificateId(base, op.name, "");
  o["request_id"] = op.request_id;
  return o;
}

json::object IssuerJson(const service::CertificateIssuer& issuer, std::string_view base) {
  json::object o;
  o["id"] = std::string(base) + "/certificates/issuers/" + issuer.name;
  for (const auto& member : issuer.document) o[member.key()] = member.value();
  json::object a;
  a["enabled"] = issuer.enabled;
  a["created"] = issuer.created;
  a["updated"] = issuer.updated;
  o["attributes"] = std::move(a);
  return o;
}

json::object IssuerItemJson(const service::CertificateIssuer& issuer, std::string_view base) {
  json::object o;
  o["id"] = std::string(base) + "/certificates/issuers/" + issuer.name;
  if (const json::value* provider = issuer.document.if_contains("provider")) {
    o["provider"] = *provider;
  }
  return o;
}

json::object ContactsJson(const std::vector<service::CertificateContact>& contacts,
                          std::string_view base) {
  json::array list;
  for (const auto& c : contacts) {
    json::object item;
    if (c.email) item["email"] = *c.email;
    if (c.name) item["name"] = *c.name;
    if (c.phone) item["phone"] = *c.phone;
    list.emplace_back(std::move(item));
  }
  json::object o;
  o["id"] = std::string(base) + "/certificates/contacts";
  o["contacts"] = std::move(list);
  return o;
}

Result<service::CreateCertificateRequest> ParseCreateCertificateRequest(const json::object& body) {
  service::CreateCertificateRequest request;
  const json::value* policy = body.if_contains("policy");
  if (policy == nullptr || policy->is_null()) {
    // Key Vault requires a policy on create; the SDKs always send one.
    return Status::BadParameter("The property \"policy\" is required to create a certificate.");
  }
  COFFRE_ASSIGN_OR_RETURN(request.policy, service::ParseCertificatePolicy(
                                              *policy, service::DefaultCertificatePolicy()));
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributeChanges(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, ParseOptionalTags(body));
  // Attributes given on the create decide whether the first version is enabled.
  if (request.attributes.enabled) request.policy.enabled = *request.attributes.enabled;
  return request;
}

Result<service::ImportCertificateRequest> ParseImportCertificateRequest(std::string_view body) {
  if (body.empty()) {
    return Status::BadParameter("The request body is empty; a JSON object is required.");
  }
  // The parsed document (the PFX or PEM and its password in it) lives in this wiping buffer,
  // sized so the parse never needs more.
  SecureBytes arena(body.size() * 2 + 4096);
  service::ImportCertificateRequest request;
  {
    json::monotonic_resource resource(arena.data(), arena.size());
    json::parse_options options;
    options.max_depth = 32;
    json::error_code ec;
    json::value value = json::parse(body, ec, &resource, options);
    if (ec) return Status::BadParameter("The request body is not valid JSON.");
    if (!value.is_object()) return Status::BadParameter("The request body must be a JSON object.");
    const json::object& o = value.get_object();
    const json::value* v = o.if_contains("value");
    if (v == nullptr || v->is_null()) {
      return Status::BadParameter("The property \"value\" is required.");
    }
    if (!v->is_string()) return Status::BadParameter("The property \"value\" must be a string.");
    if (v->get_string().size() > service::kMaxCertificateImportBytes * 2) {
      return Status::BadParameter("The certificate to import is too large.");
    }
    request.value.assign(v->get_string().data(), v->get_string().size());
    if (const json::value* pwd = o.if_contains("pwd"); pwd != nullptr && !pwd->is_null()) {
      if (!pwd->is_string() || pwd->get_string().size() > 1024) {
        return Status::BadParameter("The property \"pwd\" must be a string.");
      }
      request.password.assign(pwd->get_string().data(), pwd->get_string().size());
    }
    if (const json::value* policy = o.if_contains("policy");
        policy != nullptr && !policy->is_null()) {
      COFFRE_ASSIGN_OR_RETURN(request.policy, service::ParseCertificatePolicy(
                                                  *policy, service::DefaultCertificatePolicy()));
    }
    COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributeChanges(o));
    COFFRE_ASSIGN_OR_RETURN(request.tags, ParseOptionalTags(o));
  }
  return request;
}

Result<MergeCertificateRequest> ParseMergeCertificateRequest(const json::object& body) {
  MergeCertificateRequest request;
  const json::value* x5c = body.if_contains("x5c");
  if (x5c == nullptr || !x5c->is_array() || x5c->as_array().empty()) {
    return Status::BadParameter("The property \"x5c\" is required: an array of certificates.");
  }
  if (x5c->as_array().size() > service::kMaxCertificateChain) {
    return Status::BadParameter("The certificate chain is too long.");
  }
  for (const json::value& entry : x5c->as_array()) {
    if (!entry.is_string() || entry.as_string().size() > kMaxMergeEntryBytes * 2) {
      return Status::BadParameter("Each x5c entry must be a base64 certificate.");
    }
    auto der = Base64UrlDecode(entry.as_string());
    if (!der || der->empty()) {
      return Status::BadParameter("Each x5c entry must be a base64 certificate.");
    }
    request.x5c.push_back(std::move(*der));
  }
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributeChanges(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, ParseOptionalTags(body));
  return request;
}

}  // namespace coffre::http
