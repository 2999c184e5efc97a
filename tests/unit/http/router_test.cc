// Tests for http/router: vault-from-host, api-version acceptance, slow-request routing and
// Router::Handle end to end over real objects (SQLite store in a temp dir, Barrier, token
// authority, identity endpoints, vault directory with vault "dev").
#include "http/router.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "auth/access_control.h"
#include "auth/identity_endpoints.h"
#include "auth/token_authority.h"
#include "crypto/random.h"
#include "service/crypto_service.h"
#include "service/key_material.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::http {
namespace {

namespace json = boost::json;

constexpr char kHost[] = "dev.localhost:8443";
constexpr char kBase[] = "https://dev.localhost:8443";
constexpr char kResource[] = "https://localhost:8443";
constexpr char kTenant[] = "11111111-2222-4333-8444-555555555555";
constexpr char kIdentityHeader[] = "identity-header-secret-for-tests";
constexpr char kJsonType[] = "application/json; charset=utf-8";

// ---- VaultNameFromHost

TEST(VaultNameFromHost, Table) {
  struct Case {
    const char* host;
    const char* vault;
  };
  const Case cases[] = {
      {"dev.localhost:8443", "dev"},
      {"dev.localhost", "dev"},
      {"DEV.LOCALHOST", "dev"},
      {"Team-A.Localhost:443", "team-a"},
      {"x.vault.azure.net", "x"},
      {"x.vault.azure.net:443", "x"},
      {"localhost", "dev"},
      {"localhost:8443", "dev"},
      {"127.0.0.1:1", "dev"},
      {"127.0.0.1", "dev"},
      {"[::1]:8443", "dev"},
      {"[::1]", "dev"},
      {"a.b.localhost", ""},
      {"a.b.vault.azure.net", ""},
      {"example.com", ""},
      {"example.com:8443", ""},
      {".localhost", ""},
      {"vault.azure.net", ""},
      {"dev.localhost.evil.com", ""},
      {"", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(VaultNameFromHost(c.host), c.vault) << c.host;
}

// ---- IsSupportedApiVersion

TEST(IsSupportedApiVersion, Table) {
  for (const char* v :
       {"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.4-preview.1",
        "7.6-preview.2", "7.3-preview", "2025-07-01", "2025-06-01", "2026-01-01-preview"}) {
    EXPECT_TRUE(IsSupportedApiVersion(v)) << v;
  }
  for (const char* v :
       {"7.7", "1.0", "2024-01-01", "7.4-previewx", "", "7", "7.", "7.10", "8.0", "7.4-preview.",
        "7.4-preview.x", "-preview", "2016-10-02", "2025-7-01", "7.4 ", " 7.4", "7.4;"}) {
    EXPECT_FALSE(IsSupportedApiVersion(v)) << "'" << v << "'";
  }
}

// ---- Router::RouteOf: where a request runs

ApiRequest Request(std::string method, std::string target) {
  ApiRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = kHost;
  return r;
}

WorkKind KindOf(const ApiRequest& request) { return Router::RouteOf(request).kind; }

TEST(RouterKindOf, KeyGenerationIsSlow) {
  using Kind = WorkKind;
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/create?api-version=7.4")), Kind::kSlow);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/create")), Kind::kSlow);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/create/")), Kind::kSlow);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/CREATE?api-version=7.4")), Kind::kSlow);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/rotate?api-version=7.4")), Kind::kSlow);
  // Routing decodes the path, so an encoded "create" is still key generation.
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/cre%61te?api-version=7.4")), Kind::kSlow);
  ApiRequest rsa = Request("POST", "/keys/k1/create?api-version=7.4");
  rsa.body = R"({"kty":"RSA","key_size":4096})";
  EXPECT_EQ(KindOf(rsa), Kind::kSlow);
  rsa.body = R"({"kty":"RSA-HSM"})";
  EXPECT_EQ(KindOf(rsa), Kind::kSlow);
}

// Client-secret checks (PBKDF2) have a pool of their own: a flood of them, right or wrong, can
// neither hold up key generation nor the I/O threads.
TEST(RouterKindOf, ClientSecretChecksRunOnTheSignInPool) {
  EXPECT_EQ(KindOf(Request("POST", "/adfs/oauth2/token")), WorkKind::kSignIn);
  // The admin token is checked with one SHA-256: nothing slow about it.
  EXPECT_EQ(KindOf(Request("GET", "/coffre-admin/v1/vaults")), WorkKind::kCompute);
  // A wrong method is answered at once.
  EXPECT_EQ(KindOf(Request("GET", "/adfs/oauth2/token")), WorkKind::kCompute);
}

TEST(RouterKindOf, ECAndOctCreatesAreStoreWrites) {
  using Kind = WorkKind;
  ApiRequest create = Request("POST", "/keys/k1/create?api-version=7.4");
  for (const char* body : {R"({"kty":"EC","crv":"P-256"})", R"({"kty":"EC-HSM"})",
                           R"({"kty":"oct","key_size":256})", R"({"kty":"oct-HSM"})"}) {
    create.body = body;
    EXPECT_EQ(KindOf(create), Kind::kBlocking) << body;
  }
  // Anything unclear is treated as the slow kind.
  for (const char* body : {"", "[]", R"({"kty":1})", R"({"kty":"ec"})", "{"}) {
    create.body = body;
    EXPECT_EQ(KindOf(create), Kind::kSlow) << body;
  }
}

TEST(RouterKindOf, ReadsAndCryptographyAreCompute) {
  using Kind = WorkKind;
  EXPECT_EQ(KindOf(Request("GET", "/keys/k1/create?api-version=7.4")), Kind::kCompute);
  EXPECT_EQ(KindOf(Request("GET", "/keys?api-version=7.4")), Kind::kCompute);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/sign?api-version=7.4")), Kind::kCompute);
  EXPECT_EQ(KindOf(Request("POST", "/keys/k1/v1/unwrapKey?api-version=7.4")), Kind::kCompute);
  EXPECT_EQ(KindOf(Request("POST", "/rng?api-version=7.4")), Kind::kCompute);
}

