/* See freed_heap.h. Kept to glibc's documented replacement interface:
 * malloc, free, calloc, realloc and the aligned variants, each over the
 * __libc_* entry points glibc exports for exactly this use. Built with
 * -fno-builtin so the compiler cannot turn a zeroing malloc into a call
 * to calloc, which would recurse. */
#define _GNU_SOURCE
#include "freed_heap.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

void *__libc_malloc(size_t size);
void __libc_free(void *p);
void *__libc_memalign(size_t alignment, size_t size);

/* Room for the copies: reserved, not committed, so only what is used
 * costs memory. A connect, a refresh and a disconnect free a few MiB. */
#define LOG_CAPACITY ((size_t)1 << 30)

static __thread int t_recording;
static char *g_log;
static size_t g_used;
static size_t g_blocks;
static size_t g_bytes;
static int g_overflow;
static int g_lock;

static void lock(void) {
  while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE)) {
  }
}
static void unlock(void) { __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE); }

/* A kept block: its size, then its bytes, padded to 8. */
static void keep(const void *p, size_t size) {
  size_t need = sizeof(size_t) + ((size + 7) & ~(size_t)7);
  lock();
  if (!g_log || g_used + need > LOG_CAPACITY) {
    g_overflow = 1;
  } else {
    memcpy(g_log + g_used, &size, sizeof size);
    memcpy(g_log + g_used + sizeof size, p, size);
    g_used += need;
    ++g_blocks;
    g_bytes += size;
  }
  unlock();
}

/* The project builds with hidden visibility; the replacements must be
 * seen by the shared libraries (libstdc++, libsqlite3, librefold) to
 * replace anything. */
#define REPLACES __attribute__((visibility("default")))

static void *zeroed(void *p) {
  if (p) memset(p, 0, malloc_usable_size(p));
  return p;
}

REPLACES void *malloc(size_t size) { return zeroed(__libc_malloc(size)); }

REPLACES void free(void *p) {
  if (!p) return;
  if (t_recording) keep(p, malloc_usable_size(p));
  __libc_free(p);
}

REPLACES void *calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  return malloc(n * size);
}

/* Always moves the block, so the old one is freed (and kept) like any
 * other instead of being grown in place with its past inside. */
REPLACES void *realloc(void *p, size_t size) {
  if (!p) return malloc(size);
  if (size == 0) {
    free(p);
    return NULL;
  }
  void *q = malloc(size);
  if (!q) return NULL;
  size_t old = malloc_usable_size(p);
  memcpy(q, p, old < size ? old : size);
  free(p);
  return q;
}

REPLACES void *reallocarray(void *p, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, n * size);
}

REPLACES void *memalign(size_t alignment, size_t size) { return zeroed(__libc_memalign(alignment, size)); }

REPLACES void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

REPLACES int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void *p = memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void freed_heap_record(int on) {
  if (on && !g_log) {
    void *m = mmap(NULL, LOG_CAPACITY, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED) g_log = m;
  }
  t_recording = on;
}

void freed_heap_clear(void) {
  lock();
  g_used = 0;
  g_blocks = 0;
  g_bytes = 0;
  g_overflow = 0;
  unlock();
}

size_t freed_heap_blocks(void) { return g_blocks; }
size_t freed_heap_bytes(void) { return g_bytes; }
int freed_heap_overflowed(void) { return g_overflow || !g_log; }

size_t freed_heap_search(const void *needle, size_t n, void (*found)(size_t size, void *payload),
                         void *payload) {
  size_t hits = 0;
  for (size_t at = 0; at < g_used;) {
    size_t size;
    memcpy(&size, g_log + at, sizeof size);
    const char *bytes = g_log + at + sizeof size;
    if (n && memmem(bytes, size, needle, n)) {
      ++hits;
      if (found) found(size, payload);
    }
    at += sizeof(size_t) + ((size + 7) & ~(size_t)7);
  }
  return hits;
}
