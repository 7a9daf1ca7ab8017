// Fills a store for refold_bench_core quickly: account-0 is connected
// through the library, and accounts 1 to N-1 are copies of its row, each
// sealed by the vault with its own fields (what a connect of that account
// would have stored), written in one transaction. A million durable
// connects take over ten minutes; this takes seconds.
//
//   refold_bench_seed --dir DIR --connections N
//
// then: refold_bench_core --dir DIR --reuse --connections N ...
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/client.hpp"
#include "core/config.hpp"
#include "store/sqlite.hpp"
#include "store/sqlite_store.hpp"
#include "twilio_rows.hpp"
#include "util/error.hpp"
#include "util/time.hpp"
#include "vault/master_key.hpp"
#include "vault/vault.hpp"

using namespace refold;

namespace {

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --dir DIR --connections N (N >= 1; DIR holds no store yet)\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  long n = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--connections" && i + 1 < argc) {
      char* end = nullptr;
      n = std::strtol(argv[++i], &end, 10);
      if (*end != '\0') return usage(argv[0]);  // "10x" is not a count
    }
    else return usage(argv[0]);
  }
  if (dir.empty() || n < 1) return usage(argv[0]);
  const std::string path = dir + "/bench.db";
  if (std::filesystem::exists(path)) {
    std::fprintf(stderr, "%s already exists\n", path.c_str());
    return 2;
  }
  try {
    std::filesystem::create_directories(dir);
    const std::string config = refold_bench::config_for(dir);
    {
      core::Client c(core::parse_config(config.c_str()));
      c.connect(refold_bench::account(0), "twilio", refold_bench::payload(0).c_str());
    }
    store::SqliteStore st(path);
    SystemClock clock;
    vault::Vault sealer(st, vault::parse_key(std::string(64, 'b'), "key", REFOLD_EINVALID),
                        st.meta().store_id, clock);
    const std::int64_t key_id = st.current_data_key();

    // Every column of account-0's row but the account and the sealed record.
    sqlite::Db db(path);
    std::string cols, values;
    {
      sqlite::Stmt info(db, "SELECT name FROM pragma_table_info('connections')");
      while (info.step()) {
        const std::string name = info.text(0);
        cols += (cols.empty() ? "" : ", ") + name;
        values += values.empty() ? "" : ", ";
        values += name == "account" ? "?1" : name == "nonce" ? "?2" : name == "ciphertext" ? "?3" : name;
      }
    }
    db.exec("BEGIN IMMEDIATE");
    sqlite::Stmt ins(db, "INSERT INTO connections (" + cols + ") SELECT " + values +
                             " FROM connections WHERE account = 'account-0' AND app = 'twilio'");
    // account-0's record with the fields of account i in it.
    auto row = st.find(refold_bench::account(0), "twilio");
    if (!row) throw std::runtime_error("account-0 was not stored");
    const crypto::WipedBytes first = sealer.open(row->connection.id, row->sealed);
    boost::json::object record =
        boost::json::parse(std::string_view(reinterpret_cast<const char*>(first.data()), first.size()))
            .as_object();
    for (long i = 1; i < n; ++i) {
      store::ConnectionId id{refold_bench::account(i), "twilio", row->connection.id.auth_type};
      record["fields"] = boost::json::parse(refold_bench::payload(i));
      const std::string plain = boost::json::serialize(record);
      store::Sealed s = sealer.seal(
          id, std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()), key_id);
      ins.bind(1, id.account).bind(2, std::span(s.nonce)).bind(3, std::span(s.ciphertext));
      ins.run();
      ins.reset();
    }
    db.exec("COMMIT");
    std::printf("%ld connections in %s\n", n, path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seeding failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
