#include "auth/identity_endpoints.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "common/base64url.h"
#include "crypto/asymmetric_key.h"
#include "store/store.h"

namespace coffre::auth {
namespace {

namespace json = boost::json;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kResource[] = "https://localhost:8443";
constexpr char kScope[] = "https://localhost:8443/.default";
constexpr char kIdentityHeader[] = "identity-header-secret-0123456789";

Identity DevIdentity() {
  return Identity{"aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002",
                  "dev"};
}

std::set<std::string> Keys(const json::object& object) {
  std::set<std::string> keys;
  for (const auto& item : object) keys.insert(std::string(item.key()));
  return keys;
}

json::object ParseBody(const EndpointResponse& response) {
  boost::system::error_code ec;
  json::value value = json::parse(response.body, ec);
  EXPECT_FALSE(ec) << response.body;
  EXPECT_TRUE(value.is_object()) << response.body;
  return value.is_object() ? value.as_object() : json::object();
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class IdentityEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "coffre-identity-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = store::OpenSqliteStore((dir_ / "coffre.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto key = crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256);
    ASSERT_TRUE(key.ok());
    tokens_ = std::make_unique<TokenAuthority>(std::move(key).value(), "adfs-tenant", clock_);
    endpoints_ =
        std::make_unique<IdentityEndpoints>(*tokens_, *store_, kIdentityHeader, DevIdentity());
  }
  void TearDown() override {
    endpoints_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  FieldMap MsiQuery() const { return {{"api-version", "2019-08-01"}, {"resource", kResource}}; }

  CreatedPrincipal NewPrincipal(std::string_view name = "build-agent") {
    auto created = CreatePrincipal(*store_, name, clock_);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created).value() : CreatedPrincipal{};
  }

  // What MSAL (Python and Node) post for a client-secret credential against an ADFS authority.
  static FieldMap TokenForm(const CreatedPrincipal& principal, std::string secret) {
    return {{"client_id", principal.record.client_id},
            {"client_secret", std::move(secret)},
            {"grant_type", "client_credentials"},
            {"scope", kScope},
            {"client_info", "1"},
            {"claims", R"({"access_token":{"xms_cc":{"values":["CP1"]}}})"},
            {"x-client-SKU", "msal.js.node"},
            {"client-request-id", "5b8a0c8e-0000-4000-8000-000000000000"}};
  }

  std::filesystem::path dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TokenAuthority> tokens_;
  std::unique_ptr<IdentityEndpoints> endpoints_;
};

// ---------------------------------------------------------------- managed identity

TEST_F(IdentityEndpointsTest, ManagedIdentityIssuesAppServiceShapedToken) {
  EndpointResponse response = endpoints_->ManagedIdentityToken(MsiQuery(), kIdentityHeader);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = ParseBody(response);
  EXPECT_EQ(Keys(body), (std::set<std::string>{"access_token", "expires_on", "resource",
                                               "token_type", "client_id"}));
  ASSERT_TRUE(body.at("expires_on").is_string());
  EXPECT_EQ(body.at("expires_on").as_string(), std::to_string(kNow + 3600));
  EXPECT_EQ(body.at("resource").as_string(), kResource);
  EXPECT_EQ(body.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(body.at("client_id").as_string(), DevIdentity().app_id);

  auto claims = tokens_->Verify(std::string(body.at("access_token").as_string()), kResource);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->object_id, DevIdentity().object_id);
  EXPECT_EQ(claims->app_id, DevIdentity().app_id);
}

TEST_F(IdentityEndpointsTest, ManagedIdentityEchoesScopeResourceButIssuesForItsAudience) {
  FieldMap query = MsiQuery();
  query["resource"] = kScope;
  query["client_id"] = DevIdentity().app_id;  // as sent when AZURE_CLIENT_ID is set
  EndpointResponse response = endpoints_->ManagedIdentityToken(query, kIdentityHeader);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = ParseBody(response);
  EXPECT_EQ(body.at("resource").as_string(), kScope);
  EXPECT_TRUE(tokens_->Verify(std::string(body.at("access_token").as_string()), kResource).ok());
}

