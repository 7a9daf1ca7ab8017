// What the config's "store" names: a SQLite file path, or a PostgreSQL
// connection URI. Pure text handling, no I/O, so the CLI can use it too.
#pragma once

#include <string>
#include <string_view>

namespace refold::store_location {

enum class Kind { sqlite, postgresql };

struct Location {
  Kind kind = Kind::sqlite;
  // The text as given: a file path, or the URI (password included) for
  // libpq. Never put it in a message: use `shown`.
  std::string target;
  // For messages, listings and file names: the path, or the URI without
  // its password (in the authority or as a query parameter).
  std::string shown;
  // The URI's password, percent-decoded and as written, so a message from
  // the database driver can be scrubbed of either; empty when there is none.
  std::string password;
  std::string password_raw;
};

// Classifies `store`: "postgresql://" or "postgres://" select PostgreSQL;
// any other "scheme://" is refused by name (REFOLD_EINVALID), as is a
// PostgreSQL URI whose user information libpq would read differently
// (an unencoded '@', '/', '?' or '#' in it); anything else is a SQLite path.
Location parse(std::string_view store);

// `text` with every occurrence of `secret` (when not empty) replaced by
// "***": for messages a driver built, which might quote what it was given.
std::string scrub(std::string text, std::string_view secret);

}  // namespace refold::store_location
