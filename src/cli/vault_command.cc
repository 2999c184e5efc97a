// `coffre vault create|list|show|update|delete|set-policy|delete-policy`, on the admin API.
#include "cli/cli.h"
#include "cli/connection.h"
#include "cli/principals.h"

namespace coffre::cli {
namespace {

struct VaultOptions {
  std::string name;
  int retention_days = 0;
  bool purge_protection = false;
  bool rbac = false;
  std::string rbac_value;  // update: true|false
};

struct PolicyOptions {
  std::string name;
  std::string object_id;
  std::string spn;
  std::string application_id;
  std::vector<std::string> key_permissions;
  std::vector<std::string> secret_permissions;
  std::vector<std::string> certificate_permissions;
};

std::string VaultPath(const std::string& name) { return "vaults/" + PercentEncode(name); }

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

int Create(const Cli& cli, const VaultOptions& o, const CLI::App* cmd) {
  AdminClient admin(ResolveTarget(cli.global));
  json::object body{{"name", o.name}};
  if (cmd->count("--retention-days") > 0) body["retentionDays"] = o.retention_days;
  if (o.purge_protection) body["enablePurgeProtection"] = true;
  if (o.rbac) body["enableRbacAuthorization"] = true;
  cli.Print(admin.Post("vaults", body));
  return 0;
}

int List(const Cli& cli) {
  AdminClient admin(ResolveTarget(cli.global));
  json::value result = admin.Get("vaults");
  cli.Print(result.is_object() && result.get_object().contains("value")
                ? result.get_object().at("value")
                : json::value(json::array()));
  return 0;
}

int Show(const Cli& cli, const VaultOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  json::value vault = admin.Get(VaultPath(o.name));
  // As az shows them: the vault with its access policies.
  if (vault.is_object()) {
    json::value policies = admin.Get(VaultPath(o.name) + "/accessPolicies");
    const json::value* list =
        policies.is_object() ? policies.get_object().if_contains("value") : nullptr;
    vault.get_object()["accessPolicies"] = list != nullptr ? *list : json::value(json::array());
  }
  cli.Print(vault);
  return 0;
}

int Update(const Cli& cli, const VaultOptions& o, const CLI::App* cmd) {
  json::object body;
  if (cmd->count("--retention-days") > 0) body["retentionDays"] = o.retention_days;
  if (o.purge_protection) body["enablePurgeProtection"] = true;
  if (cmd->count("--enable-rbac-authorization") > 0) {
    body["enableRbacAuthorization"] = ParseBoolOption("--enable-rbac-authorization", o.rbac_value);
  }
  if (body.empty()) {
    throw UsageError(
        "Nothing to update: give --retention-days, --enable-purge-protection or "
        "--enable-rbac-authorization.");
  }
  AdminClient admin(ResolveTarget(cli.global));
  cli.Print(admin.Patch(VaultPath(o.name), body));
  return 0;
}

int Delete(const Cli& cli, const VaultOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  admin.Delete(VaultPath(o.name));
  return 0;
}

// The access policy's object id: given, or that of the principal with client id --spn.
std::string PolicyObjectId(const AdminClient& admin, const PolicyOptions& o) {
  if (!o.object_id.empty() && !o.spn.empty()) {
    throw UsageError("Give either --object-id or --spn, not both.");
  }
  if (!o.object_id.empty()) return o.object_id;
  if (o.spn.empty()) throw UsageError("Name who the policy is for: --object-id ID or --spn APPID.");
  auto principal = FindPrincipal(admin, o.spn);
  if (!principal) {
    throw ServiceError("PrincipalNotFound",
                       "No principal has the client id or name '" + o.spn + "'.");
  }
  return principal->object_id;
}

std::string PolicyPath(const PolicyOptions& o, const std::string& object_id) {
  std::string path = VaultPath(o.name) + "/accessPolicies/" + PercentEncode(object_id);
  if (!o.application_id.empty()) path += "?applicationId=" + PercentEncode(o.application_id);
  return path;
}

int SetPolicy(const Cli& cli, const PolicyOptions& o, const CLI::App* cmd) {
  json::object permissions;
  // Like az: only the kinds named are replaced; an empty list (the option alone) clears one.
  if (cmd->count("--key-permissions") > 0) permissions["keys"] = Strings(o.key_permissions);
  if (cmd->count("--secret-permissions") > 0) {
    permissions["secrets"] = Strings(o.secret_permissions);
  }
  if (cmd->count("--certificate-permissions") > 0) {
    permissions["certificates"] = Strings(o.certificate_permissions);
  }
  if (permissions.empty()) {
    throw UsageError(
        "Give --key-permissions, --secret-permissions and/or --certificate-permissions.");
  }
  AdminClient admin(ResolveTarget(cli.global));
  std::string object_id = PolicyObjectId(admin, o);
  json::object body{{"permissions", std::move(permissions)}};
  if (!o.application_id.empty()) body["applicationId"] = o.application_id;
  cli.Print(admin.Put(PolicyPath(o, object_id), body));
  return 0;
}

int DeletePolicy(const Cli& cli, const PolicyOptions& o) {
  AdminClient admin(ResolveTarget(cli.global));
  admin.Delete(PolicyPath(o, PolicyObjectId(admin, o)));
  return 0;
}

void AddPolicyCommands(CLI::App* vault, Cli& cli) {
  for (bool set : {true, false}) {
    auto o = std::make_shared<PolicyOptions>();
    auto* cmd = vault->add_subcommand(
        set ? "set-policy" : "delete-policy",
        set ? "Grant permissions on a vault (access policy)" : "Remove an access policy");
    cmd->add_option("-n,--name", o->name, "Vault name")->required();
    auto* object_id = cmd->add_option("--object-id", o->object_id, "Object id of the principal");
    auto* spn = cmd->add_option("--spn", o->spn, "Client id (appId) or name of a principal");
    object_id->excludes(spn);
    cmd->add_option("--application-id", o->application_id,
                    "Application id, for a compound identity");
    if (set) {
      cmd->add_option("--key-permissions", o->key_permissions,
                      "get list create delete update import backup restore recover purge "
                      "encrypt decrypt sign verify wrapKey unwrapKey rotate getrotationpolicy "
                      "setrotationpolicy release, or all")
          ->expected(0, -1);
      cmd->add_option("--secret-permissions", o->secret_permissions,
                      "get list set delete backup restore recover purge, or all")
          ->expected(0, -1);
      cmd->add_option("--certificate-permissions", o->certificate_permissions,
                      "Certificate permissions")
          ->expected(0, -1);
      cli.OnRun(cmd, [&cli, o, cmd] { return SetPolicy(cli, *o, cmd); });
    } else {
      cli.OnRun(cmd, [&cli, o] { return DeletePolicy(cli, *o); });
    }
  }
}

}  // namespace

void AddVaultCommands(CLI::App& app, Cli& cli) {
  auto* vault = app.add_subcommand("vault", "Manage vaults and their access policies (admin API)");
  vault->require_subcommand(1);

  {
    auto o = std::make_shared<VaultOptions>();
    auto* cmd = vault->add_subcommand("create", "Create a vault (served as NAME.localhost)");
    cmd->add_option("-n,--name", o->name, "Vault name: 3-24 letters, digits and hyphens")
        ->required();
    cmd->add_option("--retention-days", o->retention_days,
                    "Days deleted keys stay recoverable (7-90, default 90)")
        ->check(CLI::Range(7, 90));
    cmd->add_flag("--enable-purge-protection", o->purge_protection,
                  "Deleted keys cannot be purged before the retention period ends");
    cmd->add_flag("--enable-rbac-authorization", o->rbac,
                  "Authorize with role assignments instead of access policies");
    cli.OnRun(cmd, [&cli, o, cmd] { return Create(cli, *o, cmd); });
  }
  {
    auto* cmd = vault->add_subcommand("list", "List vaults");
    cli.OnRun(cmd, [&cli] { return List(cli); });
  }
  for (const char* name : {"show", "delete"}) {
    auto o = std::make_shared<VaultOptions>();
    bool show = std::string(name) == "show";
    auto* cmd = vault->add_subcommand(
        name, show ? "Show a vault" : "Delete a vault (its keys must be deleted and purged first)");
    cmd->add_option("-n,--name", o->name, "Vault name")->required();
    if (show) {
      cli.OnRun(cmd, [&cli, o] { return Show(cli, *o); });
    } else {
      cli.OnRun(cmd, [&cli, o] { return Delete(cli, *o); });
    }
  }
  {
    auto o = std::make_shared<VaultOptions>();
    auto* cmd = vault->add_subcommand("update", "Change a vault's settings");
    cmd->add_option("-n,--name", o->name, "Vault name")->required();
    cmd->add_option("--retention-days", o->retention_days,
                    "Days deleted keys stay recoverable (can only grow, up to 90)")
        ->check(CLI::Range(7, 90));
    cmd->add_flag("--enable-purge-protection", o->purge_protection,
                  "Turn purge protection on (it cannot be turned off)");
    cmd->add_option("--enable-rbac-authorization", o->rbac_value,
                    "true: role assignments decide access; false: access policies do");
    cli.OnRun(cmd, [&cli, o, cmd] { return Update(cli, *o, cmd); });
  }
  AddPolicyCommands(vault, cli);
}

}  // namespace coffre::cli