TEST_F(IdentityEndpointsTest, ManagedIdentityRejectsWrongOrMissingHeader) {
  for (std::string_view header : {std::string_view(), std::string_view("wrong"),
                                  std::string_view("identity-header-secret-012345678"),
                                  std::string_view("identity-header-secret-0123456789x")}) {
    EndpointResponse response = endpoints_->ManagedIdentityToken(MsiQuery(), header);
    EXPECT_EQ(response.status, 401) << header;
    EXPECT_TRUE(ParseBody(response).contains("error"));
    EXPECT_EQ(response.body.find(kIdentityHeader), std::string::npos);
    EXPECT_EQ(response.body.find("access_token"), std::string::npos);
  }
}

TEST_F(IdentityEndpointsTest, ManagedIdentityValidatesParameters) {
  FieldMap no_resource = MsiQuery();
  no_resource.erase("resource");
  EXPECT_EQ(endpoints_->ManagedIdentityToken(no_resource, kIdentityHeader).status, 400);

  FieldMap empty_resource = MsiQuery();
  empty_resource["resource"] = "";
  EXPECT_EQ(endpoints_->ManagedIdentityToken(empty_resource, kIdentityHeader).status, 400);

  FieldMap no_version = MsiQuery();
  no_version.erase("api-version");
  EXPECT_EQ(endpoints_->ManagedIdentityToken(no_version, kIdentityHeader).status, 400);

  FieldMap other_client = MsiQuery();
  other_client["client_id"] = "someone-else";
  EndpointResponse response = endpoints_->ManagedIdentityToken(other_client, kIdentityHeader);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(ParseBody(response).at("error").as_string(), "invalid_request");

  FieldMap res_id = MsiQuery();
  res_id["mi_res_id"] = "/subscriptions/x";
  EXPECT_EQ(endpoints_->ManagedIdentityToken(res_id, kIdentityHeader).status, 400);

  // The header is checked before anything about the request is revealed.
  EXPECT_EQ(endpoints_->ManagedIdentityToken(no_resource, "wrong").status, 401);
}

TEST_F(IdentityEndpointsTest, ManagedIdentityOffWithoutDevIdentity) {
  IdentityEndpoints off(*tokens_, *store_, kIdentityHeader, Identity{});
  EXPECT_EQ(off.ManagedIdentityToken(MsiQuery(), kIdentityHeader).status, 404);
  // An empty configured header never matches an absent one.
  IdentityEndpoints no_header(*tokens_, *store_, "", DevIdentity());
  EXPECT_NE(no_header.ManagedIdentityToken(MsiQuery(), "").status, 200);
}

// ---------------------------------------------------------------- ADFS

TEST_F(IdentityEndpointsTest, OpenIdConfigurationHasWhatMsalNeeds) {
  EndpointResponse response = endpoints_->OpenIdConfiguration("https://localhost:8443/adfs");
  ASSERT_EQ(response.status, 200);
  json::object body = ParseBody(response);
  EXPECT_EQ(body.at("issuer").as_string(), "https://localhost:8443/adfs");
  EXPECT_EQ(body.at("authorization_endpoint").as_string(),
            "https://localhost:8443/adfs/oauth2/authorize");
  EXPECT_EQ(body.at("token_endpoint").as_string(), "https://localhost:8443/adfs/oauth2/token");
  EXPECT_EQ(body.at("jwks_uri").as_string(), "https://localhost:8443/adfs/discovery/keys");
  EXPECT_EQ(body.at("grant_types_supported").as_array(),
            (json::array{"client_credentials", "password", "refresh_token"}));
  EXPECT_EQ(body.at("id_token_signing_alg_values_supported").as_array(), json::array{"ES256"});
  for (const char* field : {"response_types_supported", "token_endpoint_auth_methods_supported",
                            "scopes_supported", "subject_types_supported"}) {
    EXPECT_TRUE(body.contains(field)) << field;
  }
}

