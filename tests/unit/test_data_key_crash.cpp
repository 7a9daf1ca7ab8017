// Data-key rotation of 100,000 connections by the `refold` tool, SIGKILLed
// part-way several times while this process goes on reading: nothing is
// lost or unreadable after any kill, and the next run finishes the same
// rotation.
#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vault/vault.hpp"
#include "store/sqlite.hpp"
#include "temp_store.hpp"

extern char** environ;

using namespace refold;
using refold::test::TempStore;

namespace {

constexpr int kConnections = 100'000;

crypto::SecretBytes master_key() {
  crypto::SecretBytes k(32);
  std::fill(k.data(), k.data() + 32, 0x5C);
  return k;
}

store::ConnectionId conn(int i) { return {"acct-" + std::to_string(i), "openai", "keybased"}; }
std::string plain(int i) {
  return R"({"auth_type":"keybased","fields":{"api_key":"sk-)" + std::to_string(i) + R"("}})";
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Writes every record in one transaction: connecting them one by one
// would take a disk sync each.
void bulk_fill(const std::string& path, const vault::Vault& v, std::int64_t key_id) {
  sqlite::Db db(path, false);
  sqlite::Transaction tx(db, sqlite::Transaction::immediate);
  sqlite::Stmt ins(db,
                   "INSERT INTO connections (account, app, auth_type, created_at, updated_at, key_id,"
                   " nonce, ciphertext, version) VALUES (?1, ?2, ?3, 1000, 1000, ?4, ?5, ?6, 1)");
  for (int i = 0; i < kConnections; ++i) {
    const auto id = conn(i);
    const auto sealed = v.seal(id, bytes(plain(i)), key_id);
    ins.bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, sealed.key_id)
        .bind(5, std::span(sealed.nonce)).bind(6, std::span(sealed.ciphertext)).run();
    ins.reset();
  }
  tx.commit();
}

std::int64_t scalar(sqlite::Db& db, const char* sql) {
  sqlite::Stmt s(db, sql);
  REQUIRE(s.step());
  return s.integer(0);
}

// Starts `refold --store PATH rotate-data-key` with the master key in its
// environment.
pid_t start_rotation(const std::string& path) {
  std::string key_env = "REFOLD_MASTER_KEY=";
  for (int i = 0; i < 32; ++i) key_env += "5c";  // master_key() in hex
  std::vector<char*> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "REFOLD_", 7) != 0) env.push_back(*e);
  env.push_back(const_cast<char*>(key_env.c_str()));
  env.push_back(nullptr);
  std::vector<std::string> args = {REFOLD_CLI_PATH, "--store", path, "rotate-data-key"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, REFOLD_CLI_PATH, &fa, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("data-key rotation of 100,000 connections survives SIGKILLs part-way and is finished by the next run") {
  TempStore t;
  t.store->migrate();
  SystemClock clock;
  const std::string path = t.dir + "/s.db";
  {
    vault::Vault v(*t.store, master_key(), t.meta.store_id, clock);
    bulk_fill(path, v, 1);
  }
  // This process reads throughout, as a host's other processes would.
  vault::Vault reader(*t.store, master_key(), t.meta.store_id, clock);
  std::mt19937 rng(42);
  std::size_t reads = 0;
  const auto read_some = [&](int n) {
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(rng() % kConnections);
      auto row = t.store->find(conn(i).account, conn(i).app);
      REQUIRE(row);
      REQUIRE(std::string(reader.open(row->connection.id, row->sealed).view()) == plain(i));
      ++reads;
    }
  };

  sqlite::Db watch(path, false);
  const char* kOnCurrent =
      "SELECT count(*) FROM connections WHERE key_id = (SELECT max(id) FROM data_keys)";
  // Kill the tool once a quarter, then half, then three quarters of the
  // records are under the new key (each run resumes the last).
  int kills = 0;
  bool finished = false;
  for (int target : {kConnections / 4, kConnections / 2, kConnections * 3 / 4}) {
    const pid_t pid = start_rotation(path);
    bool killed = false;
    for (;;) {
      read_some(5);
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        // Finished before the target was seen: nothing to kill this round.
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
        finished = true;
        break;
      }
      const bool rotating = scalar(watch, "SELECT count(*) FROM data_keys") == 2;
      if (rotating && scalar(watch, kOnCurrent) >= target) {
        ::kill(pid, SIGKILL);
        const int st = wait_exit(pid);
        killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        break;
      }
    }
    if (!killed) break;
    if (scalar(watch, "SELECT count(*) FROM data_keys") == 1) {
      finished = true;  // the kill landed after the rotation's last commit
      break;
    }
    ++kills;
    // After each kill: a sound file, every connection still there, the
    // rotation visibly unfinished, a sample readable by a new process.
    {
      sqlite::Stmt ic(watch, "PRAGMA integrity_check");
      REQUIRE(ic.step());
      CHECK(ic.text(0) == "ok");
    }
    CHECK(scalar(watch, "SELECT count(*) FROM connections") == kConnections);
    CHECK(scalar(watch, "SELECT count(*) FROM data_keys") == 2);
    CHECK(scalar(watch, "SELECT max(id) FROM data_keys") == 2);
    read_some(200);
  }
  MESSAGE("kills that landed part-way: " << kills << ", reads meanwhile: " << reads);
  CHECK(kills >= 1);

  // The last run finishes the same rotation: key 2, and key 1 is gone.
  if (!finished) {
    const int st = wait_exit(start_rotation(path));
    REQUIRE(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
  }
  CHECK(scalar(watch, "SELECT count(*) FROM data_keys") == 1);
  CHECK(scalar(watch, "SELECT max(id) FROM data_keys") == 2);
  CHECK(scalar(watch, "SELECT count(*) FROM connections WHERE key_id = 2") == kConnections);
  // Every record reads back as written, in a process that opens afterwards.
  store::SqliteStore fresh(path);
  vault::Vault v(fresh, master_key(), t.meta.store_id, clock);
  for (int i = 0; i < kConnections; ++i) {
    auto row = fresh.find(conn(i).account, conn(i).app);
    REQUIRE(row);
    REQUIRE(std::string(v.open(row->connection.id, row->sealed).view()) == plain(i));
  }
  CHECK(reads > 0);
}
