#include "crypto/aead.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "crypto/random.h"

namespace coffre::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// One error for every way opening can fail, so a caller (or attacker) learns nothing about
// which check rejected the blob.
Status OpenError() { return Status::BadParameter("unable to open sealed data"); }

}  // namespace

Result<Bytes> SealAes256Gcm(ByteSpan key, ByteSpan plaintext, ByteSpan aad) {
  if (key.size() != kAes256KeySize) return Status::Internal("invalid AES-256 key size");
  // EVP lengths are int; sealed blobs are small, so a single call each is enough.
  if (plaintext.size() > INT_MAX - kGcmNonceSize - kGcmTagSize || aad.size() > INT_MAX) {
    return Status::BadParameter("data too large to seal");
  }
  Bytes out(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  uint8_t* nonce = out.data();
  uint8_t* ciphertext = nonce + kGcmNonceSize;
  uint8_t* tag = ciphertext + plaintext.size();
  FillRandom(nonce, kGcmNonceSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    return Status::Internal("AES-GCM initialization failed");
  }
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return Status::Internal("AES-GCM encryption failed");
  }
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), ciphertext, &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
        static_cast<size_t>(len) != plaintext.size()) {
      return Status::Internal("AES-GCM encryption failed");
    }
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext.size(), &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, tag) != 1) {
    return Status::Internal("AES-GCM encryption failed");
  }
  return out;
}

Result<SecureBytes> OpenAes256Gcm(ByteSpan key, ByteSpan sealed, ByteSpan aad) {
  if (key.size() != kAes256KeySize) return Status::Internal("invalid AES-256 key size");
  if (sealed.size() < kGcmNonceSize + kGcmTagSize || sealed.size() > INT_MAX ||
      aad.size() > INT_MAX) {
    return OpenError();
  }
  const size_t ct_size = sealed.size() - kGcmNonceSize - kGcmTagSize;
  const uint8_t* nonce = sealed.data();
  const uint8_t* ciphertext = nonce + kGcmNonceSize;
  // SET_TAG takes a non-const pointer; copy rather than cast away const.
  uint8_t tag[kGcmTagSize];
  std::copy(ciphertext + ct_size, ciphertext + ct_size + kGcmTagSize, tag);

  // The plaintext is only released when the tag checks out; the wiping buffer erases it
  // otherwise.
  SecureBytes out(ct_size);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    return OpenError();
  }
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return OpenError();
  }
  if (ct_size > 0 &&
      (EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext, static_cast<int>(ct_size)) != 1 ||
       static_cast<size_t>(len) != ct_size)) {
    return OpenError();
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + ct_size, &len) != 1) {
    return OpenError();
  }
  return out;
}

}  // namespace coffre::crypto
