// The torture sweep: for each operation below, fail its 1st fallible
// operation, then its 2nd, and so on until it runs untouched. At every
// point the call must return a clear error (or succeed despite the fault),
// leave a sound store, lose nothing stored before, hold no half-written
// connection, and the next call must work. ASan's leak check at exit covers
// leaks. REFOLD_TORTURE_STEP=K tries every K-th point only.
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "../api/lifecycle_fixture.hpp"
#include "fault.hpp"

using namespace refold_test;

namespace {

long step() {
  const char* s = std::getenv("REFOLD_TORTURE_STEP");
  const long k = s ? std::atol(s) : 1;
  return k > 0 ? k : 1;
}

bool allocations() { return std::getenv("REFOLD_TORTURE_ALLOC") != nullptr; }

// refold_client_open, and nothing else that allocates.
int raw_open(const std::string& config, ClientPtr& out) {
  refold_client* c = nullptr;
  const int rc = refold_client_open(&c, config.c_str());
  out.reset(c);
  return rc;
}

// What a failed call must look like: a refold code with a message that
// names no secret.
void check_failure(int rc, const std::vector<std::string>& secrets) {
  CHECK(rc < 0);
  const std::string msg = last_error();
  CHECK_FALSE(msg.empty());
  for (const auto& s : secrets) CHECK_FALSE(contains(msg, s));
}

// Runs `op` with the n-th operation failing, for n = 1, 1 + step, ...
// until `op` passes untouched. `setup` builds a fresh world each time (with
// faults off); `after` checks it once the fault is off again. Returns how
// many points failed.
template <class World>
long sweep(const std::function<std::unique_ptr<World>()>& setup, const std::function<int(World&)>& op,
           const std::function<void(World&, int)>& after) {
  long failed_points = 0;
  refold_torture::count_allocations(allocations());
  for (long n = 1;; n += step()) {
    std::unique_ptr<World> world = setup();
    World& w = *world;
    refold_torture::arm(n);
    const int rc = op(w);
    const long seen = refold_torture::disarm();
    if (seen < n) {  // the operation never reached the n-th point
      CHECK_MESSAGE(rc == REFOLD_OK, last_error());
      after(w, rc);
      break;
    }
    ++failed_points;
    const std::string what = refold_torture::failed_at();
    if (std::getenv("REFOLD_TORTURE_VERBOSE"))
      MESSAGE("point " << n << ": " << what << " -> " << rc << " " << last_error());
    CAPTURE(n);
    CAPTURE(what);
    after(w, rc);
  }
  MESSAGE(failed_points << " fault points swept");
  CHECK(failed_points > 0);
  return failed_points;
}

// ---- Key-based: a store holding "keep", and a client on it ----------------------------

// Whatever an operation passes to refold is made in setup, so that under
// allocation failures only refold's own allocations fail.
struct KeyWorld {
  Store store;
  std::string keep_token = random_token();
  std::string new_token = random_token();
  std::string new_payload = twilio_payload(new_token);
  std::string config = store.config();
  ClientPtr client;
};

std::unique_ptr<KeyWorld> key_world() {
  auto world = std::make_unique<KeyWorld>();
  KeyWorld& w = *world;
  w.client = open_client(w.store.config());
  connect_ok(w.client.get(), "keep", "twilio", twilio_payload(w.keep_token));
  return world;
}

// The auth_token stored for `account`, "" when not connected.
std::string stored_token(refold_client* c, const char* account) {
  int rc = 0;
  const std::string text = get_credentials(c, account, "twilio", rc);
  if (rc == REFOLD_ENOTFOUND) return "";
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  return str_at(parse(text).as_object().at("fields").as_object(), "auth_token");
}

// The store is sound, "keep" holds `keep` (read by a new client, so from
// disk), and `account` holds one of `allowed`.
void check_store(const KeyWorld& w, const std::string& keep, const char* account,
                 const std::vector<std::string>& allowed) {
  CHECK(integrity_check(w.store.path) == "ok");
  ClientPtr fresh = open_client(w.store.config());
  CHECK(same(stored_token(fresh.get(), "keep"), keep));
  const std::string got = stored_token(fresh.get(), account);
  bool ok = false;
  for (const auto& a : allowed) ok = ok || got == a;
  CHECK_MESSAGE(ok, "a connection holds something half-written");
}

}  // namespace

