// `coffre secret ...`: secrets in a vault, with the flags and output of `az keyvault secret`.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "cli/cli.h"
#include "cli/secret_output.h"
#include "cli/vault_object.h"
#include "coffre/core/exception.h"
#include "coffre/secrets/secret_client.h"

namespace coffre::cli {
namespace {

struct SecretOptions {
  ObjectAddress address;
  std::string value;
  std::string file;
  std::string encoding;
  std::string content_type;
  std::vector<std::string> tags;
  std::string enabled;
  bool disabled = false;
  std::string expires;
  std::string not_before;
  bool include_managed = false;
  int max_results = 0;
  CLI::App* command = nullptr;

  bool Given(const char* option) const { return command->count(option) > 0; }
};

// The tag az puts on secrets set from a file, naming how the file was encoded; `download` reads
// it back when no --encoding is given.
constexpr const char* kFileEncodingTag = "file-encoding";

// Wipes a string holding a secret value when the scope ends.
struct WipeOnExit {
  std::string& text;
  ~WipeOnExit() { OPENSSL_cleanse(text.data(), text.size()); }
};

bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string CheckedEncoding(const std::string& encoding) {
  std::string e = AsciiLower(encoding);
  if (e == "utf8") e = "utf-8";
  if (e != "utf-8" && e != "ascii" && e != "base64" && e != "hex") {
    throw UsageError("--encoding is utf-8, ascii, base64 or hex, not '" + encoding + "'.");
  }
  return e;
}

// The secret value for a file's bytes under `encoding` (as az stores it).
std::string EncodeFileValue(const std::string& data, const std::string& encoding,
                            const std::string& path) {
  if (encoding == "base64") return Base64Encode(std::vector<uint8_t>(data.begin(), data.end()));
  if (encoding == "hex") return HexEncode(std::vector<uint8_t>(data.begin(), data.end()));
  bool ok = encoding == "ascii"
                ? std::all_of(data.begin(), data.end(),
                              [](char c) { return static_cast<unsigned char>(c) < 0x80; })
                : IsUtf8(data);
  if (!ok) {
    throw UsageError("Unable to decode file '" + path + "' with '" + encoding +
                     "' encoding; use --encoding base64 for binary files.");
  }
  return data;
}

// The file bytes for a secret value stored under `encoding`.
std::vector<uint8_t> DecodeFileValue(const std::string& value, const std::string& encoding) {
  if (encoding == "base64") {
    // az writes base64 with line breaks; any whitespace is ignored.
    std::string compact;
    for (char c : value) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
    }
    WipeOnExit wipe{compact};
    auto bytes = Base64Decode(compact);
    if (!bytes) throw Failure("The secret value is not base64; try another --encoding.");
    return std::move(*bytes);
  }
  if (encoding == "hex") {
    auto bytes = HexDecode(value);
    if (!bytes) throw Failure("The secret value is not hex; try another --encoding.");
    return std::move(*bytes);
  }
  return std::vector<uint8_t>(value.begin(), value.end());
}

// Creates `path` (which must not exist) readable by its owner only, and writes `data`.
void WritePrivateFile(const std::string& path, const std::vector<uint8_t>& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw Failure("File or directory named '" + path + "' already exists.");
    throw Failure("Cannot write " + path + ": " + std::strerror(errno));
  }
  bool ok = true;
  for (size_t done = 0; ok && done < data.size();) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  int saved_errno = errno;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    unlink(path.c_str());
    throw Failure("Cannot write " + path + ": " + std::strerror(saved_errno));
  }
}

secrets::SecretClient MakeSecretClient(const ObjectTarget& target) {
  secrets::SecretClientOptions options;
  options.Transport = target.target.transport;
  options.ApplicationId = "coffre-cli";
  return secrets::SecretClient(target.vault_url, MakeCredential(target.target), options);
}

ObjectTarget Resolve(const Cli& cli, const SecretOptions& o, bool need_name) {
  return ResolveObjectTarget(cli, o.address, kSecretObject, need_name);
}

void FillProperties(secrets::SecretProperties& p, const SecretOptions& o) {
  p.Enabled = EnabledOption(o.command, o.enabled, o.disabled);
  if (!o.expires.empty()) p.ExpiresOn = TimeOption("--expires", o.expires);
  if (!o.not_before.empty()) p.NotBefore = TimeOption("--not-before", o.not_before);
  if (o.Given("--content-type")) p.ContentType = o.content_type;
  p.Tags = TagsOption(o.tags);
}