TEST_F(IdentityEndpointsTest, SigningKeysPublishTheTokenKey) {
  json::object body = ParseBody(endpoints_->SigningKeys());
  ASSERT_EQ(body.at("keys").as_array().size(), 1u);
  const json::object& jwk = body.at("keys").as_array()[0].as_object();
  EXPECT_EQ(jwk.at("kty").as_string(), "EC");
  EXPECT_EQ(jwk.at("crv").as_string(), "P-256");
  EXPECT_EQ(jwk.at("kid").as_string(), tokens_->key_id());
  EXPECT_EQ(jwk.at("x").as_string().size(), 43u);
  EXPECT_EQ(jwk.at("y").as_string().size(), 43u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST_F(IdentityEndpointsTest, ClientSecretGivesVerifiableToken) {
  CreatedPrincipal principal = NewPrincipal();
  EndpointResponse response =
      endpoints_->ClientCredentialsToken(TokenForm(principal, principal.secret));
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = ParseBody(response);
  EXPECT_EQ(Keys(body),
            (std::set<std::string>{"token_type", "expires_in", "ext_expires_in", "access_token"}));
  EXPECT_EQ(body.at("token_type").as_string(), "Bearer");
  ASSERT_TRUE(body.at("expires_in").is_int64());
  EXPECT_GE(body.at("expires_in").as_int64(), 3000);
  EXPECT_LE(body.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(body.at("ext_expires_in"), body.at("expires_in"));
  EXPECT_EQ(response.body.find(principal.secret), std::string::npos);

  auto claims = tokens_->Verify(std::string(body.at("access_token").as_string()), kResource);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->object_id, principal.record.object_id);
  EXPECT_EQ(claims->app_id, principal.record.client_id);
  EXPECT_EQ(claims->audience, kResource);
  EXPECT_FALSE(
      tokens_->Verify(std::string(body.at("access_token").as_string()), "https://vault.azure.net")
          .ok());
}

TEST_F(IdentityEndpointsTest, WrongSecretAndUnknownClientGetTheSameAnswer) {
  CreatedPrincipal principal = NewPrincipal();
  EndpointResponse wrong_secret =
      endpoints_->ClientCredentialsToken(TokenForm(principal, principal.secret + "x"));
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(ParseBody(wrong_secret).at("error").as_string(), "invalid_client");
  EXPECT_TRUE(ParseBody(wrong_secret).contains("error_description"));

  CreatedPrincipal stranger;
  stranger.record.client_id = "00000000-0000-4000-8000-000000000000";
  EndpointResponse unknown = endpoints_->ClientCredentialsToken(TokenForm(stranger, "whatever"));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, wrong_secret.body);

  // Another principal's secret does not open this one.
  CreatedPrincipal other = NewPrincipal("other");
  EXPECT_EQ(endpoints_->ClientCredentialsToken(TokenForm(principal, other.secret)).status, 401);
  for (const EndpointResponse& r : {wrong_secret, unknown}) {
    EXPECT_EQ(r.body.find(principal.secret), std::string::npos);
  }
}

TEST_F(IdentityEndpointsTest, RequestShapeErrors) {
  CreatedPrincipal principal = NewPrincipal();
  auto error_of = [&](const FieldMap& form) {
    EndpointResponse response = endpoints_->ClientCredentialsToken(form);
    json::object body = ParseBody(response);
    return std::to_string(response.status) + " " +
           (body.contains("error") ? std::string(body.at("error").as_string()) : "");
  };
  FieldMap form = TokenForm(principal, principal.secret);

  FieldMap wrong_grant = form;
  wrong_grant["grant_type"] = "authorization_code";
  EXPECT_EQ(error_of(wrong_grant), "400 unsupported_grant_type");
  FieldMap no_grant = form;
  no_grant.erase("grant_type");
  EXPECT_EQ(error_of(no_grant), "400 invalid_request");
  FieldMap no_id = form;
  no_id.erase("client_id");
  EXPECT_EQ(error_of(no_id), "400 invalid_request");
  FieldMap no_secret = form;
  no_secret.erase("client_secret");
  EXPECT_EQ(error_of(no_secret), "400 invalid_request");
  FieldMap no_scope = form;
  no_scope.erase("scope");
  EXPECT_EQ(error_of(no_scope), "400 invalid_scope");
  for (const char* scope : {"https://localhost:8443/keys.read", "/.default", "openid",
                            "https://a/.default https://b/.default", "https://"}) {
    FieldMap bad_scope = form;
    bad_scope["scope"] = scope;
    EXPECT_EQ(error_of(bad_scope), "400 invalid_scope") << scope;
  }
  EXPECT_EQ(error_of(form), "200 ");
}

TEST_F(IdentityEndpointsTest, BareResourceScopeAndV1ResourceField) {
  CreatedPrincipal principal = NewPrincipal();
  auto audience_of = [&](const FieldMap& form) -> std::string {
    EndpointResponse response = endpoints_->ClientCredentialsToken(form);
    if (response.status != 200) return "status " + std::to_string(response.status);
    json::object body = ParseBody(response);
    const std::string audiences[] = {kResource, "https://localhost"};
    auto claims = tokens_->Verify(std::string(body.at("access_token").as_string()), audiences);
    return claims.ok() ? claims->audience : claims.status().message();
  };
  // What the Azure SDK for C++ posts with tenant "adfs": the resource, no "/.default".
  FieldMap bare = TokenForm(principal, principal.secret);
  bare["scope"] = "https://localhost";
  EXPECT_EQ(audience_of(bare), "https://localhost");
  bare["scope"] = std::string(kResource) + "/";
  EXPECT_EQ(audience_of(bare), kResource);
  // ADFS v1: resource instead of scope.
  FieldMap v1 = TokenForm(principal, principal.secret);
  v1.erase("scope");
  v1["resource"] = kResource;
  EXPECT_EQ(audience_of(v1), kResource);
}

TEST_F(IdentityEndpointsTest, ScopeErrorNamesTheServedResource) {
  CreatedPrincipal principal = NewPrincipal();
  FieldMap form = TokenForm(principal, principal.secret);
  form["scope"] = "openid";
  EndpointResponse response =
      endpoints_->ClientCredentialsToken(form, "", "https://localhost:45678");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("https://localhost:45678/.default"), std::string::npos)
      << response.body;
  EXPECT_EQ(response.body.find("8443"), std::string::npos) << response.body;
}

