// Many instances on one PostgreSQL store: processes with background
// refreshers that share the due connections and refresh each once, an
// instance killed mid-refresh whose work another finishes, and a server
// restart in the middle of a run. The connections are client-credentials
// ones (a connect is one token request, so a thousand are made quickly);
// the sandbox's counters see every token request. No timing is asserted:
// every wait has a generous limit so a hang fails instead of blocking.
#include "lifecycle_fixture.hpp"
#include "pg_fixture.hpp"

#include <atomic>
#include <csignal>
#include <set>
#include <string>
#include <vector>

using namespace refold_test;

namespace {

// The fixture's client and config with the "sandbox-cc" app added.
void add_cc_app(Lifecycle& f) {
  bj::object cfg = parse(f.config).as_object();
  const std::string base = f.server.base_url();
  cfg.at("catalog").as_array().push_back(
      bj::object{{"slug", "sandbox-cc"},
                 {"name", "Sandbox machine to machine"},
                 {"auth_types", bj::array{"oauth2_cc"}},
                 {"oauth2_cc", bj::object{{"token_endpoint", base + "/oauth/token"}, {"scopes", bj::array{"read"}}}}});
  f.config = to_json(cfg);
  f.client.reset();
  f.client = f.open(f.config);
}

std::string account(int i) { return "acct-" + std::to_string(i); }

void connect_all(Lifecycle& f, int n) {
  const std::string payload = to_json(bj::object{{"client_id", kClientId}, {"client_secret", kSecret}});
  for (int i = 0; i < n; ++i)
    REQUIRE_MESSAGE(refold_connect(f.client.get(), account(i).c_str(), "sandbox-cc", payload.c_str()) == REFOLD_OK,
                    last_error());
}

// The config of an instance: the fixture's, with the background refresher
// (and `extra`).
std::string instance_config(const Lifecycle& f, int concurrency, bj::object extra = {}) {
  bj::object cfg = parse(f.config).as_object();
  cfg["background_refresh"] = true;
  cfg["refresh_concurrency"] = concurrency;
  for (const auto& kv : extra) cfg[kv.key()] = kv.value();
  return to_json(cfg);
}

double max_expiry(const std::string& store) {
  return std::stod(sql_scalar(store, "SELECT max(expires_at) FROM connections"));
}

std::int64_t rows_expiring_after(const std::string& store, double t) {
  return std::stoll(sql_scalar(store, "SELECT count(*) FROM connections WHERE status = 'active' AND"
                                      " expires_at > " + std::to_string(static_cast<std::int64_t>(t))));
}

// An instance: a forked process whose client refreshes in the background,
// its clock starting at `at`, until the file `stop` appears; its line is the
// number of refreshes it reported.
Child start_instance(const std::string& config, double at, const std::string& stop) {
  return spawn([config, at, stop]() -> std::string {
    refold_client* c = nullptr;
    if (refold_client_open(&c, config.c_str()) != REFOLD_OK) return "open failed";
    std::atomic<int> refreshed{0};
    refold_set_event_handler(
        c,
        [](const char* e, void* p) {
          if (std::string_view(e).find("\"type\":\"connection.refreshed\"") != std::string_view::npos)
            ++*static_cast<std::atomic<int>*>(p);
        },
        &refreshed, nullptr);
    // The client's clock starts at `at` and runs on with the wall clock,
    // so leases and back-offs run out as they would.
    struct Running {
      double at;
      std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
      static double now(void* p) {
        auto* self = static_cast<Running*>(p);
        return self->at + std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - self->start).count();
      }
    } clock{at};
    refold_set_clock(c, &Running::now, &clock, nullptr);
    for (int i = 0; i < 6000 && !file_exists(stop); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    refold_client_free(c);
    return std::to_string(refreshed.load());
  });
}

// Every event of the store's log, read as `consumer` and acknowledged.
std::vector<bj::object> drain_log(refold_client* c, const char* consumer) {
  std::vector<bj::object> out;
  for (;;) {
    char* text = nullptr;
    REQUIRE(refold_read_events(c, consumer, 10000, &text) == REFOLD_OK);
    bj::object page = parse(take(text)).as_object();
    const auto& events = page.at("events").as_array();
    if (events.empty()) return out;
    for (const auto& e : events) out.push_back(e.as_object());
    REQUIRE(refold_ack_events(c, consumer, out.back().at("seq").as_int64()) == REFOLD_OK);
  }
}

// How many accounts have an event of `type` in `events`, and whether any
// has more than one.
std::pair<std::size_t, bool> accounts_with(const std::vector<bj::object>& events, const std::string& type) {
  std::set<std::string> seen;
  bool twice = false;
  for (const auto& e : events)
    if (str_at(e, "type") == type) twice = !seen.insert(str_at(e, "account")).second || twice;
  return {seen.size(), twice};
}

}  // namespace