int Set(const Cli& cli, SecretOptions& o) {
  const bool from_file = o.Given("--file");
  if (o.Given("--value") == from_file) {
    throw UsageError("Give the secret's value: either --value VALUE or --file FILE.");
  }
  if (o.Given("--encoding") && !from_file) throw UsageError("--encoding goes with --file.");
  ObjectTarget target = Resolve(cli, o, true);
  secrets::KeyVaultSecret secret(target.name, std::string());
  WipeOnExit wipe_value{secret.Value.Value()};
  FillProperties(secret.Properties, o);
  if (from_file) {
    const std::string encoding = CheckedEncoding(o.encoding.empty() ? "utf-8" : o.encoding);
    std::string data = ReadFileOrThrow(o.file);
    WipeOnExit wipe_data{data};
    secret.Value.Value() = EncodeFileValue(data, encoding, o.file);
    secret.Properties.Tags[kFileEncodingTag] = encoding;
  } else {
    // Moved, not copied: the one buffer is wiped on the way out.
    secret.Value.Value() = std::move(o.value);
  }
  secrets::KeyVaultSecret stored = MakeSecretClient(target).SetSecret(target.name, secret).Value;
  std::string none;
  WipeOnExit wipe_stored{stored.Value.HasValue() ? stored.Value.Value() : none};
  cli.Print(SecretJson(stored), SecretTableRow);
  return 0;
}

int Show(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  secrets::GetSecretOptions options;
  options.Version = target.version;
  secrets::KeyVaultSecret secret = MakeSecretClient(target).GetSecret(target.name, options).Value;
  std::string none;
  WipeOnExit wipe{secret.Value.HasValue() ? secret.Value.Value() : none};
  cli.Print(SecretJson(secret), SecretTableRow);
  return 0;
}

int Download(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  if (access(o.file.c_str(), F_OK) == 0) {
    // Checked before the request too, so nothing is fetched for nothing.
    throw Failure("File or directory named '" + o.file + "' already exists.");
  }
  secrets::GetSecretOptions options;
  options.Version = target.version;
  secrets::KeyVaultSecret secret = MakeSecretClient(target).GetSecret(target.name, options).Value;
  if (!secret.Value.HasValue()) throw Failure("The service sent no value for " + target.name + ".");
  WipeOnExit wipe{secret.Value.Value()};
  std::string encoding = o.encoding;
  if (encoding.empty()) {
    auto tag = secret.Properties.Tags.find(kFileEncodingTag);
    encoding = tag != secret.Properties.Tags.end() ? tag->second : "utf-8";
  }
  std::vector<uint8_t> bytes = DecodeFileValue(secret.Value.Value(), CheckedEncoding(encoding));
  struct WipeBytes {
    std::vector<uint8_t>& bytes;
    ~WipeBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe_bytes{bytes};
  WritePrivateFile(o.file, bytes);
  return 0;
}

int List(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, false);
  // Like az, secrets that back certificates are left out unless asked for.
  const bool include_managed = o.include_managed;
  cli.Print(
      CollectPages(MakeSecretClient(target).GetPropertiesOfSecrets(), o.max_results, SecretItemJson,
                   [include_managed](const secrets::SecretProperties& p) {
                     return include_managed || !p.Managed;
                   }),
      SecretItemTableRow);
  return 0;
}

int ListVersions(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  cli.Print(CollectPages(MakeSecretClient(target).GetPropertiesOfSecretsVersions(target.name),
                         o.max_results, SecretItemJson),
            SecretItemTableRow);
  return 0;
}

int ListDeleted(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, false);
  cli.Print(CollectPages(MakeSecretClient(target).GetDeletedSecrets(), o.max_results,
                         DeletedSecretItemJson),
            DeletedSecretTableRow);
  return 0;
}

int ShowDeleted(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  cli.Print(DeletedSecretJson(MakeSecretClient(target).GetDeletedSecret(target.name).Value),
            DeletedSecretTableRow);
  return 0;
}

int SetAttributes(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  secrets::SecretProperties properties(target.name);
  properties.Version = target.version;
  FillProperties(properties, o);
  cli.Print(SecretPropertiesJson(
                MakeSecretClient(target).UpdateSecretProperties(properties).Value.Properties),
            SecretTableRow);
  return 0;
}

int Delete(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  secrets::DeleteSecretOperation operation =
      MakeSecretClient(target).StartDeleteSecret(target.name);
  core::Context context = OperationDeadline();
  try {
    operation.PollUntilDone(kPollPeriod, context);
  } catch (const core::OperationCancelledException&) {
    // Still deleting: the DELETE answer already describes the deleted secret.
  }
  cli.Print(DeletedSecretJson(operation.Value()), DeletedSecretTableRow);
  return 0;
}

int Recover(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  secrets::RecoverDeletedSecretOperation operation =
      MakeSecretClient(target).StartRecoverDeletedSecret(target.name);
  core::Context context = OperationDeadline();
  try {
    operation.PollUntilDone(kPollPeriod, context);
  } catch (const core::OperationCancelledException&) {
  }
  cli.Print(SecretPropertiesJson(operation.Value()), SecretTableRow);
  return 0;
}

int Purge(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  MakeSecretClient(target).PurgeDeletedSecret(target.name);
  return 0;
}

