// `coffre dev time ...` and `coffre dev fault ...`: the test harness of a server started with
// --dev or --test-harness, through the admin API (/coffre-admin/v1/dev/...).
#include "cli/cli.h"
#include "cli/connection.h"
#include "common/utc_time.h"

namespace coffre::cli {
namespace {

struct FaultOptions {
  std::string operation;
  std::string vault;
  int status = 0;
  int retry_after = -1;
  int delay_ms = 0;
  bool close_connection = false;
  int count = 1;
  std::string id;
};

json::value Items(const json::value& list) {
  if (list.is_object()) {
    if (const json::value* value = list.get_object().if_contains("value")) return *value;
  }
  return json::array();
}

void AddTimeCommands(CLI::App* dev, Cli& cli) {
  auto* time = dev->add_subcommand(
      "time", "Move the clock the server's keys, secrets, purges and rotations follow");
  time->require_subcommand(1);
  {
    auto by = std::make_shared<std::string>();
    auto* cmd = time->add_subcommand(
        "advance", "Move the clock forward; due purges and rotations run before it returns");
    cmd->add_option("duration", *by, "How far: 30d, 12h, 1d12h, 90m, 2w")->required();
    cli.OnRun(cmd, [&cli, by] {
      AdminClient admin(ResolveTarget(cli.global));
      cli.Print(admin.Post("dev/clock/advance", json::object{{"by", *by}}));
      return 0;
    });
  }
  {
    auto to = std::make_shared<std::string>();
    auto* cmd = time->add_subcommand("set", "Set the clock to a time (UTC)");
    cmd->add_option("time", *to, "ISO 8601: 2027-01-01T00:00:00Z or 2027-01-01")->required();
    cli.OnRun(cmd, [&cli, to] {
      auto seconds = ParseUtcTime(*to);
      if (!seconds) throw UsageError("Not an ISO 8601 time: " + *to);
      AdminClient admin(ResolveTarget(cli.global));
      // Sent in UTC, whatever offset it was written with.
      std::string utc = FormatTime(*seconds);
      utc = utc.substr(0, 19) + "Z";
      cli.Print(admin.Post("dev/clock/set", json::object{{"to", utc}}));
      return 0;
    });
  }
  {
    auto* cmd = time->add_subcommand("reset", "Back to real time");
    cli.OnRun(cmd, [&cli] {
      AdminClient admin(ResolveTarget(cli.global));
      cli.Print(admin.Post("dev/clock/reset", json::object{}));
      return 0;
    });
  }
  {
    auto* cmd = time->add_subcommand("show", "Show the server's clock and its offset");
    cli.OnRun(cmd, [&cli] {
      AdminClient admin(ResolveTarget(cli.global));
      cli.Print(admin.Get("dev/clock"));
      return 0;
    });
  }
}

void AddFaultCommands(CLI::App* dev, Cli& cli) {
  auto* fault = dev->add_subcommand(
      "fault",
      "Make the next matching requests fail (status, Retry-After, delay, closed connection)");
  fault->require_subcommand(1);
  {
    auto o = std::make_shared<FaultOptions>();
    auto* cmd = fault->add_subcommand("add", "Add a fault for the next --count matching requests");
    cmd->add_option("--operation", o->operation,
                    "Operation as the audit log names it (sign, getKey, createKey, getSecret, "
                    "...; any case) or * for all")
        ->required();
    cmd->add_option("--vault", o->vault, "Only requests to this vault");
    cmd->add_option("--status", o->status, "Answer with this HTTP status (e.g. 429, 503)")
        ->check(CLI::Range(400, 599));
    cmd->add_option("--retry-after", o->retry_after,
                    "Retry-After header, in seconds (429 sends 1 unless given)")
        ->check(CLI::Range(0, 3600));
    cmd->add_option("--delay-ms", o->delay_ms, "Hold the answer back this long (up to 60000)")
        ->check(CLI::Range(0, 60000));
    cmd->add_flag("--close-connection", o->close_connection,
                  "Close the connection without answering");
    cmd->add_option("--count", o->count, "How many matching requests it applies to")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    cli.OnRun(cmd, [&cli, o] {
      json::object body{{"operation", o->operation}, {"count", o->count}};
      if (!o->vault.empty()) body["vault"] = o->vault;
      if (o->status != 0) body["status"] = o->status;
      if (o->retry_after >= 0) body["retryAfter"] = o->retry_after;
      if (o->delay_ms > 0) body["delayMs"] = o->delay_ms;
      if (o->close_connection) body["closeConnection"] = true;
      AdminClient admin(ResolveTarget(cli.global));
      cli.Print(admin.Post("dev/faults", body));
      return 0;
    });
  }
  {
    auto* cmd = fault->add_subcommand("list", "List the faults still to fire");
    cli.OnRun(cmd, [&cli] {
      AdminClient admin(ResolveTarget(cli.global));
      cli.Print(Items(admin.Get("dev/faults")));
      return 0;
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* cmd = fault->add_subcommand("clear", "Remove every fault (or the one with --id)");
    cmd->add_option("--id", *id, "Only this fault");
    cli.OnRun(cmd, [&cli, id] {
      AdminClient admin(ResolveTarget(cli.global));
      admin.Delete(id->empty() ? "dev/faults" : "dev/faults/" + PercentEncode(*id));
      return 0;
    });
  }
}

}  // namespace

void AddDevHarnessCommands(CLI::App* dev, Cli& cli) {
  AddTimeCommands(dev, cli);
  AddFaultCommands(dev, cli);
}

}  // namespace coffre::cli
