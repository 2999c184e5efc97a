#include "client/secret_serializers.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstddef>
#include <new>
#include <stdexcept>

#include "client/encoding.h"
#include "client/json_util.h"
#include "client/url.h"

namespace coffre::secrets::_detail {
namespace {

namespace json = boost::json;
using coffre::_detail::GetArray;
using coffre::_detail::GetBool;
using coffre::_detail::GetInt;
using coffre::_detail::GetObject;
using coffre::_detail::GetString;

// Heap memory for parse trees that may hold secret values: wiped before it is given back.
// Boost.JSON 1.81 allocates object keys with alignment 1 but frees them with the default
// alignment, so every block is allocated with at least the default alignment: the pair of
// calls then always matches, as sized aligned delete requires.
class WipingResource final : public json::memory_resource {
 private:
  static std::align_val_t AlignmentFor(std::size_t alignment) {
    return std::align_val_t(std::max(alignment, alignof(std::max_align_t)));
  }
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    return ::operator new(bytes, AlignmentFor(alignment));
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    OPENSSL_cleanse(p, bytes);
    ::operator delete(p, bytes, AlignmentFor(alignment));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

json::storage_ptr WipingStorage() {
  static WipingResource resource;
  return json::storage_ptr(&resource);
}

// The parser's scratch space and the resulting tree both live in wiped memory.
json::value RequireObject(std::string_view body, const char* what) {
  json::parse_options options;
  options.max_depth = 64;
  json::parser parser(WipingStorage(), options);
  parser.reset(WipingStorage());
  json::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec || body.empty()) {
    throw std::invalid_argument(std::string("The service returned an invalid ") + what);
  }
  json::value value = parser.release();
  if (!value.is_object()) {
    throw std::invalid_argument(std::string("The service returned an invalid ") + what);
  }
  return value;
}

Nullable<DateTime> OptionalTime(const json::object& o, std::string_view name) {
  if (auto seconds = GetInt(o, name)) return DateTime::FromUnixSeconds(*seconds);
  return {};
}

Nullable<std::string> OptionalString(const json::object& o, std::string_view name) {
  if (auto text = GetString(o, name)) return std::move(*text);
  return {};
}

void ReadIdentity(SecretProperties& p, const std::string& id) {
  p.Id = id;
  if (auto parts = coffre::_detail::ParseVaultObjectId(id, "secrets", "deletedsecrets")) {
    p.VaultUrl = parts->vault_url;
    p.Name = parts->name;
    p.Version = parts->version;
  }
}

// Everything of a SecretBundle / SecretItem but `value` and `id`.
void ReadProperties(SecretProperties& p, const json::object& o) {
  if (const json::object* a = GetObject(o, "attributes")) {
    if (auto enabled = GetBool(*a, "enabled")) p.Enabled = *enabled;
    p.NotBefore = OptionalTime(*a, "nbf");
    p.ExpiresOn = OptionalTime(*a, "exp");
    p.CreatedOn = OptionalTime(*a, "created");
    p.UpdatedOn = OptionalTime(*a, "updated");
    if (auto days = GetInt(*a, "recoverableDays")) p.RecoverableDays = *days;
    p.RecoveryLevel = OptionalString(*a, "recoveryLevel");
  }
  p.ContentType = OptionalString(o, "contentType");
  if (const json::object* tags = GetObject(o, "tags")) {
    for (const auto& [name, value] : *tags) {
      if (value.is_string()) p.Tags[std::string(name)] = std::string(value.get_string());
    }
  }
  p.Managed = GetBool(o, "managed").value_or(false);
  p.KeyId = OptionalString(o, "kid");
}

SecretProperties ReadItem(const json::object& o) {
  SecretProperties p;
  ReadIdentity(p, GetString(o, "id").value_or(""));
  ReadProperties(p, o);
  return p;
}

void ReadBundle(KeyVaultSecret& secret, const json::object& o, bool with_value) {
  secret.Properties = ReadItem(o);
  secret.Id = secret.Properties.Id;
  secret.Name = secret.Properties.Name;
  if (!with_value) return;
  if (auto it = o.find("value"); it != o.end() && it->value().is_string()) {
    const json::string& value = it->value().get_string();
    secret.Value.Emplace(value.data(), value.size());
  }
}

void ReadDeletion(DeletedSecret& secret, const json::object& o) {
  secret.RecoveryId = GetString(o, "recoveryId").value_or("");
  secret.DeletedOn = OptionalTime(o, "deletedDate");
  secret.ScheduledPurgeDate = OptionalTime(o, "scheduledPurgeDate");
}

std::optional<std::string> NextLink(const json::object& o) {
  auto link = GetString(o, "nextLink");
  if (!link || link->empty()) return std::nullopt;
  return link;
}

json::object AttributesJson(const SecretProperties& p) {
  json::object a;
  if (p.Enabled.HasValue()) a["enabled"] = p.Enabled.Value();
  if (p.NotBefore.HasValue()) a["nbf"] = p.NotBefore.Value().ToUnixSeconds();
  if (p.ExpiresOn.HasValue()) a["exp"] = p.ExpiresOn.Value().ToUnixSeconds();
  return a;
}

// The fields of SecretSetParameters / SecretUpdateParameters other than the value.
json::object MetadataJson(const SecretProperties& p) {
  json::object o;
  if (p.ContentType.HasValue()) o["contentType"] = p.ContentType.Value();
  if (json::object attributes = AttributesJson(p); !attributes.empty()) {
    o["attributes"] = std::move(attributes);
  }
  if (!p.Tags.empty()) {
    json::object tags;
    for (const auto& [name, value] : p.Tags) tags[name] = value;
    o["tags"] = std::move(tags);
  }
  return o;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

size_t JsonStringLength(std::string_view text) {
  size_t n = 2;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

KeyVaultSecret ParseSecretBundle(std::string_view body) {
  json::value v = RequireObject(body, "secret bundle");
  KeyVaultSecret secret;
  ReadBundle(secret, v.get_object(), true);
  return secret;
}

SecretProperties ParseSecretBundleProperties(std::string_view body) {
  json::value v = RequireObject(body, "secret bundle");
  return ReadItem(v.get_object());
}

DeletedSecret ParseDeletedSecretBundle(std::string_view body) {
  json::value v = RequireObject(body, "deleted secret bundle");
  DeletedSecret secret;
  ReadBundle(secret, v.get_object(), true);
  ReadDeletion(secret, v.get_object());
  return secret;
}

SecretPropertiesPage ParseSecretListResult(std::string_view body) {
  json::value v = RequireObject(body, "secret list");
  const json::object& o = v.get_object();
  SecretPropertiesPage page;
  if (const json::array* items = GetArray(o, "value")) {
    for (const auto& item : *items) {
      if (item.is_object()) page.items.push_back(ReadItem(item.get_object()));
    }
  }
  page.next_link = NextLink(o);
  return page;
}

DeletedSecretsPage ParseDeletedSecretListResult(std::string_view body) {
  json::value v = RequireObject(body, "deleted secret list");
  const json::object& o = v.get_object();
  DeletedSecretsPage page;
  if (const json::array* items = GetArray(o, "value")) {
    for (const auto& item : *items) {
      if (!item.is_object()) continue;
      DeletedSecret secret;
      ReadBundle(secret, item.get_object(), false);
      ReadDeletion(secret, item.get_object());
      page.items.push_back(std::move(secret));
    }
  }
  page.next_link = NextLink(o);
  return page;
}

std::vector<uint8_t> ParseBackupValue(std::string_view body) {
  json::value v = RequireObject(body, "response");
  auto value = coffre::_detail::GetBytes(v.get_object(), "value");
  if (!value) throw std::invalid_argument("The service response has no base64url \"value\"");
  return std::move(*value);
}

std::string SerializeSetSecret(std::string_view value, const SecretProperties& properties) {
  // {"value":"...", <metadata fields>}: the metadata is ordinary JSON; the value is escaped
  // straight into a buffer reserved at its final size.
  const std::string metadata = json::serialize(MetadataJson(properties));  // "{...}"
  const std::string_view rest(metadata.data() + 1, metadata.size() - 2);
  std::string body;
  body.reserve(std::string_view(R"({"value":)").size() + JsonStringLength(value) +
               (rest.empty() ? 0 : 1 + rest.size()) + 1);
  body += R"({"value":)";
  AppendJsonString(body, value);
  if (!rest.empty()) {
    body += ',';
    body += rest;
  }
  body += '}';
  return body;
}

std::string SerializeUpdateSecret(const SecretProperties& properties) {
  return json::serialize(MetadataJson(properties));
}

std::string SerializeRestore(const std::vector<uint8_t>& backup) {
  return json::serialize(json::object{{"value", coffre::_detail::Base64UrlEncode(backup)}});
}

}  // namespace coffre::secrets::_detail