TEST_F(IdentityEndpointsTest, HttpBasicClientAuthentication) {
  CreatedPrincipal principal = NewPrincipal();
  FieldMap form = TokenForm(principal, "");
  form.erase("client_secret");
  // RFC 6749 2.3.1: form-urlencode each part, then base64 "id:secret".
  std::string basic =
      "Basic " + Base64Encode(AsBytes(principal.record.client_id + ":" + principal.secret));
  EXPECT_EQ(endpoints_->ClientCredentialsToken(form, basic).status, 200);

  std::string wrong =
      "Basic " + Base64Encode(AsBytes(principal.record.client_id + ":" + principal.secret + "x"));
  EXPECT_EQ(endpoints_->ClientCredentialsToken(form, wrong).status, 401);
  EXPECT_EQ(endpoints_->ClientCredentialsToken(form, "Basic %%%").status, 401);

  // Two authentication methods at once are refused.
  FieldMap both = TokenForm(principal, principal.secret);
  EXPECT_EQ(endpoints_->ClientCredentialsToken(both, basic).status, 400);
  // A non-Basic Authorization header is not client authentication: the form decides.
  EXPECT_EQ(endpoints_->ClientCredentialsToken(both, "Bearer abc").status, 200);
}

TEST_F(IdentityEndpointsTest, SecretIsNeverStored) {
  CreatedPrincipal principal = NewPrincipal("ci");
  ASSERT_EQ(principal.secret.size(), 43u);
  EXPECT_TRUE(principal.record.secret_hash.starts_with("pbkdf2-sha256$"));
  EXPECT_EQ(principal.record.created, kNow);

  auto stored = store_->GetPrincipalByClientId(principal.record.client_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->name, "ci");
  EXPECT_EQ(stored->object_id, principal.record.object_id);
  EXPECT_NE(stored->secret_hash, principal.secret);
  EXPECT_EQ(stored->secret_hash.find(principal.secret), std::string::npos);

  // Every byte the store wrote (main file, WAL, journal): the secret is in none of them.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::string bytes = ReadAll(entry.path());
    EXPECT_EQ(bytes.find(principal.secret), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 1u);
  // Sanity: the data did reach the files (the client id is findable), so the search is real.
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) all += ReadAll(entry.path());
  EXPECT_NE(all.find(principal.record.client_id), std::string::npos);
}

