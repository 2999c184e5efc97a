// PostgreSQL-only tests of the PostgreSQL Store: several store instances on one database (as
// several server replicas would be), migrations under concurrent start-up, reconnection, row
// locks, timeouts and secrecy of the connection password. The contract of store.h is tested
// against every backend in the conformance suite.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "postgres_fixture.h"
#include "store/store.h"
#include "store_test_support.h"

namespace coffre::store {
namespace {

using storetest::MakeVersion;
using storetest::RaceRounds;
using storetest::VersionId;

// Bump with every migration.
constexpr int kSchemaVersion = 8;  // 7: (certificates), 8: users, ARM

// A raw libpq session, for holding locks and transactions open beside the store.
class RawSession {
 public:
  explicit RawSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Runs SQL; returns the first value of the first row ("" if none), or "ERROR: ..." on failure.
  std::string Run(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    std::string out;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      out = "ERROR: " + std::string(PQerrorMessage(conn_));
    } else if (status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0) {
      out = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
    return out;
  }

 private:
  PGconn* conn_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = pgtest::PostgresServer::Get();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    // A fresh schema is as good as a fresh database for the store, and far cheaper.
    auto url = own_database_ ? server_->CreateDatabase() : server_->CreateSchema();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
  }

  std::unique_ptr<Store> Open(const std::string& url) {
    auto opened = OpenPostgresStore(url);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  std::unique_ptr<Store> Open() { return Open(url_); }

  void PutVault(Store& store, const std::string& name) {
    VaultRecord v;
    v.name = name;
    v.created = 1;
    ASSERT_TRUE(store.PutVault(v).ok());
  }

  int64_t RawInt(const std::string& sql) {
    auto value = pgtest::PgQueryInt(url_, sql);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : -1;
  }
  std::string RawText(const std::string& sql) {
    auto value = pgtest::PgQueryText(url_, sql);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : "";
  }

  bool own_database_ = false;
  pgtest::PostgresServer* server_ = nullptr;
  std::string url_;
};

// Tests of the schema and its migrations, and tests that set their own URL options, get a
// database of their own.
class PostgresDatabaseTest : public PostgresStoreTest {
 protected:
  PostgresDatabaseTest() { own_database_ = true; }
};

TEST_F(PostgresStoreTest, TwoReplicasAddVersionsConcurrentlyWithoutLossOrDuplicates) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  PutVault(*a, "v");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<Store*> stores = {a.get(), b.get()};
  std::vector<std::vector<std::pair<int64_t, std::string>>> added(kThreads);
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        // The key does not exist yet: the first adds also race to create it.
        KeyVersionRecord r = MakeVersion("v", "Shared", VersionId(t * 1000 + i));
        Status s = stores[static_cast<size_t>(t) % 2]->AddKeyVersion(r);
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          failures++;
          continue;
        }
        added[static_cast<size_t>(t)].emplace_back(r.sequence, r.version);
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  // Distinct, contiguous sequences; each thread saw its own increase.
  std::map<int64_t, std::string> by_sequence;
  for (const auto& mine : added) {
    for (size_t i = 1; i < mine.size(); ++i) EXPECT_LT(mine[i - 1].first, mine[i].first);
    for (const auto& [sequence, version] : mine) {
      EXPECT_TRUE(by_sequence.emplace(sequence, version).second) << "duplicate " << sequence;
    }
  }
  ASSERT_EQ(by_sequence.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(by_sequence.begin()->first, 1);
  EXPECT_EQ(by_sequence.rbegin()->first, kThreads * kPerThread);

  // Both replicas list exactly what was added, in sequence order.
  for (Store* store : stores) {
    auto page = store->ListKeyVersions("v", "shared", "", 1000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->items.size(), by_sequence.size());
    for (size_t i = 0; i < page->items.size(); ++i) {
      EXPECT_EQ(page->items[i].sequence, static_cast<int64_t>(i + 1));
      EXPECT_EQ(page->items[i].version, by_sequence[page->items[i].sequence]);
    }
  }
  EXPECT_EQ(RawInt("SELECT next_sequence FROM keys WHERE name_key = 'shared'"),
            kThreads * kPerThread + 1);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM keys"), 1);
}

TEST_F(PostgresStoreTest, ExpectedLatestRacesAcrossFourInstancesHaveOneWinner) {
  std::vector<std::unique_ptr<Store>> owned;
  std::vector<Store*> stores;
  for (int i = 0; i < 4; ++i) {
    owned.push_back(Open());
    ASSERT_TRUE(owned.back());
    stores.push_back(owned.back().get());
  }
  PutVault(*stores[0], "v");
  KeyVersionRecord first = MakeVersion("v", "k", VersionId(1));
  ASSERT_TRUE(stores[0]->AddKeyVersion(first).ok());
  RaceRounds(stores, 8, 10);
  auto versions = stores[3]->ListKeyVersions("v", "k", "", 100);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 11u);
}

