#include "http/secret_json.h"

#include <boost/json.hpp>
#include <cstdio>

#include "http/key_json.h"

namespace coffre::http {
namespace json = boost::json;
namespace {

std::string SecretId(std::string_view base_url, std::string_view name, std::string_view version) {
  std::string id(base_url);
  id += "/secrets/";
  id += name;
  if (!version.empty()) {
    id += '/';
    id += version;
  }
  return id;
}

// Everything of a bundle but its value.
json::object BundleJson(const service::SecretBundle& bundle, std::string_view base_url) {
  json::object o;
  if (bundle.content_type) o["contentType"] = *bundle.content_type;
  o["id"] = SecretId(base_url, bundle.name, bundle.version);
  o["attributes"] = AttributesJson(bundle.attributes);
  AddTagsJson(o, bundle.tags);
  if (bundle.key_id) {
    // A certificate's secret keeps its key's path; the host is the one the client used.
    o["kid"] = bundle.key_id->starts_with("/") ? std::string(base_url) + *bundle.key_id
                                               : *bundle.key_id;
  }
  if (bundle.managed) o["managed"] = true;
  return o;
}

void AddDeletion(json::object& o, const service::DeletionInfo& d, std::string_view base_url,
                 std::string_view name) {
  o["recoveryId"] = std::string(base_url) + "/deletedsecrets/" + std::string(name);
  o["deletedDate"] = d.deleted_date;
  o["scheduledPurgeDate"] = d.scheduled_purge_date;
}

// Appends `text` as a JSON string literal. `out` has room for the worst case (reserved by the
// caller), so it never reallocates and leaves no unwiped copy of the value behind.
void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::string SecretBundleText(const service::SecretBundle& bundle, std::string_view base_url) {
  std::string rest = json::serialize(BundleJson(bundle, base_url));
  if (!bundle.has_value) return rest;
  std::string out;
  // Worst case: every byte escaped as \u00XX.
  out.reserve(bundle.value.size() * 6 + rest.size() + 16);
  out += "{\"value\":";
  AppendJsonString(out, std::string_view(bundle.value.data(), bundle.value.size()));
  if (rest.size() > 2) {
    out += ',';
    out.append(rest, 1, std::string::npos);
  } else {
    out += '}';
  }
  return out;
}

json::object DeletedSecretBundleJson(const service::DeletedSecretBundle& deleted,
                                     std::string_view base_url) {
  json::object o;
  AddDeletion(o, deleted.deletion, base_url, deleted.bundle.name);
  for (auto& [k, v] : BundleJson(deleted.bundle, base_url)) o[k] = std::move(v);
  return o;
}

json::object SecretItemJson(const service::SecretItem& item, std::string_view base_url) {
  json::object o;
  o["id"] = SecretId(base_url, item.name, item.version);
  o["attributes"] = AttributesJson(item.attributes);
  AddTagsJson(o, item.tags);
  if (item.content_type) o["contentType"] = *item.content_type;
  if (item.managed) o["managed"] = true;
  return o;
}

json::object DeletedSecretItemJson(const service::DeletedSecretItem& item,
                                   std::string_view base_url) {
  json::object o;
  AddDeletion(o, item.deletion, base_url, item.item.name);
  for (auto& [k, v] : SecretItemJson(item.item, base_url)) o[k] = std::move(v);
  return o;
}

Result<service::SetSecretRequest> ParseSetSecretRequest(std::string_view body) {
  if (body.empty()) {
    return Status::BadParameter("The request body is empty; a JSON object is required.");
  }
  // The parsed document (and the value in it) lives in this wiping buffer, sized so the parse
  // never needs more; whatever it holds is wiped when the buffer goes.
  SecureBytes arena(body.size() * 2 + 4096);
  service::SetSecretRequest request;
  {
    json::monotonic_resource resource(arena.data(), arena.size());
    json::parse_options options;
    options.max_depth = 32;
    json::error_code ec;
    json::value value = json::parse(body, ec, &resource, options);
    if (ec) return Status::BadParameter("The request body is not valid JSON.");
    if (!value.is_object()) return Status::BadParameter("The request body must be a JSON object.");
    const json::object& o = value.get_object();
    auto it = o.find("value");
    if (it == o.end() || it->value().is_null()) {
      return Status::BadParameter("The property \"value\" is required.");
    }
    if (!it->value().is_string()) {
      return Status::BadParameter("The property \"value\" must be a string.");
    }
    const json::string& text = it->value().get_string();
    request.value.assign(text.data(), text.size());
    COFFRE_ASSIGN_OR_RETURN(request.content_type, ParseOptionalString(o, "contentType"));
    COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributeChanges(o));
    COFFRE_ASSIGN_OR_RETURN(request.tags, ParseOptionalTags(o));
  }
  return request;
}

Result<service::UpdateSecretRequest> ParseUpdateSecretRequest(const json::object& body) {
  service::UpdateSecretRequest request;
  COFFRE_ASSIGN_OR_RETURN(request.content_type, ParseOptionalString(body, "contentType"));
  COFFRE_ASSIGN_OR_RETURN(request.attributes, ParseAttributeChanges(body));
  COFFRE_ASSIGN_OR_RETURN(request.tags, ParseOptionalTags(body));
  return request;
}

}  // namespace coffre::http
