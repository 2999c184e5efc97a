#include "store/sql/sql_engine.h"

#include <limits>

namespace coffre::store::sql {

bool Row::Int(int col, int* out) const {
  int64_t value = 0;
  if (!Int(col, &value) || value < std::numeric_limits<int>::min() ||
      value > std::numeric_limits<int>::max()) {
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

bool Row::OptInt(int col, std::optional<int64_t>* out) const {
  if (IsNull(col)) {
    out->reset();
    return true;
  }
  int64_t value = 0;
  if (!Int(col, &value)) return false;
  *out = value;
  return true;
}

bool Row::OptText(int col, std::optional<std::string>* out) const {
  if (IsNull(col)) {
    out->reset();
    return true;
  }
  std::string value;
  if (!Text(col, &value)) return false;
  *out = std::move(value);
  return true;
}

}  // namespace coffre::store::sql