TEST(RouterKindOf, StoreWritesAndUnknownRequestsMayBlock) {
  using Kind = WorkKind;
  EXPECT_EQ(KindOf(Request("POST", "/deletedkeys/k1/recover?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("PATCH", "/keys/k1/?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("DELETE", "/keys/k1?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("PUT", "/keys/k1?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "/coffre-admin/v1/vaults/sign/x")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "/")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "")), Kind::kCompute);  // not a valid target
}

// ---- default deny: every operations table row names what it requires

TEST(DefaultDeny, EveryDataPlaneOperationNamesAPermissionAndADataAction) {
  std::vector<OperationAccess> rows = DataPlaneOperations();
  ASSERT_GE(rows.size(), 25u);
  std::set<std::string_view> names;
  for (const OperationAccess& row : rows) {
    EXPECT_FALSE(row.name.empty());
    EXPECT_TRUE(names.insert(row.name).second) << "two rows named " << row.name;
    EXPECT_FALSE(row.permission.empty()) << row.name << " names no access-policy permission";
    EXPECT_TRUE(row.data_action.starts_with("Microsoft.KeyVault/vaults/"))
        << row.name << " names no RBAC data action: '" << row.data_action << "'";
  }
}

TEST(RouterKindOf, SecretWritesMayBlockAndSecretReadsAreCompute) {
  using Kind = WorkKind;
  for (const char* target :
       {"/secrets/s1?api-version=7.4", "/secrets/s1/?api-version=7.4", "/secrets?api-version=7.4",
        "/secrets/s1/versions?api-version=7.4", "/deletedsecrets?api-version=7.4",
        "/deletedsecrets/s1?api-version=7.4"}) {
    EXPECT_EQ(KindOf(Request("GET", target)), Kind::kCompute) << target;
  }
  EXPECT_EQ(KindOf(Request("PUT", "/secrets/s1?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("PATCH", "/secrets/s1/?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("DELETE", "/secrets/s1?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "/secrets/s1/backup?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "/secrets/restore?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("POST", "/deletedsecrets/s1/recover?api-version=7.4")), Kind::kBlocking);
  EXPECT_EQ(KindOf(Request("DELETE", "/deletedsecrets/s1?api-version=7.4")), Kind::kBlocking);
}

TEST(RouterSecretsRoutes, OperationsPermissionsAndDataActions) {
  struct Case {
    const char* method;
    std::vector<std::string> path;
    SecretsOperation op;
    const char* permission;
    const char* action;
  };
  const std::string kv = "Microsoft.KeyVault/vaults/secrets/";
  const Case cases[] = {
      {"PUT", {"secrets", "s"}, SecretsOperation::kSetSecret, "set", "setSecret/action"},
      {"GET", {"secrets", "s"}, SecretsOperation::kGetSecret, "get", "getSecret/action"},
      {"GET", {"secrets", "s", "0123"}, SecretsOperation::kGetSecret, "get", "getSecret/action"},
      {"PATCH", {"secrets", "s", ""}, SecretsOperation::kUpdateSecret, "set", "update/action"},
      {"GET", {"secrets"}, SecretsOperation::kListSecrets, "list", "readMetadata/action"},
      {"GET",
       {"secrets", "s", "versions"},
       SecretsOperation::kListSecretVersions,
       "list",
       "readMetadata/action"},
      {"DELETE", {"secrets", "s"}, SecretsOperation::kDeleteSecret, "delete", "delete"},
      {"POST",
       {"secrets", "s", "backup"},
       SecretsOperation::kBackupSecret,
       "backup",
       "backup/action"},
      {"POST",
       {"secrets", "restore"},
       SecretsOperation::kRestoreSecret,
       "restore",
       "restore/action"},
      {"GET",
       {"deletedsecrets"},
       SecretsOperation::kListDeletedSecrets,
       "list",
       "readMetadata/action"},
      {"GET",
       {"deletedsecrets", "s"},
       SecretsOperation::kGetDeletedSecret,
       "get",
       "readMetadata/action"},
      {"DELETE",
       {"deletedsecrets", "s"},
       SecretsOperation::kPurgeDeletedSecret,
       "purge",
       "purge/action"},
      {"POST",
       {"deletedsecrets", "s", "recover"},
       SecretsOperation::kRecoverDeletedSecret,
       "recover",
       "recover/action"},
  };
  for (const Case& c : cases) {
    auto route = ClassifySecretsRoute(c.method, c.path);
    const SecretsRoute* r = std::get_if<SecretsRoute>(&route);
    ASSERT_NE(r, nullptr) << c.method << " " << c.path.size();
    EXPECT_EQ(r->operation, c.op);
    EXPECT_EQ(AccessPolicyPermission(r->operation), c.permission);
    EXPECT_EQ(RbacDataAction(r->operation), kv + c.action);
  }
  auto bad = ClassifySecretsRoute("GET", {"secrets", "bad_name"});
  ASSERT_TRUE(std::holds_alternative<ApiResponse>(bad));
  EXPECT_EQ(std::get<ApiResponse>(bad).status, 400);
  auto wrong = ClassifySecretsRoute("POST", {"secrets", "s"});
  EXPECT_EQ(std::get<ApiResponse>(wrong).status, 405);
}

// ---- Router::Handle end to end

// A JSON value as a string, for comparisons (non-strings show as their JSON text in <>).
std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : "<" + json::serialize(v) + ">";
}

// The value at a JSON pointer ("/error/code") as Str() shows it, or "<missing>".
std::string At(const json::object& o, std::string_view pointer) {
  json::value v(o);
  json::error_code ec;
  const json::value* found = v.find_pointer(pointer, ec);
  return found ? Str(*found) : "<missing>";
}

const std::string* FindHeader(const ApiResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &v;
    }
  }
  return nullptr;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-router-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore(dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    barrier_ =
        std::make_unique<service::MaterialBarrier>(service::Barrier(crypto::RandomSecureBytes(32)));
    auto tokens = auth::TokenAuthority::Open(dir_ + "/token-signing.pem", kTenant, clock_);
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    tokens_ = std::move(tokens).value();
    identity_ = std::make_unique<auth::IdentityEndpoints>(*tokens_, *store_, kIdentityHeader,
                                                          DevIdentity());
    vaults_ = std::make_unique<service::VaultDirectory>(*store_);
    store::VaultRecord dev;
    dev.name = "dev";
    dev.retention_days = 90;
    dev.created = clock_.NowSeconds();
    ASSERT_TRUE(vaults_->Ensure(dev).ok());
    keys_ = std::make_unique<service::KeyService>(*store_, *barrier_, clock_);
    crypto_ = std::make_unique<service::CryptoService>(*store_, *barrier_, clock_);
    access_ = std::make_unique<auth::AccessChecker>(*store_);
    // As in --dev: the dev identity may do everything in the vault.
    store::AccessPolicyRecord policy;
    policy.vault = "dev";
    policy.object_id = DevIdentity().object_id;
    policy.keys = auth::AllPermissions(auth::PermissionKind::kKeys);
    ASSERT_TRUE(store_->PutAccessPolicy(policy).ok());
    router_ = std::make_unique<Router>(
        RouterContext{*keys_, *crypto_, *vaults_, *tokens_, *identity_, *access_, nullptr});

    auto issued = tokens_->Issue(DevIdentity(), kResource);
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    token_ = issued->access_token;
  }
  void TearDown() override {
    router_.reset();
    access_.reset();
    crypto_.reset();
    keys_.reset();
    vaults_.reset();
    identity_.reset();
    tokens_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static auth::Identity DevIdentity() {
    return auth::Identity{"aaaaaaaa-0000-4000-8000-000000000001",
                          "bbbbbbbb-0000-4000-8000-000000000002", "dev"};
  }

  // Routes and handles a request, as the server does.
  ApiResponse Handle(const ApiRequest& r) const { return router_->Handle(r, Router::RouteOf(r)); }
  ApiResponse Call(std::string method, std::string target, std::string body = {},
                   std::string host = kHost) const {
    ApiRequest r = Request(std::move(method), std::move(target));
    r.host = std::move(host);
    r.headers["authorization"] = "Bearer " + token_;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    r.body = std::move(body);
    return Handle(r);
  }
  ApiResponse Anonymous(std::string method, std::string target, std::string body = {}) const {
    ApiRequest r = Request(std::move(method), std::move(target));
    r.body = std::move(body);
    return Handle(r);
  }

  // Parses a JSON response body, checking the Content-Type on the way.
  static json::object Body(const ApiResponse& response) {
    const std::string* type = FindHeader(response, "Content-Type");
    EXPECT_NE(type, nullptr) << "no Content-Type on " << response.status;
    if (type) {
      EXPECT_EQ(*type, kJsonType);
    }
    json::error_code ec;
    json::value v = json::parse(response.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << response.body;
    EXPECT_TRUE(v.is_object()) << response.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  // error.innererror.code, or "" if there is none.
  static std::string InnerCode(const ApiResponse& response) {
    json::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (ec) return {};
    const json::value* code = v.find_pointer("/error/innererror/code", ec);
    return code && code->is_string() ? std::string(code->get_string()) : std::string();
  }
  static void ExpectError(const ApiResponse& response, int status, std::string_view code,
                          std::string_view message = {}) {
    EXPECT_EQ(response.status, status) << response.body;
    json::object body = Body(response);
    EXPECT_EQ(At(body, "/error/code"), code) << response.body;
    if (!message.empty()) {
      EXPECT_EQ(At(body, "/error/message"), message) << response.body;
    }
  }
  void ExpectChallenge(const ApiResponse& response) const {
    EXPECT_EQ(response.status, 401) << response.body;
    const std::string* challenge = FindHeader(response, "WWW-Authenticate");
    ASSERT_NE(challenge, nullptr);
    EXPECT_EQ(*challenge, std::string("Bearer authorization=\"https://dev.localhost:8443/") +
                              kTenant + "\", resource=\"https://localhost:8443\"");
    json::object body = Body(response);
    EXPECT_EQ(At(body, "/error/code"), "Unauthorized");
  }

  json::object CreateKey(const std::string& name, const std::string& body = R"({"kty":"EC"})") {
    ApiResponse r = Call("POST", "/keys/" + name + "/create?api-version=7.4", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }

  std::string dir_;
  ManualClock clock_{static_cast<int64_t>(std::time(nullptr))};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<service::MaterialBarrier> barrier_;
  std::unique_ptr<auth::TokenAuthority> tokens_;
  std::unique_ptr<auth::IdentityEndpoints> identity_;
  std::unique_ptr<service::VaultDirectory> vaults_;
  std::unique_ptr<service::KeyService> keys_;
  std::unique_ptr<service::CryptoService> crypto_;
  std::unique_ptr<auth::AccessChecker> access_;
  std::unique_ptr<Router> router_;
  std::string token_;
};

TEST_F(RouterTest, NoTokenGetsTheChallenge) {
  ApiResponse r = Anonymous("GET", "/keys?api-version=7.4");
  ExpectChallenge(r);
  EXPECT_NE(At(Body(r), "/error/message").find("AKV10000"), std::string::npos);
}

TEST_F(RouterTest, ChallengeComesBeforeAnyValidation) {
  // The SDKs' first request: body stripped, possibly anything else wrong with it.
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/keys/k1/create"},
           {"POST", "/keys/k1/create?api-version=9.9"},
           {"POST", "/keys/bad_name/create?api-version=7.4"},
           {"GET", "/keys?api-version=7.4&maxresults=999"},
           {"GET", "/nothing/here?api-version=7.4"},
           {"PUT", "/keys/k1/create?api-version=7.4"},
           {"DELETE", "/deletedkeys/k1?api-version=7.4"},
       }) {
    SCOPED_TRACE(method + " " + target);
    ExpectChallenge(Anonymous(method, target));
  }
  ExpectChallenge(Anonymous("POST", "/keys/k1/create?api-version=7.4", "{not json"));
}

TEST_F(RouterTest, MalformedAuthorizationGetsTheChallenge) {
  for (const std::string& header :
       {std::string("Basic abc"), std::string("Bearer"), std::string("Bearer "),
        std::string("Bearer not.a.jwt"), std::string("Bearer ") + token_ + "x", token_}) {
    ApiRequest r = Request("GET", "/keys?api-version=7.4");
    r.headers["authorization"] = header;
    ExpectChallenge(Handle(r));
  }
}

TEST_F(RouterTest, SchemeIsCaseInsensitive) {
  ApiRequest r = Request("GET", "/keys?api-version=7.4");
  r.headers["authorization"] = "bearer " + token_;
  EXPECT_EQ(Handle(r).status, 200);
}

TEST_F(RouterTest, TokenForAnotherAudienceIsRejected) {
  auto issued = tokens_->Issue(DevIdentity(), "https://vault.azure.net");
  ASSERT_TRUE(issued.ok());
  ApiRequest r = Request("GET", "/keys?api-version=7.4");
  r.headers["authorization"] = "Bearer " + issued->access_token;
  ApiResponse response = Handle(r);
  ExpectChallenge(response);
  std::string message = At(Body(response), "/error/message");
  EXPECT_NE(message.find("AKV10022"), std::string::npos) << message;
}

TEST_F(RouterTest, CreateKeyEndToEnd) {
  ApiResponse r = Call("POST", "/keys/k1/create?api-version=7.4", R"({"kty":"EC"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = Body(r);
  const json::object& key = body.at("key").as_object();
  std::string kid(key.at("kid").as_string());
  const std::string prefix = std::string(kBase) + "/keys/k1/";
  ASSERT_EQ(kid.rfind(prefix, 0), 0u) << kid;
  std::string version = kid.substr(prefix.size());
  EXPECT_EQ(version.size(), 32u) << kid;
  EXPECT_TRUE(std::all_of(version.begin(), version.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << kid;
  EXPECT_EQ(key.at("kty"), "EC");
  EXPECT_EQ(key.at("crv"), "P-256");
  EXPECT_EQ(key.at("key_ops"), (json::array{"sign", "verify"}));
  EXPECT_FALSE(key.contains("d"));
  const json::object& attributes = body.at("attributes").as_object();
  EXPECT_EQ(attributes.at("enabled"), true);
  EXPECT_EQ(attributes.at("created"), clock_.NowSeconds());
  EXPECT_EQ(attributes.at("recoverableDays"), 90);
  EXPECT_EQ(attributes.at("recoveryLevel"), "Recoverable+Purgeable");
  EXPECT_FALSE(body.contains("tags"));
}

TEST_F(RouterTest, IdentifiersUseTheLowercasedRequestHost) {
  ApiResponse r =
      Call("POST", "/keys/k1/create?api-version=7.4", R"({"kty":"EC"})", "DEV.LocalHost:8443");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string kid(Body(r).at("key").at("kid").as_string());
  EXPECT_EQ(kid.rfind("https://dev.localhost:8443/keys/k1/", 0), 0u) << kid;
}

TEST_F(RouterTest, GetLatestWithAndWithoutTrailingSlashAndByVersion) {
  CreateKey("k1");
  json::object created = CreateKey("k1");
  ApiResponse plain = Call("GET", "/keys/k1?api-version=7.4");
  ApiResponse slash = Call("GET", "/keys/k1/?api-version=7.4");
  ASSERT_EQ(plain.status, 200) << plain.body;
  ASSERT_EQ(slash.status, 200) << slash.body;
  EXPECT_EQ(Body(plain), Body(slash));
  EXPECT_EQ(Body(plain), created);
  std::string kid(created.at("key").at("kid").as_string());
  std::string version = kid.substr(kid.rfind('/') + 1);
  ApiResponse by_version = Call("GET", "/keys/k1/" + version + "?api-version=7.4");
  ASSERT_EQ(by_version.status, 200);
  EXPECT_EQ(Body(by_version), created);
}

TEST_F(RouterTest, GetUnknownKeyIsKeyNotFound) {
  ExpectError(Call("GET", "/keys/nope?api-version=7.4"), 404, "KeyNotFound",
              "A key with (name/id) nope was not found in this key vault. If you recently "
              "deleted this key you may be able to recover it using the correct recovery "
              "command. For help resolving this issue, please see "
              "https://go.microsoft.com/fwlink/?linkid=2125182");
}

TEST_F(RouterTest, MissingApiVersion) {
  ExpectError(Call("GET", "/keys"), 400, "BadParameter");
  ExpectError(Call("GET", "/keys?api-version="), 400, "BadParameter");
  ExpectError(Call("POST", "/keys/k1/create", R"({"kty":"EC"})"), 400, "BadParameter");
  EXPECT_FALSE(keys_->GetKey(store::VaultRecord{.name = "dev"}, "k1", "").ok());
}

TEST_F(RouterTest, UnsupportedApiVersion) {
  ApiResponse r = Call("GET", "/keys?api-version=7.7");
  ExpectError(r, 400, "BadParameter");
  std::string message = At(Body(r), "/error/message");
  const std::string prefix =
      "The specified version (7.7) is not recognized. Consider using the latest supported "
      "version (";
  EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
  EXPECT_TRUE(message.ends_with(").")) << message;
}

TEST_F(RouterTest, ApiVersionParameterNameMayBeEncoded) {
  EXPECT_EQ(Call("GET", "/keys?api%2Dversion=7.4").status, 200);
}

TEST_F(RouterTest, InvalidNameInUri) {
  ExpectError(Call("GET", "/keys/bad_name?api-version=7.4"), 400, "BadParameter",
              "The request URI contains an invalid name: bad_name");
  ExpectError(Call("POST", "/keys/bad.name/create?api-version=7.4", R"({"kty":"EC"})"), 400,
              "BadParameter", "The request URI contains an invalid name: bad.name");
  ExpectError(Call("GET", "/deletedkeys/bad%20name?api-version=7.4"), 400, "BadParameter",
              "The request URI contains an invalid name: bad name");
}

// Which vault names exist is not told before authentication: any host gets the challenge
// until a token valid for it is presented, and only then VaultNotFound.
TEST_F(RouterTest, UnknownVaultHostIs404OnlyAfterAuthentication) {
  for (const char* host : {"other.localhost:8443", "example.com", "a.b.localhost:8443"}) {
    ApiRequest anonymous = Request("GET", "/keys?api-version=7.4");
    anonymous.host = host;
    ApiResponse r = Handle(anonymous);
    EXPECT_EQ(r.status, 401) << host << ": " << r.body;
    const std::string* challenge = FindHeader(r, "WWW-Authenticate");
    ASSERT_NE(challenge, nullptr) << host;
    EXPECT_NE(challenge->find("Bearer authorization=\"https://" + std::string(host) + "/"),
              std::string::npos)
        << *challenge;
    EXPECT_EQ(r.body.find("VaultNotFound"), std::string::npos) << r.body;
  }
  // The dev token is valid for every NAME.localhost:8443 (one audience).
  ApiResponse r = Call("GET", "/keys?api-version=7.4", {}, "other.localhost:8443");
  ExpectError(r, 404, "VaultNotFound");
  // Hosts whose audience the token does not carry stay at 401.
  for (const char* host : {"example.com", "a.b.localhost:8443"}) {
    EXPECT_EQ(Call("GET", "/keys?api-version=7.4", {}, host).status, 401) << host;
  }
}

// /rng is not open to any signed-in caller: access-policy vaults need the keys "encrypt"
// permission.
TEST_F(RouterTest, RandomBytesNeedAPermission) {
  store::AccessPolicyRecord policy;
  policy.vault = "dev";
  policy.object_id = DevIdentity().object_id;
  policy.keys = {"get", "list"};
  ASSERT_TRUE(store_->PutAccessPolicy(policy).ok());
  access_->Forget();
  ApiResponse denied = Call("POST", "/rng?api-version=7.4", R"({"count":8})");
  ExpectError(denied, 403, "Forbidden");
  policy.keys = {"encrypt"};
  ASSERT_TRUE(store_->PutAccessPolicy(policy).ok());
  access_->Forget();
  ApiResponse allowed = Call("POST", "/rng?api-version=7.4", R"({"count":8})");
  EXPECT_EQ(allowed.status, 200) << allowed.body;
}

// RBAC vaults: Managed HSM's rng action, granted by the crypto roles, not by Reader.
TEST_F(RouterTest, RandomBytesInAnRbacVaultNeedTheRngAction) {
  store::VaultRecord vault;
  vault.name = "rbac";
  vault.retention_days = 90;
  vault.rbac_authorization = true;
  vault.created = clock_.NowSeconds();
  ASSERT_TRUE(vaults_->Ensure(vault).ok());
  store::RoleAssignmentRecord assignment;
  assignment.id = "00000000-0000-4000-8000-0000000000b1";
  assignment.role = "Key Vault Reader";
  assignment.principal_id = DevIdentity().object_id;
  assignment.scope = "/vaults/rbac";
  ASSERT_TRUE(store_->AddRoleAssignment(assignment).ok());
  access_->Forget();
  const std::string host = "rbac.localhost:8443";
  ApiResponse denied = Call("POST", "/rng?api-version=7.4", R"({"count":8})", host);
  ExpectError(denied, 403, "Forbidden");
  EXPECT_EQ(InnerCode(denied), "ForbiddenByRbac");
  EXPECT_NE(denied.body.find("Microsoft.KeyVault/vaults/rng/action"), std::string::npos);
  assignment.id = "00000000-0000-4000-8000-0000000000b2";
  assignment.role = "Key Vault Crypto User";
  ASSERT_TRUE(store_->AddRoleAssignment(assignment).ok());
  access_->Forget();
  ApiResponse allowed = Call("POST", "/rng?api-version=7.4", R"({"count":8})", host);
  EXPECT_EQ(allowed.status, 200) << allowed.body;
}

TEST_F(RouterTest, BodyValidationAfterAuthentication) {
  ExpectError(Call("POST", "/keys/k1/create?api-version=7.4", ""), 400, "BadParameter");
  ExpectError(Call("POST", "/keys/k1/create?api-version=7.4", "{nope"), 400, "BadParameter");
  ExpectError(Call("POST", "/keys/k1/create?api-version=7.4", R"({"kty":"RSA","key_size":"x"})"),
              400, "BadParameter");
}

// oct keys are a Managed HSM feature on Azure; Coffre serves them in every vault (issue 3),
// and GET never returns k.
TEST_F(RouterTest, OctKeysAreServedWithoutMaterial) {
  ApiResponse oct = Call("POST", "/keys/k1/create?api-version=7.4", R"({"kty":"oct"})");
  ASSERT_EQ(oct.status, 200) << oct.body;
  json::object key = Body(oct).at("key").as_object();
  EXPECT_EQ(key.at("kty"), "oct");
  EXPECT_FALSE(key.contains("k"));
}

TEST_F(RouterTest, UpdateKeyViaPatch) {
  CreateKey("k1");
  ApiResponse r = Call("PATCH", "/keys/k1/?api-version=7.4",
                       R"({"attributes":{"enabled":false},"tags":{"env":"test"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = Body(r);
  EXPECT_EQ(body.at("attributes").at("enabled"), false);
  EXPECT_EQ(body.at("tags"), (json::object{{"env", "test"}}));
  json::object got = Body(Call("GET", "/keys/k1?api-version=7.4"));
  EXPECT_EQ(got.at("attributes").at("enabled"), false);
}

// Follows nextLink until null; returns every item and the number of pages.
std::vector<json::object> FollowPages(const std::function<ApiResponse(std::string)>& get,
                                      std::string target, int* pages) {
  std::vector<json::object> items;
  *pages = 0;
  for (int guard = 0; guard < 50; ++guard) {
    ApiResponse r = get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    if (r.status != 200) break;
    ++*pages;
    json::value body = json::parse(r.body);
    EXPECT_EQ(body.as_object().size(), 2u) << r.body;
    for (const auto& item : body.at("value").as_array()) items.push_back(item.as_object());
    const json::value& next = body.at("nextLink");
    if (next.is_null()) return items;
    EXPECT_TRUE(next.is_string()) << r.body;
    if (!next.is_string()) break;
    const std::string link(next.as_string());
    auto url = boost::urls::parse_uri(link);
    EXPECT_TRUE(url.has_value()) << next;
    if (!url) break;
    EXPECT_EQ(url->scheme(), "https");
    EXPECT_EQ(url->encoded_host_and_port(), kHost);
    auto params = url->params();
    auto skip = params.find("$skiptoken");
    EXPECT_NE(skip, params.end()) << next;
    if (skip == params.end()) break;
    EXPECT_FALSE((*skip).value.empty()) << next;
    auto api_version = params.find("api-version");
    EXPECT_NE(api_version, params.end()) << next;
    if (api_version != params.end()) {
      EXPECT_EQ((*api_version).value, "7.4") << next;
    }
    target = std::string(url->encoded_path()) + "?" + std::string(url->encoded_query());
  }
  ADD_FAILURE() << "nextLink never became null";
  return items;
}

TEST_F(RouterTest, ListKeysPagesThroughNextLink) {
  std::set<std::string> expected;
  for (int i = 0; i < 12; ++i) {
    std::string name = "key" + std::to_string(i);
    CreateKey(name);
    expected.insert(std::string(kBase) + "/keys/" + name);
  }
  int pages = 0;
  auto items = FollowPages([&](std::string t) { return Call("GET", t); },
                           "/keys?api-version=7.4&maxresults=5", &pages);
  EXPECT_EQ(pages, 3);
  std::multiset<std::string> kids;
  for (const auto& item : items) {
    kids.insert(std::string(item.at("kid").as_string()));
    EXPECT_FALSE(item.contains("key")) << "list items carry no key material";
    EXPECT_TRUE(item.contains("attributes"));
  }
  EXPECT_EQ(kids.size(), 12u);
  EXPECT_EQ(std::set<std::string>(kids.begin(), kids.end()), expected);
}

TEST_F(RouterTest, ListVersionsPagesThroughNextLink) {
  std::set<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    expected.insert(std::string(CreateKey("multi").at("key").at("kid").as_string()));
  }
  int pages = 0;
  auto items = FollowPages([&](std::string t) { return Call("GET", t); },
                           "/keys/multi/versions?api-version=7.4&maxresults=1", &pages);
  std::set<std::string> kids;
  for (const auto& item : items) kids.insert(std::string(item.at("kid").as_string()));
  EXPECT_EQ(kids, expected);
  EXPECT_GE(pages, 3);
}

TEST_F(RouterTest, EmptyListEndsWithNullNextLink) {
  ApiResponse r = Call("GET", "/keys?api-version=7.4");
  ASSERT_EQ(r.status, 200);
  json::object body = Body(r);
  EXPECT_EQ(body.at("value"), json::array{});
  EXPECT_TRUE(body.at("nextLink").is_null());
  ApiResponse versions = Call("GET", "/keys/none/versions?api-version=7.4");
  ASSERT_EQ(versions.status, 200) << versions.body;
  EXPECT_EQ(Body(versions).at("value"), json::array{});
}

TEST_F(RouterTest, BadPagingParameters) {
  for (const char* target :
       {"/keys?api-version=7.4&maxresults=0", "/keys?api-version=7.4&maxresults=26",
        "/keys?api-version=7.4&maxresults=abc", "/keys?api-version=7.4&maxresults=-1",
        "/keys?api-version=7.4&$skiptoken=!!!"}) {
    ExpectError(Call("GET", target), 400, "BadParameter");
  }
  EXPECT_EQ(Call("GET", "/keys?api-version=7.4&maxresults=25").status, 200);
  EXPECT_EQ(Call("GET", "/keys?api-version=7.4&maxresults=1").status, 200);
}

TEST_F(RouterTest, DeleteGetDeletedAndPurge) {
  json::object created = CreateKey("k1");
  ApiResponse deleted = Call("DELETE", "/keys/k1?api-version=7.4");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  json::object d = Body(deleted);
  EXPECT_EQ(Str(d.at("recoveryId")), std::string(kBase) + "/deletedkeys/k1");
  EXPECT_EQ(d.at("deletedDate"), clock_.NowSeconds());
  EXPECT_EQ(d.at("scheduledPurgeDate"), clock_.NowSeconds() + 90 * 86400);
  EXPECT_EQ(d.at("key"), created.at("key"));

  ExpectError(Call("GET", "/keys/k1/?api-version=7.4"), 404, "KeyNotFound");
  ApiResponse got = Call("GET", "/deletedkeys/k1?api-version=7.4");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Body(got), d);

  ApiResponse listed = Call("GET", "/deletedkeys?api-version=7.4");
  ASSERT_EQ(listed.status, 200);
  json::object listed_body = Body(listed);
  const json::array& items = listed_body.at("value").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Str(items[0].at("kid")), std::string(kBase) + "/keys/k1");
  EXPECT_EQ(Str(items[0].at("recoveryId")), std::string(kBase) + "/deletedkeys/k1");

  ApiResponse conflict = Call("POST", "/keys/k1/create?api-version=7.4", R"({"kty":"EC"})");
  ExpectError(conflict, 409, "Conflict",
              "Key k1 is currently in a deleted but recoverable state, and its name cannot be "
              "reused; in this state, the key can only be recovered or purged.");
  EXPECT_EQ(InnerCode(conflict), "ObjectIsDeletedButRecoverable");

  ApiResponse purged = Call("DELETE", "/deletedkeys/k1?api-version=7.4");
  EXPECT_EQ(purged.status, 204);
  EXPECT_TRUE(purged.body.empty()) << purged.body;
  ExpectError(Call("GET", "/deletedkeys/k1?api-version=7.4"), 404, "KeyNotFound",
              "Deleted Key not found: k1");
  ExpectError(Call("DELETE", "/deletedkeys/k1?api-version=7.4"), 404, "KeyNotFound");
  CreateKey("k1");
}

TEST_F(RouterTest, RecoverDeletedKey) {
  json::object created = CreateKey("k1");
  ASSERT_EQ(Call("DELETE", "/keys/k1?api-version=7.4").status, 200);
  ApiResponse recovered = Call("POST", "/deletedkeys/k1/recover?api-version=7.4");
  ASSERT_EQ(recovered.status, 200) << recovered.body;
  EXPECT_EQ(Body(recovered), created);
  ApiResponse got = Call("GET", "/keys/k1/?api-version=7.4");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Body(got), created);
}

TEST_F(RouterTest, UnknownRouteIs404) {
  for (const char* target : {"/secrets/s1/versions/extra?api-version=7.4", "/?api-version=7.4",
                             "/keys/k1/0123456789abcdef0123456789abcdef/sign/extra?api-version=7.4",
                             "/certificates/c1/x/extra?api-version=7.4"}) {
    ApiResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 404) << target << ": " << r.body;
    Body(r);
  }
}

TEST_F(RouterTest, WrongMethodIs405) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"PUT", "/keys/k1/create?api-version=7.4"},
           {"GET", "/keys/k1/create?api-version=7.4"},
           {"DELETE", "/keys?api-version=7.4"},
           {"POST", "/keys/k1/versions?api-version=7.4"},
           {"POST", "/deletedkeys/k1?api-version=7.4"},
           {"GET", "/deletedkeys/k1/recover?api-version=7.4"},
           {"POST", "/deletedkeys?api-version=7.4"},
       }) {
    ApiResponse r = Call(method, target);
    EXPECT_EQ(r.status, 405) << method << " " << target << ": " << r.body;
    Body(r);
  }
}

