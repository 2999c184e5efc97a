#include "app/store_check.h"

#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "app/data_dir.h"
#include "common/strings.h"
#include "crypto/asymmetric_key.h"
#include "service/key_model.h"

namespace coffre::app {
namespace {

// The report lists at most this many problems; the count covers them all.
constexpr size_t kMaxPrintedProblems = 1000;

std::string Describe(const store::StoredKeyVersion& item) {
  const store::KeyVersionRecord& r = item.record;
  return "key " + r.vault + "/" + r.name + " version " + r.version +
         (item.deleted ? " (soft-deleted)" : "");
}

// Checks one version's sealed private key; appends what is wrong. Returns false if it did not
// open at all.
bool CheckVersion(const store::StoredKeyVersion& item, const service::MaterialBarrier& material,
                  std::vector<std::string>* problems) {
  const store::KeyVersionRecord& r = item.record;
  auto opened = material.OpenKeyVersion(r);
  if (!opened.ok()) {
    // Damaged, copied from another row, or sealed with another master key: the barrier cannot
    // tell these apart, and neither can we.
    problems->push_back(Describe(item) + ": sealed private key does not open with this master key");
    return false;
  }
  auto kty = service::KeyTypeFromName(r.key_type);
  if (!kty) {
    problems->push_back(Describe(item) + ": unknown key type");
    return true;
  }
  if (service::IsRsa(*kty) || service::IsEc(*kty)) {
    auto key = crypto::AsymmetricKey::FromPrivateDer(*opened);
    if (!key.ok()) {
      problems->push_back(Describe(item) + ": private key does not parse");
      return true;
    }
    const bool family_ok = service::IsRsa(*kty) ? key->family() == crypto::KeyFamily::kRsa
                                                : key->family() == crypto::KeyFamily::kEc;
    if (!family_ok) {
      problems->push_back(Describe(item) + ": private key is not of type " + r.key_type);
    } else if (key->PublicDer() != r.public_key) {
      problems->push_back(Describe(item) + ": stored public key does not match the private key");
    }
  } else {
    const size_t size = opened->size();
    if (size != 16 && size != 24 && size != 32) {
      problems->push_back(Describe(item) + ": symmetric key has an invalid length");
    }
  }
  return true;
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

Result<StoreCheckReport> CheckStore(store::Store& store, const service::MaterialBarrier& material,
                                    int page_size) {
  StoreCheckReport report;
  COFFRE_ASSIGN_OR_RETURN(report.problems, store.maintenance().CheckConsistency());

  std::string cursor;
  std::string last_vault;
  std::string last_key;  // lowercase name of the last key counted
  while (true) {
    COFFRE_ASSIGN_OR_RETURN(auto page, store.maintenance().ScanKeyVersions(cursor, page_size));
    for (const store::StoredKeyVersion& item : page.items) {
      const std::string key = AsciiLower(item.record.name);
      if (report.versions == 0 || item.record.vault != last_vault || key != last_key) {
        ++report.keys;
        if (item.deleted) ++report.deleted_keys;
        last_vault = item.record.vault;
        last_key = key;
      }
      ++report.versions;
      if (!CheckVersion(item, material, &report.problems)) ++report.unopened;
    }
    if (page.next_cursor.empty()) break;
    if (page.next_cursor == cursor || page.items.empty()) {
      return Status::Internal("the key scan did not advance");
    }
    cursor = std::move(page.next_cursor);
  }
  cursor.clear();
  last_vault.clear();
  std::string last_secret;
  while (true) {
    COFFRE_ASSIGN_OR_RETURN(auto page, store.maintenance().ScanSecretVersions(cursor, page_size));
    for (const store::StoredSecretVersion& item : page.items) {
      const store::SecretVersionRecord& r = item.record;
      const std::string name = AsciiLower(r.name);
      if (report.secret_versions == 0 || r.vault != last_vault || name != last_secret) {
        ++report.secrets;
        last_vault = r.vault;
        last_secret = name;
      }
      ++report.secret_versions;
      auto opened = material.Open(service::SealBinding::SecretVersion(r.vault, r.name, r.version),
                                  r.sealed_value);
      if (!opened.ok()) {
        ++report.unopened_secrets;
        report.problems.push_back("secret " + r.vault + "/" + r.name + "/" + r.version +
                                  (item.deleted ? " (deleted)" : "") +
                                  ": sealed value does not open with this master key");
      }
    }
    if (page.next_cursor.empty()) break;
    if (page.next_cursor == cursor || page.items.empty()) {
      return Status::Internal("the secret scan did not advance");
    }
    cursor = std::move(page.next_cursor);
  }
  if (report.unopened > 0 && report.unopened == report.versions) {
    report.problems.push_back(
        "no sealed private key opens: is this the master key the store was written with?");
  }
  return report;
}

int StoreCheckCommand(const StoreCheckConfig& config, std::ostream& out, std::ostream& err) {
  const std::string data_dir = Absolute(config.data_dir);
  // Nothing is created here: a missing store or master key is an error, not a fresh start.
  std::string url = config.storage;
  std::string where;
  std::string_view storage(url);
  if (storage.starts_with("postgresql://") || storage.starts_with("postgres://")) {
    where = "PostgreSQL";  // never the URL: it may hold a password
  } else {
    if (storage.starts_with("sqlite:")) storage.remove_prefix(std::string_view("sqlite:").size());
    std::string path = storage.empty() ? JoinPath(data_dir, "coffre.db") : std::string(storage);
    if (storage.find("://") != std::string_view::npos) {
      err << "store check: unsupported store URL scheme" << std::endl;
      return 1;
    }
    if (!FileExists(path)) {
      err << "store check: no store at " << path << std::endl;
      return 1;
    }
    where = "SQLite " + path;
    url = path;
  }
  const std::string key_path =
      config.master_key_file.empty() ? JoinPath(data_dir, "master.key") : config.master_key_file;
  if (!FileExists(key_path)) {
    err << "store check: master key file " << key_path << " does not exist" << std::endl;
    return 1;
  }
  auto barrier = service::Barrier::LoadOrCreate(key_path);
  if (!barrier.ok()) {
    err << "store check: " << barrier.status().message() << std::endl;
    return 1;
  }
  const service::MaterialBarrier material(std::move(*barrier));

  out << "store: " << where << std::endl;
  auto opened = store::OpenStore(url);
  if (!opened.ok()) {
    err << "store check: cannot open the store: " << opened.status().message() << std::endl;
    return 1;
  }
  out << "schema: current" << std::endl;
  auto report = CheckStore(**opened, material);
  if (!report.ok()) {
    err << "store check: the check could not finish: " << report.status().message() << std::endl;
    return 1;
  }
  out << "keys: " << report->keys << " (" << report->deleted_keys
      << " soft-deleted), versions: " << report->versions
      << ", sealed keys that do not open: " << report->unopened << std::endl;
  out << "secrets: " << report->secrets << ", versions: " << report->secret_versions
      << ", sealed values that do not open: " << report->unopened_secrets << std::endl;
  for (size_t i = 0; i < report->problems.size() && i < kMaxPrintedProblems; ++i) {
    out << "PROBLEM: " << report->problems[i] << std::endl;
  }
  if (report->problems.size() > kMaxPrintedProblems) {
    out << "(" << report->problems.size() - kMaxPrintedProblems << " more problems not shown)"
        << std::endl;
  }
  if (!report->ok()) {
    out << "store check: DAMAGED, " << report->problems.size() << " problem"
        << (report->problems.size() == 1 ? "" : "s") << std::endl;
    return 1;
  }
  out << "store check: OK" << std::endl;
  return 0;
}

}  // namespace coffre::app
