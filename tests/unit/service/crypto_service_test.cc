// Tests for CryptoService: every algorithm on every key type and size it suits (checked against
// OpenSSL directly and published test vectors, not only by round trip), the combinations it must
// refuse, and Key Vault's access rules (enabled, key_ops, nbf/exp window, versions).
// Expected texts and rules come from the AKV keys wire reference (akv-keys-api.md §2.10-2.25, §3).
#include "service/crypto_service.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "service/key_material.h"
#include "service/key_service.h"
#include "service/material_barrier.h"
#include "service/vault_directory.h"
#include "store/store.h"

namespace coffre::service {
namespace {

constexpr int64_t kNow = 1'700'000'000;
const std::vector<std::string> kAllOps = {"encrypt",   "decrypt", "wrapKey",
                                          "unwrapKey", "sign",    "verify"};

Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes Text(std::string_view s) { return Bytes(s.begin(), s.end()); }
SecureBytes Secure(ByteSpan b) { return SecureBytes(b.begin(), b.end()); }
Bytes ToBytes(const SecureBytes& b) { return Bytes(b.begin(), b.end()); }

std::string NotFoundText(const std::string& name_or_id) {
  return "A key with (name/id) " + name_or_id +
         " was not found in this key vault. If you recently deleted this key you may be able to "
         "recover it using the correct recovery command. For help resolving this issue, please "
         "see https://go.microsoft.com/fwlink/?linkid=2125182";
}

// ---- OpenSSL as the independent oracle

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

PkeyPtr PublicKey(const Bytes& spki) {
  const unsigned char* p = spki.data();
  return PkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
}

const EVP_MD* Md(int bits) {
  return bits == 384 ? EVP_sha384() : bits == 512 ? EVP_sha512() : EVP_sha256();
}

Bytes Digest(const EVP_MD* md, std::string_view data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  out.resize(len);
  return out;
}

// RSA encryption with the public key: padding RSA_PKCS1_PADDING or RSA_PKCS1_OAEP_PADDING.
Bytes OpensslRsaEncrypt(const Bytes& spki, int padding, const EVP_MD* oaep_md, ByteSpan in) {
  PkeyPtr key = PublicKey(spki);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  EXPECT_EQ(EVP_PKEY_encrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding), 1);
  if (oaep_md != nullptr) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), oaep_md), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), oaep_md), 1);
  }
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in.data(), in.size()), 1);
  Bytes out(len);
  EXPECT_EQ(EVP_PKEY_encrypt(ctx.get(), out.data(), &len, in.data(), in.size()), 1);
  out.resize(len);
  return out;
}

// md null: raw PKCS#1 v1.5 (RSNULL). pss: salt length = digest length.
bool OpensslRsaVerify(const Bytes& spki, const EVP_MD* md, bool pss, ByteSpan digest,
                      ByteSpan signature) {
  PkeyPtr key = PublicKey(spki);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  EXPECT_EQ(EVP_PKEY_verify_init(ctx.get()), 1);
  EXPECT_EQ(
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING), 1);
  if (md != nullptr) {
    EXPECT_EQ(EVP_PKEY_CTX_set_signature_md(ctx.get(), md), 1);
  }
  if (pss) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md), 1);
  }
  return EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(),
                         digest.size()) == 1;
}

// Raw r||s (fixed halves) to DER, then ECDSA verification over the digest.
bool OpensslEcdsaVerify(const Bytes& spki, ByteSpan digest, ByteSpan raw) {
  size_t half = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), static_cast<int>(half), nullptr),
                 BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  PkeyPtr key = PublicKey(spki);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  EXPECT_EQ(EVP_PKEY_verify_init(ctx.get()), 1);
  bool ok = EVP_PKEY_verify(ctx.get(), der, static_cast<size_t>(der_len), digest.data(),
                            digest.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

Bytes OpensslHmac(const EVP_MD* md, ByteSpan key, ByteSpan data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  out.resize(len);
  return out;
}

std::optional<Bytes> OpensslGcmDecrypt(ByteSpan key, ByteSpan iv, ByteSpan ct, ByteSpan aad,
                                       ByteSpan tag) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_gcm()
                             : key.size() == 24 ? EVP_aes_192_gcm()
                                                : EVP_aes_256_gcm();
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr);
  EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data());
  int len = 0;
  if (!aad.empty()) {
    EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size()));
  }
  Bytes out(ct.size() + 16);
  EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct.data(), static_cast<int>(ct.size()));
  int total = len;
  Bytes tag_copy(tag.begin(), tag.end());
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_copy.size()),
                      tag_copy.data());
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return std::nullopt;
  out.resize(static_cast<size_t>(total + len));
  return out;
}

// ---- known keys (imported, so results can be checked against vectors)

// NIST SP 800-38A F.2 CBC keys.
const Bytes kCbcKey128 = FromHex("2b7e151628aed2a6abf7158809cf4f3c");
const Bytes kCbcKey192 = FromHex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b");
const Bytes kCbcKey256 =
    FromHex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
const Bytes kCbcIv = FromHex("000102030405060708090a0b0c0d0e0f");
const Bytes kCbcPlain = FromHex("6bc1bee22e409f96e93d7e117393172a");
// RFC 3394 §4 KEKs and key data.
const Bytes kKek128 = FromHex("000102030405060708090A0B0C0D0E0F");
const Bytes kKek192 = FromHex("000102030405060708090A0B0C0D0E0F1011121314151617");
const Bytes kKek256 = FromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
const Bytes kKeyData = FromHex("00112233445566778899AABBCCDDEEFF");
// RFC 5649 §6 KEK.
const Bytes kKwpKek = FromHex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");

class CryptoServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffre-crypto-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = new std::string(tmpl);
    auto opened = store::OpenSqliteStore(*dir_ + "/coffre.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = opened->release();
    barrier_ = new MaterialBarrier(Barrier(crypto::RandomSecureBytes(32)));
    clock_ = new ManualClock(kNow);
    keys_ = new KeyService(*store_, *barrier_, *clock_);
    crypto_ = new CryptoService(*store_, *barrier_, *clock_);
    vaults_ = new VaultDirectory(*store_);
    ASSERT_TRUE(vaults_->Ensure(Vault()).ok());

    CreateKeyRequest rsa;
    rsa.name = "rsa";
    rsa.kty = KeyType::kRsa;
    rsa.key_size = 2048;
    ASSERT_TRUE(keys_->CreateKey(Vault(), rsa).ok());
    for (auto [name, curve] :
         {std::pair{"ec-p256", crypto::Curve::kP256}, std::pair{"ec-p256k", crypto::Curve::kP256K},
          std::pair{"ec-p384", crypto::Curve::kP384}, std::pair{"ec-p521", crypto::Curve::kP521}}) {
      CreateKeyRequest ec;
      ec.name = name;
      ec.kty = KeyType::kEc;
      ec.curve = curve;
      ASSERT_TRUE(keys_->CreateKey(Vault(), ec).ok()) << name;
    }
    for (auto [name, k] : {std::pair{"cbc128", &kCbcKey128}, std::pair{"cbc192", &kCbcKey192},
                           std::pair{"cbc256", &kCbcKey256}, std::pair{"kek128", &kKek128},
                           std::pair{"kek192", &kKek192}, std::pair{"kek256", &kKek256},
                           std::pair{"kwp192", &kKwpKek}}) {
      ASSERT_NO_FATAL_FAILURE(ImportOct(name, *k));
    }
  }

  static void TearDownTestSuite() {
    delete vaults_;
    delete crypto_;
    delete keys_;
    delete clock_;
    delete barrier_;
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override { clock_->Set(kNow); }

  static store::VaultRecord Vault() {
    return {.name = "cryptovault", .retention_days = 90, .created = kNow};
  }

  static void ImportOct(const std::string& name, const Bytes& k,
                        std::vector<std::string> ops = kAllOps, AttributeChanges attributes = {}) {
    ImportKeyRequest request;
    request.name = name;
    request.key.kty = "oct";
    request.key.key_ops = std::move(ops);
    request.key.k = Secure(k);
    request.attributes = attributes;
    auto imported = keys_->ImportKey(Vault(), request);
    ASSERT_TRUE(imported.ok()) << name << ": " << imported.status().ToString();
  }

  static KeyBundle CreateOct(const std::string& name, int bits,
                             std::vector<std::string> ops = kAllOps,
                             AttributeChanges attributes = {}) {
    CreateKeyRequest request;
    request.name = name;
    request.kty = KeyType::kOct;
    request.key_size = bits;
    request.key_ops = std::move(ops);
    request.attributes = attributes;
    auto created = keys_->CreateKey(Vault(), request);
    EXPECT_TRUE(created.ok()) << name << ": " << created.status().ToString();
    return created.ok() ? *created : KeyBundle{};
  }

  static Bytes Spki(const std::string& name) {
    auto record = store_->GetKeyVersion(Vault().name, name, "");
    EXPECT_TRUE(record.ok());
    return record.ok() ? record->public_key : Bytes{};
  }

  static Result<KeyOperationResult> Do(const std::string& name, KeyOperation op,
                                       const std::string& alg, ByteSpan value,
                                       std::optional<Bytes> iv = std::nullopt,
                                       std::optional<Bytes> aad = std::nullopt,
                                       std::optional<Bytes> tag = std::nullopt,
                                       const std::string& version = "") {
    KeyOperationRequest request;
    request.algorithm = alg;
    request.value = Secure(value);
    request.iv = std::move(iv);
    request.aad = std::move(aad);
    request.tag = std::move(tag);
    return crypto_->Perform(Vault(), name, version, op, request);
  }

  static Result<bool> Verify(const std::string& name, const std::string& alg, ByteSpan digest,
                             ByteSpan signature, const std::string& version = "") {
    VerifyRequest request;
    request.algorithm = alg;
    request.digest.assign(digest.begin(), digest.end());
    request.signature.assign(signature.begin(), signature.end());
    return crypto_->Verify(Vault(), name, version, request);
  }

  static std::string* dir_;
  static store::Store* store_;
  static MaterialBarrier* barrier_;
  static ManualClock* clock_;
  static KeyService* keys_;
  static CryptoService* crypto_;
  static VaultDirectory* vaults_;
};

std::string* CryptoServiceTest::dir_ = nullptr;
store::Store* CryptoServiceTest::store_ = nullptr;
MaterialBarrier* CryptoServiceTest::barrier_ = nullptr;
ManualClock* CryptoServiceTest::clock_ = nullptr;
KeyService* CryptoServiceTest::keys_ = nullptr;
CryptoService* CryptoServiceTest::crypto_ = nullptr;
VaultDirectory* CryptoServiceTest::vaults_ = nullptr;

void ExpectBadParameter(const Status& status, const std::string& what) {
  EXPECT_EQ(status.kind(), ErrorKind::kBadRequest) << what << ": " << status.ToString();
  EXPECT_EQ(status.code(), "BadParameter") << what;
}

template <typename T>
void ExpectBadParameter(const Result<T>& result, const std::string& what) {
  ASSERT_FALSE(result.ok()) << what << " succeeded";
  ExpectBadParameter(result.status(), what);
}

// ---- RSA

struct RsaEncryptionCase {
  std::string alg;
  int padding;
  const EVP_MD* oaep_md;
  size_t max_plaintext;  // 2048-bit key
};

std::vector<RsaEncryptionCase> RsaEncryptionCases() {
  return {{"RSA1_5", RSA_PKCS1_PADDING, nullptr, 245},
          {"RSA-OAEP", RSA_PKCS1_OAEP_PADDING, EVP_sha1(), 214},
          {"RSA-OAEP-256", RSA_PKCS1_OAEP_PADDING, EVP_sha256(), 190}};
}

TEST_F(CryptoServiceTest, RsaEncryptDecryptAndWrapUnwrap) {
  auto latest = keys_->GetKey(Vault(), "rsa", "");
  ASSERT_TRUE(latest.ok());
  const Bytes spki = Spki("rsa");
  const Bytes plaintext = crypto::RandomBytes(32);
  for (const auto& c : RsaEncryptionCases()) {
    for (auto [op, undo] : {std::pair{KeyOperation::kEncrypt, KeyOperation::kDecrypt},
                            std::pair{KeyOperation::kWrapKey, KeyOperation::kUnwrapKey}}) {
      auto encrypted = Do("rsa", op, c.alg, plaintext);
      ASSERT_TRUE(encrypted.ok()) << c.alg << ": " << encrypted.status().ToString();
      EXPECT_EQ(encrypted->value.size(), 256u) << c.alg;
      EXPECT_EQ(encrypted->name, "rsa");
      EXPECT_EQ(encrypted->version, latest->version);
      EXPECT_FALSE(encrypted->iv.has_value());
      EXPECT_FALSE(encrypted->tag.has_value());
      auto decrypted = Do("rsa", undo, c.alg, encrypted->value);
      ASSERT_TRUE(decrypted.ok()) << c.alg << ": " << decrypted.status().ToString();
      EXPECT_EQ(ToBytes(decrypted->value), plaintext) << c.alg;

      // A ciphertext made by OpenSSL with the public key and the algorithm's padding.
      Bytes foreign = OpensslRsaEncrypt(spki, c.padding, c.oaep_md, plaintext);
      auto opened = Do("rsa", undo, c.alg, foreign);
      ASSERT_TRUE(opened.ok()) << c.alg << ": " << opened.status().ToString();
      EXPECT_EQ(ToBytes(opened->value), plaintext) << c.alg;
    }
  }
}

