// Data-key rotation through refold.h: online (threads of this client and
// another process read, connect and refresh throughout), the old keys and
// the records they sealed gone from the store file, progress in
// refold_data_key_status, and argument checks.
#include "lifecycle_fixture.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>

using namespace refold_test;

namespace {

constexpr int kWidgets = 300;

std::string widget_account(int i) { return "w-" + std::to_string(i); }
// A distinct api_key per account, so a mixed-up record would show.
std::string widget_key_for(int i) {
  std::string k = "wk_" + std::to_string(i);
  while (k.size() < 20) k += 'x';
  return k;
}

json::object key_status(refold_client* c) {
  char* out = nullptr;
  REQUIRE_MESSAGE(refold_data_key_status(c, &out) == REFOLD_OK, last_error());
  return parse(take(out)).as_object();
}

// Reads every widget connection once; returns how many failed or read wrong.
int read_widgets(refold_client* c, std::mt19937& rng, int n) {
  int bad = 0;
  for (int k = 0; k < n; ++k) {
    const int i = static_cast<int>(rng() % kWidgets);
    int rc = 0;
    std::string creds = get_credentials(c, widget_account(i).c_str(), "widget", rc);
    if (rc != REFOLD_OK || !field_is(parse(creds).as_object().at("fields").as_object(), "api_key",
                                     widget_key_for(i)))
      ++bad;
  }
  return bad;
}

bool file_holds(const std::string& path, const std::vector<std::uint8_t>& needle) {
  auto data = read_file(path);
  if (!data || needle.empty()) return false;
  return data->find(std::string(needle.begin(), needle.end())) != std::string::npos;
}

}  // namespace

TEST_CASE("data keys: rotations run while threads read, connect and refresh, and another process reads") {
  Lifecycle f({"--auto-approve"});
  // The same store, with the widget app too.
  bj::object cfg = parse(f.config).as_object();
  cfg["catalog"].as_array().push_back(widget_app());
  const std::string config = to_json(cfg);
  ClientPtr c = open_client(config);
  f.clock.install(c.get());
  for (int i = 0; i < kWidgets; ++i)
    connect_ok(c.get(), widget_account(i).c_str(), "widget", to_json(widget_payload(widget_key_for(i))));
  f.connect("acct");

  // What a stolen copy of the store holds now: the data key, wrapped, and
  // a record sealed under it.
  const auto old_wrapped = sql_blob(f.store.path, "SELECT wrapped FROM data_keys");
  const auto old_record = sql_blob(f.store.path, "SELECT ciphertext FROM connections WHERE account = 'w-7'");
  REQUIRE(old_wrapped.size() >= 32);
  REQUIRE(old_record.size() >= 16);
  // The store's files (SQLite). A PostgreSQL server keeps dead row versions
  // in its own files until VACUUM reclaims them (docs/deployment.md), out of
  // refold's reach; there the rows hold none of the old bytes (below).
  const bool sqlite = !postgres_uri();
  const auto on_disk = [&](const std::vector<std::uint8_t>& blob) {
    return file_holds(f.store.path, blob) || file_holds(f.store.path + "-wal", blob);
  };
  if (sqlite) {
    CHECK(on_disk(old_wrapped));
    CHECK(on_disk(old_record));
  }

  // Another process reads widgets until told to stop, counting its reads
  // in memory shared with this one.
  auto* shared = static_cast<std::atomic<long>*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(shared != MAP_FAILED);
  std::atomic<long>& other_reads = shared[0];
  std::atomic<long>& other_bad = shared[1];
  const std::string stop = f.store.dir.file("stop");
  Child other = spawn([&] {
    refold_client* oc = nullptr;
    if (refold_client_open(&oc, config.c_str()) != REFOLD_OK) return std::string("open failed");
    std::mt19937 rng(7);
    while (!file_exists(stop)) {
      other_bad += read_widgets(oc, rng, 5);
      other_reads += 5;
    }
    refold_client_free(oc);
    return std::string("done");
  });
  while (other_reads.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, refreshes{0}, connects{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n)
    threads.emplace_back([&, n] {
      std::mt19937 rng(static_cast<unsigned>(n));
      while (!done) bad += read_widgets(c.get(), rng, 10);
    });
  threads.emplace_back([&] {  // connects new accounts
    for (int i = 0; !done; ++i) {
      const std::string acct = "new-" + std::to_string(i);
      if (refold_connect(c.get(), acct.c_str(), "widget", to_json(widget_payload(widget_key())).c_str()) != REFOLD_OK)
        ++bad;
      ++connects;
    }
  });
  threads.emplace_back([&] {  // refreshes: each read finds the token expired
    while (!done) {
      f.clock.advance(2 * kHour);
      int rc = 0;
      std::string creds = get_credentials(c.get(), "acct", "sandbox", rc);
      if (rc != REFOLD_OK) ++bad;
      else ++refreshes;
    }
  });

  // At least four rotations, and as many more as it takes for the other
  // process to have read a few hundred times while they ran.
  const long reads_before = other_reads.load();
  int rotations = 0;
  while (rotations < 4 || (other_reads.load() - reads_before < 300 && rotations < 200)) {
    REQUIRE_MESSAGE(refold_rotate_data_key(c.get()) == REFOLD_OK, last_error());
    ++rotations;
  }
  const long other_read = other_reads.load() - reads_before;
  done = true;
  for (auto& t : threads) t.join();
  write_file(stop, "");
  CHECK(read_line(other) == "done");
  reap(other);
  INFO("rotations: " << rotations << ", reads by the other process meanwhile: " << other_read);
  CHECK(other_read >= 300);
  CHECK(other_bad.load() == 0);
  ::munmap(shared, 4096);

  CHECK(bad.load() == 0);
  CHECK(refreshes.load() > 0);
  CHECK(connects.load() > 0);
  CHECK(f.count("token_refresh") >= refreshes.load());

  // One key, the newest; every record under it and readable.
  json::object st = key_status(c.get());
  CHECK(st["current_key"].as_int64() == rotations + 1);
  CHECK_FALSE(st["rotating"].as_bool());
  CHECK(st["records_to_reseal"].as_int64() == 0);
  REQUIRE(st["keys"].as_array().size() == 1);
  CHECK(st["keys"].as_array()[0].as_object()["connections"].as_int64() == kWidgets + connects.load() + 1);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections WHERE key_id <> " +
                                     std::to_string(rotations + 1)) == "0");
  std::mt19937 rng(99);
  CHECK(read_widgets(c.get(), rng, 200) == 0);
  f.token_ok();

  // Once the clients close, neither the old wrapped key nor the old
  // ciphertext is anywhere in the store's files.
  c.reset();
  f.client.reset();
  if (sqlite) {
    CHECK_FALSE(on_disk(old_wrapped));
    CHECK_FALSE(on_disk(old_record));
  }
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM data_keys") == "1");
  CHECK(sql_blob(f.store.path, "SELECT wrapped FROM data_keys") != old_wrapped);
  CHECK(sql_blob(f.store.path, "SELECT ciphertext FROM connections WHERE account = 'w-7'") != old_record);
}

