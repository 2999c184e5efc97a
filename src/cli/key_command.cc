// `coffre key ...`: keys in a vault, with the flags and output of `az keyvault key`.
// Lifecycle commands are here; encrypt/decrypt/sign/verify/random are in key_crypto_command.cc.
#include "cli/cli.h"
#include "cli/key_material.h"
#include "cli/key_output.h"
#include "cli/key_target.h"
#include "coffre/core/exception.h"

namespace coffre::cli {
namespace {

struct KeyOptions {
  KeyAddress address;
  std::string kty = "RSA";
  int64_t size = 0;
  std::string curve;
  std::vector<std::string> ops;
  std::vector<std::string> tags;
  std::string enabled;
  bool disabled = false;
  std::string expires;
  std::string not_before;
  std::string protection;
  std::string file;
  std::string pem_password;
  std::string value;
  int max_results = 0;
  CLI::App* command = nullptr;

  bool Given(const char* option) const { return command->count(option) > 0; }
};

std::vector<keys::KeyOperation> Operations(const std::vector<std::string>& ops) {
  std::vector<keys::KeyOperation> out;
  for (const auto& op : ops) out.emplace_back(op);
  return out;
}

Nullable<bool> EnabledOption(const KeyOptions& o) {
  return cli::EnabledOption(o.command, o.enabled, o.disabled);
}

void FillCreateOptions(keys::CreateKeyOptions& options, const KeyOptions& o) {
  options.KeyOperations = Operations(o.ops);
  options.Tags = TagsOption(o.tags);
  options.Enabled = EnabledOption(o);
  if (!o.expires.empty()) options.ExpiresOn = TimeOption("--expires", o.expires);
  if (!o.not_before.empty()) options.NotBefore = TimeOption("--not-before", o.not_before);
}

int Create(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  std::string kty = o.kty;
  bool hsm = o.protection == "hsm";
  if (kty.size() > 4 && AsciiLower(kty.substr(kty.size() - 4)) == "-hsm") {
    hsm = true;
    kty.resize(kty.size() - 4);
  }
  kty = AsciiLower(kty);
  if (kty != "ec" && !o.curve.empty()) throw UsageError("--curve is for EC keys (--kty EC).");
  if (kty == "ec" && o.size != 0) throw UsageError("--size is for RSA and oct keys.");
  keys::KeyClient client = MakeKeyClient(target);
  keys::KeyVaultKey key;
  if (kty == "rsa") {
    keys::CreateRsaKeyOptions options(target.name, hsm);
    FillCreateOptions(options, o);
    if (o.size != 0) options.KeySize = o.size;
    key = client.CreateRsaKey(options).Value;
  } else if (kty == "ec") {
    keys::CreateEcKeyOptions options(target.name, hsm);
    FillCreateOptions(options, o);
    if (!o.curve.empty()) options.CurveName = keys::KeyCurveName(o.curve);
    key = client.CreateEcKey(options).Value;
  } else if (kty == "oct") {
    keys::CreateOctKeyOptions options(target.name, hsm);
    FillCreateOptions(options, o);
    if (o.size != 0) options.KeySize = o.size;
    key = client.CreateOctKey(options).Value;
  } else {
    throw UsageError("--kty is RSA, RSA-HSM, EC, EC-HSM, oct or oct-HSM, not '" + o.kty + "'.");
  }
  cli.Print(KeyJson(key), KeyTableRow);
  return 0;
}

int Show(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  cli.Print(KeyJson(MakeKeyClient(target).GetKey(target.name, target.version).Value), KeyTableRow);
  return 0;
}

int List(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, false);
  cli.Print(CollectPages(MakeKeyClient(target).GetPropertiesOfKeys(), o.max_results, KeyItemJson),
            KeyItemTableRow);
  return 0;
}

int ListVersions(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  cli.Print(CollectPages(MakeKeyClient(target).GetPropertiesOfKeyVersions(target.name),
                         o.max_results, KeyItemJson),
            KeyItemTableRow);
  return 0;
}

int ListDeleted(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, false);
  cli.Print(CollectPages(MakeKeyClient(target).GetDeletedKeys(), o.max_results, DeletedKeyItemJson),
            DeletedKeyTableRow);
  return 0;
}

