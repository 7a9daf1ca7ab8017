#include "fault.hpp"

#include <sqlite3.h>
#include <sodium.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

namespace refold_torture {
namespace {

// Only the arming thread counts and fails, so a sweep is deterministic:
// the WAL checkpointer's thread and the sandbox's process run untouched.
std::atomic<bool> g_armed{false};
std::atomic<bool> g_allocations{false};
std::atomic<std::thread::id> g_thread;
long g_at = 0;
long g_seen = 0;
const char* g_failed = "";

}  // namespace

// True when this call is the one to fail.
bool hit(const char* what) {
  if (!g_armed.load(std::memory_order_acquire) || std::this_thread::get_id() != g_thread.load())
    return false;
  if (++g_seen != g_at) return false;
  g_failed = what;
  return true;
}

void count_allocations(bool on) { g_allocations.store(on); }

bool allocation_fails() { return g_allocations.load(std::memory_order_relaxed) && hit("operator new"); }

void arm(long n) {
  g_thread.store(std::this_thread::get_id());
  g_at = n;
  g_seen = 0;
  g_failed = "";
  g_armed.store(n > 0, std::memory_order_release);
}

long disarm() {
  g_armed.store(false, std::memory_order_release);
  return g_seen;
}

std::string failed_at() { return g_failed; }

// ---- SQLite: a VFS over the default one --------------------------------------------

namespace {

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;

struct File {
  sqlite3_file base;
  sqlite3_file* real;  // follows this struct in the same allocation
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

int x_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (hit("sqlite xRead")) return SQLITE_IOERR_READ;
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (hit("sqlite xWrite")) return SQLITE_IOERR_WRITE;
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (hit("sqlite xTruncate")) return SQLITE_IOERR_TRUNCATE;
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  if (hit("sqlite xSync")) return SQLITE_IOERR_FSYNC;
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xLock(real_of(f), level); }
int x_unlock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xUnlock(real_of(f), level); }
int x_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device_chars(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

const sqlite3_io_methods kMethods = {
    3,           x_close,        x_read,           x_write,          x_truncate,
    x_sync,      x_file_size,    x_lock,           x_unlock,         x_check_reserved,
    x_file_control, x_sector_size, x_device_chars, x_shm_map,        x_shm_lock,
    x_shm_barrier, x_shm_unmap,  x_fetch,          x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<File*>(f);
  file->base.pMethods = nullptr;
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  if (hit("sqlite xOpen")) return SQLITE_CANTOPEN;
  const int rc = g_real->xOpen(g_real, name, file->real, flags, out_flags);
  // The real file's methods are set even on some failures (and must then
  // be closed); ours only when there is a file to forward to.
  if (file->real->pMethods) file->base.pMethods = &kMethods;
  return rc;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (hit("sqlite xDelete")) return SQLITE_IOERR_DELETE;
  return g_real->xDelete(g_real, name, sync_dir);
}

}  // namespace

void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    g_vfs = *g_real;
    g_vfs.zName = "refold-torture";
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    sqlite3_vfs_register(&g_vfs, 1);
  });
}

}  // namespace refold_torture

// ---- refold's own calls, through `ld --wrap` -------------------------------------

using refold_torture::hit;

// operator new(std::size_t), as refold's objects call it (code that the
// standard library instantiates inside its own shared object, such as most
// of std::string, is not reached).
extern "C" void* __real__Znwm(std::size_t n);
extern "C" void* __wrap__Znwm(std::size_t n) {
  if (refold_torture::allocation_fails()) throw std::bad_alloc();
  return __real__Znwm(n);
}

