// Access-token checking: auth::TokenAuthority::Verify and crypto::VerifyJwtEs256.
//
// The first byte picks what the rest is:
//   0: a token as a client would send it (only signature-less garbage unless it is a seed);
//   1: a claims payload, signed with the authority's key: Verify's claim checks see it;
//   2: a 16-bit length, a JWS header, then a payload, signed as given: the header checks;
//   3: an ECDSA signature in DER: the DER <-> raw r||s conversions.
#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "auth/token_authority.h"
#include "common/base64url.h"
#include "crypto/digest.h"
#include "crypto/jwt.h"
#include "crypto/key_operations.h"
#include "fuzz/fuzz_common.h"

namespace {

namespace json = boost::json;
using coffre::AsBytes;
using coffre::AsChars;
using coffre::ByteSpan;
using coffre::ErrorKind;
namespace fz = coffre::fuzz;

struct State {
  coffre::ManualClock clock{fz::kNow};
  coffre::crypto::AsymmetricKey key = fz::TokenSigningKey();
  std::unique_ptr<coffre::auth::TokenAuthority> authority;
};
State* state = nullptr;

void CheckVerified(std::string_view token) {
  auto jws = coffre::crypto::VerifyJwtEs256(state->key, token);
  COFFRE_FUZZ_CHECK(jws.ok() || jws.status().kind() == ErrorKind::kUnauthorized,
                    jws.status().ToString());
  auto claims = state->authority->Verify(token, fz::kResource);
  COFFRE_FUZZ_CHECK(claims.ok() || claims.status().kind() == ErrorKind::kUnauthorized,
                    claims.status().ToString());
  // The authority never accepts what the signature check refuses.
  COFFRE_FUZZ_CHECK(!claims.ok() || jws.ok(), token);
  if (claims.ok()) {
    COFFRE_FUZZ_CHECK(claims->audience == fz::kResource, claims->audience);
    COFFRE_FUZZ_CHECK(claims->issuer == state->authority->issuer(), claims->issuer);
    COFFRE_FUZZ_CHECK(claims->tenant_id == fz::kTenant, claims->tenant_id);
    COFFRE_FUZZ_CHECK(claims->expires > fz::kNow - coffre::auth::TokenAuthority::kClockSkewSeconds,
                      token);
  } else {
    // Messages may echo claim values; they must stay printable.
    for (char c : claims.status().message()) {
      COFFRE_FUZZ_CHECK(c >= 0x20 && c < 0x7f, claims.status().message());
    }
  }
}

// Signs header.payload as given (the header is not checked here).
std::string SignRaw(std::string_view header, std::string_view payload) {
  std::string input =
      coffre::Base64UrlEncode(AsBytes(header)) + "." + coffre::Base64UrlEncode(AsBytes(payload));
  auto digest = coffre::crypto::Sha256(AsBytes(input));
  auto signature = coffre::crypto::EcdsaSignDigest(state->key, digest);
  if (!signature.ok()) fz::Fail("signing failed", signature.status().ToString());
  return input + "." + coffre::Base64UrlEncode(*signature);
}

// What VerifyJwtEs256 must decide about a header: a JSON object, "alg":"ES256", no "crit".
bool HeaderAcceptable(std::string_view header) {
  json::error_code ec;
  json::value v = json::parse(header, ec);
  if (ec || !v.is_object()) return false;
  const json::value* alg = v.get_object().if_contains("alg");
  return alg && alg->is_string() && alg->get_string() == "ES256" &&
         !v.get_object().contains("crit");
}

void WriteSeeds() {
  std::string dir = fz::SeedOutputDir();
  if (dir.empty()) return;
  auto issued = state->authority->Issue(fz::DevIdentity(), fz::kResource);
  if (!issued.ok()) fz::Fail("issue failed", issued.status().ToString());
  fz::WriteFile(dir, "token-valid", std::string(1, '\0') + issued->access_token);
  auto other = state->authority->Issue(fz::DevIdentity(), "https://other.example:1");
  fz::WriteFile(dir, "token-other-audience", std::string(1, '\0') + other->access_token);
  std::string header = R"({"alg":"ES256","typ":"JWT","kid":")" + state->authority->key_id() + "\"}";
  std::string claims = R"({"aud":"https://localhost:8443","iss":")" + state->authority->issuer() +
                       R"(","iat":1767225600,"nbf":1767225600,"exp":1767229200,)"
                       R"("oid":"aaaaaaaa-0000-4000-8000-000000000001",)"
                       R"("sub":"aaaaaaaa-0000-4000-8000-000000000001",)"
                       R"("tid":"11111111-2222-4333-8444-555555555555",)"
                       R"("appid":"bbbbbbbb-0000-4000-8000-000000000002","ver":"1.0"})";
  fz::WriteFile(dir, "claims-valid", std::string(1, '\1') + claims);
  auto with_header = [&](std::string_view h) {
    std::string out(1, '\2');
    out.push_back(static_cast<char>(h.size() >> 8));
    out.push_back(static_cast<char>(h.size() & 0xff));
    return out + std::string(h) + claims;
  };
  fz::WriteFile(dir, "header-valid", with_header(header));
  fz::WriteFile(dir, "header-none", with_header(R"({"alg":"none","typ":"JWT"})"));
  fz::WriteFile(dir, "header-crit", with_header(R"({"alg":"ES256","crit":["exp"],"kid":"x"})"));
  std::string token = SignRaw(header, claims);
  auto signature = coffre::Base64UrlDecode(token.substr(token.rfind('.') + 1));
  auto der = coffre::crypto::EcdsaRawToDer(*signature);
  fz::WriteFile(dir, "ecdsa-der", std::string(1, '\3') + std::string(AsChars(*der)));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  state = new State;
  state->authority =
      std::make_unique<coffre::auth::TokenAuthority>(state->key, fz::kTenant, state->clock);
  WriteSeeds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::Reader in(data, size);
  switch (in.U8() % 4) {
    case 0: {
      CheckVerified(AsChars(in.Rest()));
      break;
    }
    case 1: {
      std::string payload(AsChars(in.Rest()));
      auto token = coffre::crypto::SignJwtEs256(state->key, state->authority->key_id(), payload);
      COFFRE_FUZZ_CHECK(token.ok(), token.status().ToString());
      auto jws = coffre::crypto::VerifyJwtEs256(state->key, *token);
      // (An empty payload is malformed by definition; the server never signs one.)
      if (token->size() <= coffre::auth::TokenAuthority::kMaxTokenSize && !payload.empty()) {
        COFFRE_FUZZ_CHECK(jws.ok() && *jws == payload, *token);
      }
      CheckVerified(*token);
      break;
    }
    case 2: {
      std::string header(AsChars(in.Prefixed()));
      std::string payload(AsChars(in.Rest()));
      std::string token = SignRaw(header, payload);
      auto jws = coffre::crypto::VerifyJwtEs256(state->key, token);
      if (token.size() <= coffre::auth::TokenAuthority::kMaxTokenSize && !header.empty() &&
          !payload.empty()) {
        COFFRE_FUZZ_CHECK(jws.ok() == HeaderAcceptable(header), header);
        COFFRE_FUZZ_CHECK(!jws.ok() || *jws == payload, token);
      }
      CheckVerified(token);
      break;
    }
    case 3: {
      ByteSpan der = in.Rest();
      auto raw = coffre::crypto::EcdsaDerToRaw(der, 32);
      if (raw.ok()) {
        COFFRE_FUZZ_CHECK(raw->size() == 64, "raw size");
        auto der_again = coffre::crypto::EcdsaRawToDer(*raw);
        COFFRE_FUZZ_CHECK(der_again.ok(), der_again.status().ToString());
        auto raw_again = coffre::crypto::EcdsaDerToRaw(*der_again, 32);
        COFFRE_FUZZ_CHECK(raw_again.ok() && *raw_again == *raw, "DER round trip");
      }
      (void)coffre::crypto::EcdsaRawToDer(der);
      break;
    }
  }
  return 0;
}