int ShowDeleted(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  cli.Print(DeletedKeyJson(MakeKeyClient(target).GetDeletedKey(target.name).Value),
            DeletedKeyTableRow);
  return 0;
}

int SetAttributes(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  keys::KeyProperties properties(target.name);
  properties.Version = target.version;
  properties.Enabled = EnabledOption(o);
  if (!o.expires.empty()) properties.ExpiresOn = TimeOption("--expires", o.expires);
  if (!o.not_before.empty()) properties.NotBefore = TimeOption("--not-before", o.not_before);
  properties.Tags = TagsOption(o.tags);
  Nullable<std::vector<keys::KeyOperation>> ops;
  if (o.Given("--ops")) ops = Operations(o.ops);
  cli.Print(KeyJson(MakeKeyClient(target).UpdateKeyProperties(properties, ops).Value), KeyTableRow);
  return 0;
}

int Delete(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  keys::DeleteKeyOperation operation = MakeKeyClient(target).StartDeleteKey(target.name);
  core::Context context = OperationDeadline();
  try {
    operation.PollUntilDone(kPollPeriod, context);
  } catch (const core::OperationCancelledException&) {
    // Still deleting: the DELETE answer already describes the deleted key.
  }
  cli.Print(DeletedKeyJson(operation.Value()), DeletedKeyTableRow);
  return 0;
}

int Recover(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  keys::RecoverDeletedKeyOperation operation =
      MakeKeyClient(target).StartRecoverDeletedKey(target.name);
  core::Context context = OperationDeadline();
  try {
    operation.PollUntilDone(kPollPeriod, context);
  } catch (const core::OperationCancelledException&) {
  }
  cli.Print(KeyJson(operation.Value()), KeyTableRow);
  return 0;
}

int Purge(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  MakeKeyClient(target).PurgeDeletedKey(target.name);
  return 0;
}

int Backup(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  std::vector<uint8_t> blob = MakeKeyClient(target).BackupKey(target.name).Value.BackupKey;
  WriteFileOrThrow(o.file, std::string(blob.begin(), blob.end()));
  return 0;
}

int Restore(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, false);
  std::string blob = ReadFileOrThrow(o.file);
  cli.Print(KeyJson(MakeKeyClient(target)
                        .RestoreKeyBackup(std::vector<uint8_t>(blob.begin(), blob.end()))
                        .Value),
            KeyTableRow);
  return 0;
}

int Import(const Cli& cli, const KeyOptions& o) {
  if (o.file.empty()) throw UsageError("Give the key file: --file FILE (JWK or PEM).");
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  keys::JsonWebKey material = LoadKeyMaterial(o.file, o.pem_password);
  if (o.Given("--ops")) material.SetKeyOperations(Operations(o.ops));
  keys::ImportKeyOptions options(target.name, std::move(material));
  if (!o.protection.empty()) options.HardwareProtected = o.protection == "hsm";
  options.Properties.Enabled = EnabledOption(o);
  if (!o.expires.empty()) options.Properties.ExpiresOn = TimeOption("--expires", o.expires);
  if (!o.not_before.empty()) {
    options.Properties.NotBefore = TimeOption("--not-before", o.not_before);
  }
  options.Properties.Tags = TagsOption(o.tags);
  cli.Print(KeyJson(MakeKeyClient(target).ImportKey(options).Value), KeyTableRow);
  return 0;
}

int Rotate(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  cli.Print(KeyJson(MakeKeyClient(target).RotateKey(target.name).Value), KeyTableRow);
  return 0;
}

int ShowRotationPolicy(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  cli.Print(RotationPolicyJson(MakeKeyClient(target).GetKeyRotationPolicy(target.name).Value),
            RotationPolicyTableRow);
  return 0;
}

