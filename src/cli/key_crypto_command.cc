// `coffre key encrypt|decrypt|sign|verify|random`: operations with a key, in az's shapes
// (binary values base64, IV/tag/AAD hex as az prints them).
#include <iostream>

#include "cli/cli.h"
#include "cli/key_target.h"
#include "coffre/keys/cryptography/cryptography_client.h"

namespace coffre::cli {
namespace {

namespace crypto = keys::cryptography;

struct CryptoOptions {
  KeyAddress address;
  std::string algorithm;
  std::string value;
  std::string data_type = "base64";
  std::string iv;
  std::string aad;
  std::string tag;
  std::string digest;
  std::string signature;
  int count = 0;
};

std::vector<uint8_t> Base64Option(const std::string& option, const std::string& value) {
  auto bytes = Base64Decode(value);
  if (!bytes) throw UsageError(option + " must be base64.");
  return std::move(*bytes);
}

std::vector<uint8_t> HexOption(const std::string& option, const std::string& value) {
  auto bytes = HexDecode(value);
  if (!bytes) throw UsageError(option + " must be hexadecimal.");
  return std::move(*bytes);
}

json::value Hex(const std::vector<uint8_t>& bytes) {
  return bytes.empty() ? json::value() : json::value(HexEncode(bytes));
}

// --value per --data-type: base64 (binary data) or plaintext (the text itself).
std::vector<uint8_t> DataValue(const CryptoOptions& o) {
  if (o.data_type == "plaintext") return std::vector<uint8_t>(o.value.begin(), o.value.end());
  auto bytes = Base64Decode(o.value);
  if (!bytes) {
    throw UsageError(
        "--value must be base64 (the default --data-type). To encrypt text as it is, add "
        "--data-type plaintext.");
  }
  return std::move(*bytes);
}

crypto::CryptographyClient MakeCryptoClient(const KeyTarget& key) {
  return MakeKeyClient(key).GetCryptographyClient(key.name, key.version);
}

// The parameter factories set the IV (CBC) and AAD (GCM); the generic constructor has neither.
crypto::EncryptParameters EncryptParameters(const std::string& algorithm,
                                            const std::vector<uint8_t>& plaintext,
                                            const std::vector<uint8_t>& iv,
                                            const std::vector<uint8_t>& aad) {
  using P = crypto::EncryptParameters;
  if (algorithm == "A128GCM") return P::A128GcmParameters(plaintext, aad);
  if (algorithm == "A192GCM") return P::A192GcmParameters(plaintext, aad);
  if (algorithm == "A256GCM") return P::A256GcmParameters(plaintext, aad);
  if (algorithm == "A128CBC") return P::A128CbcParameters(plaintext, iv);
  if (algorithm == "A192CBC") return P::A192CbcParameters(plaintext, iv);
  if (algorithm == "A256CBC") return P::A256CbcParameters(plaintext, iv);
  if (algorithm == "A128CBCPAD") return P::A128CbcPadParameters(plaintext, iv);
  if (algorithm == "A192CBCPAD") return P::A192CbcPadParameters(plaintext, iv);
  if (algorithm == "A256CBCPAD") return P::A256CbcPadParameters(plaintext, iv);
  P parameters(crypto::EncryptionAlgorithm(algorithm), plaintext);
  parameters.AdditionalAuthenticatedData = aad;
  return parameters;
}

crypto::DecryptParameters DecryptParameters(const std::string& algorithm,
                                            const std::vector<uint8_t>& ciphertext,
                                            const std::vector<uint8_t>& iv,
                                            const std::vector<uint8_t>& tag,
                                            const std::vector<uint8_t>& aad) {
  using P = crypto::DecryptParameters;
  if (algorithm == "A128GCM") return P::A128GcmParameters(ciphertext, iv, tag, aad);
  if (algorithm == "A192GCM") return P::A192GcmParameters(ciphertext, iv, tag, aad);
  if (algorithm == "A256GCM") return P::A256GcmParameters(ciphertext, iv, tag, aad);
  if (algorithm == "A128CBC") return P::A128CbcParameters(ciphertext, iv);
  if (algorithm == "A192CBC") return P::A192CbcParameters(ciphertext, iv);
  if (algorithm == "A256CBC") return P::A256CbcParameters(ciphertext, iv);
  if (algorithm == "A128CBCPAD") return P::A128CbcPadParameters(ciphertext, iv);
  if (algorithm == "A192CBCPAD") return P::A192CbcPadParameters(ciphertext, iv);
  if (algorithm == "A256CBCPAD") return P::A256CbcPadParameters(ciphertext, iv);
  P parameters(crypto::EncryptionAlgorithm(algorithm), ciphertext);
  parameters.AdditionalAuthenticatedData = aad;
  parameters.AuthenticationTag = tag;
  return parameters;
}

int Encrypt(const Cli& cli, const CryptoOptions& o) {
  KeyTarget key = ResolveKeyTarget(cli, o.address, true);
  std::vector<uint8_t> aad = HexOption("--aad", o.aad);
  auto result =
      MakeCryptoClient(key)
          .Encrypt(EncryptParameters(o.algorithm, DataValue(o), HexOption("--iv", o.iv), aad))
          .Value;
  if (result.AdditionalAuthenticatedData.empty()) result.AdditionalAuthenticatedData = aad;
  cli.Print(json::object{{"aad", Hex(result.AdditionalAuthenticatedData)},
                         {"algorithm", result.Algorithm.ToString()},
                         {"iv", Hex(result.Iv)},
                         {"kid", result.KeyId},
                         {"result", Base64Encode(result.Ciphertext)},
                         {"tag", Hex(result.AuthenticationTag)}});
  return 0;
}

int Decrypt(const Cli& cli, const CryptoOptions& o) {
  KeyTarget key = ResolveKeyTarget(cli, o.address, true);
  auto result = MakeCryptoClient(key)
                    .Decrypt(DecryptParameters(o.algorithm, Base64Option("--value", o.value),
                                               HexOption("--iv", o.iv), HexOption("--tag", o.tag),
                                               HexOption("--aad", o.aad)))
                    .Value;
  json::value plaintext =
      o.data_type == "plaintext"
          ? json::value(std::string(result.Plaintext.begin(), result.Plaintext.end()))
          : json::value(Base64Encode(result.Plaintext));
  cli.Print(json::object{
      {"algorithm", result.Algorithm.ToString()}, {"kid", result.KeyId}, {"result", plaintext}});
  return 0;
}

int Sign(const Cli& cli, const CryptoOptions& o) {
  KeyTarget key = ResolveKeyTarget(cli, o.address, true);
  auto result =
      MakeCryptoClient(key)
          .Sign(crypto::SignatureAlgorithm(o.algorithm), Base64Option("--digest", o.digest))
          .Value;
  cli.Print(json::object{{"algorithm", result.Algorithm.ToString()},
                         {"keyId", result.KeyId},
                         {"signature", Base64Encode(result.Signature)}});
  return 0;
}

int Verify(const Cli& cli, const CryptoOptions& o) {
  KeyTarget key = ResolveKeyTarget(cli, o.address, true);
  auto result =
      MakeCryptoClient(key)
          .Verify(crypto::SignatureAlgorithm(o.algorithm), Base64Option("--digest", o.digest),
                  Base64Option("--signature", o.signature))
          .Value;
  cli.Print(json::object{{"algorithm", result.Algorithm.ToString()},
                         {"isValid", result.IsValid},
                         {"keyId", result.KeyId}});
  // As a check in a script: an invalid signature is a failure, not only a field.
  if (!result.IsValid) {
    std::cerr << "The signature is not valid for this digest and key." << std::endl;
    return kExitFailure;
  }
  return 0;
}

int Random(const Cli& cli, const CryptoOptions& o) {
  KeyTarget key = ResolveKeyTarget(cli, o.address, false);
  keys::GetRandomBytesOptions options;
  options.Count = o.count;
  auto result = MakeKeyClient(key).GetRandomBytes(options).Value;
  cli.Print(json::object{{"value", Base64Encode(result.RandomBytes)}});
  return 0;
}

using Runner = int (*)(const Cli&, const CryptoOptions&);

std::pair<CLI::App*, std::shared_ptr<CryptoOptions>> AddCommand(CLI::App* key, Cli& cli,
                                                                const char* name, const char* help,
                                                                Runner run, bool with_key = true) {
  auto o = std::make_shared<CryptoOptions>();
  auto* cmd = key->add_subcommand(name, help);
  AddKeyAddressOptions(cmd, o->address, with_key, with_key);
  cli.OnRun(cmd, [&cli, o, run] { return run(cli, *o); });
  return {cmd, o};
}

}  // namespace

void AddKeyCryptoCommands(CLI::App* key, Cli& cli) {
  const char* data_type_help = "--value is base64 (binary data) or plaintext (text)";
  {
    auto [cmd, o] = AddCommand(key, cli, "encrypt", "Encrypt data with a key", Encrypt);
    cmd->add_option("-a,--algorithm", o->algorithm,
                    "RSA-OAEP, RSA-OAEP-256, RSA1_5, A128GCM, A256CBC, ...")
        ->required();
    cmd->add_option("--value", o->value, "Data to encrypt")->required();
    cmd->add_option("--data-type", o->data_type, data_type_help)
        ->check(CLI::IsMember({"base64", "plaintext"}))
        ->capture_default_str();
    cmd->add_option("--iv", o->iv, "Initialization vector, hex (AES-CBC)");
    cmd->add_option("--aad", o->aad, "Additional authenticated data, hex (AES-GCM)");
  }
  {
    auto [cmd, o] = AddCommand(key, cli, "decrypt", "Decrypt data with a key", Decrypt);
    cmd->add_option("-a,--algorithm", o->algorithm, "The algorithm it was encrypted with")
        ->required();
    cmd->add_option("--value", o->value, "Ciphertext, base64 (the \"result\" of encrypt)")
        ->required();
    cmd->add_option("--data-type", o->data_type, "Print the result as base64 or plaintext")
        ->check(CLI::IsMember({"base64", "plaintext"}))
        ->capture_default_str();
    cmd->add_option("--iv", o->iv, "Initialization vector, hex");
    cmd->add_option("--tag", o->tag, "Authentication tag, hex (AES-GCM)");
    cmd->add_option("--aad", o->aad, "Additional authenticated data, hex (AES-GCM)");
  }
  {
    auto [cmd, o] = AddCommand(key, cli, "sign", "Sign a digest with a key", Sign);
    cmd->add_option("-a,--algorithm", o->algorithm, "RS256, PS256, ES256, ES384, ...")->required();
    cmd->add_option("--digest", o->digest, "Digest of the data, base64 (SHA-256 for *256 ...)")
        ->required();
  }
  {
    auto [cmd, o] = AddCommand(key, cli, "verify", "Verify a signature with a key", Verify);
    cmd->add_option("-a,--algorithm", o->algorithm, "The signature algorithm")->required();
    cmd->add_option("--digest", o->digest, "Digest of the data, base64")->required();
    cmd->add_option("--signature", o->signature, "Signature, base64")->required();
  }
  {
    auto [cmd, o] = AddCommand(key, cli, "random", "Random bytes from the vault", Random, false);
    cmd->add_option("--count", o->count, "Number of bytes, 1-128")
        ->required()
        ->check(CLI::Range(1, 128));
  }
}

}  // namespace coffre::cli