TEST_CASE("torture: key-based connect") {
  sweep<KeyWorld>(
      key_world,
      [](KeyWorld& w) {
        return refold_connect(w.client.get(), "new", "twilio", w.new_payload.c_str());
      },
      [](KeyWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {w.keep_token, w.new_token});
        check_store(w, w.keep_token, "new",
                    rc == REFOLD_OK ? std::vector<std::string>{w.new_token}
                                    : std::vector<std::string>{"", w.new_token});
        // The next call works, on the same client.
        connect_ok(w.client.get(), "new", "twilio", twilio_payload(w.new_token));
        CHECK(same(stored_token(w.client.get(), "new"), w.new_token));
        CHECK(same(stored_token(w.client.get(), "keep"), w.keep_token));
      });
}

TEST_CASE("torture: key-based reconnect replacing the fields") {
  sweep<KeyWorld>(
      key_world,
      [](KeyWorld& w) {
        return refold_connect(w.client.get(), "keep", "twilio", w.new_payload.c_str());
      },
      [](KeyWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {w.keep_token, w.new_token});
        // Old fields or new ones, never a mix or nothing.
        CHECK(integrity_check(w.store.path) == "ok");
        {
          ClientPtr fresh = open_client(w.store.config());
          const std::string got = stored_token(fresh.get(), "keep");
          CHECK((got == w.new_token || (rc != REFOLD_OK && got == w.keep_token)));
        }
        connect_ok(w.client.get(), "keep", "twilio", twilio_payload(w.new_token));
        CHECK(same(stored_token(w.client.get(), "keep"), w.new_token));
      });
}

TEST_CASE("torture: disconnect of a key-based connection") {
  sweep<KeyWorld>(
      [] {
        auto w = key_world();
        connect_ok(w->client.get(), "gone", "twilio", twilio_payload(w->new_token));
        return w;
      },
      [](KeyWorld& w) { return refold_disconnect(w.client.get(), "gone", "twilio"); },
      [](KeyWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {w.keep_token, w.new_token});
        check_store(w, w.keep_token, "gone",
                    rc == REFOLD_OK ? std::vector<std::string>{""}
                                    : std::vector<std::string>{"", w.new_token});
        CHECK(refold_disconnect(w.client.get(), "gone", "twilio") == REFOLD_OK);
        CHECK(stored_token(w.client.get(), "gone").empty());
      });
}

TEST_CASE("torture: rotating the data key") {
  struct DataKeyWorld {
    std::unique_ptr<KeyWorld> keys = key_world();
    KeyWorld& w = *keys;
    std::vector<std::string> tokens;  // of "acct-<i>"
  };
  sweep<DataKeyWorld>(
      [] {
        auto d = std::make_unique<DataKeyWorld>();
        for (int i = 0; i < 3; ++i) {
          d->tokens.push_back(random_token());
          connect_ok(d->w.client.get(), ("acct-" + std::to_string(i)).c_str(), "twilio",
                     twilio_payload(d->tokens.back()));
        }
        return d;
      },
      [](DataKeyWorld& d) { return refold_rotate_data_key(d.w.client.get()); },
      [](DataKeyWorld& d, int rc) {
        std::vector<std::string> secrets = d.tokens;
        secrets.push_back(d.w.keep_token);
        if (rc != REFOLD_OK) check_failure(rc, secrets);
        // Whatever point it stopped at, every record reads as it was, here
        // and in a new client; the next call finishes the rotation.
        check_store(d.w, d.w.keep_token, "acct-0", {d.tokens[0]});
        CHECK(refold_rotate_data_key(d.w.client.get()) == REFOLD_OK);
        // One key: the second if the faulted call failed (the next one
        // finished it), the third if it succeeded despite the fault.
        CHECK(sql_scalar(d.w.store.path, "SELECT count(*) || '/' || max(id) FROM data_keys") ==
              (rc == REFOLD_OK ? "1/3" : "1/2"));
        ClientPtr fresh = open_client(d.w.store.config());
        for (int i = 0; i < 3; ++i)
          CHECK(same(stored_token(fresh.get(), ("acct-" + std::to_string(i)).c_str()), d.tokens[static_cast<std::size_t>(i)]));
      });
}

