// Algorithms, parameters and results of CryptographyClient.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coffre/core/extendable_enumeration.h"

namespace coffre::keys::cryptography {

class SignatureAlgorithm final : public core::ExtendableEnumeration<SignatureAlgorithm> {
 public:
  SignatureAlgorithm() = default;
  explicit SignatureAlgorithm(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const SignatureAlgorithm RS256;
  static const SignatureAlgorithm RS384;
  static const SignatureAlgorithm RS512;
  static const SignatureAlgorithm PS256;
  static const SignatureAlgorithm PS384;
  static const SignatureAlgorithm PS512;
  static const SignatureAlgorithm ES256;
  static const SignatureAlgorithm ES384;
  static const SignatureAlgorithm ES512;
  static const SignatureAlgorithm ES256K;
};

class KeyWrapAlgorithm final : public core::ExtendableEnumeration<KeyWrapAlgorithm> {
 public:
  KeyWrapAlgorithm() = default;
  explicit KeyWrapAlgorithm(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const KeyWrapAlgorithm Rsa15;
  static const KeyWrapAlgorithm RsaOaep;
  static const KeyWrapAlgorithm RsaOaep256;
  static const KeyWrapAlgorithm A128KW;
  static const KeyWrapAlgorithm A192KW;
  static const KeyWrapAlgorithm A256KW;
  static const KeyWrapAlgorithm CkmAesKeyWrap;
  static const KeyWrapAlgorithm CkmAesKeyWrapPad;
};

class EncryptionAlgorithm final : public core::ExtendableEnumeration<EncryptionAlgorithm> {
 public:
  EncryptionAlgorithm() = default;
  explicit EncryptionAlgorithm(std::string value) : ExtendableEnumeration(std::move(value)) {}

  static const EncryptionAlgorithm Rsa15;
  static const EncryptionAlgorithm RsaOaep;
  static const EncryptionAlgorithm RsaOaep256;
  static const EncryptionAlgorithm A128Gcm;
  static const EncryptionAlgorithm A192Gcm;
  static const EncryptionAlgorithm A256Gcm;
  static const EncryptionAlgorithm A128Cbc;
  static const EncryptionAlgorithm A192Cbc;
  static const EncryptionAlgorithm A256Cbc;
  static const EncryptionAlgorithm A128CbcPad;
  static const EncryptionAlgorithm A192CbcPad;
  static const EncryptionAlgorithm A256CbcPad;
};

class EncryptParameters final {
 public:
  EncryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> plaintext)
      : Algorithm(std::move(algorithm)), Plaintext(std::move(plaintext)) {}

  EncryptionAlgorithm Algorithm;
  std::vector<uint8_t> Plaintext;
  std::vector<uint8_t> AdditionalAuthenticatedData;
  const std::vector<uint8_t>& GetIv() const { return iv_; }

  static EncryptParameters Rsa15Parameters(const std::vector<uint8_t>& plaintext);
  static EncryptParameters RsaOaepParameters(const std::vector<uint8_t>& plaintext);
  static EncryptParameters RsaOaep256Parameters(const std::vector<uint8_t>& plaintext);
  // The service generates the GCM nonce and returns it in EncryptResult::Iv.
  static EncryptParameters A128GcmParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& aad = {});
  static EncryptParameters A192GcmParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& aad = {});
  static EncryptParameters A256GcmParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& aad = {});
  // CBC: an empty iv means "generate 16 random bytes".
  static EncryptParameters A128CbcParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& iv = {});
  static EncryptParameters A192CbcParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& iv = {});
  static EncryptParameters A256CbcParameters(const std::vector<uint8_t>& plaintext,
                                             const std::vector<uint8_t>& iv = {});
  static EncryptParameters A128CbcPadParameters(const std::vector<uint8_t>& plaintext,
                                                const std::vector<uint8_t>& iv = {});
  static EncryptParameters A192CbcPadParameters(const std::vector<uint8_t>& plaintext,
                                                const std::vector<uint8_t>& iv = {});
  static EncryptParameters A256CbcPadParameters(const std::vector<uint8_t>& plaintext,
                                                const std::vector<uint8_t>& iv = {});

 private:
  EncryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> plaintext,
                    std::vector<uint8_t> iv, std::vector<uint8_t> aad);
  std::vector<uint8_t> iv_;
};

class DecryptParameters final {
 public:
  DecryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> ciphertext)
      : Algorithm(std::move(algorithm)), Ciphertext(std::move(ciphertext)) {}

  EncryptionAlgorithm Algorithm;
  std::vector<uint8_t> Ciphertext;
  std::vector<uint8_t> AdditionalAuthenticatedData;
  std::vector<uint8_t> AuthenticationTag;
  const std::vector<uint8_t>& GetIv() const { return iv_; }

  static DecryptParameters Rsa15Parameters(const std::vector<uint8_t>& ciphertext);
  static DecryptParameters RsaOaepParameters(const std::vector<uint8_t>& ciphertext);
  static DecryptParameters RsaOaep256Parameters(const std::vector<uint8_t>& ciphertext);
  static DecryptParameters A128GcmParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv,
                                             const std::vector<uint8_t>& authentication_tag,
                                             const std::vector<uint8_t>& aad = {});
  static DecryptParameters A192GcmParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv,
                                             const std::vector<uint8_t>& authentication_tag,
                                             const std::vector<uint8_t>& aad = {});
  static DecryptParameters A256GcmParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv,
                                             const std::vector<uint8_t>& authentication_tag,
                                             const std::vector<uint8_t>& aad = {});
  static DecryptParameters A128CbcParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv);
  static DecryptParameters A192CbcParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv);
  static DecryptParameters A256CbcParameters(const std::vector<uint8_t>& ciphertext,
                                             const std::vector<uint8_t>& iv);
  static DecryptParameters A128CbcPadParameters(const std::vector<uint8_t>& ciphertext,
                                                const std::vector<uint8_t>& iv);
  static DecryptParameters A192CbcPadParameters(const std::vector<uint8_t>& ciphertext,
                                                const std::vector<uint8_t>& iv);
  static DecryptParameters A256CbcPadParameters(const std::vector<uint8_t>& ciphertext,
                                                const std::vector<uint8_t>& iv);

 private:
  DecryptParameters(EncryptionAlgorithm algorithm, std::vector<uint8_t> ciphertext,
                    std::vector<uint8_t> iv, std::vector<uint8_t> tag, std::vector<uint8_t> aad);
  std::vector<uint8_t> iv_;
};

struct EncryptResult final {
  std::string KeyId;
  std::vector<uint8_t> Ciphertext;
  std::vector<uint8_t> Iv;
  std::vector<uint8_t> AuthenticationTag;
  std::vector<uint8_t> AdditionalAuthenticatedData;
  EncryptionAlgorithm Algorithm;
};

struct DecryptResult final {
  std::string KeyId;
  std::vector<uint8_t> Plaintext;
  EncryptionAlgorithm Algorithm;
};

struct WrapResult final {
  std::string KeyId;
  std::vector<uint8_t> EncryptedKey;
  KeyWrapAlgorithm Algorithm;
};

struct UnwrapResult final {
  std::string KeyId;
  std::vector<uint8_t> Key;
  KeyWrapAlgorithm Algorithm;
};

struct SignResult final {
  std::string KeyId;
  std::vector<uint8_t> Signature;
  SignatureAlgorithm Algorithm;
};

struct VerifyResult final {
  std::string KeyId;
  bool IsValid = false;
  SignatureAlgorithm Algorithm;
};

}  // namespace coffre::keys::cryptography
