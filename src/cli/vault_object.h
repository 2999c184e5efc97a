// What the `coffre key ...` and `coffre secret ...` commands share: which vault and object a
// command addresses (--id, or --vault-name with --vault-domain or the server's host), the
// attribute options (times, tags, enabled), list collection and the wait for delete/recover.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/cli.h"
#include "cli/connection.h"
#include "coffre/core/context.h"
#include "coffre/core/datetime.h"
#include "coffre/core/nullable.h"

namespace coffre::cli {

// A kind of vault object: its name in messages and its URL collections.
struct ObjectKind {
  const char* noun;        // "key"
  const char* collection;  // "keys"
  const char* deleted;     // "deletedkeys"
};
inline constexpr ObjectKind kKeyObject{"key", "keys", "deletedkeys"};
inline constexpr ObjectKind kSecretObject{"secret", "secrets", "deletedsecrets"};

struct ObjectAddress {
  std::string vault_name;
  std::string id;
  std::string vault_domain;
  std::string name;
  std::string version;
};

// Adds --vault-name, --id, --vault-domain and, when asked, -n/--name and --version.
void AddObjectAddressOptions(CLI::App* command, ObjectAddress& address, const ObjectKind& kind,
                             bool with_name, bool with_version);

struct ObjectTarget {
  Target target;
  std::string vault_url;  // https://HOST[:PORT]
  std::string name;       // empty for vault-wide commands
  std::string version;
};

// Usage errors (exit 2) when the vault cannot be told or a needed name is missing.
ObjectTarget ResolveObjectTarget(const Cli& cli, const ObjectAddress& address,
                                 const ObjectKind& kind, bool need_name);

// --expires / --not-before: ISO 8601, else a usage error naming `option`.
DateTime TimeOption(const std::string& option, const std::string& value);
// az's --tags: space-separated KEY[=VALUE].
std::unordered_map<std::string, std::string> TagsOption(const std::vector<std::string>& tags);
// --enabled VALUE and --disabled together: set, unset or a usage error when both are given.
Nullable<bool> EnabledOption(CLI::App* command, const std::string& enabled, bool disabled);

// Soft delete and recovery finish in the background on Azure; the CLI waits (as az does), but
// not forever.
inline constexpr std::chrono::milliseconds kPollPeriod{250};
core::Context OperationDeadline();

// Every page, up to `max_results` items (0: all) that `keep` accepts.
template <class Page, class ToJson, class Keep>
json::array CollectPages(Page page, int max_results, ToJson to_json, Keep keep) {
  json::array out;
  for (; page.HasPage(); page.MoveToNextPage()) {
    for (const auto& item : page.Items) {
      if (!keep(item)) continue;
      if (max_results > 0 && out.size() >= static_cast<size_t>(max_results)) return out;
      out.push_back(to_json(item));
    }
  }
  return out;
}
template <class Page, class ToJson>
json::array CollectPages(Page page, int max_results, ToJson to_json) {
  return CollectPages(std::move(page), max_results, to_json, [](const auto&) { return true; });
}

// ---- output helpers (az's spellings) -------------------------------------------------------

// "+00:00" times; null when unset (or the epoch for plain DateTimes).
json::value TimeJson(const Nullable<DateTime>& time);
json::value TimeJson(const DateTime& time);
// null for an empty string.
json::value StringJson(const std::string& text);
template <class T>
json::value OptionalJson(const Nullable<T>& value) {
  return value.HasValue() ? json::value(value.Value()) : json::value();
}
// null for no tags.
json::value TagsJson(const std::unordered_map<std::string, std::string>& tags);
// The value at a path of object fields; null when absent.
json::value JsonAt(const json::object& o, std::initializer_list<const char*> names);
const json::value* JsonPath(const json::object& o, std::initializer_list<const char*> names);
// Name and version from an object id: https://HOST/COLLECTION/NAME[/VERSION].
std::pair<std::string, std::string> NameAndVersion(const json::value& id);

}  // namespace coffre::cli