TEST_F(RouterTest, DataPlaneRequiresTls) {
  ApiRequest r = Request("GET", "/keys?api-version=7.4");
  r.secure = false;
  r.headers["authorization"] = "Bearer " + token_;
  ApiResponse response = Handle(r);
  EXPECT_EQ(response.status, 403) << response.body;
}

TEST_F(RouterTest, InvalidRequestTargetIs400) {
  ExpectError(Call("GET", "/keys/%zz?api-version=7.4"), 400, "BadParameter");
  ExpectError(Call("GET", "/keys/%00?api-version=7.4"), 400, "BadParameter");
}

TEST_F(RouterTest, HealthzNeedsNoTokenOrVault) {
  ApiRequest r = Request("GET", "/healthz");
  r.host = "anything.example.com";
  ApiResponse response = Handle(r);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Body(response), (json::object{{"status", "ok"}}));
}

TEST_F(RouterTest, ManagedIdentityTokenWorksForTheDataPlane) {
  ApiRequest r =
      Request("GET", "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Flocalhost%3A8443");
  r.secure = false;  // the loopback HTTP listener
  r.headers["x-identity-header"] = kIdentityHeader;
  ApiResponse response = Handle(r);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = Body(response);
  EXPECT_EQ(body.at("resource"), kResource);
  EXPECT_EQ(body.at("token_type"), "Bearer");
  std::string token(body.at("access_token").as_string());

  ApiRequest data = Request("GET", "/keys?api-version=7.4");
  data.headers["authorization"] = "Bearer " + token;
  EXPECT_EQ(Handle(data).status, 200);
}