TEST_F(CryptoServiceTest, RsaOaepVariantsAreNotInterchangeable) {
  const Bytes plaintext = crypto::RandomBytes(16);
  auto sha1 = Do("rsa", KeyOperation::kEncrypt, "RSA-OAEP", plaintext);
  ASSERT_TRUE(sha1.ok());
  auto wrong = Do("rsa", KeyOperation::kDecrypt, "RSA-OAEP-256", sha1->value);
  ASSERT_FALSE(wrong.ok());
  ExpectBadParameter(wrong.status(), "RSA-OAEP ciphertext opened as RSA-OAEP-256");
}

TEST_F(CryptoServiceTest, RsaPlaintextLimits) {
  for (const auto& c : RsaEncryptionCases()) {
    Bytes max(c.max_plaintext, 0x5a);
    auto ok = Do("rsa", KeyOperation::kEncrypt, c.alg, max);
    EXPECT_TRUE(ok.ok()) << c.alg << " " << c.max_plaintext << ": " << ok.status().ToString();
    Bytes too_long(c.max_plaintext + 1, 0x5a);
    ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, c.alg, too_long), c.alg + " too long");
    ExpectBadParameter(Do("rsa", KeyOperation::kWrapKey, c.alg, too_long), c.alg + " wrap long");
  }
}

TEST_F(CryptoServiceTest, RsaDecryptOfWrongLengthCiphertextIsBadParameter) {
  ExpectBadParameter(Do("rsa", KeyOperation::kDecrypt, "RSA-OAEP-256", Bytes(255, 1)),
                     "255-byte ciphertext");
  ExpectBadParameter(Do("rsa", KeyOperation::kDecrypt, "RSA-OAEP-256", Bytes(257, 1)),
                     "257-byte ciphertext");
}

TEST_F(CryptoServiceTest, RsaSignatures) {
  const Bytes spki = Spki("rsa");
  for (int bits : {256, 384, 512}) {
    Bytes digest = Digest(Md(bits), "message for " + std::to_string(bits));
    for (bool pss : {false, true}) {
      std::string alg = (pss ? "PS" : "RS") + std::to_string(bits);
      auto signed_ = Do("rsa", KeyOperation::kSign, alg, digest);
      ASSERT_TRUE(signed_.ok()) << alg << ": " << signed_.status().ToString();
      Bytes signature = ToBytes(signed_->value);
      EXPECT_EQ(signature.size(), 256u) << alg;
      EXPECT_TRUE(OpensslRsaVerify(spki, Md(bits), pss, digest, signature)) << alg;
      auto verified = Verify("rsa", alg, digest, signature);
      ASSERT_TRUE(verified.ok()) << alg << ": " << verified.status().ToString();
      EXPECT_TRUE(*verified) << alg;

      Bytes tampered = signature;
      tampered[10] ^= 0x01;
      auto bad = Verify("rsa", alg, digest, tampered);
      ASSERT_TRUE(bad.ok()) << alg << ": " << bad.status().ToString();
      EXPECT_FALSE(*bad) << alg;
      Bytes other_digest = digest;
      other_digest[0] ^= 0x80;
      auto other = Verify("rsa", alg, other_digest, signature);
      ASSERT_TRUE(other.ok());
      EXPECT_FALSE(*other) << alg;
      auto truncated = Verify("rsa", alg, digest, Bytes(signature.begin(), signature.end() - 1));
      ASSERT_TRUE(truncated.ok()) << alg << ": " << truncated.status().ToString();
      EXPECT_FALSE(*truncated) << alg;
    }
  }
  // PKCS#1 v1.5 is deterministic; PSS is not.
  Bytes digest = Digest(EVP_sha256(), "determinism");
  auto a = Do("rsa", KeyOperation::kSign, "RS256", digest);
  auto b = Do("rsa", KeyOperation::kSign, "RS256", digest);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->value, b->value);
  auto c = Do("rsa", KeyOperation::kSign, "PS256", digest);
  auto d = Do("rsa", KeyOperation::kSign, "PS256", digest);
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_NE(c->value, d->value);
}

TEST_F(CryptoServiceTest, RsaNullSignsCallerBytes) {
  const Bytes spki = Spki("rsa");
  for (size_t size : {size_t{1}, size_t{20}, size_t{36}, size_t{245}}) {
    Bytes data(size, 0x42);
    auto signed_ = Do("rsa", KeyOperation::kSign, "RSNULL", data);
    ASSERT_TRUE(signed_.ok()) << size << ": " << signed_.status().ToString();
    Bytes signature = ToBytes(signed_->value);
    EXPECT_TRUE(OpensslRsaVerify(spki, nullptr, false, data, signature)) << size;
    auto verified = Verify("rsa", "RSNULL", data, signature);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(*verified);
    signature[0] ^= 0x01;
    auto bad = Verify("rsa", "RSNULL", data, signature);
    ASSERT_TRUE(bad.ok());
    EXPECT_FALSE(*bad);
  }
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "RSNULL", Bytes(246, 1)), "RSNULL 246");
}

TEST_F(CryptoServiceTest, RsaWrongDigestLengthIsBadParameter) {
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "RS256", Bytes(31, 1)), "RS256 31");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "RS256", Bytes(48, 1)), "RS256 48");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "PS384", Bytes(32, 1)), "PS384 32");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "RS512", Bytes(48, 1)), "RS512 48");
  ExpectBadParameter(Verify("rsa", "RS256", Bytes(20, 1), Bytes(256, 1)), "verify RS256 20");
}

// ---- EC

struct EcCase {
  std::string key;
  std::string alg;
  int digest_bits;
  size_t signature_size;
};

TEST_F(CryptoServiceTest, EcdsaOnEachCurve) {
  const std::vector<EcCase> cases = {{"ec-p256", "ES256", 256, 64},
                                     {"ec-p256k", "ES256K", 256, 64},
                                     {"ec-p384", "ES384", 384, 96},
                                     {"ec-p521", "ES512", 512, 132}};
  for (const auto& c : cases) {
    const Bytes spki = Spki(c.key);
    Bytes digest = Digest(Md(c.digest_bits), "ec message " + c.alg);
    auto signed_ = Do(c.key, KeyOperation::kSign, c.alg, digest);
    ASSERT_TRUE(signed_.ok()) << c.alg << ": " << signed_.status().ToString();
    Bytes signature = ToBytes(signed_->value);
    EXPECT_EQ(signature.size(), c.signature_size) << c.alg;
    EXPECT_TRUE(OpensslEcdsaVerify(spki, digest, signature)) << c.alg;
    auto verified = Verify(c.key, c.alg, digest, signature);
    ASSERT_TRUE(verified.ok()) << c.alg << ": " << verified.status().ToString();
    EXPECT_TRUE(*verified) << c.alg;

    Bytes tampered = signature;
    tampered.back() ^= 0x01;
    auto bad = Verify(c.key, c.alg, digest, tampered);
    ASSERT_TRUE(bad.ok()) << c.alg;
    EXPECT_FALSE(*bad) << c.alg;
    auto short_sig = Verify(c.key, c.alg, digest, Bytes(signature.begin(), signature.end() - 1));
    ASSERT_TRUE(short_sig.ok()) << c.alg;
    EXPECT_FALSE(*short_sig) << c.alg;

    ExpectBadParameter(Do(c.key, KeyOperation::kSign, c.alg, Bytes(digest.size() + 1, 1)),
                       c.alg + " long digest");
    ExpectBadParameter(Do(c.key, KeyOperation::kSign, c.alg, Bytes(digest.size() - 1, 1)),
                       c.alg + " short digest");
    ExpectBadParameter(Verify(c.key, c.alg, Bytes(digest.size() - 1, 1), signature),
                       c.alg + " verify short digest");
  }
}

