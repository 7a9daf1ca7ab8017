// The catalog files embedded at build time (see cmake/embed_catalog.cmake).
#pragma once

#include <cstddef>

namespace refold::catalog {

struct BuiltinFile {
  const char* name;
  const char* data;
  std::size_t size;
};

extern const BuiltinFile kBuiltinFiles[];
extern const std::size_t kBuiltinFileCount;

}  // namespace refold::catalog