// ---------------------------------------------------------------- users (password grant)

constexpr char kCliClientId[] = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
constexpr char kAuthority[] = "https://localhost:8443/adfs";

TEST_F(IdentityEndpointsTest, PasswordGrantGivesUserTokensAndRefreshWorks) {
  auto user = NewUser("alice@example.test", "Alice", "correct-horse-battery", clock_);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  ASSERT_TRUE(store_->AddUser(user->record).ok());
  // What MSAL Python posts for az login -u/-p against an ADFS authority.
  FieldMap form{{"grant_type", "password"},
                {"username", "ALICE@example.test"},
                {"password", "correct-horse-battery"},
                {"client_id", kCliClientId},
                {"scope", std::string(kResource) + "//.default offline_access openid profile"},
                {"client_info", "1"}};
  EndpointResponse response = endpoints_->ClientCredentialsToken(form, {}, kResource, kAuthority);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = ParseBody(response);
  auto claims = tokens_->Verify(std::string(body.at("access_token").as_string()), kResource);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->object_id, user->record.object_id);
  EXPECT_EQ(claims->upn, "alice@example.test");
  EXPECT_EQ(claims->app_id, kCliClientId);
  EXPECT_EQ(claims->tenant_id, "adfs-tenant");
  EXPECT_EQ(response.body.find("correct-horse-battery"), std::string::npos);
  // The id token names the user for MSAL's account cache: iss = the authority, aud = client.
  std::string id_token(body.at("id_token").as_string());
  auto payload = Base64UrlDecode(
      id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1));
  ASSERT_TRUE(payload);
  json::object id_claims = json::parse(AsChars(*payload)).as_object();
  EXPECT_EQ(id_claims.at("iss").as_string(), kAuthority);
  EXPECT_EQ(id_claims.at("aud").as_string(), kCliClientId);
  EXPECT_EQ(id_claims.at("upn").as_string(), "alice@example.test");
  EXPECT_EQ(id_claims.at("tid").as_string(), "adfs-tenant");

  // The refresh token is no access token...
  std::string refresh(body.at("refresh_token").as_string());
  EXPECT_FALSE(tokens_->Verify(refresh, "urn:coffre:refresh-token").ok());
  // ...but gets a token for another resource, for the same client only.
  FieldMap refresh_form{{"grant_type", "refresh_token"},
                        {"refresh_token", refresh},
                        {"client_id", kCliClientId},
                        {"scope", "https://localhost:8443/.default offline_access openid"}};
  EndpointResponse refreshed =
      endpoints_->ClientCredentialsToken(refresh_form, {}, kResource, kAuthority);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  refresh_form["client_id"] = "11111111-1111-1111-1111-111111111111";
  EXPECT_EQ(endpoints_->ClientCredentialsToken(refresh_form, {}, kResource, kAuthority).status,
            400);
  // An access token is no refresh token.
  refresh_form["client_id"] = kCliClientId;
  refresh_form["refresh_token"] = std::string(body.at("access_token").as_string());
  EXPECT_EQ(endpoints_->ClientCredentialsToken(refresh_form, {}, kResource, kAuthority).status,
            400);
  // A deleted user's refresh token stops working.
  ASSERT_TRUE(store_->DeleteUser("alice@example.test").ok());
  refresh_form["refresh_token"] = refresh;
  EndpointResponse gone =
      endpoints_->ClientCredentialsToken(refresh_form, {}, kResource, kAuthority);
  EXPECT_EQ(gone.status, 400);
  EXPECT_NE(gone.body.find("invalid_grant"), std::string::npos);
}