TEST_F(RouterTest, ManagedIdentityTokenRejectsBadHeader) {
  const std::string target = "/msi/token?api-version=2019-08-01&resource=https://localhost:8443";
  ApiRequest wrong = Request("GET", target);
  wrong.secure = false;
  wrong.headers["x-identity-header"] = "wrong";
  ApiResponse response = Handle(wrong);
  EXPECT_EQ(response.status, 401) << response.body;
  EXPECT_FALSE(Body(response).contains("access_token"));

  ApiRequest missing = Request("GET", target);
  missing.secure = false;
  EXPECT_EQ(Handle(missing).status, 401);

  ApiRequest post = Request("POST", target);
  post.secure = false;
  post.headers["x-identity-header"] = kIdentityHeader;
  EXPECT_EQ(Handle(post).status, 405);
}

TEST_F(RouterTest, PrecheckAnswersWhatTheBodyCannotChange) {
  // A PUT whose client waits for 100 Continue: refused now when the answer is known.
  ApiRequest anonymous = Request("PUT", "/keys/k1?api-version=7.4");
  auto refused = router_->Precheck(anonymous, Router::RouteOf(anonymous));
  ASSERT_TRUE(refused.has_value());
  ExpectChallenge(*refused);
  EXPECT_EQ(refused->audit.vault, "dev");
  EXPECT_EQ(refused->audit.operation, "ImportKey");

  ApiRequest signed_in = anonymous;
  signed_in.headers["authorization"] = "Bearer " + token_;
  // An unknown vault: the challenge first (which names exist is not told before sign-in), then
  // 404 for a signed-in caller.
  ApiRequest elsewhere = anonymous;
  elsewhere.host = "nosuch.localhost:8443";
  auto challenged = router_->Precheck(elsewhere, Router::RouteOf(elsewhere));
  ASSERT_TRUE(challenged.has_value());
  EXPECT_EQ(challenged->status, 401);
  ApiRequest elsewhere_signed_in = signed_in;
  elsewhere_signed_in.host = "nosuch.localhost:8443";
  auto unknown = router_->Precheck(elsewhere_signed_in, Router::RouteOf(elsewhere_signed_in));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);

  EXPECT_FALSE(router_->Precheck(signed_in, Router::RouteOf(signed_in)).has_value());
  ApiRequest sign_in = Request("POST", "/adfs/oauth2/token");
  EXPECT_FALSE(router_->Precheck(sign_in, Router::RouteOf(sign_in)).has_value());
}

