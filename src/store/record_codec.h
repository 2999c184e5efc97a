// Encodings and checks shared by the store implementations (SQLite, PostgreSQL): how key_ops,
// tags, permission lists and rotation actions are kept as text, and how listing cursors and
// limits are validated. Internal to store/.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coffre/status.h"
#include "store/store.h"

namespace coffre::store {

Status KeyNotFound(std::string_view name);
Status DeletedKeyNotFound(std::string_view name);

// key_ops (and access-policy permission lists) are JSON arrays of strings, tags JSON arrays of
// [name, value] pairs and lifetime actions JSON arrays of {"action","trigger","duration"}:
// readable in a database shell, and arrays keep the caller's order. Invalid UTF-8 is tolerated
// both ways so any byte string round-trips.
boost::json::parse_options JsonOptions();
std::string EncodeKeyOps(const std::vector<std::string>& ops);
bool DecodeKeyOps(std::string_view text, std::vector<std::string>* ops);
std::string EncodeTags(const Tags& tags);
bool DecodeTags(std::string_view text, Tags* tags);
std::string EncodeActions(const std::vector<LifetimeActionRecord>& actions);
bool DecodeActions(std::string_view text, std::vector<LifetimeActionRecord>* actions);

// Cursors are opaque to callers, but they only ever get back what a store produced: anything
// else is a malformed request rather than a position.
Status ParseKeyCursor(std::string_view cursor);
Result<int64_t> ParseSequenceCursor(std::string_view cursor);
Status CheckLimit(int limit);

}  // namespace coffre::store
