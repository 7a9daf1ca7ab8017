// Fault injection for the torture tests, in the style of curl's torture
// mode: arm(n) makes the n-th fallible operation on the arming thread fail,
// once. The operations are refold's own system calls and libsodium calls
// (the torture binary links refold's objects with `ld --wrap`, so refold's
// calls reach the wrappers in fault.cpp), optionally its allocations and SQLite's file operations (a VFS
// that wraps the default one). Nothing of this is in the library itself.
#pragma once

#include <string>

namespace refold_torture {

// Installs the faulty SQLite VFS as the default. Call once, before any
// database is opened.
void install();

// Whether refold's calls of operator new count as fallible operations (a
// failure throws std::bad_alloc). Off by default: they are many.
void count_allocations(bool on);

// Fail the n-th operation (1-based) from now on the calling thread; 0: none.
void arm(long n);
// Disarms and returns how many operations the calling thread passed since
// arm(): when that is below n, the operation under test never met the fault.
long disarm();
// What failed at the armed point ("sqlite xWrite", "fsync", ...), or "".
std::string failed_at();

}  // namespace refold_torture
