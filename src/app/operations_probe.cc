#include "app/operations_probe.h"

#include <algorithm>
#include <string>
#include <vector>

#include "audit/audit_log.h"

namespace coffre::app {
namespace {

constexpr int kPageSize = 500;
constexpr const char* kReadinessSetting = "readyz.last-probe";

// Live objects of a vault, by paging through `list` (ListKeys or ListSecrets).
template <typename List>
Result<int64_t> CountPages(List list) {
  int64_t count = 0;
  std::string cursor;
  do {
    auto page = list(cursor);
    if (!page.ok()) return page.status();
    count += static_cast<int64_t>(page->items.size());
    cursor = std::move(page->next_cursor);
  } while (!cursor.empty() && count < ServerOperationsProbe::kMaxCounted);
  return std::min(count, ServerOperationsProbe::kMaxCounted);
}

}  // namespace

void ServerOperationsProbe::AppendMetrics(metrics::ExpositionWriter& out) {
  auto vaults = store_.ListVaults();
  out.Family("coffre_store_up", "gauge", "1 if the store answered this scrape's reads, else 0.");
  out.Sample("coffre_store_up", {}, vaults.ok() ? 1 : 0);
  if (!vaults.ok()) return;
  struct Counts {
    std::string vault;
    int64_t keys = -1;
    int64_t secrets = -1;
  };
  std::vector<Counts> counts;
  for (const store::VaultRecord& vault : *vaults) {
    Counts c{vault.name};
    auto keys = CountPages(
        [&](const std::string& cursor) { return store_.ListKeys(vault.name, cursor, kPageSize); });
    if (keys.ok()) c.keys = *keys;
    auto secrets = CountPages([&](const std::string& cursor) {
      return store_.ListSecrets(vault.name, cursor, kPageSize);
    });
    if (secrets.ok()) c.secrets = *secrets;
    counts.push_back(std::move(c));
  }
  out.Family("coffre_vault_keys", "gauge", "Keys (not deleted) in each vault.");
  for (const Counts& c : counts) {
    if (c.keys >= 0)
      out.Sample("coffre_vault_keys", {{"vault", c.vault}}, static_cast<double>(c.keys));
  }
  out.Family("coffre_vault_secrets", "gauge", "Secrets (not deleted) in each vault.");
  for (const Counts& c : counts) {
    if (c.secrets >= 0) {
      out.Sample("coffre_vault_secrets", {{"vault", c.vault}}, static_cast<double>(c.secrets));
    }
  }
}

Status ServerOperationsProbe::Ready() {
  if (Status wrote = store_.PutSetting(kReadinessSetting, std::to_string(clock_.NowSeconds()));
      !wrote.ok()) {
    return Status::Unavailable("The store does not accept writes.");
  }
  if (audit_log_ != nullptr && !audit_log_->Health().ok()) {
    return Status::Unavailable("The audit log cannot be written.");
  }
  return Status::Ok();
}

}  // namespace coffre::app
