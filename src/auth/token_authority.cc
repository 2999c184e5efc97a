#include "auth/token_authority.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/jwt.h"

namespace coffre::auth {
namespace {

namespace json = boost::json;

// A PKCS#8 PEM P-256 key is ~250 bytes; anything much larger is not our key file.
constexpr size_t kMaxKeyFileSize = 64 * 1024;
constexpr size_t kMaxAudienceSize = 1024;
// Audience and issuer values echoed in error messages are capped so a token cannot make the
// server produce (or log) arbitrarily long messages.
constexpr size_t kMaxEchoedValue = 256;
constexpr size_t kKeyIdBytes = 16;

constexpr const char* kMissingToken = "AKV10000: Request is missing a Bearer or PoP token.";
constexpr const char* kMalformedToken = "AKV10001: The token is malformed.";
constexpr const char* kUnknownKey =
    "AKV10046: Unable to resolve the key used for signature validation.";
constexpr const char* kExpired = "AKV10020: Token has expired.";
constexpr const char* kNotYetValid = "AKV10021: Token is not yet valid.";

std::string Errno(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// RAII file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so the caller can see the error close() reports.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Result<crypto::AsymmetricKey> ReadKeyFile(const std::string& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Internal(Errno("cannot stat", path));
  if (!S_ISREG(st.st_mode)) {
    return Status::Internal("token signing key " + path + " is not a regular file");
  }
  // The key signs every access token: anyone who can read it can mint tokens, and anyone who
  // can write it can swap it. Refuse rather than silently use a key others may have seen.
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::Internal("token signing key " + path +
                            " is accessible by group or others; run chmod 600 on it");
  }
  if (st.st_size <= 0 || static_cast<uint64_t>(st.st_size) > kMaxKeyFileSize) {
    return Status::Internal("token signing key " + path + " has an unexpected size");
  }
  SecureString pem(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < pem.size()) {
    ssize_t n = ::read(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(Errno("cannot read", path));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  pem.resize(done);
  auto key = crypto::AsymmetricKey::FromPrivatePem(std::string_view(pem.data(), pem.size()));
  if (!key.ok()) {
    return Status::Internal("token signing key " + path + " is not a valid PEM private key");
  }
  if (key->family() != crypto::KeyFamily::kEc || key->curve() != crypto::Curve::kP256 ||
      !key->has_private()) {
    return Status::Internal("token signing key " + path + " is not a P-256 private key");
  }
  return key;
}

Status SyncParentDirectory(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::Internal(Errno("cannot open directory", dir));
  if (::fsync(fd.get()) != 0) return Status::Internal(Errno("cannot sync directory", dir));
  return Status::Ok();
}

// Writes a new key with O_EXCL so two servers starting on the same data dir cannot overwrite
// each other's key (the loser reloads the winner's). kConflict: the file appeared meanwhile.
Status WriteNewKeyFile(const std::string& path, const crypto::AsymmetricKey& key) {
  SecureString pem = key.PrivatePem();
  if (pem.empty()) return Status::Internal("cannot serialize the token signing key");
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return Status::Conflict("token signing key appeared concurrently");
    return Status::Internal(Errno("cannot create", path));
  }
  auto fail = [&](const char* what) {
    Status status = Status::Internal(Errno(what, path));
    ::unlink(path.c_str());  // never leave a truncated key behind to be loaded next time
    return status;
  };
  size_t done = 0;
  while (done < pem.size()) {
    ssize_t n = ::write(fd.get(), pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot sync");
  if (fd.Close() != 0) return fail("cannot close");
  return SyncParentDirectory(path);
}

// Values copied into messages: printable ASCII only (they end up in JSON and logs), capped.
std::string Echo(std::string_view value) {
  std::string out;
  size_t n = std::min(value.size(), kMaxEchoedValue);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    char c = value[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (value.size() > kMaxEchoedValue) out += "...";
  return out;
}

std::optional<json::object> ParseObject(std::string_view text) {
  json::parse_options options;
  options.max_depth = 16;  // our claims are flat; deep nesting is an attack, not a token
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

bool IsBase64UrlPart(std::string_view part) {
  if (part.empty()) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// Claim accessors: absent -> nullopt with *ok untouched; present with the wrong type -> *ok=false.
std::optional<std::string> StringClaim(const json::object& claims, std::string_view name,
                                       bool* ok) {
  const json::value* value = claims.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    *ok = false;
    return std::nullopt;
  }
  return std::string(value->as_string());
}

std::optional<int64_t> IntClaim(const json::object& claims, std::string_view name, bool* ok) {
  const json::value* value = claims.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() &&
      value->as_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(value->as_uint64());
  }
  *ok = false;
  return std::nullopt;
}

bool IsAsciiDigitsAndDots(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

Result<std::unique_ptr<TokenAuthority>> TokenAuthority::Open(const std::string& key_path,
                                                             std::string tenant_id,
                                                             const Clock& clock) {
  if (tenant_id.empty()) return Status::Internal("token authority needs a tenant id");
  // Two attempts: if another process creates the key between our failed open and our O_EXCL
  // create, the second round loads its key.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::open(key_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) {
      COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key, ReadKeyFile(key_path, fd.get()));
      return std::make_unique<TokenAuthority>(std::move(key), std::move(tenant_id), clock);
    }
    if (errno != ENOENT) return Status::Internal(Errno("cannot open", key_path));

    COFFRE_ASSIGN_OR_RETURN(crypto::AsymmetricKey key,
                            crypto::AsymmetricKey::GenerateEc(crypto::Curve::kP256));
    Status written = WriteNewKeyFile(key_path, key);
    if (written.kind() == ErrorKind::kConflict) continue;
    COFFRE_RETURN_IF_ERROR(written);
    return std::make_unique<TokenAuthority>(std::move(key), std::move(tenant_id), clock);
  }
  return Status::Internal("token signing key " + key_path + " keeps changing; giving up");
}

TokenAuthority::TokenAuthority(crypto::AsymmetricKey signing_key, std::string tenant_id,
                               const Clock& clock)
    : signing_key_(std::move(signing_key)),
      tenant_id_(std::move(tenant_id)),
      issuer_("https://sts.coffre.local/" + tenant_id_ + "/"),
      clock_(clock) {
  // A stable id derived from the public key: tokens signed by an older key are recognised as
  // such (AKV10046) before any signature math.
  Bytes spki = signing_key_.PublicDer();
  std::array<uint8_t, 32> digest = crypto::Sha256(spki);
  key_id_ = Base64UrlEncode(ByteSpan(digest.data(), kKeyIdBytes));
}

Result<IssuedToken> TokenAuthority::Issue(const Identity& who, std::string_view audience) const {
  if (audience.size() > kMaxAudienceSize) {
    return Status::BadParameter("The audience (resource or scope) is too long.");
  }
  std::string aud = AudienceFromScope(audience);
  if (aud.empty()) return Status::BadParameter("The audience (resource or scope) is missing.");
  // A resource is a URI (ASCII). Other bytes would go into the token and the JSON answers
  // unchanged (invalid UTF-8 makes them invalid JSON), and no request could use the token.
  if (!std::all_of(aud.begin(), aud.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return Status::BadParameter("The audience (resource or scope) is not a valid URI.");
  }

  const int64_t now = clock_.NowSeconds();
  const int64_t expires = now + kTokenLifetimeSeconds;
  json::object claims;
  claims["aud"] = aud;
  claims["iss"] = issuer_;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = expires;
  claims["oid"] = who.object_id;
  claims["sub"] = who.object_id;
  claims["tid"] = tenant_id_;
  claims["appid"] = who.app_id;
  claims["ver"] = "1.0";

  COFFRE_ASSIGN_OR_RETURN(std::string token,
                          crypto::SignJwtEs256(signing_key_, key_id_, json::serialize(claims)));
  return IssuedToken{std::move(token), expires, kTokenLifetimeSeconds};
}

Result<TokenClaims> TokenAuthority::Verify(std::string_view token,
                                           std::string_view audience) const {
  const std::string audiences[] = {std::string(audience)};
  return Verify(token, audiences);
}

Result<TokenClaims> TokenAuthority::Verify(std::string_view token,
                                           std::span<const std::string> audiences) const {
  if (token.empty()) return Status::Unauthorized(kMissingToken);
  if (token.size() > kMaxTokenSize) return Status::Unauthorized(kMalformedToken);
  // Clients send the same token for up to an hour; checking its ES256 signature each time cost
  // more than the rest of a GET. Only what cannot change is cached (signature and claims); the
  // time window and audience are checked on every request.
  auto digest = crypto::Sha256(AsBytes(token));
  std::string cache_key(reinterpret_cast<const char*>(digest.data()), digest.size());
  std::optional<TokenClaims> claims = verified_.Get(cache_key);
  if (!claims) {
    COFFRE_ASSIGN_OR_RETURN(TokenClaims checked, ParseSignedToken(token));
    verified_.Put(std::move(cache_key), checked);
    claims = std::move(checked);
  }
  COFFRE_RETURN_IF_ERROR(CheckClaims(*claims, audiences));
  return *std::move(claims);
}

Result<TokenClaims> TokenAuthority::ParseSignedToken(std::string_view token) const {
  // Structure first, so garbage is reported as malformed and only well-formed tokens that fail
  // the signature are reported as "unknown key".
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::Unauthorized(kMalformedToken);
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_part = token.substr(dot2 + 1);
  if (!IsBase64UrlPart(header_part) || !IsBase64UrlPart(payload_part) ||
      !IsBase64UrlPart(signature_part)) {
    return Status::Unauthorized(kMalformedToken);
  }
  std::optional<Bytes> header_bytes = Base64UrlDecode(header_part);
  if (!header_bytes) return Status::Unauthorized(kMalformedToken);
  std::optional<json::object> header = ParseObject(AsChars(*header_bytes));
  if (!header) return Status::Unauthorized(kMalformedToken);
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "ES256") {
    return Status::Unauthorized(kMalformedToken);
  }
  const json::value* kid = header->if_contains("kid");
  if (kid == nullptr || !kid->is_string() || kid->as_string() != key_id_) {
    return Status::Unauthorized(kUnknownKey);
  }

  Result<std::string> payload = crypto::VerifyJwtEs256(signing_key_, token);
  if (!payload.ok()) return Status::Unauthorized(kUnknownKey);

  // Only tokens we signed get here, but the checks stay strict: a type confusion in our own
  // issuing code should fail closed.
  std::optional<json::object> claims = ParseObject(*payload);
  if (!claims) return Status::Unauthorized(kMalformedToken);
  bool ok = true;
  std::optional<std::string> iss = StringClaim(*claims, "iss", &ok);
  std::optional<std::string> aud = StringClaim(*claims, "aud", &ok);
  std::optional<std::string> oid = StringClaim(*claims, "oid", &ok);
  std::optional<std::string> sub = StringClaim(*claims, "sub", &ok);
  std::optional<std::string> tid = StringClaim(*claims, "tid", &ok);
  std::optional<std::string> appid = StringClaim(*claims, "appid", &ok);
  std::optional<int64_t> iat = IntClaim(*claims, "iat", &ok);
  std::optional<int64_t> nbf = IntClaim(*claims, "nbf", &ok);
  std::optional<int64_t> exp = IntClaim(*claims, "exp", &ok);
  if (!ok || !iss || !aud || !oid || !tid || !exp) return Status::Unauthorized(kMalformedToken);

  TokenClaims out;
  out.issuer = std::move(*iss);
  out.audience = std::move(*aud);
  out.object_id = std::move(*oid);
  out.subject = sub ? std::move(*sub) : out.object_id;
  out.tenant_id = std::move(*tid);
  out.app_id = appid ? std::move(*appid) : std::string();
  out.issued_at = iat.value_or(0);
  out.not_before = nbf;
  out.expires = *exp;
  return out;
}

Status TokenAuthority::CheckClaims(const TokenClaims& claims,
                                   std::span<const std::string> audiences) const {
  if (claims.issuer != issuer_) {
    return Status::Unauthorized("AKV10032: Invalid issuer. Expected " + issuer_ +
                                ", found: " + Echo(claims.issuer) + ".");
  }
  if (claims.tenant_id != tenant_id_) {
    return Status::Unauthorized("AKV10032: Invalid issuer. Expected tenant " + tenant_id_ +
                                ", found: " + Echo(claims.tenant_id) + ".");
  }
  const int64_t now = clock_.NowSeconds();
  // now +/- skew cannot overflow; the claim side is never computed on.
  if (claims.expires <= now - kClockSkewSeconds) return Status::Unauthorized(kExpired);
  if (claims.not_before && *claims.not_before > now + kClockSkewSeconds) {
    return Status::Unauthorized(kNotYetValid);
  }
  if (std::find(audiences.begin(), audiences.end(), claims.audience) == audiences.end()) {
    std::string_view expected = audiences.empty() ? std::string_view() : audiences.front();
    return Status::Unauthorized("AKV10022: Invalid audience. Expected " + Echo(expected) +
                                ", found: " + Echo(claims.audience) + ".");
  }
  return Status::Ok();
}

std::string ResourceForHost(std::string_view host_and_port) {
  std::string lower(host_and_port);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  std::string_view all = lower;

  std::string_view host = all;
  std::string_view port;  // with its leading ':'
  if (!all.empty() && all.front() == '[') {
    // IPv6 literal: one label, whatever its dots.
    size_t close = all.find(']');
    if (close != std::string_view::npos) {
      host = all.substr(0, close + 1);
      port = all.substr(close + 1);
    }
    return "https://" + std::string(host) + std::string(port);
  }
  size_t colon = all.find(':');
  if (colon != std::string_view::npos && all.find(':', colon + 1) != std::string_view::npos) {
    // A bare IPv6 address (no port can be told apart): bracket it so the URL stays valid.
    return "https://[" + lower + "]";
  }
  if (colon != std::string_view::npos) {
    host = all.substr(0, colon);
    port = all.substr(colon);
  }
  // An IPv4 literal is one label; so is a name without dots.
  if (!IsAsciiDigitsAndDots(host)) {
    size_t dot = host.find('.');
    if (dot != std::string_view::npos && dot + 1 < host.size()) host = host.substr(dot + 1);
  }
  return "https://" + std::string(host) + std::string(port);
}

std::vector<std::string> AudiencesForHost(std::string_view host_and_port) {
  std::vector<std::string> audiences{ResourceForHost(host_and_port)};
  std::string_view host = host_and_port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos &&
                                            host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.size() != host_and_port.size()) audiences.push_back(ResourceForHost(host));
  return audiences;
}

std::string AudienceFromScope(std::string_view scope_or_resource) {
  constexpr std::string_view kDefault = "/.default";
  std::string_view s = scope_or_resource;
  if (s.ends_with(kDefault)) s.remove_suffix(kDefault.size());
  if (s.ends_with('/')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace coffre::auth
