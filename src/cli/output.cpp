#include "output.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "errors.hpp"

namespace refold_cli {

namespace {

// Width in code points: UTF-8 continuation bytes do not count.
std::size_t width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

void Table::print() const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - width(row[i]) + 2, ' ');
    }
    std::puts(line.c_str());
  }
}

void print_fields(const std::vector<std::pair<std::string, std::string>>& lines) {
  std::size_t w = 0;
  for (const auto& [k, v] : lines) w = std::max(w, width(k));
  for (const auto& [k, v] : lines) {
    std::string line = k + ":";
    line.append(w - width(k) + 1, ' ');
    line += v;
    std::puts(line.c_str());
  }
}

void print_json(const boost::json::value& v) { print_json_text(boost::json::serialize(v)); }

void print_json_text(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void write_secret(std::string_view bytes) {
  if (std::fflush(stdout) != 0) throw Failure(kExitError, std::string("write: ") + std::strerror(errno));
  while (!bytes.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Failure(kExitError, std::string("write: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string str_of(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

bool bool_of(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

std::string join_of(const boost::json::object& o, std::string_view key, std::string_view sep) {
  auto it = o.find(key);
  std::string out;
  if (it == o.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().get_array()) {
    if (!v.is_string()) continue;
    if (!out.empty()) out += sep;
    out += v.get_string();
  }
  return out;
}

}  // namespace refold_cli
