// RSA and EC key pairs: generation, PKCS#8 / SPKI serialization, public JWK parameters.
// OpenSSL types stay out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "coffre/status.h"
#include "common/bytes.h"

struct evp_pkey_st;  // EVP_PKEY

namespace coffre::crypto {

enum class KeyFamily { kRsa, kEc };
enum class Curve { kP256, kP384, kP521, kP256K };

// "P-256", "P-384", "P-521", "P-256K" (exact, case-sensitive as on the wire).
std::optional<Curve> CurveFromName(std::string_view name);
std::string_view CurveName(Curve curve);
// Coordinate / scalar length in bytes: 32, 48, 66, 32.
size_t CurveCoordinateSize(Curve curve);

// Public parameters as a JWK carries them (big-endian, unpadded integers for RSA; fixed-length
// coordinates for EC).
struct PublicKeyParams {
  KeyFamily family = KeyFamily::kRsa;
  Bytes n, e;  // RSA: modulus without leading zero bytes, public exponent
  Curve curve = Curve::kP256;
  Bytes x, y;  // EC: coordinates, each CurveCoordinateSize(curve) bytes
};

class AsymmetricKey {
 public:
  // bits: 2048, 3072 or 4096 are what callers allow; any >= 2048 works here.
  static Result<AsymmetricKey> GenerateRsa(int bits, uint32_t public_exponent = 65537);
  static Result<AsymmetricKey> GenerateEc(Curve curve);
  // PKCS#8 DER private key (RSA or EC on a supported curve).
  static Result<AsymmetricKey> FromPrivateDer(ByteSpan pkcs8_der);
  // SubjectPublicKeyInfo DER public key.
  static Result<AsymmetricKey> FromPublicDer(ByteSpan spki_der);
  // PEM (PKCS#8 "PRIVATE KEY" or "EC PRIVATE KEY"/"RSA PRIVATE KEY").
  static Result<AsymmetricKey> FromPrivatePem(std::string_view pem);

  KeyFamily family() const;
  bool has_private() const { return has_private_; }
  // RSA modulus size in bits; EC field size in bits.
  int bits() const;
  std::optional<Curve> curve() const;

  SecureBytes PrivateDer() const;   // PKCS#8; empty if no private part
  SecureString PrivatePem() const;  // PKCS#8 PEM; empty if no private part
  Bytes PublicDer() const;          // SubjectPublicKeyInfo
  // The same encodings through OpenSSL's encoders, which PublicDer/PrivateDer bypass for EC keys
  // (for speed); tests hold the two to the same bytes.
  Bytes PublicDerFromEncoder() const;
  SecureBytes PrivateDerFromEncoder() const;
  PublicKeyParams PublicParams() const;

  evp_pkey_st* native() const { return pkey_.get(); }
  // The shared key object: its identity tells apart keys (and key versions) whatever their
  // address (crypto/ready_contexts.h keeps contexts per key object).
  const std::shared_ptr<evp_pkey_st>& shared_native() const { return pkey_; }

  // Takes ownership of an EVP_PKEY (used by other crypto/ files).
  static AsymmetricKey Adopt(evp_pkey_st* pkey, bool has_private);

 private:
  AsymmetricKey(std::shared_ptr<evp_pkey_st> pkey, bool has_private)
      : pkey_(std::move(pkey)), has_private_(has_private) {}
  std::shared_ptr<evp_pkey_st> pkey_;  // immutable once built; shared between copies
  bool has_private_ = false;
};

}  // namespace coffre::crypto