extern "C" {

int __real_open(const char* path, int flags, ...);
int __real_fsync(int fd);
ssize_t __real_write(int fd, const void* buf, size_t n);
int __real_link(const char* from, const char* to);
int __real_rename(const char* from, const char* to);
int __real_mkostemp(char* tmpl, int flags);
int __real_connect(int fd, const struct sockaddr* addr, socklen_t len);
ssize_t __real_recv(int fd, void* buf, size_t n, int flags);
ssize_t __real_send(int fd, const void* buf, size_t n, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr* msg, int flags);
void* __real_sodium_malloc(size_t n);
int __real_crypto_aead_xchacha20poly1305_ietf_encrypt(
    unsigned char* c, unsigned long long* clen, const unsigned char* m, unsigned long long mlen,
    const unsigned char* ad, unsigned long long adlen, const unsigned char* nsec,
    const unsigned char* npub, const unsigned char* k);
int __real_crypto_aead_xchacha20poly1305_ietf_decrypt(
    unsigned char* m, unsigned long long* mlen, unsigned char* nsec, const unsigned char* c,
    unsigned long long clen, const unsigned char* ad, unsigned long long adlen,
    const unsigned char* npub, const unsigned char* k);

int __wrap_open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (hit("open")) {
    errno = EIO;
    return -1;
  }
  return __real_open(path, flags, mode);
}

int __wrap_fsync(int fd) {
  if (hit("fsync")) {
    errno = EIO;
    return -1;
  }
  return __real_fsync(fd);
}

ssize_t __wrap_write(int fd, const void* buf, size_t n) {
  if (hit("write")) {
    errno = ENOSPC;
    return -1;
  }
  return __real_write(fd, buf, n);
}

int __wrap_link(const char* from, const char* to) {
  if (hit("link")) {
    errno = EIO;
    return -1;
  }
  return __real_link(from, to);
}

int __wrap_rename(const char* from, const char* to) {
  if (hit("rename")) {
    errno = EIO;
    return -1;
  }
  return __real_rename(from, to);
}

int __wrap_mkostemp(char* tmpl, int flags) {
  if (hit("mkostemp")) {
    errno = ENOSPC;
    return -1;
  }
  return __real_mkostemp(tmpl, flags);
}

int __wrap_connect(int fd, const struct sockaddr* addr, socklen_t len) {
  if (hit("connect")) {
    errno = ECONNREFUSED;
    return -1;
  }
  return __real_connect(fd, addr, len);
}

ssize_t __wrap_recv(int fd, void* buf, size_t n, int flags) {
  if (hit("recv")) {
    errno = ECONNRESET;
    return -1;
  }
  return __real_recv(fd, buf, n, flags);
}

ssize_t __wrap_send(int fd, const void* buf, size_t n, int flags) {
  if (hit("send")) {
    errno = EPIPE;
    return -1;
  }
  return __real_send(fd, buf, n, flags);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr* msg, int flags) {
  if (hit("sendmsg")) {
    errno = EPIPE;
    return -1;
  }
  return __real_sendmsg(fd, msg, flags);
}

void* __wrap_sodium_malloc(size_t n) {
  if (hit("sodium_malloc")) {
    errno = ENOMEM;
    return nullptr;
  }
  return __real_sodium_malloc(n);
}

int __wrap_crypto_aead_xchacha20poly1305_ietf_encrypt(
    unsigned char* c, unsigned long long* clen, const unsigned char* m, unsigned long long mlen,
    const unsigned char* ad, unsigned long long adlen, const unsigned char* nsec,
    const unsigned char* npub, const unsigned char* k) {
  if (hit("crypto_aead_xchacha20poly1305_ietf_encrypt")) return -1;
  return __real_crypto_aead_xchacha20poly1305_ietf_encrypt(c, clen, m, mlen, ad, adlen, nsec, npub, k);
}

int __wrap_crypto_aead_xchacha20poly1305_ietf_decrypt(
    unsigned char* m, unsigned long long* mlen, unsigned char* nsec, const unsigned char* c,
    unsigned long long clen, const unsigned char* ad, unsigned long long adlen,
    const unsigned char* npub, const unsigned char* k) {
  if (hit("crypto_aead_xchacha20poly1305_ietf_decrypt")) return -1;
  return __real_crypto_aead_xchacha20poly1305_ietf_decrypt(m, mlen, nsec, c, clen, ad, adlen, npub, k);
}

}  // extern "C"