TEST_F(PostgresStoreTest, GetOrPutSettingRaceAgreesOnOneValue) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::vector<Store*> stores = {a.get(), b.get()};
  constexpr int kThreads = 8;
  for (int round = 0; round < 10; ++round) {
    const std::string key = "setting-" + std::to_string(round);
    std::vector<std::string> got(kThreads);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready++;
        while (!go.load()) std::this_thread::yield();
        auto value =
            stores[static_cast<size_t>(t) % 2]->GetOrPutSetting(key, "value-" + std::to_string(t));
        got[static_cast<size_t>(t)] = value.ok() ? *value : "ERROR " + value.status().ToString();
      });
    }
    while (ready.load() < kThreads) std::this_thread::yield();
    go = true;
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 1u) << got[0];
    EXPECT_EQ(got[0].rfind("value-", 0), 0u) << got[0];
    auto again = a->GetOrPutSetting(key, "late");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, got[0]);
  }
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM settings"), 10);
}

TEST_F(PostgresStoreTest, PrincipalRaceAcrossInstancesHasOneWinner) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::vector<Store*> stores = {a.get(), b.get()};
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::atomic<int> name_taken{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      PrincipalRecord p{"Builder", "aaaaaaaa-0000-0000-0000-00000000000" + std::to_string(t),
                        "bbbbbbbb-0000-0000-0000-000000000001", "h", 1};
      Status s = stores[static_cast<size_t>(t) % 2]->AddPrincipal(p);
      if (s.ok()) {
        ok++;
      } else if (s.kind() == ErrorKind::kConflict && s.inner_code() == "name-taken") {
        name_taken++;
      } else {
        ADD_FAILURE() << s.ToString() << " inner " << s.inner_code();
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(name_taken.load(), kThreads - 1);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM principals"), 1);
}

TEST_F(PostgresStoreTest, JobLeaseHasOneHolderAcrossReplicasAndMovesOnAfterExpiry) {
  constexpr int kReplicas = 4;
  constexpr int64_t kTtl = 30;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kReplicas; ++i) {
    stores.push_back(Open());
    ASSERT_TRUE(stores.back());
  }
  // Every replica's scheduler ticks every 10 s of simulated time, all at once.
  auto tick = [&](int64_t now, const std::vector<bool>& alive) {
    std::vector<int> winners;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int r = 0; r < kReplicas; ++r) {
      if (!alive[static_cast<size_t>(r)]) continue;
      threads.emplace_back([&, r] {
        auto taken = stores[static_cast<size_t>(r)]->maintenance().TryAcquireJobLease(
            "scheduled-purge", "replica-" + std::to_string(r), now, kTtl);
        EXPECT_TRUE(taken.ok()) << taken.status().ToString();
        if (taken.ok() && *taken) {
          std::lock_guard<std::mutex> lock(mu);
          winners.push_back(r);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    return winners;
  };
  std::vector<bool> alive(kReplicas, true);
  auto first = tick(1000, alive);
  ASSERT_EQ(first.size(), 1u);
  const int holder = first[0];
  for (int64_t now = 1010; now <= 1100; now += 10) {
    auto winners = tick(now, alive);
    ASSERT_EQ(winners.size(), 1u) << now;
    EXPECT_EQ(winners[0], holder) << now;  // the holder renews; nobody else runs the job
  }
  // The holder stops (crashes) after renewing at 1100: its lease runs until 1130.
  alive[static_cast<size_t>(holder)] = false;
  for (int64_t now = 1110; now < 1130; now += 10) EXPECT_TRUE(tick(now, alive).empty()) << now;
  auto takeover = tick(1130, alive);
  ASSERT_EQ(takeover.size(), 1u);
  EXPECT_NE(takeover[0], holder);
  auto next = tick(1140, alive);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0], takeover[0]);
  EXPECT_EQ(RawText("SELECT holder FROM job_leases WHERE job = 'scheduled-purge'"),
            "replica-" + std::to_string(takeover[0]));
}

TEST_F(PostgresDatabaseTest, ReopeningAppliesNoMigrationTwice) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    PutVault(*store, "v");
    KeyVersionRecord r = MakeVersion("v", "k", VersionId(1));
    ASSERT_TRUE(store->AddKeyVersion(r).ok());
  }
  const std::string applied = RawText(
      "SELECT string_agg(version || ':' || applied, ',' ORDER BY version) "
      "FROM coffre_schema");
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM coffre_schema"), kSchemaVersion);
  EXPECT_EQ(RawInt("SELECT MAX(version) FROM coffre_schema"), kSchemaVersion);
  for (int i = 0; i < 3; ++i) {
    auto store = Open();
    ASSERT_TRUE(store);
    auto latest = store->GetKeyVersion("v", "k", "");
    ASSERT_TRUE(latest.ok()) << latest.status().ToString();
    EXPECT_EQ(latest->sequence, 1);
  }
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM coffre_schema"), kSchemaVersion);
  EXPECT_EQ(RawText("SELECT string_agg(version || ':' || applied, ',' ORDER BY version) "
                    "FROM coffre_schema"),
            applied);
}

