#include "app/operations_probe.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "audit/audit_log.h"

namespace coffre::app {
namespace {

constexpr int kPageSize = 500;
constexpr const char* kReadinessSetting = "readyz.last-probe";

// Live objects of a vault, by paging through a `list` store call.
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
  // One gauge per object kind, each counted by paging through the kind's list.
  using Lister = std::function<Result<int64_t>(const std::string& vault)>;
  struct Kind {
    const char* family;
    const char* help;
    Lister count;
  };
  const Kind kinds[] = {
      {"coffre_vault_keys", "Keys (not deleted) in each vault.",
       [&](const std::string& vault) {
         return CountPages(
             [&](const std::string& cursor) { return store_.ListKeys(vault, cursor, kPageSize); });
       }},
      {"coffre_vault_secrets", "Secrets (not deleted) in each vault.",
       [&](const std::string& vault) {
         return CountPages([&](const std::string& cursor) {
           return store_.ListSecrets(vault, cursor, kPageSize);
         });
       }},
      {"coffre_vault_certificates", "Certificates (not deleted) in each vault.",
       [&](const std::string& vault) {
         return CountPages([&](const std::string& cursor) {
           return store_.ListCertificates(vault, cursor, kPageSize);
         });
       }},
  };
  for (const Kind& kind : kinds) {
    out.Family(kind.family, "gauge", kind.help);
    for (const store::VaultRecord& vault : *vaults) {
      auto count = kind.count(vault.name);
      if (count.ok()) {
        out.Sample(kind.family, {{"vault", vault.name}}, static_cast<double>(*count));
      }
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
