#include "service/certificate_policy.h"

#include <boost/json.hpp>
#include <utility>

namespace coffre::service {
namespace {

namespace json = boost::json;

// Limits on every list and string a policy carries.
constexpr size_t kMaxNames = 100;
constexpr size_t kMaxText = 1024;
constexpr size_t kMaxActions = 10;

Status Bad(std::string message) { return Status::BadParameter(std::move(message)); }

Result<const json::object*> ObjectMember(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) return Bad("Property " + std::string(name) + " must be an object.");
  return &it->value().get_object();
}

Status ReadString(const json::object& o, std::string_view name, std::string* out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  if (!it->value().is_string() || it->value().get_string().size() > kMaxText) {
    return Bad("Property " + std::string(name) + " must be a string of at most 1024 characters.");
  }
  *out = std::string(it->value().get_string());
  return Status::Ok();
}

Status ReadBool(const json::object& o, std::string_view name, bool* out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  if (!it->value().is_bool()) return Bad("Property " + std::string(name) + " must be a boolean.");
  *out = it->value().get_bool();
  return Status::Ok();
}

Status ReadInt(const json::object& o, std::string_view name, std::optional<int>* out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  const json::value& v = it->value();
  if (v.is_int64() && v.get_int64() >= -1000000 && v.get_int64() <= 1000000) {
    *out = static_cast<int>(v.get_int64());
    return Status::Ok();
  }
  if (v.is_uint64() && v.get_uint64() <= 1000000) {
    *out = static_cast<int>(v.get_uint64());
    return Status::Ok();
  }
  return Bad("Property " + std::string(name) + " must be an integer.");
}

Status ReadStrings(const json::object& o, std::string_view name, std::vector<std::string>* out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  if (!it->value().is_array() || it->value().get_array().size() > kMaxNames) {
    return Bad("Property " + std::string(name) + " must be an array of at most 100 strings.");
  }
  std::vector<std::string> values;
  for (const json::value& v : it->value().get_array()) {
    if (!v.is_string() || v.get_string().empty() || v.get_string().size() > kMaxText) {
      return Bad("Property " + std::string(name) + " must hold non-empty strings.");
    }
    values.emplace_back(v.get_string());
  }
  *out = std::move(values);
  return Status::Ok();
}

Status ReadKeyProps(const json::object& o, CertificatePolicy* p) {
  COFFRE_RETURN_IF_ERROR(ReadString(o, "kty", &p->kty));
  std::optional<int> size;
  COFFRE_RETURN_IF_ERROR(ReadInt(o, "key_size", &size));
  COFFRE_RETURN_IF_ERROR(ReadString(o, "crv", &p->curve));
  COFFRE_RETURN_IF_ERROR(ReadBool(o, "exportable", &p->exportable));
  COFFRE_RETURN_IF_ERROR(ReadBool(o, "reuse_key", &p->reuse_key));
  if (p->kty != "RSA" && p->kty != "RSA-HSM" && p->kty != "EC" && p->kty != "EC-HSM") {
    return Bad("The key type '" + p->kty.substr(0, 32) +
               "' is not supported for certificates. Use RSA, RSA-HSM, EC or EC-HSM.");
  }
  if (p->is_ec()) {
    if (p->curve.empty()) p->curve = "P-256";
    if (p->curve != "P-256" && p->curve != "P-384" && p->curve != "P-521") {
      return Bad("The curve '" + p->curve.substr(0, 32) +
                 "' is not supported. Use P-256, P-384 or P-521.");
    }
    if (size.has_value()) {
      const int want = p->curve == "P-256" ? 256 : p->curve == "P-384" ? 384 : 521;
      if (*size != want) return Bad("The key size does not match the curve.");
    }
    p->key_size = 0;
  } else {
    p->curve.clear();
    if (size.has_value()) p->key_size = *size;
    if (p->key_size == 0) p->key_size = 2048;
    if (p->key_size != 2048 && p->key_size != 3072 && p->key_size != 4096) {
      return Bad("The RSA key size must be 2048, 3072 or 4096.");
    }
  }
  return Status::Ok();
}

Status ReadX509Props(const json::object& o, CertificatePolicy* p) {
  crypto::X509Properties& x = p->x509;
  COFFRE_RETURN_IF_ERROR(ReadString(o, "subject", &x.subject));
  COFFRE_ASSIGN_OR_RETURN(const json::object* sans, ObjectMember(o, "sans"));
  if (sans != nullptr) {
    COFFRE_RETURN_IF_ERROR(ReadStrings(*sans, "dns_names", &x.dns_names));
    COFFRE_RETURN_IF_ERROR(ReadStrings(*sans, "emails", &x.emails));
    COFFRE_RETURN_IF_ERROR(ReadStrings(*sans, "upns", &x.upns));
  }
  COFFRE_RETURN_IF_ERROR(ReadStrings(o, "ekus", &x.ekus));
  COFFRE_RETURN_IF_ERROR(ReadStrings(o, "key_usage", &x.key_usage));
  for (const std::string& usage : x.key_usage) {
    if (!crypto::IsKeyUsageName(usage)) return Bad("Invalid key usage: " + usage.substr(0, 64));
  }
  std::optional<int> months;
  COFFRE_RETURN_IF_ERROR(ReadInt(o, "validity_months", &months));
  if (months.has_value()) {
    if (*months < 1 || *months > kMaxValidityMonths) {
      return Bad("Property validity_months must be between 1 and 120.");
    }
    x.validity_months = *months;
  }
  return Status::Ok();
}

Status ReadLifetimeActions(const json::value& v, CertificatePolicy* p) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_array() || v.get_array().size() > kMaxActions) {
    return Bad("Property lifetime_actions must be an array of at most 10 actions.");
  }
  std::vector<CertificateLifetimeAction> actions;
  for (const json::value& item : v.get_array()) {
    if (!item.is_object()) return Bad("A lifetime action must be an object.");
    const json::object& a = item.get_object();
    COFFRE_ASSIGN_OR_RETURN(const json::object* trigger, ObjectMember(a, "trigger"));
    COFFRE_ASSIGN_OR_RETURN(const json::object* action, ObjectMember(a, "action"));
    if (trigger == nullptr || action == nullptr) {
      return Bad("A lifetime action needs a trigger and an action.");
    }
    CertificateLifetimeAction parsed;
    COFFRE_RETURN_IF_ERROR(ReadInt(*trigger, "lifetime_percentage", &parsed.lifetime_percentage));
    COFFRE_RETURN_IF_ERROR(ReadInt(*trigger, "days_before_expiry", &parsed.days_before_expiry));
    if (parsed.lifetime_percentage.has_value() == parsed.days_before_expiry.has_value()) {
      return Bad(
          "A lifetime action's trigger needs exactly one of lifetime_percentage and "
          "days_before_expiry.");
    }
    if (parsed.lifetime_percentage &&
        (*parsed.lifetime_percentage < 1 || *parsed.lifetime_percentage > 99)) {
      return Bad("Property lifetime_percentage must be between 1 and 99.");
    }
    if (parsed.days_before_expiry && *parsed.days_before_expiry < 1) {
      return Bad("Property days_before_expiry must be at least 1.");
    }
    COFFRE_RETURN_IF_ERROR(ReadString(*action, "action_type", &parsed.action));
    if (parsed.action != "AutoRenew" && parsed.action != "EmailContacts") {
      return Bad("The lifetime action type must be AutoRenew or EmailContacts.");
    }
    actions.push_back(std::move(parsed));
  }
  p->lifetime_actions = std::move(actions);
  return Status::Ok();
}

