#include "common/utc_time.h"

#include <ctime>

namespace coffre {
namespace {

int DigitValue(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::optional<int64_t> ParseUtcTime(std::string_view text) {
  size_t i = 0;
  auto number = [&](size_t digits, int& out) {
    if (i + digits > text.size()) return false;
    out = 0;
    for (size_t k = 0; k < digits; ++k) {
      int d = DigitValue(text[i + k]);
      if (d < 0) return false;
      out = out * 10 + d;
    }
    i += digits;
    return true;
  };
  auto expect = [&](char c) {
    if (i >= text.size() || text[i] != c) return false;
    ++i;
    return true;
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !expect('-') || !number(2, month) || !expect('-') || !number(2, day)) {
    return std::nullopt;
  }
  int64_t offset = 0;
  if (i < text.size()) {
    if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') return std::nullopt;
    ++i;
    if (!number(2, hour) || !expect(':') || !number(2, minute)) return std::nullopt;
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!number(2, second)) return std::nullopt;
      if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
        ++i;
        size_t start = i;
        while (i < text.size() && DigitValue(text[i]) >= 0) ++i;
        if (i == start) return std::nullopt;  // fractions are dropped: Key Vault keeps seconds
      }
    }
    if (i < text.size()) {
      if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
      } else if (text[i] == '+' || text[i] == '-') {
        int sign = text[i] == '-' ? -1 : 1;
        ++i;
        int oh, om = 0;
        if (!number(2, oh)) return std::nullopt;
        if (i < text.size() && text[i] == ':') ++i;
        if (i < text.size() && !number(2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
    if (i != text.size()) return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1] || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second - offset;
}

std::string FormatUtcTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace coffre
