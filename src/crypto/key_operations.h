// The cryptographic operations a vault performs with its keys: RSA and EC with OpenSSL EVP
// (signatures over a digest the caller computed, never hashed again), and AES / HMAC with raw
// symmetric keys. Inputs come from the network: every function validates sizes and returns a
// Status instead of failing inside OpenSSL. Decryption failures are one neutral error.
#pragma once

#include <optional>

#include "coffre/status.h"
#include "common/bytes.h"
#include "crypto/asymmetric_key.h"

namespace coffre::crypto {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };
size_t HashSize(HashAlgorithm hash);  // 32, 48, 64

// ---- RSA
enum class RsaPadding {
  kPkcs1v15,    // RSA1_5
  kOaepSha1,    // RSA-OAEP (SHA-1, MGF1-SHA-1)
  kOaepSha256,  // RSA-OAEP-256 (SHA-256, MGF1-SHA-256)
};
// Largest plaintext one block can carry for this key and padding (k = modulus bytes): k - 11 for
// RSA1_5, k - 42 for RSA-OAEP, k - 66 for RSA-OAEP-256; 0 for a non-RSA key.
size_t RsaMaxPlaintextSize(const AsymmetricKey& key, RsaPadding padding);
Result<Bytes> RsaEncrypt(const AsymmetricKey& key, RsaPadding padding, ByteSpan plaintext);
// ciphertext must be exactly the modulus size. OAEP failures are the neutral
// "The ciphertext could not be decrypted.". RSA1_5 uses implicit rejection (as OpenSSL >= 3.2 does,
// with the same derivation): a ciphertext whose padding is invalid does NOT fail but decrypts to
// a deterministic pseudo-random message, so the answer is no Bleichenbacher oracle.
Result<SecureBytes> RsaDecrypt(const AsymmetricKey& key, RsaPadding padding, ByteSpan ciphertext);

enum class RsaSignatureScheme { kPkcs1v15, kPss };
// digest.size() must equal HashSize(hash). PSS uses MGF1 with the same hash and salt length
// equal to the hash length.
Result<Bytes> RsaSignDigest(const AsymmetricKey& key, RsaSignatureScheme scheme, HashAlgorithm hash,
                            ByteSpan digest);
// false (not an error) for a wrong signature, including one of the wrong length; errors only
// for unusable input (wrong key type, wrong digest length).
Result<bool> RsaVerifyDigest(const AsymmetricKey& key, RsaSignatureScheme scheme,
                             HashAlgorithm hash, ByteSpan digest, ByteSpan signature);
// RSNULL: PKCS#1 v1.5 signature padding over the caller's bytes, no DigestInfo
// (input 1 to modulus size - 11 bytes).
Result<Bytes> RsaSignRaw(const AsymmetricKey& key, ByteSpan data);
Result<bool> RsaVerifyRaw(const AsymmetricKey& key, ByteSpan data, ByteSpan signature);

// ---- ECDSA; signatures are raw r||s with fixed-length halves (CurveCoordinateSize). The digest
// length follows the curve's algorithm: 32 bytes for P-256 (ES256) and P-256K (ES256K), 48 for
// P-384 (ES384), 64 for P-521 (ES512). A signature of the wrong length verifies as false.
Result<Bytes> EcdsaSignDigest(const AsymmetricKey& key, ByteSpan digest);
Result<bool> EcdsaVerifyDigest(const AsymmetricKey& key, ByteSpan digest, ByteSpan signature);

// ---- AES (key of 16, 24 or 32 bytes)
struct AesGcmSealed {
  Bytes ciphertext;
  Bytes tag;  // 16 bytes
};
// iv must be 12 bytes.
Result<AesGcmSealed> AesGcmEncrypt(ByteSpan key, ByteSpan iv, ByteSpan plaintext, ByteSpan aad);
// tag must be 16 bytes; a wrong tag is the same neutral error as any other failure.
Result<SecureBytes> AesGcmDecrypt(ByteSpan key, ByteSpan iv, ByteSpan ciphertext, ByteSpan aad,
                                  ByteSpan tag);
// iv must be 16 bytes. Without padding the input must be a multiple of 16 bytes.
Result<Bytes> AesCbcEncrypt(ByteSpan key, ByteSpan iv, ByteSpan plaintext, bool pkcs7_padding);
Result<SecureBytes> AesCbcDecrypt(ByteSpan key, ByteSpan iv, ByteSpan ciphertext,
                                  bool pkcs7_padding);
// RFC 3394 (input: multiple of 8 bytes, at least 16) and RFC 5649 (any length 1..).
Result<Bytes> AesKeyWrap(ByteSpan kek, ByteSpan key_data);
Result<SecureBytes> AesKeyUnwrap(ByteSpan kek, ByteSpan wrapped);
Result<Bytes> AesKeyWrapWithPadding(ByteSpan kek, ByteSpan key_data);
Result<SecureBytes> AesKeyUnwrapWithPadding(ByteSpan kek, ByteSpan wrapped);

// ---- HMAC
Result<Bytes> Hmac(HashAlgorithm hash, ByteSpan key, ByteSpan data);

// ---- Keys from JWK components (import). Every component is big-endian unsigned bytes.
struct RsaPrivateComponents {
  ByteSpan n, e, d, p, q, dp, dq, qi;  // p..qi may all be empty (then only n, e, d)
};
// Accepts moduli of 1024..16384 bits (which sizes to allow is the caller's policy). Rejects
// inconsistent keys with OpenSSL's full key check (p, q prime; n = p*q; d*e = 1 mod
// lcm(p-1, q-1); dp, dq, qi correct). With only n, e, d, the primes are recovered from them
// (which fails for a d that does not belong to n, e), so the key always has its CRT values.
// The check runs primality tests on p and q: ~50 ms for a 2048-bit key, up to ~1 s for 4096.
Result<AsymmetricKey> RsaKeyFromComponents(const RsaPrivateComponents& components);
// x, y must have the curve's coordinate length and be on the curve; d must match them. d may
// be shorter than the coordinate length (leading zero bytes dropped), never longer.
Result<AsymmetricKey> EcKeyFromComponents(Curve curve, ByteSpan x, ByteSpan y, ByteSpan d);

}  // namespace coffre::crypto
