// JWK import: crypto::RsaKeyFromComponents / EcKeyFromComponents with fuzzed components, and
// the whole PUT /keys/{name} path (ParseImportKeyRequest, then KeyService::ImportKey over a real
// store). A key that imports must be a consistent key pair: what it signs, its public half
// verifies, and for oct keys what it encrypts decrypts back.
//
// The first byte picks what the rest is:
//   0: an import body (JSON);
//   1: a selector byte (even: RSA; odd: EC on curve (selector / 2) % 4), then 16-bit
//      length-prefixed components: n e d p q dp dq qi (RSA) or x y d (EC).
#include <cstdint>
#include <memory>
#include <string>

#include "crypto/asymmetric_key.h"
#include "crypto/digest.h"
#include "crypto/key_operations.h"
#include "fuzz/fuzz_common.h"
#include "http/key_json.h"

namespace {

using coffre::Bytes;
using coffre::ByteSpan;
using coffre::crypto::AsymmetricKey;
using coffre::crypto::Curve;
namespace fz = coffre::fuzz;
namespace service = coffre::service;

constexpr char kName[] = "fuzz-import";
fz::World* world = nullptr;

ByteSpan StripZeros(ByteSpan b) {
  while (!b.empty() && b.front() == 0) b = b.subspan(1);
  return b;
}

bool Equal(ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// The private half, serialized and loaded again, has the same public half.
void CheckPrivateDer(const AsymmetricKey& key) {
  auto der = key.PrivateDer();
  COFFRE_FUZZ_CHECK(!der.empty(), "no PKCS#8 for an imported key");
  auto again = AsymmetricKey::FromPrivateDer(der);
  COFFRE_FUZZ_CHECK(again.ok() && again->PublicDer() == key.PublicDer(), "PKCS#8 round trip");
}

void CheckRsa(const AsymmetricKey& key, ByteSpan n, ByteSpan e) {
  auto params = key.PublicParams();
  COFFRE_FUZZ_CHECK(Equal(params.n, StripZeros(n)) && Equal(params.e, StripZeros(e)),
                    "RSA public params differ from the components");
  auto digest = coffre::crypto::Sha256(coffre::AsBytes("message"));
  using coffre::crypto::RsaSignatureScheme;
  auto signature = coffre::crypto::RsaSignDigest(key, RsaSignatureScheme::kPss,
                                                 coffre::crypto::HashAlgorithm::kSha256, digest);
  COFFRE_FUZZ_CHECK(signature.ok(), signature.status().ToString());
  auto verified = coffre::crypto::RsaVerifyDigest(
      key, RsaSignatureScheme::kPss, coffre::crypto::HashAlgorithm::kSha256, digest, *signature);
  COFFRE_FUZZ_CHECK(verified.ok() && *verified, "imported RSA key does not verify its signature");
  CheckPrivateDer(key);
}

size_t DigestSize(Curve curve) {
  switch (curve) {
    case Curve::kP384:
      return 48;
    case Curve::kP521:
      return 64;
    default:
      return 32;
  }
}

void CheckEc(const AsymmetricKey& key, Curve curve, ByteSpan x, ByteSpan y) {
  auto params = key.PublicParams();
  COFFRE_FUZZ_CHECK(params.curve == curve && Equal(params.x, x) && Equal(params.y, y),
                    "EC public params differ from the components");
  Bytes digest(DigestSize(curve), 0x5a);
  auto signature = coffre::crypto::EcdsaSignDigest(key, digest);
  COFFRE_FUZZ_CHECK(signature.ok(), signature.status().ToString());
  auto verified = coffre::crypto::EcdsaVerifyDigest(key, digest, *signature);
  COFFRE_FUZZ_CHECK(verified.ok() && *verified, "imported EC key does not verify its signature");
  CheckPrivateDer(key);
}

void FromComponents(fz::Reader& in) {
  uint8_t selector = in.U8();
  if (selector % 2 == 0) {
    ByteSpan n = in.Prefixed(), e = in.Prefixed(), d = in.Prefixed(), p = in.Prefixed(),
             q = in.Prefixed(), dp = in.Prefixed(), dq = in.Prefixed(), qi = in.Prefixed();
    auto key = coffre::crypto::RsaKeyFromComponents({n, e, d, p, q, dp, dq, qi});
    if (key.ok()) CheckRsa(*key, n, e);
  } else {
    constexpr Curve kCurves[] = {Curve::kP256, Curve::kP384, Curve::kP521, Curve::kP256K};
    Curve curve = kCurves[(selector / 2) % 4];
    ByteSpan x = in.Prefixed(), y = in.Prefixed(), d = in.Prefixed();
    auto key = coffre::crypto::EcKeyFromComponents(curve, x, y, d);
    if (key.ok()) CheckEc(*key, curve, x, y);
  }
}

// Signs (or, for oct keys, encrypts) through the service and checks the answer.
void RoundTripThroughService(const service::KeyBundle& bundle, size_t oct_bits) {
  const auto& vault = world->vault();
  service::KeyOperationRequest request;
  if (service::IsRsa(bundle.key.kty) || service::IsEc(bundle.key.kty)) {
    std::string alg = "PS256";
    size_t digest_size = 32;
    if (service::IsEc(bundle.key.kty)) {
      switch (bundle.key.params.curve) {
        case Curve::kP256:
          alg = "ES256";
          break;
        case Curve::kP384:
          alg = "ES384";
          digest_size = 48;
          break;
        case Curve::kP521:
          alg = "ES512";
          digest_size = 64;
          break;
        case Curve::kP256K:
          alg = "ES256K";
          break;
      }
    }
    request.algorithm = alg;
    request.value.assign(digest_size, 0x42);
    auto signed_ = world->crypto->Perform(vault, kName, "", service::KeyOperation::kSign, request);
    if (!signed_.ok()) return;  // key_ops, enabled or nbf/exp may forbid it
    service::VerifyRequest verify{alg, Bytes(digest_size, 0x42),
                                  Bytes(signed_->value.begin(), signed_->value.end())};
    auto verified = world->crypto->Verify(vault, kName, "", verify);
    if (verified.ok()) {
      COFFRE_FUZZ_CHECK(*verified, "service signature does not verify");
    }
  } else {
    request.algorithm = "A" + std::to_string(oct_bits) + "GCM";
    request.value.assign(40, 0x17);
    auto sealed =
        world->crypto->Perform(vault, kName, "", service::KeyOperation::kEncrypt, request);
    if (!sealed.ok()) return;
    service::KeyOperationRequest open;
    open.algorithm = request.algorithm;
    open.value = sealed->value;
    open.iv = sealed->iv;
    open.tag = sealed->tag;
    auto opened = world->crypto->Perform(vault, kName, "", service::KeyOperation::kDecrypt, open);
    if (opened.ok()) {
      COFFRE_FUZZ_CHECK(opened->value == request.value,
                        "oct key does not decrypt what it encrypted");
    }
  }
}

void ThroughService(ByteSpan body) {
  auto object = coffre::http::ParseJsonObject(coffre::AsChars(body));
  if (!object.ok()) return;
  auto request = coffre::http::ParseImportKeyRequest(*object);
  if (!request.ok()) return;
  request->name = kName;
  auto bundle = world->keys->ImportKey(world->vault(), *request);
  if (bundle.ok()) {
    auto got = world->keys->GetKey(world->vault(), kName, bundle->version);
    COFFRE_FUZZ_CHECK(got.ok(), got.status().ToString());
    RoundTripThroughService(*bundle, request->key.k.size() * 8);
  } else {
    COFFRE_FUZZ_CHECK(bundle.status().kind() == coffre::ErrorKind::kBadRequest,
                      bundle.status().ToString());
  }
  COFFRE_FUZZ_CHECK(fz::RemoveKey(*world, kName), "imported key could not be removed");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new fz::World(fz::ScratchDir("jwk_import"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::Reader in(data, size);
  if (in.U8() % 2 == 0) {
    ThroughService(in.Rest());
  } else {
    FromComponents(in);
  }
  return 0;
}
