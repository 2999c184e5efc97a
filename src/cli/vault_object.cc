#include "cli/vault_object.h"

#include <optional>
#include <vector>

#include "cli/server_probe.h"
#include "common/utc_time.h"

namespace coffre::cli {
namespace {

struct ParsedId {
  ServerUrl vault;
  std::string name;
  std::string version;
};

// A vault URL (https://HOST[:PORT][/]) or an object id (…/COLLECTION/NAME[/VERSION],
// …/DELETED-COLLECTION/NAME).
std::optional<ParsedId> ParseObjectId(const std::string& id, const ObjectKind& kind) {
  const size_t authority = id.find("://");
  if (authority == std::string::npos) return std::nullopt;
  const size_t slash = id.find('/', authority + 3);
  auto vault = ParseServerUrl(id.substr(0, slash));
  if (!vault) return std::nullopt;
  ParsedId parsed{*vault, "", ""};
  if (slash == std::string::npos) return parsed;
  std::vector<std::string> segments;
  std::string path = id.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) return parsed;
  if (path.find_first_of("?#") != std::string::npos) return std::nullopt;
  for (size_t start = 0;;) {
    size_t end = path.find('/', start);
    segments.push_back(path.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::string collection = AsciiLower(segments[0]);
  if (segments.size() < 2 || segments.size() > 3 || segments[1].empty() ||
      (collection != kind.collection && collection != kind.deleted) ||
      (collection == kind.deleted && segments.size() == 3)) {
    return std::nullopt;
  }
  parsed.name = segments[1];
  if (segments.size() == 3) parsed.version = segments[2];
  return parsed;
}

std::string Capitalised(const char* noun) {
  std::string text(noun);
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(text[0]));
  return text;
}

}  // namespace

void AddObjectAddressOptions(CLI::App* command, ObjectAddress& address, const ObjectKind& kind,
                             bool with_name, bool with_version) {
  const std::string noun = kind.noun;
  auto* vault =
      command->add_option("--vault-name", address.vault_name,
                          "Vault name (default $KEY_VAULT_NAME); its URL is https://NAME.DOMAIN");
  auto* id = command->add_option(
      "--id", address.id,
      with_name ? Capitalised(kind.noun) + " id (https://VAULT-HOST/" + kind.collection +
                      "/NAME[/VERSION]) instead of --vault-name and --name"
                : std::string("Vault URL (https://VAULT-HOST) instead of --vault-name"));
  vault->excludes(id);
  command->add_option("--vault-domain", address.vault_domain,
                      "Domain of --vault-name, e.g. vault.azure.net (default: HOST:PORT of "
                      "COFFRE_SERVER, i.e. NAME.localhost:PORT)");
  if (with_name) command->add_option("-n,--name", address.name, Capitalised(kind.noun) + " name");
  if (with_version) {
    command->add_option("-v,--version", address.version,
                        Capitalised(kind.noun) + " version (default: the latest)");
  }
}

ObjectTarget ResolveObjectTarget(const Cli& cli, const ObjectAddress& address,
                                 const ObjectKind& kind, bool need_name) {
  ObjectTarget object;
  object.target = ResolveTarget(cli.global);
  object.name = address.name;
  object.version = address.version;
  if (!address.id.empty()) {
    auto parsed = ParseObjectId(address.id, kind);
    if (!parsed) {
      throw UsageError(std::string("--id must be a vault URL (https://HOST) or a ") + kind.noun +
                       " id (https://HOST/" + kind.collection + "/NAME[/VERSION]), not '" +
                       address.id + "'.");
    }
    if (!parsed->name.empty()) {
      if (!object.name.empty() && object.name != parsed->name) {
        throw UsageError("--name " + object.name + " contradicts --id " + address.id + ".");
      }
      object.name = parsed->name;
      if (object.version.empty()) object.version = parsed->version;
    }
    object.vault_url = parsed->vault.Origin();
  } else if (std::string vault_name =
                 !address.vault_name.empty() ? address.vault_name : GetEnv("KEY_VAULT_NAME");
             !vault_name.empty()) {
    std::string domain = address.vault_domain;
    while (!domain.empty() && (domain.front() == '.' || domain.back() == '/')) {
      domain.erase(domain.front() == '.' ? 0 : domain.size() - 1, 1);
    }
    if (domain.empty() && object.target.server) {
      const ServerUrl& server = *object.target.server;
      // Vaults are NAME.localhost[:PORT] on a Coffre server reached by address.
      domain = server.IsIpLiteral()
                   ? (server.port.empty() ? "localhost" : "localhost:" + server.port)
                   : server.HostPort();
    }
    if (domain.empty()) {
      throw UsageError("Cannot tell the URL of vault " + vault_name +
                       ": set COFFRE_SERVER (dev.env does), pass --vault-domain (e.g. "
                       "vault.azure.net) or give --id https://VAULT-HOST instead.");
    }
    auto url = ParseServerUrl("https://" + AsciiLower(vault_name) + "." + domain);
    if (!url) throw UsageError("Not a usable vault name or domain: " + vault_name);
    object.vault_url = url->Origin();
  } else {
    throw UsageError("Name the vault: --vault-name NAME (or $KEY_VAULT_NAME) or --id URL.");
  }
  if (auto url = ParseServerUrl(object.vault_url)) RequireLocalServerListening(*url);
  if (need_name && object.name.empty()) {
    std::string id_name = kind.noun;
    for (char& c : id_name) c = static_cast<char>(std::toupper(c));
    throw UsageError(std::string("Name the ") + kind.noun + ": --name NAME or --id " + id_name +
                     "-ID.");
  }
  return object;
}

DateTime TimeOption(const std::string& option, const std::string& value) {
  auto seconds = ParseUtcTime(value);
  if (!seconds) {
    throw UsageError(option + " takes an ISO 8601 time such as 2027-01-01T00:00:00Z, not '" +
                     value + "'.");
  }
  return DateTime::FromUnixSeconds(*seconds);
}

std::unordered_map<std::string, std::string> TagsOption(const std::vector<std::string>& tags) {
  std::unordered_map<std::string, std::string> out;
  for (const auto& tag : tags) {
    if (tag.empty()) continue;
    size_t eq = tag.find('=');
    std::string name = tag.substr(0, eq);
    if (name.empty()) throw UsageError("--tags takes KEY=VALUE pairs, not '" + tag + "'.");
    out[name] = eq == std::string::npos ? "" : tag.substr(eq + 1);
  }
  return out;
}

Nullable<bool> EnabledOption(CLI::App* command, const std::string& enabled, bool disabled) {
  // Some commands have only --disabled (create, set).
  const CLI::Option* option = command->get_option_no_throw("--enabled");
  const bool enabled_given = option != nullptr && option->count() > 0;
  if (disabled && enabled_given) throw UsageError("Give either --enabled or --disabled, not both.");
  if (disabled) return false;
  if (enabled_given) return ParseBoolOption("--enabled", enabled);
  return {};
}

core::Context OperationDeadline() {
  return core::Context().WithDeadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

json::value TimeJson(const Nullable<DateTime>& time) {
  return time.HasValue() ? json::value(FormatTime(time.Value().ToUnixSeconds())) : json::value();
}

json::value TimeJson(const DateTime& time) {
  int64_t seconds = time.ToUnixSeconds();
  return seconds != 0 ? json::value(FormatTime(seconds)) : json::value();
}

json::value StringJson(const std::string& text) {
  return text.empty() ? json::value() : json::value(text);
}

json::value TagsJson(const std::unordered_map<std::string, std::string>& tags) {
  if (tags.empty()) return json::value();
  json::object out;
  for (const auto& [name, value] : tags) out[name] = value;
  return out;
}

const json::value* JsonPath(const json::object& o, std::initializer_list<const char*> names) {
  const json::object* current = &o;
  const json::value* found = nullptr;
  for (const char* name : names) {
    if (current == nullptr) return nullptr;
    found = current->if_contains(name);
    if (found == nullptr) return nullptr;
    current = found->is_object() ? &found->get_object() : nullptr;
  }
  return found;
}

json::value JsonAt(const json::object& o, std::initializer_list<const char*> names) {
  const json::value* v = JsonPath(o, names);
  return v != nullptr ? *v : json::value();
}

std::pair<std::string, std::string> NameAndVersion(const json::value& id_value) {
  if (!id_value.is_string()) return {};
  std::string id(id_value.get_string());
  size_t scheme = id.find("://");
  size_t path = id.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return {};
  std::vector<std::string> segments;
  for (size_t start = path + 1;;) {
    size_t end = id.find('/', start);
    segments.push_back(id.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (segments.size() < 2) return {};
  return {segments[1], segments.size() > 2 ? segments[2] : ""};
}

}  // namespace coffre::cli