TEST_F(PostgresDatabaseTest, ConcurrentOpensOfAFreshDatabaseMigrateOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::unique_ptr<Store>> stores(kOpeners);
  std::vector<Status> errors(kOpeners);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      ready++;
      while (!go.load()) std::this_thread::yield();
      auto opened = OpenStore(url_);
      if (opened.ok()) {
        stores[static_cast<size_t>(i)] = std::move(opened).value();
      } else {
        errors[static_cast<size_t>(i)] = opened.status();
      }
    });
  }
  while (ready.load() < kOpeners) std::this_thread::yield();
  go = true;
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kOpeners; ++i) {
    ASSERT_TRUE(stores[static_cast<size_t>(i)]) << errors[static_cast<size_t>(i)].ToString();
  }
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM coffre_schema"), kSchemaVersion);
  EXPECT_EQ(RawInt("SELECT COUNT(DISTINCT version) FROM coffre_schema"), kSchemaVersion);
  // Every instance works on the one schema.
  PutVault(*stores[0], "v");
  for (int i = 0; i < kOpeners; ++i) {
    KeyVersionRecord r = MakeVersion("v", "k", VersionId(i));
    ASSERT_TRUE(stores[static_cast<size_t>(i)]->AddKeyVersion(r).ok());
    EXPECT_EQ(r.sequence, i + 1);
  }
}

TEST_F(PostgresDatabaseTest, SchemaUsesByteaBigintAndCascadingForeignKeys) {
  auto store = Open();
  ASSERT_TRUE(store);
  for (const char* column : {"public_key", "sealed_private_key", "key_ops", "tags"}) {
    EXPECT_EQ(RawText(std::string("SELECT data_type FROM information_schema.columns WHERE "
                                  "table_name = 'key_versions' AND column_name = '") +
                      column + "'"),
              "bytea")
        << column;
  }
  for (const char* column : {"created", "updated", "not_before", "expires", "sequence"}) {
    EXPECT_EQ(RawText(std::string("SELECT data_type FROM information_schema.columns WHERE "
                                  "table_name = 'key_versions' AND column_name = '") +
                      column + "'"),
              "bigint")
        << column;
  }
  // Versions, policies and events hang off keys and go with them.
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND confdeltype = 'c' "
                   "AND confrelid = 'keys'::regclass"),
            3);
  for (const char* table :
       {"vaults", "keys", "key_versions", "principals", "settings", "rotation_policies",
        "key_events", "job_leases", "access_policies", "role_assignments", "coffre_schema"}) {
    EXPECT_EQ(
        RawInt(std::string("SELECT COUNT(*) FROM pg_tables WHERE tablename = '") + table + "'"), 1)
        << table;
  }
}

TEST_F(PostgresStoreTest, ReconnectsAfterItsConnectionsAreKilled) {
  auto store = Open();
  ASSERT_TRUE(store);
  PutVault(*store, "v");
  // Put several pooled connections to use.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      KeyVersionRecord r = MakeVersion("v", "k" + std::to_string(t), VersionId(1));
      EXPECT_TRUE(store->AddKeyVersion(r).ok());
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_GE(RawInt("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"),
            1);
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "k" + std::to_string(t);
      auto latest = store->GetKeyVersion("v", name, "");
      EXPECT_TRUE(latest.ok()) << latest.status().ToString();
      KeyVersionRecord r = MakeVersion("v", name, VersionId(2));
      Status s = store->AddKeyVersion(r);
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(r.sequence, 2);
    });
  }
  for (auto& thread : threads) thread.join();
  auto page = store->ListKeys("v", "", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 4u);
}