// A field spelled either way: az accepts its own snake_case and the REST API's camelCase.
const json::value* Field(const json::object& o, const char* camel, const char* snake) {
  const json::value* v = o.if_contains(camel);
  if (v == nullptr || v->is_null()) v = o.if_contains(snake);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

Nullable<std::string> StringField(const json::object& o, const char* camel, const char* snake) {
  const json::value* v = Field(o, camel, snake);
  if (v == nullptr) return {};
  if (!v->is_string()) throw UsageError(std::string("\"") + camel + "\" must be a string.");
  return std::string(v->get_string());
}

// The policy in az's format (the REST body: {"lifetimeActions":[{"trigger":{...},"action":
// {"type":...}}],"attributes":{"expiryTime":...}}), or as `rotation-policy show` prints it.
keys::KeyRotationPolicy ParseRotationPolicy(const std::string& text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) throw UsageError("--value is not a JSON object (or file).");
  const json::object& o = parsed.get_object();
  keys::KeyRotationPolicy policy;
  if (const json::value* actions = Field(o, "lifetimeActions", "lifetime_actions")) {
    if (!actions->is_array()) throw UsageError("\"lifetimeActions\" must be a list.");
    for (const auto& item : actions->get_array()) {
      if (!item.is_object()) throw UsageError("Each lifetime action is an object.");
      const json::object& a = item.get_object();
      keys::LifetimeActionsType action;
      const json::object* trigger = &a;
      if (const json::value* t = a.if_contains("trigger"); t && t->is_object()) {
        trigger = &t->get_object();
      }
      action.Trigger.TimeAfterCreate =
          StringField(*trigger, "timeAfterCreate", "time_after_create");
      action.Trigger.TimeBeforeExpiry =
          StringField(*trigger, "timeBeforeExpiry", "time_before_expiry");
      const json::value* type = a.if_contains("action");
      if (type && type->is_object()) type = type->get_object().if_contains("type");
      if (type == nullptr || !type->is_string()) {
        throw UsageError("Each lifetime action needs an action type (Rotate or Notify).");
      }
      std::string name = AsciiLower(type->get_string());
      action.Action = name == "rotate" ? keys::LifetimeActionType::Rotate
                      : name == "notify"
                          ? keys::LifetimeActionType::Notify
                          : keys::LifetimeActionType(std::string(type->get_string()));
      policy.LifetimeActions.push_back(std::move(action));
    }
  }
  const json::object* attributes = &o;
  if (const json::value* a = o.if_contains("attributes"); a && a->is_object()) {
    attributes = &a->get_object();
  }
  policy.ExpiresIn = StringField(*attributes, "expiryTime", "expiry_time");
  if (!policy.ExpiresIn.HasValue())
    policy.ExpiresIn = StringField(*attributes, "expiresIn", "expires_in");
  return policy;
}

int UpdateRotationPolicy(const Cli& cli, const KeyOptions& o) {
  KeyTarget target = ResolveKeyTarget(cli, o.address, true);
  // Like az: --value is a file name or the JSON itself.
  std::string text = o.value;
  if (!text.empty() && text.front() != '{') {
    try {
      text = ReadFileOrThrow(o.value);
    } catch (const CliError& e) {
      throw UsageError(e.what());
    }
  }
  keys::KeyRotationPolicy policy = ParseRotationPolicy(text);
  cli.Print(
      RotationPolicyJson(MakeKeyClient(target).UpdateKeyRotationPolicy(target.name, policy).Value),
      RotationPolicyTableRow);
  return 0;
}

// ---- registration --------------------------------------------------------------------------

using Runner = int (*)(const Cli&, const KeyOptions&);

std::shared_ptr<KeyOptions> AddCommand(CLI::App* group, Cli& cli, const char* name,
                                       const char* help, Runner run, bool with_name = true,
                                       bool with_version = false) {
  auto o = std::make_shared<KeyOptions>();
  o->command = group->add_subcommand(name, help);
  AddKeyAddressOptions(o->command, o->address, with_name, with_version);
  cli.OnRun(o->command, [&cli, o, run] { return run(cli, *o); });
  return o;
}