int Backup(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, true);
  std::vector<uint8_t> blob = MakeSecretClient(target).BackupSecret(target.name).Value.Secret;
  WriteFileOrThrow(o.file, std::string(blob.begin(), blob.end()));
  return 0;
}

int Restore(const Cli& cli, const SecretOptions& o) {
  ObjectTarget target = Resolve(cli, o, false);
  std::string blob = ReadFileOrThrow(o.file);
  cli.Print(
      SecretPropertiesJson(MakeSecretClient(target)
                               .RestoreSecretBackup(std::vector<uint8_t>(blob.begin(), blob.end()))
                               .Value.Properties),
      SecretTableRow);
  return 0;
}

// ---- registration --------------------------------------------------------------------------

// Set takes its options mutable: it moves the typed value out, to wipe it after use.
using Runner = std::function<int(const Cli&, SecretOptions&)>;

std::shared_ptr<SecretOptions> AddCommand(CLI::App* group, Cli& cli, const char* name,
                                          const char* help, Runner run, bool with_name = true,
                                          bool with_version = false) {
  auto o = std::make_shared<SecretOptions>();
  o->command = group->add_subcommand(name, help);
  AddObjectAddressOptions(o->command, o->address, kSecretObject, with_name, with_version);
  cli.OnRun(o->command, [&cli, o, run] { return run(cli, *o); });
  return o;
}

void AddAttributeOptions(SecretOptions& o, bool set) {
  CLI::App* cmd = o.command;
  cmd->add_option("--content-type", o.content_type,
                  "Type of the value, e.g. text/plain or application/json");
  cmd->add_option("--tags", o.tags, "Space-separated tags: KEY[=VALUE] ...")->expected(0, -1);
  if (set) {
    cmd->add_flag("--disabled", o.disabled, "Create the secret version disabled");
  } else {
    cmd->add_option("--enabled", o.enabled, "true or false");
  }
  cmd->add_option("--expires", o.expires,
                  "Expiry, ISO 8601 UTC (e.g. 2027-01-01T00:00:00Z); informational");
  cmd->add_option("--not-before", o.not_before, "Not valid before, ISO 8601 UTC; informational");
}

void AddListOptions(SecretOptions& o) {
  o.command->add_option("--maxresults", o.max_results, "At most this many results")
      ->check(CLI::PositiveNumber);
}

}  // namespace

void AddSecretCommands(CLI::App& app, Cli& cli) {
  auto* secret = app.add_subcommand("secret", "Manage secrets (like az keyvault secret)");
  secret->require_subcommand(1);

  auto set = AddCommand(secret, cli, "set", "Set a secret (a new version of it)", Set);
  auto* value = set->command->add_option("--value", set->value, "The secret's value");
  auto* file = set->command->add_option("-f,--file", set->file, "Read the value from a file");
  value->excludes(file);
  set->command->add_option("-e,--encoding", set->encoding,
                           "How to store the file: utf-8 (default), ascii, base64 or hex");
  AddAttributeOptions(*set, true);

  AddCommand(secret, cli, "show", "Show a secret and its value", Show, true, true);
  auto download = AddCommand(secret, cli, "download", "Write a secret's value to a new file",
                             Download, true, true);
  download->command->add_option("-f,--file", download->file, "File to create")->required();
  download->command->add_option(
      "-e,--encoding", download->encoding,
      "How the value is stored: utf-8, ascii, base64 or hex (default: as set with --file)");

  auto list = AddCommand(secret, cli, "list", "List secrets (without values)", List, false);
  AddListOptions(*list);
  list->command->add_flag("--include-managed", list->include_managed,
                          "Include the secrets that back certificates");
  AddListOptions(
      *AddCommand(secret, cli, "list-versions", "List the versions of a secret", ListVersions));
  AddListOptions(*AddCommand(secret, cli, "list-deleted", "List deleted (recoverable) secrets",
                             ListDeleted, false));
  AddCommand(secret, cli, "show-deleted", "Show a deleted secret", ShowDeleted);

  auto attributes = AddCommand(secret, cli, "set-attributes",
                               "Change a secret version's attributes (never its value)",
                               SetAttributes, true, true);
  AddAttributeOptions(*attributes, false);

  AddCommand(secret, cli, "delete", "Delete a secret (recoverable until purged)", Delete);
  AddCommand(secret, cli, "recover", "Recover a deleted secret", Recover);
  AddCommand(secret, cli, "purge", "Purge a deleted secret for good", Purge);

  auto backup = AddCommand(secret, cli, "backup", "Back a secret up into a file", Backup);
  backup->command->add_option("-f,--file", backup->file, "Backup file to write")->required();
  auto restore =
      AddCommand(secret, cli, "restore", "Restore a secret from a backup file", Restore, false);
  restore->command->add_option("-f,--file", restore->file, "Backup file to read")->required();
}

}  // namespace coffre::cli