TEST_F(PostgresStoreTest, ReadsSeeCommittedStateWhileAnotherSessionWrites) {
  auto store = Open();
  ASSERT_TRUE(store);
  PutVault(*store, "v");
  KeyVersionRecord r = MakeVersion("v", "k", VersionId(1));
  ASSERT_TRUE(store->AddKeyVersion(r).ok());
  RawSession other(url_);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other.Run("BEGIN"), "");
  ASSERT_EQ(other.Run("UPDATE key_versions SET enabled = false WHERE name_key = 'k'"), "");
  auto got = store->GetKeyVersion("v", "k", "");  // not blocked; sees the committed state
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->enabled);
  ASSERT_EQ(other.Run("COMMIT"), "");
  got = store->GetKeyVersion("v", "k", "");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
}

TEST_F(PostgresStoreTest, AddKeyVersionWaitsForTheKeyRowLock) {
  auto store = Open();
  ASSERT_TRUE(store);
  PutVault(*store, "v");
  KeyVersionRecord first = MakeVersion("v", "k", VersionId(1));
  ASSERT_TRUE(store->AddKeyVersion(first).ok());
  RawSession other(url_);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other.Run("BEGIN"), "");
  ASSERT_EQ(other.Run("SELECT name FROM keys WHERE name_key = 'k' FOR UPDATE"), "k");
  std::atomic<bool> done{false};
  KeyVersionRecord second = MakeVersion("v", "k", VersionId(2));
  Status status;
  std::thread adder([&] {
    status = store->AddKeyVersion(second, 1);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done.load());
  ASSERT_EQ(other.Run("COMMIT"), "");
  adder.join();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(second.sequence, 2);
}

TEST_F(PostgresDatabaseTest, StatementTimeoutFromTheUrlEndsLongLockWaits) {
  auto store = Open(url_ + "?options=-c%20statement_timeout%3D300");
  ASSERT_TRUE(store);
  PutVault(*store, "v");
  KeyVersionRecord first = MakeVersion("v", "k", VersionId(1));
  ASSERT_TRUE(store->AddKeyVersion(first).ok());
  RawSession other(url_);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other.Run("BEGIN"), "");
  ASSERT_EQ(other.Run("SELECT name FROM keys WHERE name_key = 'k' FOR UPDATE"), "k");
  KeyVersionRecord second = MakeVersion("v", "k", VersionId(2));
  auto start = std::chrono::steady_clock::now();
  Status s = store->AddKeyVersion(second);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.kind(), ErrorKind::kUnavailable) << s.ToString();
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(second.sequence, 0);
  ASSERT_EQ(other.Run("ROLLBACK"), "");
  ASSERT_TRUE(store->AddKeyVersion(second).ok());
  EXPECT_EQ(second.sequence, 2);
}

TEST_F(PostgresStoreTest, SessionsNameThemselvesCoffre) {
  auto store = Open();
  ASSERT_TRUE(store);
  PutVault(*store, "v");  // one call: one pooled connection so far
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND application_name = 'coffre'"),
            1);
}

TEST_F(PostgresStoreTest, MessagesNeverContainThePassword) {
  const std::string secret = "Sup3rS3cretPw";
  // Connection refused; a database that does not exist; URLs libpq cannot parse (its own
  // messages would quote the bad part).
  for (const std::string& url :
       {"postgresql://coffre:" + secret + "@127.0.0.1:1/db",
        server_->Url("no_such_db") + "?password=" + secret,
        "postgresql://coffre:" + secret + "%zz@127.0.0.1/db",
        "postgresql://coffre@127.0.0.1/db?password=" + secret + "&bogus=" + secret}) {
    auto opened = OpenStore(url);
    ASSERT_FALSE(opened.ok()) << url;
    EXPECT_EQ(opened.status().message().find(secret), std::string::npos)
        << opened.status().message();
    EXPECT_EQ(opened.status().message().find("S3cret"), std::string::npos)
        << opened.status().message();
  }
}

TEST_F(PostgresStoreTest, TextWithNulIsRefusedNotTruncated) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto setting = store->GetOrPutSetting(std::string("a\0b", 3), "x");
  EXPECT_EQ(setting.status().kind(), ErrorKind::kBadRequest);
  setting = store->GetOrPutSetting("a", "x");
  ASSERT_TRUE(setting.ok());
  EXPECT_EQ(*setting, "x");
}

}  // namespace
}  // namespace coffre::store
