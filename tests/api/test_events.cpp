// Events: what is emitted, when, and what a handler may do.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace refold_test;

namespace {

using Fixture = WidgetClient;

void check_event(const json::object& e, std::string_view type, std::string_view account,
                 std::string_view app) {
  CHECK(str_at(e, "type") == type);
  CHECK(str_at(e, "account") == account);
  CHECK(str_at(e, "app") == app);
  CHECK(str_at(e, "auth_type") == "keybased");
  CHECK(is_rfc3339_utc(str_at(e, "at")));
}

// Counts free_payload calls per payload.
struct FreeCounter {
  std::mutex mu;
  std::vector<void*> freed;
  int count(void* p) {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (auto* q : freed) n += (q == p);
    return n;
  }
};
FreeCounter g_frees;

void reset_frees() {
  std::lock_guard<std::mutex> lock(g_frees.mu);
  g_frees.freed.clear();
}

void free_payload(void* p) {
  std::lock_guard<std::mutex> lock(g_frees.mu);
  g_frees.freed.push_back(p);
}

}  // namespace

TEST_CASE("events: created reauthenticated and deleted") {
  Fixture f;
  EventRecorder rec;
  rec.install(f.c());

  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  {
    const auto ev = rec.events();
    REQUIRE(ev.size() == 1);
    check_event(ev[0], "connection.created", "A", "twilio");
  }
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  {
    const auto ev = rec.events();
    REQUIRE(ev.size() == 2);
    check_event(ev[1], "connection.reauthenticated", "A", "twilio");
  }
  REQUIRE(refold_disconnect(f.c(), "A", "twilio") == REFOLD_OK);
  {
    const auto ev = rec.events();
    REQUIRE(ev.size() == 3);
    check_event(ev[2], "connection.deleted", "A", "twilio");
    CHECK(str_at(ev[2], "reason") == "disconnected");
  }
  // Disconnecting what is not connected emits nothing.
  REQUIRE(refold_disconnect(f.c(), "A", "twilio") == REFOLD_OK);
  REQUIRE(refold_disconnect(f.c(), "B", "stripe") == REFOLD_OK);
  CHECK(rec.size() == 3);
  // A connection made after a delete is new again.
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  const auto ev = rec.events();
  REQUIRE(ev.size() == 4);
  check_event(ev[3], "connection.created", "A", "twilio");
}

TEST_CASE("events: deleting an account emits one deletion per connection") {
  Fixture f;
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  connect_ok(f.c(), "A", "widget", to_json(widget_payload(widget_key())));
  connect_ok(f.c(), "A", "openai", R"({"api_key": "sk-)" + random_token(30) + "\"}");
  connect_ok(f.c(), "B", "twilio", twilio_payload(random_token()));

  EventRecorder rec;
  rec.install(f.c());
  REQUIRE(refold_delete_account(f.c(), "A") == REFOLD_OK);
  const auto ev = rec.events();
  REQUIRE(ev.size() == 3);
  std::set<std::string> apps;
  for (const auto& e : ev) {
    CHECK(str_at(e, "type") == "connection.deleted");
    CHECK(str_at(e, "account") == "A");
    CHECK(str_at(e, "reason") == "account_deleted");
    CHECK(str_at(e, "auth_type") == "keybased");
    CHECK(is_rfc3339_utc(str_at(e, "at")));
    apps.insert(str_at(e, "app"));
  }
  CHECK(apps == std::set<std::string>{"twilio", "widget", "openai"});

  REQUIRE(refold_delete_account(f.c(), "A") == REFOLD_OK);
  REQUIRE(refold_delete_account(f.c(), "nobody") == REFOLD_OK);
  CHECK(rec.size() == 3);
}

TEST_CASE("events: a failed connect emits nothing") {
  Fixture f;
  const std::string token = random_token();
  connect_ok(f.c(), "A", "twilio", twilio_payload(token));
  EventRecorder rec;
  rec.install(f.c());

  CHECK(refold_connect(f.c(), "A", "twilio", twilio_payload(random_token(10)).c_str()) ==
        REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "A", "twilio", "[]") == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "A", "twilio", nullptr) == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "B", "twilio", "{}") == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "B", "no-such-app", "{}") == REFOLD_ENOTFOUND);
  CHECK(refold_connect(f.c(), "", "twilio", twilio_payload(token).c_str()) == REFOLD_EINVALID);
  CHECK(refold_disconnect(f.c(), "B", "no-such-app") == REFOLD_ENOTFOUND);
  CHECK(rec.size() == 0);
}

