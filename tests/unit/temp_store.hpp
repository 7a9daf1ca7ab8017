// A new SQLite store in a temporary directory, removed with the fixture.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite_store.hpp"

namespace refold::test {

struct TempStore {
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "refold-unit-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    store = std::make_unique<store::SqliteStore>(dir + "/s.db");
    meta = store->initialize(store::Bytes(16, 7), store::Bytes(16, 9));
  }
  ~TempStore() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;

  std::string dir;
  std::unique_ptr<store::SqliteStore> store;
  store::Meta meta;
};

}  // namespace refold::test