TEST_CASE("data keys: status of a new store, and bad arguments") {
  WidgetClient w;
  json::object st = key_status(w.c());
  CHECK(st["current_key"].as_int64() == 1);
  CHECK_FALSE(st["rotating"].as_bool());
  CHECK(st["records_to_reseal"].as_int64() == 0);
  REQUIRE(st["keys"].as_array().size() == 1);
  json::object k = st["keys"].as_array()[0].as_object();
  CHECK(str_at(k, "state") == "current");
  CHECK(is_rfc3339_utc(str_at(k, "created_at")));
  CHECK(k["connections"].as_int64() == 0);
  CHECK(k["pending_flows"].as_int64() == 0);

  CHECK(refold_rotate_data_key(nullptr) == REFOLD_EINVALID);
  char* out = reinterpret_cast<char*>(1);
  CHECK(refold_data_key_status(nullptr, &out) == REFOLD_EINVALID);
  CHECK(out == nullptr);
  CHECK(refold_data_key_status(w.c(), nullptr) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "json_out"));
}

TEST_CASE("data keys: a client of another process reads records re-sealed after a master-key rotation, through its key file") {
  TempDir dir;
  const std::string key_file = dir.file("master.key");
  write_private_file(key_file, random_hex_key());
  json::object cfg{{"store", dir.store()}, {"key_file", key_file}, {"catalog", widget_catalog()}};
  ClientPtr a = open_client(to_json(cfg));
  ClientPtr b = open_client(to_json(cfg));  // loaded the first data key, with the first master key
  connect_ok(a.get(), "acct", "widget", to_json(widget_payload(widget_key_for(1))));

  REQUIRE(refold_rotate_master_key(a.get(), random_hex_key().c_str()) == REFOLD_OK);
  REQUIRE_MESSAGE(refold_rotate_data_key(a.get()) == REFOLD_OK, last_error());
  // b meets a data key wrapped by a master key it never had: it reads the
  // key file again and goes on.
  CHECK(field_is(credential_fields(b.get(), "acct", "widget"), "api_key", widget_key_for(1)));
  REQUIRE_MESSAGE(refold_rotate_data_key(b.get()) == REFOLD_OK, last_error());
  CHECK(field_is(credential_fields(a.get(), "acct", "widget"), "api_key", widget_key_for(1)));
  CHECK(key_status(a.get())["current_key"].as_int64() == 3);
}

TEST_CASE("data keys: a client whose master key another process rotated fails a refresh before sending it") {
  Lifecycle f({"--auto-approve"});  // the sandbox rotates refresh tokens
  f.connect("acct");
  f.token_ok();
  ClientPtr stale = f.open(f.config);  // the first master key, from config: it cannot learn another

  // Another process rotates the master key, then the data key.
  const std::string new_key = random_hex_key();
  REQUIRE(refold_rotate_master_key(f.client.get(), new_key.c_str()) == REFOLD_OK);
  REQUIRE_MESSAGE(refold_rotate_data_key(f.client.get()) == REFOLD_OK, last_error());
  f.client.reset();

  // The token has expired: the stale client would refresh, but could not
  // seal the answer. It must fail before the provider rotates the token.
  f.clock.advance(2 * kHour);
  const auto refreshes = f.count("token_refresh");
  int rc = 0;
  get_credentials(stale.get(), "acct", "sandbox", rc);
  CHECK(rc == REFOLD_ECRYPTO);
  CHECK(contains(last_error(), "master key"));
  CHECK(f.count("token_refresh") == refreshes);
  CHECK(f.status() == "active/");

  // With the new key, the refresh token still works: it was never spent.
  bj::object cfg = parse(f.config).as_object();
  cfg["master_key"] = new_key;
  f.client = f.open(to_json(cfg));
  f.token_ok();
  CHECK(f.count("token_refresh") == refreshes + 1);
}
