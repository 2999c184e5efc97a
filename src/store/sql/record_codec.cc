#include "store/sql/record_codec.h"

#include <charconv>

namespace coffre::store::sql {

Status VaultNotFound(std::string_view vault) {
  return Status::NotFound("NotFound", "vault '" + std::string(vault) + "' not found");
}

Status CheckVaultExists(Transaction& txn, std::string_view vault) {
  static constexpr char kShareVaultSql[] = "SELECT 1 FROM vaults WHERE name = $1 FOR KEY SHARE";
  COFFRE_ASSIGN_OR_RETURN(bool exists, Exists(txn, kShareVaultSql, Params().Text(vault)));
  if (!exists) return VaultNotFound(vault);
  return Status::Ok();
}

Status KeyNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "key '" + std::string(name) + "' not found");
}

Status KeyVersionNotFound(std::string_view name, std::string_view version) {
  return Status::NotFound(
      "NotFound", "key '" + std::string(name) + "' version " + std::string(version) + " not found");
}

Status DeletedKeyNotFound(std::string_view name) {
  return Status::NotFound("NotFound", "deleted key '" + std::string(name) + "' not found");
}

Status Corrupt(std::string_view table) {
  return Status::Internal("store: malformed row in table " + std::string(table));
}

boost::json::parse_options JsonOptions() {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  return options;
}

std::string EncodeKeyOps(const std::vector<std::string>& ops) {
  boost::json::array array;
  for (const std::string& op : ops) array.emplace_back(boost::json::string_view(op));
  return boost::json::serialize(array);
}

bool DecodeKeyOps(std::string_view text, std::vector<std::string>* ops) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, JsonOptions());
  const boost::json::array* array = ec ? nullptr : value.if_array();
  if (array == nullptr) return false;
  ops->clear();
  for (const boost::json::value& item : *array) {
    const boost::json::string* op = item.if_string();
    if (op == nullptr) return false;
    ops->emplace_back(op->data(), op->size());
  }
  return true;
}

std::string EncodeTags(const Tags& tags) {
  boost::json::array array;
  for (const auto& [name, value] : tags) {
    array.push_back(
        boost::json::array{boost::json::string_view(name), boost::json::string_view(value)});
  }
  return boost::json::serialize(array);
}

bool DecodeTags(std::string_view text, Tags* tags) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, JsonOptions());
  const boost::json::array* array = ec ? nullptr : value.if_array();
  if (array == nullptr) return false;
  tags->clear();
  for (const boost::json::value& item : *array) {
    const boost::json::array* pair = item.if_array();
    if (pair == nullptr || pair->size() != 2) return false;
    const boost::json::string* name = (*pair)[0].if_string();
    const boost::json::string* val = (*pair)[1].if_string();
    if (name == nullptr || val == nullptr) return false;
    tags->emplace_back(std::string(name->data(), name->size()),
                       std::string(val->data(), val->size()));
  }
  return true;
}

std::string EncodeActions(const std::vector<LifetimeActionRecord>& actions) {
  boost::json::array array;
  for (const LifetimeActionRecord& a : actions) {
    boost::json::object object;
    object["action"] = boost::json::string_view(a.action);
    object["trigger"] = boost::json::string_view(a.trigger);
    object["duration"] = boost::json::string_view(a.duration);
    array.push_back(std::move(object));
  }
  return boost::json::serialize(array);
}

bool DecodeActions(std::string_view text, std::vector<LifetimeActionRecord>* actions) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, JsonOptions());
  const boost::json::array* array = ec ? nullptr : value.if_array();
  if (array == nullptr) return false;
  actions->clear();
  for (const boost::json::value& item : *array) {
    const boost::json::object* object = item.if_object();
    if (object == nullptr) return false;
    LifetimeActionRecord action;
    for (auto [field, out] :
         {std::pair{"action", &action.action}, std::pair{"trigger", &action.trigger},
          std::pair{"duration", &action.duration}}) {
      const boost::json::value* member = object->if_contains(field);
      const boost::json::string* text_value = member != nullptr ? member->if_string() : nullptr;
      if (text_value == nullptr) return false;
      out->assign(text_value->data(), text_value->size());
    }
    actions->push_back(std::move(action));
  }
  return true;
}

Status ParseKeyCursor(std::string_view cursor) {
  for (char c : cursor) {
    if ((c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) < 0x20) {
      return Status::BadParameter("malformed key listing cursor");
    }
  }
  return Status::Ok();
}

Result<int64_t> ParseSequenceCursor(std::string_view cursor) {
  if (cursor.empty()) return int64_t{0};
  int64_t value = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), value);
  if (ec != std::errc() || end != cursor.data() + cursor.size() || value < 0 ||
      cursor.front() == '+') {
    return Status::BadParameter("malformed version listing cursor");
  }
  return value;
}

Status CheckLimit(int limit) {
  if (limit < 1) return Status::BadParameter("listing limit must be at least 1");
  return Status::Ok();
}

}  // namespace coffre::store::sql