TEST_F(RouterTest, PortLessAudienceIsAccepted) {
  auto issued = tokens_->Issue(DevIdentity(), "https://localhost/.default");
  ASSERT_TRUE(issued.ok());
  ApiRequest r = Request("GET", "/keys?api-version=7.4");
  r.headers["authorization"] = "Bearer " + issued->access_token;
  EXPECT_EQ(Handle(r).status, 200);
}

TEST_F(RouterTest, SubscriptionsAndTenantsComeBeforeVaultRouting) {
  for (const char* target :
       {"/subscriptions?api-version=2022-12-01", "/tenants?api-version=2022-12-01"}) {
    SCOPED_TRACE(target);
    ApiResponse r = Call("GET", target, {}, "localhost:8443");
    ASSERT_EQ(r.status, 200) << r.body;
    json::object body = Body(r);
    ASSERT_EQ(body.at("value").as_array().size(), 1u);
    EXPECT_EQ(body.at("value").as_array()[0].as_object().at("tenantId"), kTenant);
    ApiRequest anonymous = Request("GET", target);
    anonymous.host = "localhost:8443";
    EXPECT_EQ(Handle(anonymous).status, 401);
  }
  EXPECT_EQ(Call("GET", "/subscriptions", {}, "localhost:8443").status, 400);
}