TEST_CASE("torture: opening a client on a store") {
  struct OpenWorld {
    std::unique_ptr<KeyWorld> keys = key_world();
    KeyWorld& w = *keys;
    ClientPtr opened;
  };
  sweep<OpenWorld>(
      [] {
        auto o = std::make_unique<OpenWorld>();
        o->w.client.reset();
        return o;
      },
      [](OpenWorld& o) { return raw_open(o.w.config, o.opened); },
      [](OpenWorld& o, int rc) {
        if (rc != REFOLD_OK) {
          check_failure(rc, {o.w.keep_token, o.w.store.key});
          CHECK(o.opened == nullptr);
        }
        o.opened.reset();
        check_store(o.w, o.w.keep_token, "new", {""});
      });
}

TEST_CASE("torture: opening a new store whose key file refold creates") {
  struct NewWorld {
    TempDir dir;
    ClientPtr opened;
    std::string config_text = config();
    std::string config() const {
      json::object cfg;
      cfg["store"] = dir.store();
      return to_json(cfg);
    }
  };
  sweep<NewWorld>(
      [] { return std::make_unique<NewWorld>(); },
      [](NewWorld& o) { return raw_open(o.config_text, o.opened); },
      [](NewWorld& o, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {});
        o.opened.reset();
        // Whatever the failure left (no store, a store without its key, a
        // temporary key file), opening again either works or says why, and
        // a store that opens takes a connection that a new client reads.
        ClientPtr again;
        const int rc2 = try_open(o.config(), again);
        if (rc2 != REFOLD_OK) {
          check_failure(rc2, {});
          return;
        }
        const std::string token = random_token();
        connect_ok(again.get(), "acct", "twilio", twilio_payload(token));
        again.reset();
        ClientPtr third = open_client(o.config());
        CHECK(same(stored_token(third.get(), "acct"), token));
      });
}

TEST_CASE("torture: rotating the master key held in a key file") {
  struct RotateWorld {
    TempDir dir;
    std::string key_file = dir.path() + "/master.key";
    std::string old_key = random_hex_key();
    std::string new_key = random_hex_key();
    std::string token = random_token();
    ClientPtr client;
    std::string config() const {
      json::object cfg;
      cfg["store"] = dir.store();
      cfg["key_file"] = key_file;
      return to_json(cfg);
    }
  };
  sweep<RotateWorld>(
      [] {
        auto w = std::make_unique<RotateWorld>();
        write_private_file(w->key_file, w->old_key);
        w->client = open_client(w->config());
        connect_ok(w->client.get(), "keep", "twilio", twilio_payload(w->token));
        return w;
      },
      [](RotateWorld& w) { return refold_rotate_master_key(w.client.get(), w.new_key.c_str()); },
      [](RotateWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {w.old_key, w.new_key, w.token});
        CHECK(integrity_check(w.dir.store()) == "ok");
        // The key file and the store agree on one key, whichever it is,
        // and nothing is lost.
        {
          ClientPtr fresh = open_client(w.config());
          CHECK(same(stored_token(fresh.get(), "keep"), w.token));
        }
        // The next rotation works, on the same client.
        const std::string third = random_hex_key();
        CHECK_MESSAGE(refold_rotate_master_key(w.client.get(), third.c_str()) == REFOLD_OK, last_error());
        w.client.reset();
        ClientPtr fresh = open_client(w.config());
        CHECK(same(stored_token(fresh.get(), "keep"), w.token));
      });
}