TEST_F(CryptoServiceTest, EcdsaAlgorithmMustMatchCurve) {
  Bytes d32(32, 7), d48(48, 7), d64(64, 7);
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "ES384", d48), "ES384 on P-256");
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "ES256K", d32), "ES256K on P-256");
  ExpectBadParameter(Do("ec-p256k", KeyOperation::kSign, "ES256", d32), "ES256 on P-256K");
  ExpectBadParameter(Do("ec-p384", KeyOperation::kSign, "ES256", d32), "ES256 on P-384");
  ExpectBadParameter(Do("ec-p521", KeyOperation::kSign, "ES384", d48), "ES384 on P-521");
  ExpectBadParameter(Do("ec-p384", KeyOperation::kSign, "ES512", d64), "ES512 on P-384");
  ExpectBadParameter(Verify("ec-p256", "ES384", d48, Bytes(96, 1)), "verify ES384 on P-256");
}

// ---- oct: AES-GCM

TEST_F(CryptoServiceTest, AesGcmEncryptGeneratesIvAndEchoesAad) {
  for (auto [key, alg, k] :
       {std::tuple{"cbc128", "A128GCM", &kCbcKey128}, std::tuple{"cbc192", "A192GCM", &kCbcKey192},
        std::tuple{"cbc256", "A256GCM", &kCbcKey256}}) {
    const Bytes plaintext = Text("attack at dawn, or maybe at noon");
    const Bytes aad = FromHex("feedfacedeadbeef");
    auto sealed = Do(key, KeyOperation::kEncrypt, alg, plaintext, std::nullopt, aad);
    ASSERT_TRUE(sealed.ok()) << alg << ": " << sealed.status().ToString();
    ASSERT_TRUE(sealed->iv.has_value()) << alg;
    ASSERT_TRUE(sealed->tag.has_value()) << alg;
    EXPECT_EQ(sealed->iv->size(), 12u) << alg;
    EXPECT_EQ(sealed->tag->size(), 16u) << alg;
    EXPECT_EQ(sealed->aad, aad) << alg;
    EXPECT_EQ(sealed->value.size(), plaintext.size()) << alg;
    EXPECT_NE(ToBytes(sealed->value), plaintext) << alg;

    auto foreign = OpensslGcmDecrypt(*k, *sealed->iv, sealed->value, aad, *sealed->tag);
    ASSERT_TRUE(foreign.has_value()) << alg;
    EXPECT_EQ(*foreign, plaintext) << alg;

    auto opened = Do(key, KeyOperation::kDecrypt, alg, sealed->value, sealed->iv, aad, sealed->tag);
    ASSERT_TRUE(opened.ok()) << alg << ": " << opened.status().ToString();
    EXPECT_EQ(ToBytes(opened->value), plaintext) << alg;

    // A fresh iv each time.
    auto again = Do(key, KeyOperation::kEncrypt, alg, plaintext, std::nullopt, aad);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(again->iv, sealed->iv) << alg;
    EXPECT_NE(again->value, sealed->value) << alg;
  }
}

TEST_F(CryptoServiceTest, AesGcmWithoutAad) {
  const Bytes plaintext = FromHex("00010203");
  auto sealed = Do("cbc256", KeyOperation::kEncrypt, "A256GCM", plaintext);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_FALSE(sealed->aad.has_value());
  auto foreign = OpensslGcmDecrypt(kCbcKey256, *sealed->iv, sealed->value, {}, *sealed->tag);
  ASSERT_TRUE(foreign.has_value());
  EXPECT_EQ(*foreign, plaintext);
  auto opened = Do("cbc256", KeyOperation::kDecrypt, "A256GCM", sealed->value, sealed->iv,
                   std::nullopt, sealed->tag);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(opened->value), plaintext);
}

TEST_F(CryptoServiceTest, AesGcmTamperingIsTheNeutralError) {
  const Bytes plaintext = FromHex("0102030405060708090a");
  const Bytes aad = FromHex("aabb");
  auto sealed = Do("cbc128", KeyOperation::kEncrypt, "A128GCM", plaintext, std::nullopt, aad);
  ASSERT_TRUE(sealed.ok());
  const std::string neutral = "The ciphertext could not be decrypted.";

  Bytes tag = *sealed->tag;
  tag[0] ^= 0x01;
  auto bad_tag =
      Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, sealed->iv, aad, tag);
  ASSERT_FALSE(bad_tag.ok());
  EXPECT_EQ(bad_tag.status().kind(), ErrorKind::kBadRequest);
  EXPECT_EQ(bad_tag.status().code(), "BadParameter");
  EXPECT_EQ(bad_tag.status().message(), neutral);

  SecureBytes ct = sealed->value;
  ct[0] ^= 0x01;
  auto bad_ct = Do("cbc128", KeyOperation::kDecrypt, "A128GCM", ct, sealed->iv, aad, sealed->tag);
  ASSERT_FALSE(bad_ct.ok());
  EXPECT_EQ(bad_ct.status().message(), neutral);

  auto bad_aad = Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, sealed->iv,
                    FromHex("aabc"), sealed->tag);
  ASSERT_FALSE(bad_aad.ok());
  EXPECT_EQ(bad_aad.status().message(), neutral);

  Bytes iv = *sealed->iv;
  iv[11] ^= 0x01;
  auto bad_iv =
      Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, iv, aad, sealed->tag);
  ASSERT_FALSE(bad_iv.ok());
  EXPECT_EQ(bad_iv.status().message(), neutral);
}

TEST_F(CryptoServiceTest, AesGcmParameterRules) {
  const Bytes plaintext = FromHex("0102");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128GCM", plaintext, Bytes(12, 0)),
                     "iv on GCM encrypt");
  auto sealed = Do("cbc128", KeyOperation::kEncrypt, "A128GCM", plaintext);
  ASSERT_TRUE(sealed.ok());
  ExpectBadParameter(Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, sealed->iv),
                     "GCM decrypt without tag");
  ExpectBadParameter(Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, std::nullopt,
                        std::nullopt, sealed->tag),
                     "GCM decrypt without iv");
  ExpectBadParameter(Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, Bytes(16, 0),
                        std::nullopt, sealed->tag),
                     "GCM decrypt with 16-byte iv");
  ExpectBadParameter(Do("cbc128", KeyOperation::kDecrypt, "A128GCM", sealed->value, sealed->iv,
                        std::nullopt, Bytes(8, 0)),
                     "GCM decrypt with 8-byte tag");
}