TEST_F(RouterTest, OpenIdConfigurationUnderATenant) {
  for (std::string tenant : {std::string("adfs"), std::string(kTenant)}) {
    ApiRequest r = Request("GET", "/adfs/" + tenant + "/.well-known/openid-configuration");
    r.host = "localhost:8443";
    ApiResponse response = Handle(r);
    ASSERT_EQ(response.status, 200) << response.body;
    // The Azure CLI takes the tenant from the issuer's path.
    EXPECT_EQ(Body(response).at("issuer"), "https://localhost:8443/adfs");
  }
  ApiRequest other = Request("GET", "/adfs/contoso.example/.well-known/openid-configuration");
  EXPECT_EQ(Handle(other).status, 400);
}

TEST_F(RouterTest, AppService2017ManagedIdentityOnPlainHttpOnly) {
  // What msrestazure sends for MSI_ENDPOINT=http://127.0.0.1:P/msi/token.
  ApiRequest r =
      Request("GET", "/msi/token/?resource=https://localhost:8443&api-version=2017-09-01");
  r.secure = false;
  r.headers["secret"] = kIdentityHeader;
  ApiResponse response = Handle(r);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = Body(response);
  // "MM/DD/YYYY hh:mm:ss +00:00"
  std::string expires(body.at("expires_on").as_string());
  EXPECT_EQ(expires.size(), 26u) << expires;
  EXPECT_TRUE(expires.ends_with(" +00:00")) << expires;
  ApiRequest data = Request("GET", "/keys?api-version=7.4");
  data.headers["authorization"] = "Bearer " + std::string(body.at("access_token").as_string());
  EXPECT_EQ(Handle(data).status, 200);

  ApiRequest wrong = r;
  wrong.headers["secret"] = "wrong";
  EXPECT_EQ(Handle(wrong).status, 401);
  ApiRequest other_header = r;
  other_header.headers.erase("secret");
  other_header.headers["x-identity-header"] = kIdentityHeader;
  EXPECT_EQ(Handle(other_header).status, 401);
  ApiRequest over_tls = r;
  over_tls.secure = true;
  EXPECT_EQ(Handle(over_tls).status, 404);
}

