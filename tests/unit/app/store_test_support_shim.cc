// The app tests reuse the store tests' databases (SQLite files, the PostgreSQL test server).
// tests/CMakeLists.txt builds one test binary per folder from that folder's sources, so the
// shared support sources are compiled into this binary here.
#include "../store/postgres_fixture.cc"    // NOLINT(bugprone-suspicious-include)
#include "../store/store_test_support.cc"  // NOLINT(bugprone-suspicious-include)
