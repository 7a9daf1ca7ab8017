// The tests' side of freed_heap.h: a scope that records, and a search that
// reports block sizes (never the secret).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "freed_heap.h"

namespace refold_test {

// Keeps the calling thread's frees for its scope. Tests wrap only refold's
// work in it, so their own copies of the secrets are not mistaken for
// refold's.
struct Recording {
  Recording() { freed_heap_record(1); }
  ~Recording() { freed_heap_record(0); }
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;
};

// Keeps the optimizer from dropping a copy that is only made to be freed.
inline void escape(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

// The sizes of the kept blocks that hold `secret`.
inline std::vector<std::size_t> freed_blocks_holding(std::string_view secret) {
  std::vector<std::size_t> sizes;
  auto note = [](std::size_t size, void* p) { static_cast<std::vector<std::size_t>*>(p)->push_back(size); };
  freed_heap_search(secret.data(), secret.size(), note, &sizes);
  return sizes;
}

}  // namespace refold_test
