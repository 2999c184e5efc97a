#include "service/crypto_service.h"

#include <algorithm>
#include <array>

#include "crypto/digest.h"
#include "crypto/key_operations.h"
#include "crypto/random.h"
#include "service/key_service.h"

namespace coffre::service {
namespace {

using crypto::Curve;
using crypto::HashAlgorithm;
using crypto::RsaPadding;

enum class Family {
  kRsaEncryption,  // RSA1_5, RSA-OAEP, RSA-OAEP-256
  kAesGcm,
  kAesCbc,
  kAesCbcPad,
  kAesKw,         // A*KW: RFC 3394 with a key of the named size
  kAesKwAnySize,  // CKM_AES_KEY_WRAP: RFC 3394
  kAesKwPad,      // CKM_AES_KEY_WRAP_PAD: RFC 5649
  kRsaPkcs1,
  kRsaPss,
  kRsaNull,
  kEcdsa,
  kHmac,
};

struct Algorithm {
  std::string_view name;
  Family family;
  int aes_bits = 0;  // required oct key size, 0 = any
  RsaPadding padding = RsaPadding::kOaepSha256;
  HashAlgorithm hash = HashAlgorithm::kSha256;
  Curve curve = Curve::kP256;
};

constexpr std::array kAlgorithms = {
    Algorithm{"RSA1_5", Family::kRsaEncryption, 0, RsaPadding::kPkcs1v15},
    Algorithm{"RSA-OAEP", Family::kRsaEncryption, 0, RsaPadding::kOaepSha1},
    Algorithm{"RSA-OAEP-256", Family::kRsaEncryption, 0, RsaPadding::kOaepSha256},
    Algorithm{"A128GCM", Family::kAesGcm, 128},
    Algorithm{"A192GCM", Family::kAesGcm, 192},
    Algorithm{"A256GCM", Family::kAesGcm, 256},
    Algorithm{"A128CBC", Family::kAesCbc, 128},
    Algorithm{"A192CBC", Family::kAesCbc, 192},
    Algorithm{"A256CBC", Family::kAesCbc, 256},
    Algorithm{"A128CBCPAD", Family::kAesCbcPad, 128},
    Algorithm{"A192CBCPAD", Family::kAesCbcPad, 192},
    Algorithm{"A256CBCPAD", Family::kAesCbcPad, 256},
    Algorithm{"A128KW", Family::kAesKw, 128},
    Algorithm{"A192KW", Family::kAesKw, 192},
    Algorithm{"A256KW", Family::kAesKw, 256},
    Algorithm{"CKM_AES_KEY_WRAP", Family::kAesKwAnySize},
    Algorithm{"CKM_AES_KEY_WRAP_PAD", Family::kAesKwPad},
    Algorithm{"RS256", Family::kRsaPkcs1, 0, {}, HashAlgorithm::kSha256},
    Algorithm{"RS384", Family::kRsaPkcs1, 0, {}, HashAlgorithm::kSha384},
    Algorithm{"RS512", Family::kRsaPkcs1, 0, {}, HashAlgorithm::kSha512},
    Algorithm{"PS256", Family::kRsaPss, 0, {}, HashAlgorithm::kSha256},
    Algorithm{"PS384", Family::kRsaPss, 0, {}, HashAlgorithm::kSha384},
    Algorithm{"PS512", Family::kRsaPss, 0, {}, HashAlgorithm::kSha512},
    Algorithm{"RSNULL", Family::kRsaNull},
    Algorithm{"ES256", Family::kEcdsa, 0, {}, HashAlgorithm::kSha256, Curve::kP256},
    Algorithm{"ES256K", Family::kEcdsa, 0, {}, HashAlgorithm::kSha256, Curve::kP256K},
    Algorithm{"ES384", Family::kEcdsa, 0, {}, HashAlgorithm::kSha384, Curve::kP384},
    Algorithm{"ES512", Family::kEcdsa, 0, {}, HashAlgorithm::kSha512, Curve::kP521},
    Algorithm{"HS256", Family::kHmac, 0, {}, HashAlgorithm::kSha256},
    Algorithm{"HS384", Family::kHmac, 0, {}, HashAlgorithm::kSha384},
    Algorithm{"HS512", Family::kHmac, 0, {}, HashAlgorithm::kSha512},
};

const Algorithm* FindAlgorithm(std::string_view name) {
  for (const auto& alg : kAlgorithms) {
    if (alg.name == name) return &alg;
  }
  return nullptr;
}

bool IsSignature(Family f) {
  return f == Family::kRsaPkcs1 || f == Family::kRsaPss || f == Family::kRsaNull ||
         f == Family::kEcdsa || f == Family::kHmac;
}

bool IsWrapOnly(Family f) {
  return f == Family::kAesKw || f == Family::kAesKwAnySize || f == Family::kAesKwPad;
}

bool IsRsaFamily(Family f) {
  return f == Family::kRsaEncryption || f == Family::kRsaPkcs1 || f == Family::kRsaPss ||
         f == Family::kRsaNull;
}

bool AllowedFor(const Algorithm& alg, KeyOperation op) {
  switch (op) {
    case KeyOperation::kSign:
    case KeyOperation::kVerify:
      return IsSignature(alg.family);
    case KeyOperation::kEncrypt:
    case KeyOperation::kDecrypt:
      return !IsSignature(alg.family) && !IsWrapOnly(alg.family);
    case KeyOperation::kWrapKey:
    case KeyOperation::kUnwrapKey:
      return alg.family == Family::kRsaEncryption || IsWrapOnly(alg.family);
  }
  return false;
}

// Checks that the algorithm exists, suits the operation and the key's type, curve and size.
Result<const Algorithm*> ResolveAlgorithm(std::string_view name, KeyOperation op,
                                          const KeyMaterial& key) {
  const Algorithm* alg = FindAlgorithm(name);
  if (alg == nullptr || !AllowedFor(*alg, op)) {
    return Status::BadParameter("The algorithm '" + std::string(name.substr(0, 64)) +
                                "' is not valid for the " + std::string(KeyOperationName(op)) +
                                " operation.");
  }
  std::string kty(KeyTypeName(key.kty));
  auto mismatch = [&] {
    return Status::BadParameter("The algorithm " + std::string(alg->name) +
                                " cannot be used with a key of type " + kty + ".");
  };
  if (IsRsaFamily(alg->family)) {
    if (!IsRsa(key.kty)) return mismatch();
  } else if (alg->family == Family::kEcdsa) {
    if (!IsEc(key.kty)) return mismatch();
    auto curve = key.asymmetric()->curve();
    if (curve != alg->curve) {
      return Status::BadParameter(
          "The algorithm " + std::string(alg->name) + " requires a " +
          std::string(crypto::CurveName(alg->curve)) + " key; this key uses " +
          std::string(curve ? crypto::CurveName(*curve) : "another curve") + ".");
    }
  } else {
    if (key.symmetric() == nullptr) return mismatch();
    int bits = static_cast<int>(key.symmetric()->size() * 8);
    if (alg->aes_bits != 0 && bits != alg->aes_bits) {
      return Status::BadParameter("The algorithm " + std::string(alg->name) + " requires a " +
                                  std::to_string(alg->aes_bits) + "-bit key; this key has " +
                                  std::to_string(bits) + " bits.");
    }
  }
  return alg;
}

Status RequireLength(const std::optional<Bytes>& field, std::string_view property, size_t size,
                     std::string_view alg) {
  if (!field) {
    return Status::BadParameter("The property \"" + std::string(property) + "\" is required for " +
                                std::string(alg) + ".");
  }
  if (field->size() != size) {
    return Status::BadParameter("The property \"" + std::string(property) + "\" must be " +
                                std::to_string(size) + " bytes for " + std::string(alg) + ".");
  }
  return Status::Ok();
}

ByteSpan Span(const std::optional<Bytes>& b) { return b ? ByteSpan(*b) : ByteSpan(); }

template <typename Buffer>
SecureBytes ToSecure(Buffer&& data) {
  SecureBytes out(data.begin(), data.end());
  SecureWipe(data.data(), data.size());
  return out;
}

Result<KeyOperationResult> Symmetric(const Algorithm& alg, KeyOperation op, ByteSpan key,
                                     const KeyOperationRequest& request) {
  KeyOperationResult result;
  const bool encrypting = op == KeyOperation::kEncrypt;
  switch (alg.family) {
    case Family::kAesGcm:
      if (encrypting) {
        if (request.iv) {
          return Status::BadParameter("The service generates the iv for " + std::string(alg.name) +
                                      "; do not send one.");
        }
        Bytes iv = crypto::RandomBytes(12);
        COFFRE_ASSIGN_OR_RETURN(auto sealed,
                                crypto::AesGcmEncrypt(key, iv, request.value, Span(request.aad)));
        result.value = ToSecure(sealed.ciphertext);
        result.iv = std::move(iv);
        result.tag = std::move(sealed.tag);
        result.aad = request.aad;
      } else {
        COFFRE_RETURN_IF_ERROR(RequireLength(request.iv, "iv", 12, alg.name));
        COFFRE_RETURN_IF_ERROR(RequireLength(request.tag, "tag", 16, alg.name));
        COFFRE_ASSIGN_OR_RETURN(
            result.value, crypto::AesGcmDecrypt(key, *request.iv, request.value, Span(request.aad),
                                                *request.tag));
      }
      return result;
    case Family::kAesCbc:
    case Family::kAesCbcPad: {
      COFFRE_RETURN_IF_ERROR(RequireLength(request.iv, "iv", 16, alg.name));
      bool pad = alg.family == Family::kAesCbcPad;
      if (encrypting) {
        COFFRE_ASSIGN_OR_RETURN(auto ciphertext,
                                crypto::AesCbcEncrypt(key, *request.iv, request.value, pad));
        result.value = ToSecure(ciphertext);
        result.iv = request.iv;
      } else {
        COFFRE_ASSIGN_OR_RETURN(result.value,
                                crypto::AesCbcDecrypt(key, *request.iv, request.value, pad));
      }
      return result;
    }
    case Family::kAesKw:
    case Family::kAesKwAnySize:
      if (op == KeyOperation::kWrapKey) {
        COFFRE_ASSIGN_OR_RETURN(auto wrapped, crypto::AesKeyWrap(key, request.value));
        result.value = ToSecure(wrapped);
      } else {
        COFFRE_ASSIGN_OR_RETURN(result.value, crypto::AesKeyUnwrap(key, request.value));
      }
      return result;
    case Family::kAesKwPad:
      if (op == KeyOperation::kWrapKey) {
        COFFRE_ASSIGN_OR_RETURN(auto wrapped, crypto::AesKeyWrapWithPadding(key, request.value));
        result.value = ToSecure(wrapped);
      } else {
        COFFRE_ASSIGN_OR_RETURN(result.value, crypto::AesKeyUnwrapWithPadding(key, request.value));
      }
      return result;
    case Family::kHmac: {
      COFFRE_ASSIGN_OR_RETURN(auto mac, crypto::Hmac(alg.hash, key, request.value));
      result.value = ToSecure(mac);
      return result;
    }
    default:
      return Status::Internal("Unexpected algorithm family.");
  }
}

Result<SecureBytes> Sign(const Algorithm& alg, const crypto::AsymmetricKey& key, ByteSpan digest) {
  Result<Bytes> signature = Status::Internal("Unexpected algorithm family.");
  switch (alg.family) {
    case Family::kRsaPkcs1:
      signature =
          crypto::RsaSignDigest(key, crypto::RsaSignatureScheme::kPkcs1v15, alg.hash, digest);
      break;
    case Family::kRsaPss:
      signature = crypto::RsaSignDigest(key, crypto::RsaSignatureScheme::kPss, alg.hash, digest);
      break;
    case Family::kRsaNull:
      signature = crypto::RsaSignRaw(key, digest);
      break;
    case Family::kEcdsa:
      if (digest.size() != crypto::HashSize(alg.hash)) {
        return Status::BadParameter("The digest for " + std::string(alg.name) + " must be " +
                                    std::to_string(crypto::HashSize(alg.hash)) + " bytes.");
      }
      signature = crypto::EcdsaSignDigest(key, digest);
      break;
    default:
      break;
  }
  if (!signature.ok()) return signature.status();
  return ToSecure(*signature);
}

}  // namespace

std::string_view KeyOperationName(KeyOperation op) {
  switch (op) {
    case KeyOperation::kEncrypt:
      return "encrypt";
    case KeyOperation::kDecrypt:
      return "decrypt";
    case KeyOperation::kWrapKey:
      return "wrapKey";
    case KeyOperation::kUnwrapKey:
      return "unwrapKey";
    case KeyOperation::kSign:
      return "sign";
    case KeyOperation::kVerify:
      return "verify";
  }
  return "unknown";
}

Result<CryptoService::LoadedKey> CryptoService::Load(const store::VaultRecord& vault,
                                                     std::string_view name,
                                                     std::string_view version, KeyOperation op) {
  std::string id =
      version.empty() ? std::string(name) : std::string(name) + "/" + std::string(version);
  if (!version.empty() && !IsValidVersion(version)) return KeyService::KeyNotFound(id);
  auto record = store_.GetKeyVersion(vault.name, name, version);
  if (!record.ok()) {
    if (record.status().kind() == ErrorKind::kNotFound) return KeyService::KeyNotFound(id);
    return record.status();
  }
  std::string op_name(KeyOperationName(op));
  if (!record->enabled) {
    return Status::Forbidden("Operation " + op_name + " is not allowed on a disabled key.",
                             "KeyDisabled");
  }
  if (std::find(record->key_ops.begin(), record->key_ops.end(), op_name) == record->key_ops.end()) {
    return Status::Forbidden("Operation " + op_name + " is not permitted on this key.",
                             "KeyOperationForbidden");
  }
  // Outside its validity window a key may still undo what it did: decrypt, unwrap, verify.
  bool undo =
      op == KeyOperation::kDecrypt || op == KeyOperation::kUnwrapKey || op == KeyOperation::kVerify;
  int64_t now = clock_.NowSeconds();
  if (!undo && record->not_before && now < *record->not_before) {
    return Status::Forbidden("Operation " + op_name + " is not allowed before the key's nbf time.",
                             "KeyNotYetValid");
  }
  if (!undo && record->expires && now >= *record->expires) {
    return Status::Forbidden("Operation " + op_name + " is not allowed on an expired key.",
                             "KeyExpired");
  }
  COFFRE_ASSIGN_OR_RETURN(auto material, material_.KeyMaterialOf(*record));
  return LoadedKey{std::move(record).value(), std::move(material)};
}

Result<KeyOperationResult> CryptoService::Perform(const store::VaultRecord& vault,
                                                  std::string_view name, std::string_view version,
                                                  KeyOperation op,
                                                  const KeyOperationRequest& request) {
  if (op == KeyOperation::kVerify) return Status::Internal("Use Verify for verify.");
  COFFRE_ASSIGN_OR_RETURN(LoadedKey key, Load(vault, name, version, op));
  COFFRE_ASSIGN_OR_RETURN(const Algorithm* alg,
                          ResolveAlgorithm(request.algorithm, op, *key.material));
  KeyOperationResult result;
  if (const SecureBytes* secret = key.material->symmetric()) {
    COFFRE_ASSIGN_OR_RETURN(result, Symmetric(*alg, op, *secret, request));
  } else {
    const crypto::AsymmetricKey& pair = *key.material->asymmetric();
    if (op == KeyOperation::kSign) {
      COFFRE_ASSIGN_OR_RETURN(result.value, Sign(*alg, pair, request.value));
    } else if (op == KeyOperation::kEncrypt || op == KeyOperation::kWrapKey) {
      COFFRE_ASSIGN_OR_RETURN(auto ciphertext,
                              crypto::RsaEncrypt(pair, alg->padding, request.value));
      result.value = ToSecure(ciphertext);
    } else {
      COFFRE_ASSIGN_OR_RETURN(result.value, crypto::RsaDecrypt(pair, alg->padding, request.value));
    }
  }
  result.name = key.record.name;
  result.version = key.record.version;
  return result;
}

Result<bool> CryptoService::Verify(const store::VaultRecord& vault, std::string_view name,
                                   std::string_view version, const VerifyRequest& request) {
  COFFRE_ASSIGN_OR_RETURN(LoadedKey key, Load(vault, name, version, KeyOperation::kVerify));
  COFFRE_ASSIGN_OR_RETURN(
      const Algorithm* alg,
      ResolveAlgorithm(request.algorithm, KeyOperation::kVerify, *key.material));
  if (const SecureBytes* secret = key.material->symmetric()) {
    COFFRE_ASSIGN_OR_RETURN(auto mac, crypto::Hmac(alg->hash, *secret, request.digest));
    return crypto::ConstantTimeEquals(mac, request.signature);
  }
  const crypto::AsymmetricKey& pair = *key.material->asymmetric();
  switch (alg->family) {
    case Family::kRsaPkcs1:
      return crypto::RsaVerifyDigest(pair, crypto::RsaSignatureScheme::kPkcs1v15, alg->hash,
                                     request.digest, request.signature);
    case Family::kRsaPss:
      return crypto::RsaVerifyDigest(pair, crypto::RsaSignatureScheme::kPss, alg->hash,
                                     request.digest, request.signature);
    case Family::kRsaNull:
      return crypto::RsaVerifyRaw(pair, request.digest, request.signature);
    case Family::kEcdsa:
      if (request.digest.size() != crypto::HashSize(alg->hash)) {
        return Status::BadParameter("The digest for " + std::string(alg->name) + " must be " +
                                    std::to_string(crypto::HashSize(alg->hash)) + " bytes.");
      }
      return crypto::EcdsaVerifyDigest(pair, request.digest, request.signature);
    default:
      return Status::Internal("Unexpected algorithm family.");
  }
}

Result<Bytes> CryptoService::RandomBytes(int64_t count) {
  if (count < 1 || count > 128) {
    return Status::BadParameter(
        "GetRandomBytesRequest: count cannot be greater than 128 or less than 1");
  }
  return crypto::RandomBytes(static_cast<size_t>(count));
}

}  // namespace coffre::service
