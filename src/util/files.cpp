#include "util/files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.hpp"

namespace refold::files {

namespace {

std::string sys_error() { return std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void fsync_dir(const std::string& dir, int code) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    fail(code, "cannot sync folder '" + dir + "': " + sys_error());
}

}  // namespace

std::string parent(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::error_code ec;
  auto full = std::filesystem::absolute(path, ec);
  if (ec) fail(REFOLD_ESTORE, "cannot read the working directory: " + ec.message());
  return full.string();  // not normalized: "link/.." is not lexical
}

std::optional<unsigned> mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<unsigned>(st.st_mode & 07777);
}

void make_dirs(const std::string& dir) {
  if (dir.empty() || dir == "." || dir == "/" || exists(dir)) return;
  make_dirs(parent(dir));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    fail(REFOLD_ESTORE, "cannot create folder '" + dir + "': " + sys_error());
}

bool read_into(const std::string& path, std::size_t limit, int code,
               const std::function<void(std::string_view)>& append) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;
    fail(code, "cannot open '" + path + "': " + sys_error());
  }
  std::size_t total = 0;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(code, "cannot read '" + path + "': " + sys_error());
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    if (total > limit)
      fail(code, "'" + path + "' is larger than " + std::to_string(limit) + " bytes");
    append(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return true;
}

std::optional<std::string> read(const std::string& path, std::size_t limit, int code) {
  std::string out;
  if (!read_into(path, limit, code, [&](std::string_view chunk) { out += chunk; })) return std::nullopt;
  return out;
}

namespace {

void write_all(int fd, const std::string& path, std::string_view data, int code) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(code, "cannot write '" + path + "': " + sys_error());
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail(code, "cannot sync '" + path + "': " + sys_error());
}

}  // namespace

void write_new_private(const std::string& path, std::string_view data, int code) {
  // Written under a temporary name and linked into place once complete and
  // synced: link() fails if `path` exists, so two writers cannot both win,
  // and a reader racing the writer sees no file or the whole file, never a
  // partial one.
  bool linked = false;
  {
    std::string tmp = path + ".tmp-XXXXXX";
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));  // mode 0600
    if (fd.get() < 0) fail(code, "cannot create '" + path + "': " + sys_error());
    struct Unlink {
      const std::string& name;
      ~Unlink() { ::unlink(name.c_str()); }
    } unlink_tmp{tmp};
    write_all(fd.get(), path, data, code);
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      linked = true;
    } else if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) {  // ENOTSUP: EOPNOTSUPP on Linux
      fail(code, "cannot create '" + path + "': " + sys_error());
    }
  }
  if (!linked) {
    // A file system without hard links: created in place (O_EXCL still
    // lets one writer win, but a racing reader may see it half-written).
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail(code, "cannot create '" + path + "': " + sys_error());
    write_all(fd.get(), path, data, code);
  }
  fsync_dir(parent(path), code);
}

void replace(const std::string& from, const std::string& to, int code) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail(code, "cannot rename '" + from + "' to '" + to + "': " + sys_error());
  fsync_dir(parent(to), code);
}

}  // namespace refold::files