void AddAttributeOptions(KeyOptions& o, bool create) {
  CLI::App* cmd = o.command;
  cmd->add_option("--ops", o.ops,
                  "Permitted operations: encrypt decrypt sign verify wrapKey unwrapKey import "
                  "export")
      ->expected(0, -1);
  cmd->add_option("--tags", o.tags, "Space-separated tags: KEY[=VALUE] ...")->expected(0, -1);
  cmd->add_option("--enabled", o.enabled, "true or false");
  if (create) cmd->add_flag("--disabled", o.disabled, "Create the key disabled");
  cmd->add_option("--expires", o.expires, "Expiry, ISO 8601 UTC (e.g. 2027-01-01T00:00:00Z)");
  cmd->add_option("--not-before", o.not_before, "Not usable before, ISO 8601 UTC");
}

void AddListOptions(KeyOptions& o) {
  o.command->add_option("--maxresults", o.max_results, "At most this many results")
      ->check(CLI::PositiveNumber);
}

}  // namespace

void AddKeyCommands(CLI::App& app, Cli& cli) {
  auto* key = app.add_subcommand("key", "Manage keys and use them (like az keyvault key)");
  key->require_subcommand(1);

  auto create = AddCommand(key, cli, "create", "Create a key (or a new version of one)", Create);
  create->command->add_option("--kty", create->kty, "RSA, RSA-HSM, EC, EC-HSM, oct or oct-HSM")
      ->capture_default_str();
  create->command->add_option("--size", create->size, "RSA: 2048, 3072, 4096; oct: 128, 192, 256");
  create->command->add_option("--curve", create->curve, "EC curve: P-256, P-256K, P-384, P-521");
  create->command
      ->add_option("--protection", create->protection, "software or hsm (default software)")
      ->check(CLI::IsMember({"software", "hsm"}));
  AddAttributeOptions(*create, true);

  AddCommand(key, cli, "show", "Show a key (public parts)", Show, true, true);
  AddListOptions(*AddCommand(key, cli, "list", "List keys", List, false));
  AddListOptions(
      *AddCommand(key, cli, "list-versions", "List the versions of a key", ListVersions));
  AddListOptions(
      *AddCommand(key, cli, "list-deleted", "List deleted (recoverable) keys", ListDeleted, false));
  AddCommand(key, cli, "show-deleted", "Show a deleted key", ShowDeleted);

  auto set = AddCommand(key, cli, "set-attributes", "Change a key version's attributes",
                        SetAttributes, true, true);
  AddAttributeOptions(*set, false);

  AddCommand(key, cli, "delete", "Delete a key (recoverable until purged)", Delete);
  AddCommand(key, cli, "recover", "Recover a deleted key", Recover);
  AddCommand(key, cli, "purge", "Purge a deleted key for good", Purge);

  auto backup = AddCommand(key, cli, "backup", "Back a key up into a file", Backup);
  backup->command->add_option("-f,--file", backup->file, "Backup file to write")->required();
  auto restore =
      AddCommand(key, cli, "restore", "Restore a key from a backup file", Restore, false);
  restore->command->add_option("-f,--file", restore->file, "Backup file to read")->required();

  auto import = AddCommand(key, cli, "import", "Import a private key (JWK or PEM file)", Import);
  auto* file = import->command->add_option("-f,--file", import->file,
                                           "JSON Web Key or PEM private key file");
  auto* pem_file = import->command->add_option("--pem-file", import->file, "PEM private key file");
  file->excludes(pem_file);
  import->command->add_option("--pem-password", import->pem_password,
                              "Password of an encrypted PEM file");
  import->command
      ->add_option("--protection", import->protection, "software or hsm (default software)")
      ->check(CLI::IsMember({"software", "hsm"}));
  AddAttributeOptions(*import, true);

  AddCommand(key, cli, "rotate", "Create a new version of a key now", Rotate);

  auto* rotation = key->add_subcommand("rotation-policy", "A key's automatic rotation");
  rotation->require_subcommand(1);
  AddCommand(rotation, cli, "show", "Show a key's rotation policy", ShowRotationPolicy);
  auto update =
      AddCommand(rotation, cli, "update", "Set a key's rotation policy", UpdateRotationPolicy);
  update->command
      ->add_option("--value", update->value,
                   "The policy: a JSON file or JSON text, as for az (lifetimeActions, "
                   "attributes.expiryTime)")
      ->required();

  AddKeyCryptoCommands(key, cli);
}

}  // namespace coffre::cli