// Wrong identity headers are counted per address: past the limit the answer is 429 with
// Retry-After (OAuth shape), while a caller at another address still gets its token.
TEST_F(RouterTest, FailedSignInsAreThrottledPerAddress) {
  auth::SignInThrottle throttle(
      clock_,
      {.failures_per_address = 5, .failures_per_client = 5, .window = std::chrono::seconds(60)});
  Router router(RouterContext{*keys_, *crypto_, *vaults_, *tokens_, *identity_, *access_, nullptr,
                              &throttle});
  auto msi = [&](const std::string& address, const std::string& header) {
    ApiRequest r =
        Request("GET", "/msi/token?api-version=2019-08-01&resource=https://localhost:8443");
    r.secure = false;
    r.client_address = address;
    r.headers["x-identity-header"] = header;
    return router.Handle(r, Router::RouteOf(r));
  };
  int throttled = 0;
  for (int i = 0; i < 8; ++i) {
    ApiResponse r = msi("127.0.0.2", "wrong");
    if (r.status == 429) {
      ++throttled;
      const std::string* retry = FindHeader(r, "Retry-After");
      ASSERT_NE(retry, nullptr);
      EXPECT_EQ(*retry, "60");
      EXPECT_EQ(Body(r).at("error"), "temporarily_unavailable");
    } else {
      EXPECT_EQ(r.status, 401) << r.body;
    }
  }
  EXPECT_EQ(throttled, 3);
  // The header is cheap to check: the right one is never locked out, here or elsewhere.
  EXPECT_EQ(msi("127.0.0.2", kIdentityHeader).status, 200);
  EXPECT_EQ(msi("127.0.0.1", kIdentityHeader).status, 200);
  EXPECT_EQ(msi("127.0.0.2", "wrong").status, 429);
  clock_.Advance(60);
  EXPECT_EQ(msi("127.0.0.2", "wrong").status, 401);
}

// The HTTPS listener may face a network (--bind); the managed-identity endpoint is served only
// on the loopback HTTP listener, as a real host's metadata endpoint is local.
TEST_F(RouterTest, ManagedIdentityTokenIsNotServedOverHttps) {
  ApiRequest r =
      Request("GET", "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Flocalhost%3A8443");
  r.headers["x-identity-header"] = kIdentityHeader;
  ASSERT_TRUE(r.secure);
  ApiResponse response = Handle(r);
  EXPECT_EQ(response.status, 404) << response.body;
  EXPECT_EQ(response.body.find("access_token"), std::string::npos);
}

}  // namespace
}  // namespace coffre::http