// ---- OAuth against the sandbox -----------------------------------------------------------

namespace {

// One sandbox for a whole sweep. Refresh tokens are not rotated here: a
// fault after the provider's answer loses a rotated token by nature (see
// docs/threading.md), and this sweep is about what refold does with its
// own failures.
Devserver& sandbox() {
  static Devserver server(Lifecycle::with_client({"--auto-approve", "--rotate-refresh-tokens", "false"}));
  return server;
}

struct OAuthWorld {
  Store store;
  TestClock clock;
  std::string config;
  ClientPtr client;
  std::string keep_token = random_token();
};

std::unique_ptr<OAuthWorld> oauth_world() {
  auto world = std::make_unique<OAuthWorld>();
  OAuthWorld& w = *world;
  json::object cfg = config_object(w.store.path, w.store.key);
  cfg["catalog"] = json::array{sandbox().sandbox_app()};
  cfg["oauth_clients"] = json::object{{"sandbox", json::object{{"client_id", kClientId},
                                                               {"client_secret", kSecret},
                                                               {"redirect_uri", "http://127.0.0.1:9/callback"}}}};
  w.config = to_json(cfg);
  w.client = open_client(w.config);
  w.clock.install(w.client.get());
  connect_ok(w.client.get(), "keep", "twilio", twilio_payload(w.keep_token));
  char* url = nullptr;
  REQUIRE_MESSAGE(refold_oauth_begin(w.client.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK,
                  last_error());
  const std::string callback = follow_authorize(take(url));
  REQUIRE_MESSAGE(refold_oauth_complete(w.client.get(), callback.c_str(), nullptr) == REFOLD_OK,
                  last_error());
  return world;
}

std::string status_of(const OAuthWorld& w) {
  return sql_scalar(w.store.path,
                    "SELECT status || '/' || ifnull(reason, '') FROM connections WHERE app = 'sandbox'");
}

}  // namespace

TEST_CASE("torture: refreshing an expired token") {
  sweep<OAuthWorld>(
      [] {
        auto w = oauth_world();
        w->clock.advance(2 * 60 * 60 * 1000.0);
        return w;
      },
      [](OAuthWorld& w) {
        char* out = nullptr;
        const int rc = refold_get_credentials(w.client.get(), "acct", "sandbox", &out);
        refold_free(out);
        return rc;
      },
      [](OAuthWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {kSecret, w.keep_token});
        CHECK(integrity_check(w.store.path) == "ok");
        // A fault of refold's own never makes the user reconnect (a
        // failed refresh may leave its reason beside the active status).
        CHECK(status_of(w).rfind("active/", 0) == 0);
        // Past any back-off, the next read refreshes, on the same client.
        w.clock.advance(60 * 60 * 1000.0);
        char* out = nullptr;
        CHECK_MESSAGE(refold_get_credentials(w.client.get(), "acct", "sandbox", &out) == REFOLD_OK,
                      last_error());
        refold_free(out);
        CHECK(same(stored_token(w.client.get(), "keep"), w.keep_token));
      });
}

TEST_CASE("torture: disconnecting an OAuth connection (revocation, then removal)") {
  sweep<OAuthWorld>(
      oauth_world,
      [](OAuthWorld& w) { return refold_disconnect(w.client.get(), "acct", "sandbox"); },
      [](OAuthWorld& w, int rc) {
        if (rc != REFOLD_OK) check_failure(rc, {kSecret, w.keep_token});
        CHECK(integrity_check(w.store.path) == "ok");
        CHECK(refold_disconnect(w.client.get(), "acct", "sandbox") == REFOLD_OK);
        char* out = nullptr;
        CHECK(refold_get_credentials(w.client.get(), "acct", "sandbox", &out) == REFOLD_ENOTFOUND);
        refold_free(out);
        ClientPtr fresh = open_client(w.config);
        CHECK(same(stored_token(fresh.get(), "keep"), w.keep_token));
      });
}