TEST_CASE("events: no secret value in any event") {
  Fixture f;
  EventRecorder rec;
  rec.install(f.c());
  const std::string token = random_token(50);
  const std::string key = widget_key();
  const std::string nick = "n" + random_token(3);
  connect_ok(f.c(), "A", "twilio", twilio_payload(token, "+15557654321"));
  json::object wp = widget_payload(key);
  wp["nickname"] = nick;
  connect_ok(f.c(), "A", "widget", to_json(wp));
  connect_ok(f.c(), "A", "widget", to_json(wp));
  REQUIRE(refold_disconnect(f.c(), "A", "widget") == REFOLD_OK);
  REQUIRE(refold_delete_account(f.c(), "A") == REFOLD_OK);
  const auto texts = rec.texts();
  CHECK(texts.size() == 5);
  for (const auto& t : texts) {
    CHECK(!contains(t, token));
    CHECK(!contains(t, key));
    CHECK(!contains(t, nick));
    CHECK(!contains(t, valid_sid()));
    CHECK(!contains(t, "+15557654321"));
    CHECK(!contains(t, f.store.key));
  }
}

TEST_CASE("events: the handler runs on the thread of the operation") {
  Fixture f;
  struct Seen {
    std::mutex mu;
    std::vector<std::thread::id> ids;
  } seen;
  auto cb = [](const char*, void* p) {
    auto* s = static_cast<Seen*>(p);
    std::lock_guard<std::mutex> lock(s->mu);
    s->ids.push_back(std::this_thread::get_id());
  };
  REQUIRE(refold_set_event_handler(f.c(), cb, &seen, nullptr) == REFOLD_OK);
  std::thread::id worker;
  std::thread t([&] {
    worker = std::this_thread::get_id();
    connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  });
  t.join();
  REQUIRE(refold_disconnect(f.c(), "A", "twilio") == REFOLD_OK);
  std::lock_guard<std::mutex> lock(seen.mu);
  REQUIRE(seen.ids.size() == 2);
  CHECK(seen.ids[0] == worker);
  CHECK(seen.ids[1] == std::this_thread::get_id());
}

namespace {

// A handler that reads the store from inside the callback.
struct Reader {
  refold_client* client = nullptr;
  std::mutex mu;
  std::vector<std::string> types;
  std::vector<int> get_rc;
  std::vector<std::string> tokens;  // auth_token read inside the handler
  std::vector<int> list_rc;
  std::vector<std::size_t> list_sizes;

  static void cb(const char* event_json, void* p) {
    auto* self = static_cast<Reader*>(p);
    boost::system::error_code ec;
    const json::value v = json::parse(event_json, ec);
    std::string type, account, app;
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (auto* t = o.if_contains("type"); t && t->is_string()) type = t->as_string();
      if (auto* a = o.if_contains("account"); a && a->is_string()) account = a->as_string();
      if (auto* a = o.if_contains("app"); a && a->is_string()) app = a->as_string();
    }
    char* out = nullptr;
    const int rc = refold_get_credentials(self->client, account.c_str(), app.c_str(), &out);
    std::string token;
    if (rc == REFOLD_OK && out) {
      const json::value cred = json::parse(out, ec);
      if (!ec && cred.is_object()) {
        const auto* fields = cred.as_object().if_contains("fields");
        if (fields && fields->is_object()) {
          const auto* t = fields->as_object().if_contains("auth_token");
          if (t && t->is_string()) token = t->as_string();
        }
      }
    }
    refold_free(out);
    char* list = nullptr;
    const int lrc = refold_list_connections(self->client, nullptr, &list);
    std::size_t n = 0;
    if (lrc == REFOLD_OK && list) {
      const json::value l = json::parse(list, ec);
      if (!ec && l.is_array()) n = l.as_array().size();
    }
    refold_free(list);
    std::lock_guard<std::mutex> lock(self->mu);
    self->types.push_back(type);
    self->get_rc.push_back(rc);
    self->tokens.push_back(token);
    self->list_rc.push_back(lrc);
    self->list_sizes.push_back(n);
  }
};

}  // namespace

TEST_CASE("events: the handler may read through the library") {
  Fixture f;
  Reader r;
  r.client = f.c();
  REQUIRE(refold_set_event_handler(f.c(), &Reader::cb, &r, nullptr) == REFOLD_OK);
  const std::string t1 = random_token(), t2 = random_token();
  connect_ok(f.c(), "A", "twilio", twilio_payload(t1));
  connect_ok(f.c(), "A", "twilio", twilio_payload(t2));
  REQUIRE(refold_disconnect(f.c(), "A", "twilio") == REFOLD_OK);

  std::lock_guard<std::mutex> lock(r.mu);
  REQUIRE(r.types.size() == 3);
  CHECK(r.types[0] == "connection.created");
  CHECK(r.types[1] == "connection.reauthenticated");
  CHECK(r.types[2] == "connection.deleted");
  // The change is committed before the handler runs.
  CHECK(r.get_rc[0] == REFOLD_OK);
  CHECK((r.tokens[0] == t1));
  CHECK(r.get_rc[1] == REFOLD_OK);
  CHECK((r.tokens[1] == t2));
  CHECK(r.get_rc[2] == REFOLD_ENOTFOUND);
  CHECK(r.list_rc == std::vector<int>{0, 0, 0});
  CHECK(r.list_sizes == std::vector<std::size_t>{1, 1, 0});
}

namespace {

// A handler that disconnects every new connection from inside the callback.
struct Undoer {
  refold_client* client = nullptr;
  std::mutex mu;
  std::vector<std::string> types;
  std::vector<int> disconnect_rc;