TEST_F(IdentityEndpointsTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  auto user = NewUser("bob@example.test", "", "", clock_);
  ASSERT_TRUE(user.ok());
  EXPECT_GE(user->password.size(), 32u);  // generated
  EXPECT_EQ(user->record.display_name, "bob");
  ASSERT_TRUE(store_->AddUser(user->record).ok());
  auto attempt = [&](std::string username, std::string password) {
    FieldMap form{{"grant_type", "password"},
                  {"username", std::move(username)},
                  {"password", std::move(password)},
                  {"client_id", kCliClientId},
                  {"scope", kScope}};
    return endpoints_->ClientCredentialsToken(form, {}, kResource, kAuthority);
  };
  EndpointResponse wrong = attempt("bob@example.test", "not-the-password");
  EndpointResponse unknown = attempt("nobody@example.test", "not-the-password");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(attempt("bob@example.test", user->password).status, 200);
  // Two resources, or none: invalid_scope, before any password work.
  FieldMap two{{"grant_type", "password"},
               {"username", "bob@example.test"},
               {"password", user->password},
               {"client_id", kCliClientId},
               {"scope", "https://a.test/.default https://b.test/.default"}};
  EXPECT_NE(
      endpoints_->ClientCredentialsToken(two, {}, kResource, kAuthority).body.find("invalid_scope"),
      std::string::npos);
}

TEST_F(IdentityEndpointsTest, NewUserValidatesInput) {
  EXPECT_FALSE(NewUser("no-at-sign", "", "", clock_).ok());
  EXPECT_FALSE(NewUser("a@b@c", "", "", clock_).ok());
  EXPECT_FALSE(NewUser("@example.test", "", "", clock_).ok());
  EXPECT_FALSE(NewUser("a@.example", "", "", clock_).ok());
  EXPECT_FALSE(NewUser("a b@example.test", "", "", clock_).ok());
  EXPECT_FALSE(NewUser("a@example.test", "", "short", clock_).ok());
  EXPECT_FALSE(NewUser("a@example.test", "bad\nname", "long-enough-1", clock_).ok());
  EXPECT_FALSE(NewUser(std::string(300, 'a') + "@example.test", "", "", clock_).ok());
  auto ok = NewUser("first.last+tag@sub.example.test", "First Last", "long-enough-1", clock_);
  ASSERT_TRUE(ok.ok());
  EXPECT_NE(ok->record.password_hash.find("pbkdf2"), std::string::npos);
}

TEST_F(IdentityEndpointsTest, CreatePrincipalValidatesNames) {
  for (std::string name :
       {std::string(), std::string(129, 'a'), std::string("a/b"), std::string("tab\there"),
        std::string("quote\""), std::string("caf\xc3\xa9")}) {
    auto created = CreatePrincipal(*store_, name, clock_);
    ASSERT_FALSE(created.ok()) << name;
    EXPECT_EQ(created.status().kind(), ErrorKind::kBadRequest);
  }
  CreatedPrincipal a = NewPrincipal(std::string(128, 'a'));
  CreatedPrincipal b = NewPrincipal("My app_1.0-x");
  EXPECT_NE(a.record.client_id, b.record.client_id);
  EXPECT_NE(a.record.object_id, b.record.object_id);
  EXPECT_NE(a.secret, b.secret);
  EXPECT_EQ(a.record.client_id.size(), 36u);

  auto duplicate = CreatePrincipal(*store_, "My app_1.0-x", clock_);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().kind(), ErrorKind::kConflict);
}

}  // namespace
}  // namespace coffre::auth
