// Resident memory of this process, read from /proc/self/status (Linux).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace refold_bench {

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM", "RssAnon",
// "RssFile"), or -1.
inline long status_kib(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

inline long rss_kib() { return status_kib("VmRSS"); }

// Resident memory now, in MiB: all of it, anonymous (heap, SQLite's page
// caches, refold's credential cache, thread stacks), mapped file pages
// (the store and the binaries) and shared memory (the store, when it is on
// /dev/shm); and the peak.
inline void print_memory(const char* when) {
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  std::printf("resident memory %s: %.1f MiB (anonymous %.1f MiB, file %.1f MiB, shared memory "
              "%.1f MiB; peak %.1f MiB)\n",
              when, mib(rss_kib()), mib(status_kib("RssAnon")), mib(status_kib("RssFile")),
              mib(status_kib("RssShmem")), mib(status_kib("VmHWM")));
}

}  // namespace refold_bench
