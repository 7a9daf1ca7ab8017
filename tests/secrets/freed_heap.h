/* A heap that remembers what a thread frees, so a test can search freed
 * blocks for secrets. The whole process's malloc family is replaced (ELF
 * interposition, as glibc documents for replacement allocators) by thin
 * wrappers over glibc's own allocator: every block is zeroed when handed
 * out, so a copy holds only what was written into it since, and every
 * block freed on a recording thread is copied into a log before glibc
 * reuses it. operator new, SQLite and OpenSSL all allocate through
 * malloc, so they are covered too. */
#ifndef REFOLD_TEST_FREED_HEAP_H
#define REFOLD_TEST_FREED_HEAP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts (1) or stops (0) keeping copies of the blocks the calling thread
 * frees. */
void freed_heap_record(int on);

/* Forgets every copy kept so far. */
void freed_heap_clear(void);

/* Copies kept, their total size, and whether the log ran out of room
 * (then later frees were not kept and a search proves nothing). */
size_t freed_heap_blocks(void);
size_t freed_heap_bytes(void);
int freed_heap_overflowed(void);

/* Calls `found(size, payload)` for each kept block that holds the `n`
 * bytes at `needle`; returns how many did. Call it while no thread
 * records: `found` may allocate. */
size_t freed_heap_search(const void *needle, size_t n, void (*found)(size_t size, void *payload),
                         void *payload);

#ifdef __cplusplus
}
#endif

#endif
