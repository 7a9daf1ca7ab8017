// The PostgreSQL run: the store-neutral API cases (tests/api, all but the
// test suite "sqlite") and the PostgreSQL store's own cases, every store a
// database of its own on the private server pg_server.sh started.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // ctest's fixture writes the URI here; a run by hand may point elsewhere.
  ::setenv("REFOLD_TEST_POSTGRES_URI_FILE", REFOLD_TEST_POSTGRES_URI_FILE, 0);
  // The cases give their keys in config; the host's must not leak in.
  ::unsetenv("REFOLD_MASTER_KEY");
  doctest::Context context;
  // Listed and run alike without the SQLite-only cases, so ctest never
  // registers a case that would run nothing.
  context.addFilter("test-suite-exclude", "sqlite");
  context.applyCommandLine(argc, argv);
  return context.run();
}