// ---- oct: AES-CBC

TEST_F(CryptoServiceTest, AesCbcMatchesNistVectors) {
  struct Case {
    std::string key, alg, expected;
  };
  const std::vector<Case> cases = {
      {"cbc128", "A128CBC", "7649abac8119b246cee98e9b12e9197d"},
      {"cbc192", "A192CBC", "4f021db243bc633d7178183a9fa071e8"},
      {"cbc256", "A256CBC", "f58c4c04d6e5f1ba779eabfb5f7bfbd6"},
  };
  for (const auto& c : cases) {
    auto sealed = Do(c.key, KeyOperation::kEncrypt, c.alg, kCbcPlain, kCbcIv);
    ASSERT_TRUE(sealed.ok()) << c.alg << ": " << sealed.status().ToString();
    EXPECT_EQ(ToBytes(sealed->value), FromHex(c.expected)) << c.alg;
    EXPECT_EQ(sealed->iv, kCbcIv) << c.alg;
    EXPECT_FALSE(sealed->tag.has_value());
    auto opened = Do(c.key, KeyOperation::kDecrypt, c.alg, sealed->value, kCbcIv);
    ASSERT_TRUE(opened.ok()) << c.alg << ": " << opened.status().ToString();
    EXPECT_EQ(ToBytes(opened->value), kCbcPlain) << c.alg;

    // CBCPAD: the same first block, then a full padding block.
    std::string pad_alg = c.alg + "PAD";
    auto padded = Do(c.key, KeyOperation::kEncrypt, pad_alg, kCbcPlain, kCbcIv);
    ASSERT_TRUE(padded.ok()) << pad_alg << ": " << padded.status().ToString();
    ASSERT_EQ(padded->value.size(), 32u) << pad_alg;
    EXPECT_EQ(Bytes(padded->value.begin(), padded->value.begin() + 16), FromHex(c.expected));
    auto unpadded = Do(c.key, KeyOperation::kDecrypt, pad_alg, padded->value, kCbcIv);
    ASSERT_TRUE(unpadded.ok()) << pad_alg << ": " << unpadded.status().ToString();
    EXPECT_EQ(ToBytes(unpadded->value), kCbcPlain);

    // Any length with padding.
    const Bytes odd = FromHex("0102030405");
    auto odd_sealed = Do(c.key, KeyOperation::kEncrypt, pad_alg, odd, kCbcIv);
    ASSERT_TRUE(odd_sealed.ok());
    EXPECT_EQ(odd_sealed->value.size(), 16u);
    auto odd_opened = Do(c.key, KeyOperation::kDecrypt, pad_alg, odd_sealed->value, kCbcIv);
    ASSERT_TRUE(odd_opened.ok());
    EXPECT_EQ(ToBytes(odd_opened->value), odd);
    // Without padding, only whole blocks.
    ExpectBadParameter(Do(c.key, KeyOperation::kEncrypt, c.alg, odd, kCbcIv), c.alg + " 5 bytes");
  }
}

TEST_F(CryptoServiceTest, AesCbcNeedsSixteenByteIv) {
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128CBC", kCbcPlain, Bytes(8, 0)),
                     "CBC iv 8 bytes");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128CBCPAD", kCbcPlain, Bytes(8, 0)),
                     "CBCPAD iv 8 bytes");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128CBC", kCbcPlain), "CBC without iv");
  ExpectBadParameter(Do("cbc128", KeyOperation::kDecrypt, "A128CBC", kCbcPlain),
                     "CBC decrypt without iv");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128CBC", kCbcPlain, Bytes(12, 0)),
                     "CBC iv 12 bytes");
}

// ---- oct: key wrap

TEST_F(CryptoServiceTest, AesKeyWrapMatchesRfc3394) {
  struct Case {
    std::string key, alg, expected;
  };
  const std::vector<Case> cases = {
      {"kek128", "A128KW", "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"},
      {"kek192", "A192KW", "96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d"},
      {"kek256", "A256KW", "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"},
      {"kek128", "CKM_AES_KEY_WRAP", "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"},
      {"kek192", "CKM_AES_KEY_WRAP", "96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d"},
      {"kek256", "CKM_AES_KEY_WRAP", "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"},
  };
  for (const auto& c : cases) {
    auto wrapped = Do(c.key, KeyOperation::kWrapKey, c.alg, kKeyData);
    ASSERT_TRUE(wrapped.ok()) << c.key << " " << c.alg << ": " << wrapped.status().ToString();
    EXPECT_EQ(ToBytes(wrapped->value), FromHex(c.expected)) << c.key << " " << c.alg;
    auto unwrapped = Do(c.key, KeyOperation::kUnwrapKey, c.alg, wrapped->value);
    ASSERT_TRUE(unwrapped.ok()) << c.alg << ": " << unwrapped.status().ToString();
    EXPECT_EQ(ToBytes(unwrapped->value), kKeyData);

    SecureBytes tampered = wrapped->value;
    tampered[3] ^= 0x10;
    ExpectBadParameter(Do(c.key, KeyOperation::kUnwrapKey, c.alg, tampered),
                       c.alg + " tampered unwrap");
  }
  ExpectBadParameter(Do("kek128", KeyOperation::kWrapKey, "A128KW", Bytes(12, 1)),
                     "A128KW 12 bytes");
}