  static void cb(const char* event_json, void* p) {
    auto* self = static_cast<Undoer*>(p);
    boost::system::error_code ec;
    const json::value v = json::parse(event_json, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.as_object();
    std::string type, account, app;
    if (auto* t = o.if_contains("type"); t && t->is_string()) type = t->as_string();
    if (auto* a = o.if_contains("account"); a && a->is_string()) account = a->as_string();
    if (auto* a = o.if_contains("app"); a && a->is_string()) app = a->as_string();
    {
      std::lock_guard<std::mutex> lock(self->mu);
      self->types.push_back(type);
    }
    if (type == "connection.created") {
      const int rc = refold_disconnect(self->client, account.c_str(), app.c_str());
      std::lock_guard<std::mutex> lock(self->mu);
      self->disconnect_rc.push_back(rc);
    }
  }
};

}  // namespace

TEST_CASE("events: the handler may disconnect from inside the callback") {
  Fixture f;
  Undoer u;
  u.client = f.c();
  REQUIRE(refold_set_event_handler(f.c(), &Undoer::cb, &u, nullptr) == REFOLD_OK);
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  {
    std::lock_guard<std::mutex> lock(u.mu);
    CHECK(u.types == std::vector<std::string>{"connection.created", "connection.deleted"});
    CHECK(u.disconnect_rc == std::vector<int>{REFOLD_OK});
  }
  int rc = 0;
  get_credentials(f.c(), "A", "twilio", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
  CHECK(list_connections(f.c(), nullptr).empty());
}

namespace {

// A handler that replaces itself from inside the callback.
struct SelfReplacer {
  refold_client* client = nullptr;
  int calls = 0;
  int set_rc = 1;
  static void cb(const char*, void* p) {
    auto* self = static_cast<SelfReplacer*>(p);
    ++self->calls;
    self->set_rc = refold_set_event_handler(self->client, nullptr, nullptr, nullptr);
  }
};

}  // namespace

TEST_CASE("events: the handler may remove itself from inside the callback") {
  reset_frees();
  Fixture f;
  SelfReplacer s;
  s.client = f.c();
  REQUIRE(refold_set_event_handler(f.c(), &SelfReplacer::cb, &s, &free_payload) == REFOLD_OK);
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  CHECK(s.calls == 1);
  CHECK(s.set_rc == REFOLD_OK);
  CHECK(g_frees.count(&s) == 1);
}

TEST_CASE("events: the payload destructor runs once when a registration ends") {
  reset_frees();  // subcases rerun this body with the same stack addresses
  Store store;
  ClientPtr c = open_client(store.config());
  EventRecorder r1, r2, r3;

  REQUIRE(refold_set_event_handler(c.get(), &EventRecorder::callback, &r1, &free_payload) ==
          REFOLD_OK);
  connect_ok(c.get(), "A", "twilio", twilio_payload(random_token()));
  CHECK(r1.size() == 1);
  CHECK(g_frees.count(&r1) == 0);

  SUBCASE("replaced, removed and freed") {
    REQUIRE(refold_set_event_handler(c.get(), &EventRecorder::callback, &r2, &free_payload) ==
            REFOLD_OK);
    CHECK(g_frees.count(&r1) == 1);
    CHECK(g_frees.count(&r2) == 0);
    connect_ok(c.get(), "A", "twilio", twilio_payload(random_token()));
    CHECK(r1.size() == 1);  // the old handler is no longer called
    CHECK(r2.size() == 1);

    REQUIRE(refold_set_event_handler(c.get(), nullptr, nullptr, nullptr) == REFOLD_OK);
    CHECK(g_frees.count(&r2) == 1);
    connect_ok(c.get(), "A", "twilio", twilio_payload(random_token()));
    CHECK(r1.size() == 1);
    CHECK(r2.size() == 1);

    REQUIRE(refold_set_event_handler(c.get(), &EventRecorder::callback, &r3, &free_payload) ==
            REFOLD_OK);
    REQUIRE(refold_disconnect(c.get(), "A", "twilio") == REFOLD_OK);
    CHECK(r3.size() == 1);
    c.reset();  // refold_client_free
    CHECK(g_frees.count(&r3) == 1);
  }
  SUBCASE("freed with the client") {
    c.reset();
    CHECK(g_frees.count(&r1) == 1);
  }
  SUBCASE("the same payload registered again") {
    REQUIRE(refold_set_event_handler(c.get(), &EventRecorder::callback, &r1, &free_payload) ==
            REFOLD_OK);
    // The first registration ended; the second is live.
    CHECK(g_frees.count(&r1) == 1);
    connect_ok(c.get(), "A", "twilio", twilio_payload(random_token()));
    CHECK(r1.size() == 2);
    c.reset();
    CHECK(g_frees.count(&r1) == 2);
  }
  // Never more than once per registration.
  CHECK(g_frees.count(&r1) <= 2);
  CHECK(g_frees.count(&r2) <= 1);
  CHECK(g_frees.count(&r3) <= 1);
}
