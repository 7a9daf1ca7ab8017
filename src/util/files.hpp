// File-system helpers for the store and key files.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace refold::files {

// Creates `dir` and missing parents with mode 0700. Throws REFOLD_ESTORE.
void make_dirs(const std::string& dir);

// Parent folder of `path` ("." when it has none).
std::string parent(const std::string& path);

bool exists(const std::string& path);

// `path` made absolute against the working directory now (lexically: no
// symbolic link is resolved, and the file need not exist). Throws
// REFOLD_ESTORE when the working directory cannot be read.
std::string absolute(const std::string& path);

// Reads a whole file of at most `limit` bytes; nullopt when it does not
// exist. Throws `code` for other failures, naming the path.
std::optional<std::string> read(const std::string& path, std::size_t limit, int code);
// The same, handing the bytes to `append` a chunk at a time, for a caller
// that keeps them in memory of its own (a secret's); false when the file
// does not exist. Nothing of the file is left in memory `append` does not
// own (beyond the stack).
bool read_into(const std::string& path, std::size_t limit, int code,
               const std::function<void(std::string_view)>& append);

// Writes `data` to a new file `path` with mode 0600 and fsyncs it and its
// folder. The file appears whole or not at all (a concurrent reader never
// sees it partly written), except on a file system without hard links,
// where it is written in place. A crash while writing may leave a
// "<path>.tmp-XXXXXX" file beside it. Fails with `code` when the file
// exists or cannot be written.
void write_new_private(const std::string& path, std::string_view data, int code);

// Atomically renames `from` to `to` and fsyncs the folder.
void replace(const std::string& from, const std::string& to, int code);

// Permission bits of `path`, or nullopt when it does not exist.
std::optional<unsigned> mode(const std::string& path);

}  // namespace refold::files
