#include "cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace coffre::cli {
namespace {

void AppendPretty(std::string& out, const json::value& value, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (value.is_object()) {
    const json::object& o = value.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    std::vector<std::string_view> names;
    for (const auto& field : o) names.push_back(field.key());
    std::sort(names.begin(), names.end());
    out += "{\n";
    for (size_t i = 0; i < names.size(); ++i) {
      out += inner + json::serialize(json::value(json::string(names[i]))) + ": ";
      AppendPretty(out, o.at(names[i]), indent + 1);
      out += i + 1 < names.size() ? ",\n" : "\n";
    }
    out += pad + "}";
  } else if (value.is_array()) {
    const json::array& a = value.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      out += inner;
      AppendPretty(out, a[i], indent + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += json::serialize(value);
  }
}

std::string Cell(const json::value& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return std::string(value.get_string());
  // az prints Python's spelling of booleans in tables.
  if (value.is_bool()) return value.get_bool() ? "True" : "False";
  return json::serialize(value);
}

using Rows = std::vector<std::vector<std::pair<std::string, json::value>>>;

Rows TableRows(const json::value& value, const TableRow& row) {
  Rows rows;
  auto add = [&](const json::value& item) {
    if (item.is_object()) {
      rows.push_back(row ? row(item.get_object()) : ScalarFields(item.get_object()));
    } else {
      rows.push_back({{"Result", item}});
    }
  };
  if (value.is_array()) {
    for (const auto& item : value.get_array()) add(item);
  } else if (!value.is_null()) {
    add(value);
  }
  return rows;
}

void PrintTable(const Rows& rows) {
  std::vector<std::string> headers;
  for (const auto& row : rows) {
    for (const auto& [header, unused] : row) {
      if (std::find(headers.begin(), headers.end(), header) == headers.end()) {
        headers.push_back(header);
      }
    }
  }
  if (headers.empty()) return;
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const auto& h : headers) widths.push_back(h.size());
  for (const auto& row : rows) {
    std::vector<std::string> line(headers.size());
    for (const auto& [header, value] : row) {
      size_t column = std::find(headers.begin(), headers.end(), header) - headers.begin();
      line[column] = Cell(value);
      widths[column] = std::max(widths[column], line[column].size());
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::cout << text << "\n";
  };
  print_line(headers);
  std::vector<std::string> rules;
  for (size_t w : widths) rules.emplace_back(w, '-');
  print_line(rules);
  for (const auto& line : cells) print_line(line);
}

void PrintTsv(const Rows& rows) {
  for (const auto& row : rows) {
    std::string text;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) text += '\t';
      text += Cell(row[i].second);
    }
    std::cout << text << "\n";
  }
}

}  // namespace

void Cli::OnRun(CLI::App* command, std::function<int()> run) {
  command->callback([this, run = std::move(run)] { action = run; });
}

void Cli::Print(const json::value& value, const TableRow& row) const {
  const std::string& format = global.output;
  if (format == "none") return;
  if (format == "table") {
    PrintTable(TableRows(value, row));
  } else if (format == "tsv") {
    PrintTsv(TableRows(value, row));
  } else {
    std::cout << PrettyJson(value) << "\n";
  }
  std::cout << std::flush;
}

std::string PrettyJson(const json::value& value) {
  std::string out;
  AppendPretty(out, value, 0);
  return out;
}

std::vector<std::pair<std::string, json::value>> ScalarFields(const json::object& object) {
  std::vector<std::pair<std::string, json::value>> fields;
  for (const auto& field : object) {
    if (field.value().is_object() || field.value().is_array()) continue;
    std::string header(field.key());
    if (!header.empty()) header[0] = static_cast<char>(std::toupper(header[0]));
    fields.emplace_back(std::move(header), field.value());
  }
  std::sort(fields.begin(), fields.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return fields;
}

std::string Base64Encode(const std::vector<uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= bytes[i + 2];
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  while (!text.empty() && (text.back() == '=' || text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((buffer >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

std::string HexEncode(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::optional<std::vector<uint8_t>> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(text[i]);
    int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return buffer;
}

bool ParseBoolOption(const std::string& option, const std::string& value) {
  std::string v = AsciiLower(value);
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  throw UsageError(option + " takes true or false, not '" + value + "'.");
}

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("Cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) throw Failure("Cannot read " + path);
  return data.str();
}

void WriteFileOrThrow(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Failure("Cannot write " + path + ": " + std::strerror(errno));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) throw Failure("Cannot write " + path);
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace coffre::cli
