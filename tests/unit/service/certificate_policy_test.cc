// Certificate policies: the SDKs' default policy gets Key Vault's defaults, every member is
// validated with a clean error, and the stored form reads back the same.
#include "service/certificate_policy.h"

#include <boost/json.hpp>
#include <string>

#include "gtest/gtest.h"

namespace coffre::service {
namespace {

namespace json = boost::json;

Result<CertificatePolicy> Parse(std::string_view text,
                                const CertificatePolicy& base = DefaultCertificatePolicy()) {
  return ParseCertificatePolicy(json::parse(text), base);
}

TEST(CertificatePolicyTest, TheSdkDefaultPolicyGetsKeyVaultDefaults) {
  // What azure-keyvault-certificates' CertificatePolicy.get_default() sends.
  auto p = Parse(R"({"x509_props":{"subject":"CN=DefaultPolicy"},"issuer":{"name":"Self"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->issuer, "Self");
  EXPECT_EQ(p->kty, "RSA");
  EXPECT_EQ(p->key_size, 2048);
  EXPECT_TRUE(p->exportable);
  EXPECT_FALSE(p->reuse_key);
  EXPECT_EQ(p->content_type, kPkcs12ContentType);
  EXPECT_EQ(p->x509.subject, "CN=DefaultPolicy");
  EXPECT_EQ(p->x509.validity_months, 12);
  ASSERT_EQ(p->lifetime_actions.size(), 1u);
  EXPECT_EQ(p->lifetime_actions[0].lifetime_percentage, 80);
  EXPECT_EQ(p->lifetime_actions[0].action, "AutoRenew");

  auto stored = DecodeCertificatePolicy(EncodeCertificatePolicy(*p));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(EncodeCertificatePolicy(*stored), EncodeCertificatePolicy(*p));
}

TEST(CertificatePolicyTest, EcPemAndSansRoundTrip) {
  auto p = Parse(R"({"key_props":{"kty":"EC","crv":"P-384","exportable":false},
      "secret_props":{"contentType":"application/x-pem-file"},
      "x509_props":{"sans":{"dns_names":["a.internal"],"upns":["u@x"]},"validity_months":24},
      "lifetime_actions":[{"trigger":{"days_before_expiry":30},
                           "action":{"action_type":"EmailContacts"}}],
      "issuer":{"name":"Unknown"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->is_ec());
  EXPECT_EQ(p->curve, "P-384");
  EXPECT_FALSE(p->exportable);
  EXPECT_EQ(p->content_type, kPemContentType);
  EXPECT_EQ(p->x509.dns_names, (std::vector<std::string>{"a.internal"}));
  EXPECT_EQ(p->x509.validity_months, 24);
  json::object o = CertificatePolicyJson(*p);
  EXPECT_EQ(o["key_props"].as_object()["crv"], "P-384");
  EXPECT_FALSE(o["key_props"].as_object().contains("key_size"));
  EXPECT_EQ(
      o["lifetime_actions"].as_array()[0].as_object()["trigger"].as_object()["days_before_expiry"],
      30);
  // A PATCH changes only what it names.
  auto patched = Parse(R"({"x509_props":{"validity_months":6}})", *p);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched->x509.validity_months, 6);
  EXPECT_EQ(patched->curve, "P-384");
  EXPECT_EQ(patched->issuer, "Unknown");
}

TEST(CertificatePolicyTest, InvalidPoliciesGetCleanErrors) {
  const char* bad[] = {
      R"([])",
      R"({"x509_props":{"subject":"CN=a","validity_months":0}})",
      R"({"x509_props":{"subject":"CN=a","validity_months":1200}})",
      R"({"x509_props":{"subject":"CN=a","validity_months":"12"}})",
      R"({"x509_props":{"subject":"CN=a","key_usage":["everything"]}})",
      R"({"x509_props":{"subject":"CN=a","ekus":"1.2.3"}})",
      R"({"x509_props":{"subject":""}})",
      R"({"x509_props":{"subject":"CN=a"},"key_props":{"kty":"oct"}})",
      R"({"x509_props":{"subject":"CN=a"},"key_props":{"kty":"RSA","key_size":1024}})",
      R"({"x509_props":{"subject":"CN=a"},"key_props":{"kty":"EC","crv":"P-256K"}})",
      R"({"x509_props":{"subject":"CN=a"},"key_props":{"kty":"EC","crv":"P-256","key_size":384}})",
      R"({"x509_props":{"subject":"CN=a"},"secret_props":{"contentType":"text/plain"}})",
      R"({"x509_props":{"subject":"CN=a"},"issuer":{"name":""}})",
      R"({"x509_props":{"subject":"CN=a"},"lifetime_actions":[{"trigger":{},"action":{"action_type":"AutoRenew"}}]})",
      R"({"x509_props":{"subject":"CN=a"},"lifetime_actions":[{"trigger":{"lifetime_percentage":100},"action":{"action_type":"AutoRenew"}}]})",
      R"({"x509_props":{"subject":"CN=a"},"lifetime_actions":[{"trigger":{"lifetime_percentage":50},"action":{"action_type":"Explode"}}]})",
      R"({"x509_props":"CN=a"})",
  };
  CertificatePolicy empty;  // no subject to fall back on
  for (const char* text : bad) {
    auto p = Parse(text, empty);
    EXPECT_EQ(p.status().kind(), ErrorKind::kBadRequest) << text;
  }
}

}  // namespace
}  // namespace coffre::service