json::array StringArray(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

}  // namespace

CertificatePolicy DefaultCertificatePolicy() {
  CertificatePolicy p;
  p.x509.ekus = {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"};
  p.x509.key_usage = {"digitalSignature", "keyEncipherment"};
  p.lifetime_actions = {CertificateLifetimeAction{80, std::nullopt, "AutoRenew"}};
  return p;
}

Result<CertificatePolicy> ParseCertificatePolicy(const json::value& value,
                                                 const CertificatePolicy& base) {
  if (!value.is_object()) return Bad("The certificate policy must be a JSON object.");
  const json::object& o = value.get_object();
  CertificatePolicy p = base;
  COFFRE_ASSIGN_OR_RETURN(const json::object* key_props, ObjectMember(o, "key_props"));
  if (key_props != nullptr) COFFRE_RETURN_IF_ERROR(ReadKeyProps(*key_props, &p));
  COFFRE_ASSIGN_OR_RETURN(const json::object* secret_props, ObjectMember(o, "secret_props"));
  if (secret_props != nullptr) {
    COFFRE_RETURN_IF_ERROR(ReadString(*secret_props, "contentType", &p.content_type));
    if (p.content_type != kPkcs12ContentType && p.content_type != kPemContentType) {
      return Bad(
          "The secret content type must be application/x-pkcs12 or "
          "application/x-pem-file.");
    }
  }
  COFFRE_ASSIGN_OR_RETURN(const json::object* x509_props, ObjectMember(o, "x509_props"));
  if (x509_props != nullptr) COFFRE_RETURN_IF_ERROR(ReadX509Props(*x509_props, &p));
  if (auto it = o.find("lifetime_actions"); it != o.end()) {
    COFFRE_RETURN_IF_ERROR(ReadLifetimeActions(it->value(), &p));
  }
  COFFRE_ASSIGN_OR_RETURN(const json::object* issuer, ObjectMember(o, "issuer"));
  if (issuer != nullptr) {
    COFFRE_RETURN_IF_ERROR(ReadString(*issuer, "name", &p.issuer));
    std::string cty;
    COFFRE_RETURN_IF_ERROR(ReadString(*issuer, "cty", &cty));
    if (!cty.empty()) p.certificate_type = cty;
    bool transparency = p.cert_transparency.value_or(false);
    if (issuer->contains("cert_transparency")) {
      COFFRE_RETURN_IF_ERROR(ReadBool(*issuer, "cert_transparency", &transparency));
      p.cert_transparency = transparency;
    }
  }
  if (p.issuer.empty()) return Bad("The issuer name must not be empty.");
  COFFRE_ASSIGN_OR_RETURN(const json::object* attributes, ObjectMember(o, "attributes"));
  if (attributes != nullptr) COFFRE_RETURN_IF_ERROR(ReadBool(*attributes, "enabled", &p.enabled));
  if (p.x509.subject.empty() && p.x509.dns_names.empty() && p.x509.emails.empty() &&
      p.x509.upns.empty()) {
    return Bad("The policy needs a subject or at least one subject alternative name.");
  }
  return p;
}

json::object CertificatePolicyJson(const CertificatePolicy& p) {
  json::object key_props;
  key_props["exportable"] = p.exportable;
  key_props["kty"] = p.kty;
  if (p.is_ec()) {
    key_props["crv"] = p.curve;
  } else {
    key_props["key_size"] = p.key_size;
  }
  key_props["reuse_key"] = p.reuse_key;
  json::object secret_props;
  secret_props["contentType"] = p.content_type;
  json::object x509;
  x509["subject"] = p.x509.subject;
  json::object sans;
  if (!p.x509.dns_names.empty()) sans["dns_names"] = StringArray(p.x509.dns_names);
  if (!p.x509.emails.empty()) sans["emails"] = StringArray(p.x509.emails);
  if (!p.x509.upns.empty()) sans["upns"] = StringArray(p.x509.upns);
  if (!sans.empty()) x509["sans"] = std::move(sans);
  x509["ekus"] = StringArray(p.x509.ekus);
  x509["key_usage"] = StringArray(p.x509.key_usage);
  x509["validity_months"] = p.x509.validity_months;
  json::array actions;
  for (const auto& a : p.lifetime_actions) {
    json::object trigger;
    if (a.lifetime_percentage) trigger["lifetime_percentage"] = *a.lifetime_percentage;
    if (a.days_before_expiry) trigger["days_before_expiry"] = *a.days_before_expiry;
    json::object action;
    action["action_type"] = a.action;
    actions.emplace_back(json::object{{"trigger", std::move(trigger)}, {"action", action}});
  }
  json::object issuer;
  issuer["name"] = p.issuer;
  if (p.certificate_type) issuer["cty"] = *p.certificate_type;
  if (p.cert_transparency) issuer["cert_transparency"] = *p.cert_transparency;
  json::object out;
  out["key_props"] = std::move(key_props);
  out["secret_props"] = std::move(secret_props);
  out["x509_props"] = std::move(x509);
  out["lifetime_actions"] = std::move(actions);
  out["issuer"] = std::move(issuer);
  out["attributes"] = json::object{{"enabled", p.enabled}};
  return out;
}

std::string EncodeCertificatePolicy(const CertificatePolicy& policy) {
  return json::serialize(CertificatePolicyJson(policy));
}

Result<CertificatePolicy> DecodeCertificatePolicy(std::string_view stored) {
  json::error_code ec;
  json::value v = json::parse(stored, ec);
  if (ec) return Status::Internal("store: a certificate policy does not read");
  auto parsed = ParseCertificatePolicy(v, CertificatePolicy{});
  if (!parsed.ok()) return Status::Internal("store: a certificate policy does not read");
  return parsed;
}

}  // namespace coffre::service
