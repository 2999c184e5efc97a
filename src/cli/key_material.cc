#include "cli/key_material.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <memory>

#include "cli/cli.h"

namespace coffre::cli {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// Never prompts on the terminal (OpenSSL's default for an encrypted key without a password).
int PasswordCallback(char* buffer, int size, int /*rwflag*/, void* user) {
  const std::string* password = static_cast<const std::string*>(user);
  if (password == nullptr || password->empty() || password->size() > static_cast<size_t>(size)) {
    return 0;
  }
  std::memcpy(buffer, password->data(), password->size());
  return static_cast<int>(password->size());
}

// Big-endian bytes of a parameter, left-padded to `width` when given (EC coordinates).
std::vector<uint8_t> BnParam(const EVP_PKEY* pkey, const char* name, size_t width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    throw UsageError(std::string("The PEM key lacks its ") + name + " parameter.");
  }
  BnPtr bn(raw);
  size_t size = static_cast<size_t>(BN_num_bytes(bn.get()));
  std::vector<uint8_t> out(std::max(size, width));
  BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size()));
  return out;
}

keys::JsonWebKey FromPem(const std::string& pem, const std::string& password) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Failure("Out of memory.");
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, PasswordCallback, const_cast<std::string*>(&password)));
  if (!pkey) {
    throw UsageError(password.empty()
                         ? "The PEM file holds no readable private key (if it is encrypted, "
                           "give --pem-password)."
                         : "The PEM file holds no private key that this password opens.");
  }
  keys::JsonWebKey jwk;
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    jwk.KeyType = keys::KeyVaultKeyType::Rsa;
    jwk.N = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    jwk.E = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E);
    jwk.D = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_D);
    jwk.P = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_FACTOR1);
    jwk.Q = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_FACTOR2);
    jwk.DP = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1);
    jwk.DQ = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2);
    jwk.QI = BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    return jwk;
  }
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &length) != 1) {
      throw UsageError("The PEM EC key names no curve.");
    }
    const std::string curve(group, length);
    size_t width;
    if (curve == "prime256v1" || curve == "P-256" || curve == "secp256r1") {
      jwk.CurveName = keys::KeyCurveName::P256;
      width = 32;
    } else if (curve == "secp384r1" || curve == "P-384") {
      jwk.CurveName = keys::KeyCurveName::P384;
      width = 48;
    } else if (curve == "secp521r1" || curve == "P-521") {
      jwk.CurveName = keys::KeyCurveName::P521;
      width = 66;
    } else if (curve == "secp256k1") {
      jwk.CurveName = keys::KeyCurveName::P256K;
      width = 32;
    } else {
      throw UsageError("Unsupported curve " + curve +
                       ": Key Vault takes P-256, P-384, P-521 "
                       "and P-256K.");
    }
    jwk.KeyType = keys::KeyVaultKeyType::Ec;
    jwk.X = BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, width);
    jwk.Y = BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, width);
    jwk.D = BnParam(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, width);
    return jwk;
  }
  throw UsageError("Unsupported PEM key type: Key Vault imports RSA and EC keys.");
}

std::vector<uint8_t> JwkBytes(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw UsageError(std::string("JWK field \"") + name + "\" is not a string.");
  auto bytes = Base64Decode(v->get_string());
  if (!bytes) throw UsageError(std::string("JWK field \"") + name + "\" is not base64url.");
  return std::move(*bytes);
}

keys::JsonWebKey FromJwk(const std::string& text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    throw UsageError("The key file is neither a JSON Web Key nor a PEM private key.");
  }
  const json::object* o = &parsed.get_object();
  // Also take a whole key bundle ({"key": {...}}), as `az keyvault key show` prints it.
  if (const json::value* inner = o->if_contains("key"); inner && inner->is_object()) {
    o = &inner->get_object();
  }
  const json::value* kty = o->if_contains("kty");
  if (kty == nullptr || !kty->is_string()) throw UsageError("The JWK has no \"kty\".");
  keys::JsonWebKey jwk;
  jwk.KeyType = keys::KeyVaultKeyType(std::string(kty->get_string()));
  if (const json::value* crv = o->if_contains("crv"); crv && crv->is_string()) {
    jwk.CurveName = keys::KeyCurveName(std::string(crv->get_string()));
  }
  for (const char* ops_name : {"key_ops", "keyOps"}) {
    const json::value* ops = o->if_contains(ops_name);
    if (ops == nullptr || !ops->is_array()) continue;
    std::vector<keys::KeyOperation> operations;
    for (const auto& op : ops->get_array()) {
      if (op.is_string()) operations.emplace_back(std::string(op.get_string()));
    }
    jwk.SetKeyOperations(operations);
  }
  jwk.N = JwkBytes(*o, "n");
  jwk.E = JwkBytes(*o, "e");
  jwk.D = JwkBytes(*o, "d");
  jwk.DP = JwkBytes(*o, "dp");
  jwk.DQ = JwkBytes(*o, "dq");
  jwk.QI = JwkBytes(*o, "qi");
  jwk.P = JwkBytes(*o, "p");
  jwk.Q = JwkBytes(*o, "q");
  jwk.K = JwkBytes(*o, "k");
  jwk.X = JwkBytes(*o, "x");
  jwk.Y = JwkBytes(*o, "y");
  jwk.T = JwkBytes(*o, "key_hsm");
  if (jwk.T.empty()) jwk.T = JwkBytes(*o, "t");
  return jwk;
}

}  // namespace

keys::JsonWebKey LoadKeyMaterial(const std::string& path, const std::string& pem_password) {
  std::string text;
  try {
    text = ReadFileOrThrow(path);
  } catch (const CliError& e) {
    throw UsageError(e.what());
  }
  // The file holds a private key: leave no copy in freed memory, whatever happens.
  struct Wipe {
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{text};
  return text.find("-----BEGIN") != std::string::npos ? FromPem(text, pem_password) : FromJwk(text);
}

}  // namespace coffre::cli