TEST_F(CryptoServiceTest, AesKeyWrapWithPaddingMatchesRfc5649) {
  struct Case {
    std::string data, expected;
  };
  const std::vector<Case> cases = {
      {"c37b7e6492584340bed12207808941155068f738",
       "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
      {"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
  };
  for (const auto& c : cases) {
    auto wrapped = Do("kwp192", KeyOperation::kWrapKey, "CKM_AES_KEY_WRAP_PAD", FromHex(c.data));
    ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    EXPECT_EQ(ToBytes(wrapped->value), FromHex(c.expected)) << c.data;
    auto unwrapped = Do("kwp192", KeyOperation::kUnwrapKey, "CKM_AES_KEY_WRAP_PAD", wrapped->value);
    ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
    EXPECT_EQ(ToBytes(unwrapped->value), FromHex(c.data));
  }
  // Any KEK size.
  for (const std::string key : {"kek128", "kek256"}) {
    const Bytes data = FromHex("0102030405");
    auto wrapped = Do(key, KeyOperation::kWrapKey, "CKM_AES_KEY_WRAP_PAD", data);
    ASSERT_TRUE(wrapped.ok()) << key << ": " << wrapped.status().ToString();
    auto unwrapped = Do(key, KeyOperation::kUnwrapKey, "CKM_AES_KEY_WRAP_PAD", wrapped->value);
    ASSERT_TRUE(unwrapped.ok());
    EXPECT_EQ(ToBytes(unwrapped->value), data);
  }
}

// ---- oct: HMAC

TEST_F(CryptoServiceTest, HmacOnImportedKeyMatchesOpenssl) {
  const Bytes data = Text("The quick brown fox");
  for (int bits : {256, 384, 512}) {
    std::string alg = "HS" + std::to_string(bits);
    for (auto [key, k] : {std::pair{"cbc128", &kCbcKey128}, std::pair{"cbc192", &kCbcKey192},
                          std::pair{"cbc256", &kCbcKey256}}) {
      auto mac = Do(key, KeyOperation::kSign, alg, data);
      ASSERT_TRUE(mac.ok()) << alg << " " << key << ": " << mac.status().ToString();
      EXPECT_EQ(ToBytes(mac->value), OpensslHmac(Md(bits), *k, data)) << alg << " " << key;
      auto verified = Verify(key, alg, data, ToBytes(mac->value));
      ASSERT_TRUE(verified.ok()) << verified.status().ToString();
      EXPECT_TRUE(*verified);
      Bytes tampered = ToBytes(mac->value);
      tampered[0] ^= 0x01;
      auto bad = Verify(key, alg, data, tampered);
      ASSERT_TRUE(bad.ok());
      EXPECT_FALSE(*bad);
      auto truncated = Verify(key, alg, data, Bytes(tampered.begin() + 1, tampered.end()));
      ASSERT_TRUE(truncated.ok());
      EXPECT_FALSE(*truncated);
    }
  }
}

TEST_F(CryptoServiceTest, HmacOnCreatedOctKeys) {
  for (int size : {128, 192, 256}) {
    std::string name = "hmac-" + std::to_string(size);
    CreateOct(name, size, {"sign", "verify"});
    const Bytes data = FromHex("00ff00ff");
    for (int bits : {256, 384, 512}) {
      std::string alg = "HS" + std::to_string(bits);
      auto mac = Do(name, KeyOperation::kSign, alg, data);
      ASSERT_TRUE(mac.ok()) << name << " " << alg << ": " << mac.status().ToString();
      EXPECT_EQ(mac->value.size(), static_cast<size_t>(bits / 8));
      auto verified = Verify(name, alg, data, ToBytes(mac->value));
      ASSERT_TRUE(verified.ok());
      EXPECT_TRUE(*verified);
      auto other_data = Verify(name, alg, FromHex("00ff00fe"), ToBytes(mac->value));
      ASSERT_TRUE(other_data.ok());
      EXPECT_FALSE(*other_data);
    }
  }
}

// ---- algorithm / key mismatches

TEST_F(CryptoServiceTest, InvalidAlgorithmCombinationsAreBadParameter) {
  const Bytes d32(32, 3), block(16, 3);
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "RS256", d32), "RS256 on EC");
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "PS256", d32), "PS256 on EC");
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "RSNULL", d32), "RSNULL on EC");
  ExpectBadParameter(Do("ec-p256", KeyOperation::kSign, "HS256", d32), "HS256 on EC");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "ES256", d32), "ES256 on RSA");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "HS256", d32), "HS256 on RSA");
  ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, "A128GCM", block), "A128GCM on RSA");
  ExpectBadParameter(Do("rsa", KeyOperation::kWrapKey, "A256KW", block), "A256KW on RSA");
  ExpectBadParameter(Do("cbc256", KeyOperation::kEncrypt, "RSA-OAEP", block), "RSA-OAEP on oct");
  ExpectBadParameter(Do("cbc256", KeyOperation::kWrapKey, "RSA1_5", block), "RSA1_5 wrap on oct");
  ExpectBadParameter(Do("cbc256", KeyOperation::kSign, "RS256", d32), "RS256 on oct");
  ExpectBadParameter(Do("cbc256", KeyOperation::kSign, "ES256", d32), "ES256 on oct");
  // Key size must match the algorithm's.
  ExpectBadParameter(Do("cbc256", KeyOperation::kEncrypt, "A128GCM", block), "A128GCM on 256");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A256GCM", block), "A256GCM on 128");
  ExpectBadParameter(Do("cbc192", KeyOperation::kEncrypt, "A128CBC", block, kCbcIv),
                     "A128CBC on 192");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A192CBCPAD", block, kCbcIv),
                     "A192CBCPAD on 128");
  ExpectBadParameter(Do("kek128", KeyOperation::kWrapKey, "A256KW", kKeyData), "A256KW on 128");
  ExpectBadParameter(Do("kek256", KeyOperation::kWrapKey, "A128KW", kKeyData), "A128KW on 256");
  // Algorithm not for this operation.
  ExpectBadParameter(Do("kek128", KeyOperation::kEncrypt, "A128KW", kKeyData), "KW for encrypt");
  ExpectBadParameter(Do("kek128", KeyOperation::kEncrypt, "CKM_AES_KEY_WRAP", kKeyData),
                     "CKM_AES_KEY_WRAP for encrypt");
  ExpectBadParameter(Do("kek128", KeyOperation::kDecrypt, "A128KW", Bytes(24, 1)),
                     "KW for decrypt");
  ExpectBadParameter(Do("cbc128", KeyOperation::kWrapKey, "A128GCM", block), "GCM for wrapKey");
  ExpectBadParameter(Do("cbc128", KeyOperation::kWrapKey, "A128CBC", block, kCbcIv),
                     "CBC for wrapKey");
  ExpectBadParameter(Do("cbc128", KeyOperation::kUnwrapKey, "A128GCM", block), "GCM unwrap");
  ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, "RS256", d32), "RS256 for encrypt");
  ExpectBadParameter(Do("rsa", KeyOperation::kSign, "RSA-OAEP", d32), "RSA-OAEP for sign");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "HS256", d32), "HS256 for encrypt");
  ExpectBadParameter(Do("cbc128", KeyOperation::kSign, "A128GCM", d32), "A128GCM for sign");
  ExpectBadParameter(Verify("rsa", "RSA-OAEP", d32, Bytes(256, 1)), "RSA-OAEP for verify");
  // Unknown names (the wire names are case-sensitive).
  ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, "RSA-OAEP-512", block), "RSA-OAEP-512");
  ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, "", block), "empty alg");
  ExpectBadParameter(Do("rsa", KeyOperation::kEncrypt, "rsa-oaep", block), "rsa-oaep");
  ExpectBadParameter(Do("cbc128", KeyOperation::kEncrypt, "A128CTR", block), "A128CTR");
  ExpectBadParameter(Verify("rsa", "NOPE", d32, Bytes(256, 1)), "verify unknown alg");
}

// ---- access rules