TEST_CASE("fleet: three instances with background refreshers refresh each of 1,000 due connections once") {
  constexpr int kConnections = 1000;
  Lifecycle f({"--auto-approve", "--access-token-ttl", "3600"});
  add_cc_app(f);
  connect_all(f, kConnections);
  const double at = max_expiry(f.store.path) + 1000;  // every token expired: all due
  f.client.reset();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","count":100000,"delay_ms":100})");
  f.server.admin_post("/admin/reset-counters", "{}");

  const std::string stop = f.store.dir.file("stop");
  const std::string config = instance_config(f, 8);
  std::vector<Child> fleet;
  for (int i = 0; i < 3; ++i) fleet.push_back(start_instance(config, at, stop));
  const bool done = eventually([&] { return f.count("token_client_credentials") >= kConnections; },
                               std::chrono::seconds(240));
  // A little longer: a second refresh of any connection would show now.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  write_file(stop, "stop");
  std::vector<int> per_instance;
  for (auto& child : fleet) {
    const std::string line = read_line(child);
    reap(child);
    per_instance.push_back(line.empty() || !std::isdigit(static_cast<unsigned char>(line[0])) ? -1 : std::stoi(line));
  }
  REQUIRE(done);

  CHECK(f.count("token_client_credentials") == kConnections);  // each connection once
  CHECK(per_instance[0] + per_instance[1] + per_instance[2] == kConnections);
  for (int n : per_instance) CHECK(n > 0);  // the fleet shared the work
  CHECK(rows_expiring_after(f.store.path, at) == kConnections);

  // The log holds one connect and one refresh per connection.
  ClientPtr c = open_client(f.config);
  const auto events = drain_log(c.get(), "fleet");
  CHECK(accounts_with(events, "connection.created") == std::pair<std::size_t, bool>{kConnections, false});
  CHECK(accounts_with(events, "connection.refreshed") == std::pair<std::size_t, bool>{kConnections, false});
}

TEST_CASE("fleet: an instance killed mid-refresh leaves its work to another, and the log has every event") {
  constexpr int kConnections = 60;
  Lifecycle f({"--auto-approve", "--access-token-ttl", "3600"});
  add_cc_app(f);
  connect_all(f, kConnections);
  const double at = max_expiry(f.store.path) + 1000;
  f.client.reset();
  ClientPtr reader = open_client(f.config);
  const auto before = drain_log(reader.get(), "relay");  // the connects
  CHECK(before.size() == kConnections);

  // The first instance's requests hang at the provider; it is killed while
  // it holds their leases.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","count":100000,"delay_ms":30000})");
  const std::string stop = f.store.dir.file("stop");
  Child doomed = start_instance(instance_config(f, 8), at, stop);
  REQUIRE(eventually([&] { return f.server.counters().at("token_in_flight").to_number<std::int64_t>() >= 8; },
                     std::chrono::seconds(60)));
  const std::int64_t leased =
      std::stoll(sql_scalar(f.store.path, "SELECT count(*) FROM connections WHERE lease_owner IS NOT NULL"));
  CHECK(leased >= 8);
  ::kill(doomed.pid, SIGKILL);
  reap(doomed);
  f.server.admin_post("/admin/fail/clear", R"({"endpoint":"token"})");

  // Another instance, a minute later by its clock: the dead one's leases
  // have run out, and it refreshes everything.
  Child survivor = start_instance(instance_config(f, 8), at + 60000, stop);
  REQUIRE(eventually([&] { return rows_expiring_after(f.store.path, at) == kConnections; }, std::chrono::seconds(120)));
  write_file(stop, "stop");
  CHECK(read_line(survivor) == std::to_string(kConnections));
  reap(survivor);

  // A consumer that read before sees exactly the refreshes, each once.
  const auto after = drain_log(reader.get(), "relay");
  CHECK(after.size() == kConnections);
  CHECK(accounts_with(after, "connection.refreshed") == std::pair<std::size_t, bool>{kConnections, false});
}

TEST_CASE("fleet: PostgreSQL restarted mid-run: refreshes fail meanwhile, then all finish, nothing lost") {
  constexpr int kConnections = 40;
  PrivateServer pg;
  const std::string uri = pg.database("fleet");
  Lifecycle f({"--auto-approve", "--access-token-ttl", "3600"},
              bj::object{{"store", uri}, {"postgresql_connect_timeout_ms", 2000}});
  add_cc_app(f);
  connect_all(f, kConnections);
  const double at = max_expiry(uri) + 1000;
  f.client.reset();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","count":100000,"delay_ms":200})");

  const std::string stop = f.store.dir.file("stop");
  std::vector<Child> fleet;
  // A refresh whose save failed keeps its lease until the lease runs out:
  // the HTTP timeout and 15 s. A short timeout keeps the test short.
  for (int i = 0; i < 2; ++i)
    fleet.push_back(start_instance(instance_config(f, 4, http_config(1000)), at, stop));
  REQUIRE(eventually([&] { return f.count("token_client_credentials") >= kConnections + 4; },
                     std::chrono::seconds(60)));
  REQUIRE(pg.run("pause") == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE(pg.run("resume") == 0);
  f.server.admin_post("/admin/fail/clear", R"({"endpoint":"token"})");
  const bool done = eventually([&] { return rows_expiring_after(uri, at) == kConnections; }, std::chrono::seconds(180));
  write_file(stop, "stop");
  for (auto& child : fleet) {
    read_line(child);
    reap(child);
  }
  REQUIRE(done);
  // Every connection is there and readable; every refresh that committed
  // reported itself in the log, and none twice.
  ClientPtr c = open_client(f.config);
  CHECK(list_connections(c.get(), nullptr).size() == kConnections);
  for (int i = 0; i < kConnections; ++i) {
    int rc = 0;
    get_credentials(c.get(), account(i).c_str(), "sandbox-cc", rc);
    CHECK(rc == REFOLD_OK);
  }
  const auto events = drain_log(c.get(), "fleet");
  CHECK(accounts_with(events, "connection.created") == std::pair<std::size_t, bool>{kConnections, false});
  CHECK(accounts_with(events, "connection.refreshed").first == kConnections);
}
