// Writing results: aligned tables for people, JSON for programs, and the
// one path by which a secret reaches stdout.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace refold_cli {

// A table with a header row; columns are separated by two spaces and padded
// to their widest cell (in code points).
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints "key: value" lines with the values aligned.
void print_fields(const std::vector<std::pair<std::string, std::string>>& lines);

// Prints one JSON document and a newline on stdout.
void print_json(const boost::json::value& v);
// Prints JSON text the library returned (already serialised) and a newline.
void print_json_text(std::string_view text);

// Writes bytes straight to stdout's file descriptor (after flushing stdio),
// so a revealed secret is not copied into stdio's buffer. Throws a Failure
// when stdout cannot be written.
void write_secret(std::string_view bytes);

// A JSON string member of `o`, or "" when absent or not a string.
std::string str_of(const boost::json::object& o, std::string_view key);
// A JSON bool member of `o`, or false.
bool bool_of(const boost::json::object& o, std::string_view key);
// The strings of a JSON array member of `o`, joined with `sep`.
std::string join_of(const boost::json::object& o, std::string_view key, std::string_view sep);

}  // namespace refold_cli