TEST_F(CryptoServiceTest, KeyOpsNotAllowedIsForbidden) {
  ASSERT_NO_FATAL_FAILURE(ImportOct("encrypt-only", kCbcKey128, {"encrypt"}));
  auto sealed = Do("encrypt-only", KeyOperation::kEncrypt, "A128GCM", FromHex("01"));
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto opened = Do("encrypt-only", KeyOperation::kDecrypt, "A128GCM", sealed->value, sealed->iv,
                   std::nullopt, sealed->tag);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().kind(), ErrorKind::kForbidden);
  EXPECT_EQ(opened.status().code(), "Forbidden");
  EXPECT_EQ(opened.status().inner_code(), "KeyOperationForbidden");
  EXPECT_EQ(opened.status().message(), "Operation decrypt is not permitted on this key.");

  struct Op {
    KeyOperation op;
    std::string name, alg;
  };
  for (const auto& op : {Op{KeyOperation::kWrapKey, "wrapKey", "A128KW"},
                         Op{KeyOperation::kUnwrapKey, "unwrapKey", "A128KW"},
                         Op{KeyOperation::kSign, "sign", "HS256"}}) {
    auto denied = Do("encrypt-only", op.op, op.alg, kKeyData);
    ASSERT_FALSE(denied.ok()) << op.name;
    EXPECT_EQ(denied.status().kind(), ErrorKind::kForbidden) << op.name;
    EXPECT_EQ(denied.status().inner_code(), "KeyOperationForbidden") << op.name;
    EXPECT_EQ(denied.status().message(), "Operation " + op.name + " is not permitted on this key.");
  }
  auto verify = Verify("encrypt-only", "HS256", FromHex("01"), Bytes(32, 0));
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.status().inner_code(), "KeyOperationForbidden");
  EXPECT_EQ(verify.status().message(), "Operation verify is not permitted on this key.");

  // EC keys allow only sign and verify by default.
  auto ec_encrypt = Do("ec-p256", KeyOperation::kEncrypt, "RSA-OAEP", FromHex("01"));
  ASSERT_FALSE(ec_encrypt.ok());
  EXPECT_EQ(ec_encrypt.status().kind(), ErrorKind::kForbidden);
  EXPECT_EQ(ec_encrypt.status().message(), "Operation encrypt is not permitted on this key.");
}

TEST_F(CryptoServiceTest, DisabledKeyRefusesEveryOperation) {
  AttributeChanges disabled;
  disabled.enabled = false;
  ASSERT_NO_FATAL_FAILURE(ImportOct("disabled", kKek128, kAllOps, disabled));
  struct Op {
    KeyOperation op;
    std::string name, alg;
  };
  for (const auto& op : {Op{KeyOperation::kEncrypt, "encrypt", "A128CBCPAD"},
                         Op{KeyOperation::kDecrypt, "decrypt", "A128CBCPAD"},
                         Op{KeyOperation::kWrapKey, "wrapKey", "A128KW"},
                         Op{KeyOperation::kUnwrapKey, "unwrapKey", "A128KW"},
                         Op{KeyOperation::kSign, "sign", "HS256"}}) {
    auto denied = Do("disabled", op.op, op.alg, Bytes(32, 1), kCbcIv);
    ASSERT_FALSE(denied.ok()) << op.name;
    EXPECT_EQ(denied.status().kind(), ErrorKind::kForbidden) << op.name;
    EXPECT_EQ(denied.status().code(), "Forbidden") << op.name;
    EXPECT_EQ(denied.status().inner_code(), "KeyDisabled") << op.name;
    EXPECT_EQ(denied.status().message(),
              "Operation " + op.name + " is not allowed on a disabled key.");
  }
  auto verify = Verify("disabled", "HS256", Bytes(4, 1), Bytes(32, 1));
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.status().kind(), ErrorKind::kForbidden);
  EXPECT_EQ(verify.status().inner_code(), "KeyDisabled");
  EXPECT_EQ(verify.status().message(), "Operation verify is not allowed on a disabled key.");
}

TEST_F(CryptoServiceTest, DisabledVersionDoesNotAffectOtherVersions) {
  KeyBundle first = CreateOct("disabled-version", 128);
  auto second = keys_->RotateKey(Vault(), "disabled-version");
  ASSERT_TRUE(second.ok());
  UpdateKeyRequest disable;
  disable.attributes.enabled = false;
  ASSERT_TRUE(keys_->UpdateKey(Vault(), "disabled-version", first.version, disable).ok());
  auto latest = Do("disabled-version", KeyOperation::kWrapKey, "A128KW", kKeyData);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, second->version);
  auto old = Do("disabled-version", KeyOperation::kWrapKey, "A128KW", kKeyData, std::nullopt,
                std::nullopt, std::nullopt, first.version);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().inner_code(), "KeyDisabled");
}

TEST_F(CryptoServiceTest, ExpiredKeyOnlyUndoes) {
  AttributeChanges window;
  window.expires = kNow + 100;
  ASSERT_NO_FATAL_FAILURE(ImportOct("expiring", kKek256, kAllOps, window));
  // Made while valid.
  auto sealed = Do("expiring", KeyOperation::kEncrypt, "A256GCM", FromHex("0102"));
  auto wrapped = Do("expiring", KeyOperation::kWrapKey, "A256KW", kKeyData);
  auto mac = Do("expiring", KeyOperation::kSign, "HS256", FromHex("0102"));
  clock_->Set(kNow + 99);
  ASSERT_TRUE(sealed.ok() && wrapped.ok() && mac.ok());
  EXPECT_TRUE(Do("expiring", KeyOperation::kSign, "HS256", FromHex("0102")).ok())
      << "one second before exp";

  clock_->Set(kNow + 100);  // exp itself is expired
  struct Op {
    KeyOperation op;
    std::string name, alg;
    std::optional<Bytes> iv;
  };
  for (const auto& op : {Op{KeyOperation::kEncrypt, "encrypt", "A256GCM", std::nullopt},
                         Op{KeyOperation::kWrapKey, "wrapKey", "A256KW", std::nullopt},
                         Op{KeyOperation::kSign, "sign", "HS256", std::nullopt}}) {
    auto denied = Do("expiring", op.op, op.alg, kKeyData, op.iv);
    ASSERT_FALSE(denied.ok()) << op.name;
    EXPECT_EQ(denied.status().kind(), ErrorKind::kForbidden) << op.name;
    EXPECT_EQ(denied.status().code(), "Forbidden") << op.name;
    EXPECT_EQ(denied.status().inner_code(), "KeyExpired") << op.name;
  }
  auto opened = Do("expiring", KeyOperation::kDecrypt, "A256GCM", sealed->value, sealed->iv,
                   std::nullopt, sealed->tag);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(opened->value), FromHex("0102"));
  auto unwrapped = Do("expiring", KeyOperation::kUnwrapKey, "A256KW", wrapped->value);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(ToBytes(unwrapped->value), kKeyData);
  auto verified = Verify("expiring", "HS256", FromHex("0102"), ToBytes(mac->value));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(*verified);
}

TEST_F(CryptoServiceTest, NotYetValidKeyOnlyUndoes) {
  AttributeChanges window;
  window.not_before = kNow + 100;
  ASSERT_NO_FATAL_FAILURE(ImportOct("future", kKek192, kAllOps, window));
  // Material made elsewhere with the same key bytes (kek192 holds the same key).
  auto wrapped = Do("kek192", KeyOperation::kWrapKey, "A192KW", kKeyData);
  auto mac = Do("kek192", KeyOperation::kSign, "HS384", FromHex("0a0b"));
  auto sealed = Do("kek192", KeyOperation::kEncrypt, "A192GCM", FromHex("0a0b"));
  ASSERT_TRUE(wrapped.ok() && mac.ok() && sealed.ok());

  clock_->Set(kNow + 99);
  struct Op {
    KeyOperation op;
    std::string name, alg;
  };
  for (const auto& op : {Op{KeyOperation::kEncrypt, "encrypt", "A192GCM"},
                         Op{KeyOperation::kWrapKey, "wrapKey", "A192KW"},
                         Op{KeyOperation::kSign, "sign", "HS384"}}) {
    auto denied = Do("future", op.op, op.alg, kKeyData);
    ASSERT_FALSE(denied.ok()) << op.name;
    EXPECT_EQ(denied.status().kind(), ErrorKind::kForbidden) << op.name;
    EXPECT_EQ(denied.status().inner_code(), "KeyNotYetValid") << op.name;
  }
  auto unwrapped = Do("future", KeyOperation::kUnwrapKey, "A192KW", wrapped->value);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(ToBytes(unwrapped->value), kKeyData);
  auto opened = Do("future", KeyOperation::kDecrypt, "A192GCM", sealed->value, sealed->iv,
                   std::nullopt, sealed->tag);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto verified = Verify("future", "HS384", FromHex("0a0b"), ToBytes(mac->value));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(*verified);

  clock_->Set(kNow + 100);  // nbf itself is valid
  EXPECT_TRUE(Do("future", KeyOperation::kSign, "HS384", FromHex("0a0b")).ok());
}

// ---- versions and lookups

TEST_F(CryptoServiceTest, VersionlessUsesLatestAndVersionsStaySeparate) {
  KeyBundle first = CreateOct("versioned", 256);
  auto by_first = Do("versioned", KeyOperation::kEncrypt, "A256GCM", FromHex("11"));
  ASSERT_TRUE(by_first.ok());
  EXPECT_EQ(by_first->version, first.version);
  auto second = keys_->RotateKey(Vault(), "versioned");
  ASSERT_TRUE(second.ok());

  auto latest = Do("versioned", KeyOperation::kEncrypt, "A256GCM", FromHex("22"));
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->name, "versioned");
  EXPECT_EQ(latest->version, second->version);
  auto explicit_first = Do("versioned", KeyOperation::kEncrypt, "A256GCM", FromHex("33"),
                           std::nullopt, std::nullopt, std::nullopt, first.version);
  ASSERT_TRUE(explicit_first.ok());
  EXPECT_EQ(explicit_first->version, first.version);

  // The first version's ciphertext opens with that version, not with the latest.
  auto opened = Do("versioned", KeyOperation::kDecrypt, "A256GCM", by_first->value, by_first->iv,
                   std::nullopt, by_first->tag, first.version);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(ToBytes(opened->value), FromHex("11"));
  EXPECT_EQ(opened->version, first.version);
  auto wrong = Do("versioned", KeyOperation::kDecrypt, "A256GCM", by_first->value, by_first->iv,
                  std::nullopt, by_first->tag);
  EXPECT_FALSE(wrong.ok());
  // Upper-case version ids name the same version.
  std::string upper = first.version;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto upper_opened = Do("versioned", KeyOperation::kDecrypt, "A256GCM", by_first->value,
                         by_first->iv, std::nullopt, by_first->tag, upper);
  ASSERT_TRUE(upper_opened.ok()) << upper_opened.status().ToString();
}

TEST_F(CryptoServiceTest, UnknownKeyOrVersionIsKeyNotFound) {
  auto missing = Do("no-such-key", KeyOperation::kEncrypt, "RSA-OAEP", FromHex("01"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.status().code(), "KeyNotFound");
  EXPECT_EQ(missing.status().message(), NotFoundText("no-such-key"));

  const std::string version = "0123456789abcdef0123456789abcdef";
  auto missing_version = Do("rsa", KeyOperation::kEncrypt, "RSA-OAEP", FromHex("01"), std::nullopt,
                            std::nullopt, std::nullopt, version);
  ASSERT_FALSE(missing_version.ok());
  EXPECT_EQ(missing_version.status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing_version.status().code(), "KeyNotFound");
  EXPECT_EQ(missing_version.status().message(), NotFoundText("rsa/" + version));

  auto malformed = Do("rsa", KeyOperation::kEncrypt, "RSA-OAEP", FromHex("01"), std::nullopt,
                      std::nullopt, std::nullopt, "not-a-version");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), "KeyNotFound");

  auto verify = Verify("no-such-key", "ES256", Bytes(32, 0), Bytes(64, 0));
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.status().code(), "KeyNotFound");

  // A version of another key is not a version of this one.
  auto other = keys_->GetKey(Vault(), "ec-p256", "");
  ASSERT_TRUE(other.ok());
  auto crossed = Do("rsa", KeyOperation::kEncrypt, "RSA-OAEP", FromHex("01"), std::nullopt,
                    std::nullopt, std::nullopt, other->version);
  ASSERT_FALSE(crossed.ok());
  EXPECT_EQ(crossed.status().code(), "KeyNotFound");
}

TEST_F(CryptoServiceTest, DeletedKeyIsKeyNotFound) {
  CreateOct("to-delete", 128);
  ASSERT_TRUE(Do("to-delete", KeyOperation::kWrapKey, "A128KW", kKeyData).ok());
  ASSERT_TRUE(keys_->DeleteKey(Vault(), "to-delete").ok());
  auto gone = Do("to-delete", KeyOperation::kWrapKey, "A128KW", kKeyData);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), "KeyNotFound");
}

TEST_F(CryptoServiceTest, RandomBytes) {
  for (int64_t count : {1, 2, 32, 128}) {
    auto bytes = CryptoService::RandomBytes(count);
    ASSERT_TRUE(bytes.ok()) << count;
    EXPECT_EQ(bytes->size(), static_cast<size_t>(count));
  }
  auto a = CryptoService::RandomBytes(32);
  auto b = CryptoService::RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  for (int64_t count : {int64_t{0}, int64_t{129}, int64_t{-1}, int64_t{1} << 40}) {
    auto bad = CryptoService::RandomBytes(count);
    ASSERT_FALSE(bad.ok()) << count;
    EXPECT_EQ(bad.status().kind(), ErrorKind::kBadRequest) << count;
    EXPECT_EQ(bad.status().code(), "BadParameter") << count;
    EXPECT_EQ(bad.status().message(),
              "GetRandomBytesRequest: count cannot be greater than 128 or less than 1");
  }
}

}  // namespace
}  // namespace coffre::service
