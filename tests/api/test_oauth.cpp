// OAuth 2.0 connect against the sandbox provider (refold-devserver), over
// HTTP and HTTPS: begin/complete, the interactive loopback flow, and every
// way a callback must be refused without a token request.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "devserver.hpp"
#include "test_support.hpp"

using namespace refold_test;
namespace bj = boost::json;

namespace {

const char* kClientId = "test-client";
const char* kSecret = "test-secret-9f8e7d6c5b4a";

struct OAuthFixture {
  explicit OAuthFixture(std::vector<std::string> server_args = {"--auto-approve"},
                        bool tls = false, bool iss_supported = true)
      : pki(tls ? std::optional<TestPki>(make_test_pki(store.dir.path())) : std::nullopt),
        server(with_client(std::move(server_args)),
               tls ? std::optional<std::pair<std::string, std::string>>({pki->cert, pki->key})
                   : std::nullopt) {
    if (pki) server.ca_file = pki->ca;
    bj::object cfg = config_object(store.path, store.key);
    cfg["catalog"] = bj::array{server.sandbox_app(iss_supported), server.sandbox_keys_app()};
    cfg["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", client_id},
                                                             {"client_secret", secret},
                                                             {"redirect_uri", redirect}}}};
    if (pki) cfg["http"] = bj::object{{"ca_file", pki->ca}};
    config = to_json(cfg);
    client = open_client(config);
  }

  std::vector<std::string> with_client(std::vector<std::string> args) {
    args.push_back("--client");
    args.push_back(client_id + ":" + secret);
    return args;
  }

  std::string begin(const char* account = "acct") {
    char* url = nullptr;
    int rc = refold_oauth_begin(client.get(), account, "sandbox", nullptr, &url);
    REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
    return take(url);
  }
  std::int64_t count(const char* name) {
    return server.counters().at(name).to_number<std::int64_t>();
  }
  int complete(const std::string& callback) {
    return refold_oauth_complete(client.get(), callback.c_str(), nullptr);
  }

  std::string client_id = kClientId;
  std::string secret = kSecret;
  std::string redirect = "http://127.0.0.1:9/callback";
  Store store;
  std::optional<TestPki> pki;
  Devserver server;
  std::string config;
  ClientPtr client;
};

// An access token works at the sandbox's protected resource.
int api_me_status(const Devserver& s, const std::string& token) {
  return curl("GET", s.base_url() + "/api/me", "", {"Authorization: Bearer " + token}, s.ca_file).status;
}

}  // namespace

TEST_CASE("oauth: begin returns an authorize URL with state and an S256 challenge") {
  OAuthFixture f;
  std::string url = f.begin();
  CHECK(url.rfind(f.server.base_url() + "/oauth/authorize?", 0) == 0);
  auto q = query_params(url);
  CHECK(q["response_type"] == "code");
  CHECK(q["client_id"] == kClientId);
  CHECK(q["redirect_uri"] == f.redirect);
  CHECK(q["code_challenge_method"] == "S256");
  CHECK(q["code_challenge"].size() == 43);
  CHECK(q["state"].size() >= 22);  // >= 128 bits in base64url
  CHECK(q["scope"] == "profile read");
  CHECK(url.find(kSecret) == std::string::npos);
  CHECK(!q.count("code_verifier"));
  // Each flow gets its own state and challenge.
  auto q2 = query_params(f.begin());
  // (Compared outside CHECK, which would print the values.)
  bool new_state = q2["state"] != q["state"];
  bool new_challenge = q2["code_challenge"] != q["code_challenge"];
  CHECK(new_state);
  CHECK(new_challenge);
}

TEST_CASE("oauth: begin and complete connect an app over http") {
  OAuthFixture f;
  EventRecorder events;
  events.install(f.client.get());
  std::string callback = follow_authorize(f.begin());
  char* result = nullptr;
  REQUIRE_MESSAGE(refold_oauth_complete(f.client.get(), callback.c_str(), &result) == REFOLD_OK, last_error());
  bj::object r = parse(take(result)).as_object();
  CHECK(str_at(r, "account") == "acct");
  CHECK(str_at(r, "app") == "sandbox");
  CHECK(str_at(r, "auth_type") == "oauth2");
  CHECK(str_at(r, "status") == "active");
  CHECK(f.count("token_authorization_code") == 1);

  int rc = 0;
  std::string creds = get_credentials(f.client.get(), "acct", "sandbox", rc);
  REQUIRE(rc == REFOLD_OK);
  bj::object c = parse(creds).as_object();
  CHECK(str_at(c, "auth_type") == "oauth2");
  CHECK(str_at(c, "token_type") == "Bearer");
  CHECK(is_rfc3339_utc(str_at(c, "expires_at")));
  CHECK(c.at("scopes") == bj::array{"profile", "read"});
  CHECK_FALSE(has_key(c, "refresh_token"));
  CHECK(api_me_status(f.server, str_at(c, "access_token")) == 200);

  REQUIRE(events.size() == 1);
  CHECK(str_at(events.events()[0], "type") == "connection.created");
  CHECK(str_at(events.events()[0], "auth_type") == "oauth2");
  for (const auto& e : events.texts()) CHECK(e.find(str_at(c, "access_token")) == std::string::npos);

  // The listing shows the OAuth connection; no token appears in it.
  std::string listing = list_connections_text(f.client.get(), "acct");
  CHECK(listing.find("\"oauth2\"") != std::string::npos);
  CHECK(listing.find(str_at(c, "access_token")) == std::string::npos);
}

TEST_CASE("oauth: a wrong missing or replayed state sends no token request") {
  OAuthFixture f;
  std::string callback = follow_authorize(f.begin());
  std::string code = query_params(callback)["code"];

  CHECK(f.complete(with_param(callback, "state", "not-the-state")) == REFOLD_ESTATE);
  CHECK(last_error().find(code) == std::string::npos);
  std::string no_state = callback.substr(0, callback.find('?')) + "?code=" + code;
  CHECK(f.complete(no_state) == REFOLD_ESTATE);
  CHECK(f.count("token") == 0);

  REQUIRE_MESSAGE(f.complete(callback) == REFOLD_OK, last_error());
  CHECK(f.count("token") == 1);
  CHECK(f.complete(callback) == REFOLD_ESTATE);  // replayed
  CHECK(f.count("token") == 1);
}

TEST_CASE("oauth: a wrong or missing iss sends no token request") {
  OAuthFixture f;
  std::string cb1 = follow_authorize(f.begin());
  CHECK(f.complete(with_param(cb1, "iss", "https://attacker.example")) == REFOLD_ESTATE);
  CHECK(last_error().find("issuer") != std::string::npos);

  std::string cb2 = follow_authorize(f.begin());
  auto q = query_params(cb2);
  std::string no_iss = cb2.substr(0, cb2.find('?')) + "?code=" + q["code"] + "&state=" + q["state"];
  CHECK(f.complete(no_iss) == REFOLD_ESTATE);
  CHECK(f.count("token") == 0);
}

TEST_CASE("oauth: repeated callback parameters are refused before any token request") {
  OAuthFixture f;
  std::string cb = follow_authorize(f.begin());
  CHECK(f.complete(cb + "&code=other") == REFOLD_EINVALID);
  CHECK(last_error().find("code") != std::string::npos);
  CHECK(f.complete(cb + "&state=x") == REFOLD_EINVALID);
  CHECK(f.count("token") == 0);
}

TEST_CASE("oauth: access_denied is reported as cancelled") {
  OAuthFixture f(std::vector<std::string>{});  // consent page, no auto-approve
  auto q = query_params(f.begin());
  std::string denied = f.redirect + "?error=access_denied&state=" + q["state"] + "&iss=" + f.server.base_url();
  CHECK(f.complete(denied) == REFOLD_ECANCELLED);
  CHECK(last_error().find("denied") != std::string::npos);
  CHECK(f.count("token") == 0);
  int rc = 0;
  get_credentials(f.client.get(), "acct", "sandbox", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("oauth: a code redeemed twice is refused and its tokens revoked") {
  OAuthFixture f;
  std::string cb1 = follow_authorize(f.begin("first"));
  REQUIRE(f.complete(cb1) == REFOLD_OK);
  int rc = 0;
  std::string token = str_at(parse(get_credentials(f.client.get(), "first", "sandbox", rc)).as_object(), "access_token");
  CHECK(api_me_status(f.server, token) == 200);

  // A second flow whose callback carries the first flow's code.
  std::string cb2 = follow_authorize(f.begin("second"));
  std::string code1 = query_params(cb1)["code"];
  CHECK(f.complete(with_param(cb2, "code", code1)) == REFOLD_EAUTH);
  CHECK(last_error().find("invalid_grant") != std::string::npos);
  CHECK(last_error().find(code1) == std::string::npos);
  CHECK(api_me_status(f.server, token) == 401);
  get_credentials(f.client.get(), "second", "sandbox", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("oauth: client_secret_basic carries a secret with reserved characters") {
  // RFC 6749 2.3.1: form-encoded before Base64, so ':' '+' '%' and UTF-8 survive.
  Store store;
  std::string secret = "s:+%\xc3\xa9-secret";
  Devserver server({"--auto-approve", "--client", std::string("weird:") + secret});
  bj::object cfg = config_object(store.path, store.key);
  cfg["catalog"] = bj::array{server.sandbox_app()};
  cfg["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", "weird"}, {"client_secret", secret},
                                                           {"redirect_uri", "http://127.0.0.1:9/cb"}}}};
  ClientPtr c = open_client(to_json(cfg));
  char* url = nullptr;
  REQUIRE(refold_oauth_begin(c.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK);
  std::string cb = follow_authorize(take(url));
  REQUIRE_MESSAGE(refold_oauth_complete(c.get(), cb.c_str(), nullptr) == REFOLD_OK, last_error());

  // And a wrong secret is an authentication error naming the config entry.
  cfg["oauth_clients"].as_object()["sandbox"].as_object()["client_secret"] = "s:+%wrong";
  ClientPtr bad = open_client(to_json(cfg));
  REQUIRE(refold_oauth_begin(bad.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK);
  cb = follow_authorize(take(url));
  CHECK(refold_oauth_complete(bad.get(), cb.c_str(), nullptr) == REFOLD_EAUTH);
  CHECK(last_error().find("oauth_clients.sandbox") != std::string::npos);
  CHECK(last_error().find("s:+%wrong") == std::string::npos);
}

TEST_CASE("oauth: begin refuses what the config and app do not allow") {
  OAuthFixture f;
  char* url = nullptr;
  CHECK(refold_oauth_begin(f.client.get(), "acct", "sandbox", "{\"params\":{\"prompt\":\"x\"}}", &url) == REFOLD_EINVALID);
  CHECK(last_error().find("prompt") != std::string::npos);
  CHECK(refold_oauth_begin(f.client.get(), "acct", "sandbox", "{\"bogus\":1}", &url) == REFOLD_EINVALID);
  CHECK(refold_oauth_begin(f.client.get(), "acct", "twilio", nullptr, &url) == REFOLD_EINVALID);
  CHECK(refold_oauth_begin(f.client.get(), "acct", "github", nullptr, &url) == REFOLD_EINVALID);
  CHECK(last_error().find("oauth_clients.github") != std::string::npos);
  CHECK(refold_oauth_begin(f.client.get(), "acct", "nope", nullptr, &url) == REFOLD_ENOTFOUND);
  CHECK(url == nullptr);
}

TEST_CASE("oauth: a malformed token response is a provider error and saves nothing") {
  OAuthFixture f;
  std::string cb = follow_authorize(f.begin());
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"malformed_json"})");
  CHECK(f.complete(cb) == REFOLD_EPROVIDER);
  int rc = 0;
  get_credentials(f.client.get(), "acct", "sandbox", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

namespace {

// Plays the user's browser for the interactive flow, on its own thread (the
// library waits for the callback on the calling thread).
struct Browser {
  static int open(const char* url, void* payload) {
    auto* b = static_cast<Browser*>(payload);
    b->opened = url;
    b->thread = std::thread([b] { b->run(); });
    return 0;
  }
  void run() {
    std::string callback = follow_authorize(opened, ca_file);
    std::string origin = callback.substr(0, callback.find('/', 8));
    listening_on_loopback_only = only_loopback(std::stoi(origin.substr(origin.rfind(':') + 1)));
    stray = curl("GET", origin + "/favicon.ico");
    page = curl("GET", callback);
  }
  // The listener's socket appears in /proc/net/tcp bound to 127.0.0.1.
  static bool only_loopback(int port) {
    std::ifstream f("/proc/net/tcp");
    std::string line;
    char want[16];
    std::snprintf(want, sizeof want, ":%04X", port);
    bool seen = false;
    while (std::getline(f, line)) {
      auto pos = line.find(want);
      if (pos == std::string::npos || pos > 20 || line.find(" 0A ") == std::string::npos) continue;
      seen = true;
      if (line.substr(pos - 8, 8) != "0100007F") return false;
    }
    return seen;
  }
  ~Browser() {
    if (thread.joinable()) thread.join();
  }
  std::string opened;
  std::string ca_file;
  std::thread thread;
  bool listening_on_loopback_only = false;
  HttpResult stray;
  HttpResult page;
};

bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

TEST_CASE("oauth: interactive connect through the URL opener and the loopback listener") {
  OAuthFixture f;
  EventRecorder events;
  events.install(f.client.get());
  Browser browser;
  REQUIRE(refold_set_url_opener(f.client.get(), &Browser::open, &browser, nullptr) == REFOLD_OK);
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox", nullptr) == REFOLD_OK, last_error());
  browser.thread.join();

  auto q = query_params(browser.opened);
  std::string redirect = q["redirect_uri"];
  CHECK(redirect.rfind("http://127.0.0.1:", 0) == 0);
  CHECK(browser.listening_on_loopback_only);
  CHECK(browser.stray.status == 404);  // other paths are ignored
  CHECK(browser.page.status == 200);
  CHECK(browser.page.headers["cache-control"] == "no-store");
  CHECK(browser.page.headers["referrer-policy"] == "no-referrer");
  CHECK(browser.page.body.find("connected") != std::string::npos);
  CHECK(browser.page.body.find("http") == std::string::npos);  // no external resources
  // The listener lived only for the flow.
  int port = std::stoi(redirect.substr(17, redirect.find('/', 17) - 17));
  CHECK_FALSE(port_open(port));

  int rc = 0;
  get_credentials(f.client.get(), "acct", "sandbox", rc);
  CHECK(rc == REFOLD_OK);
  REQUIRE(events.size() == 1);
  CHECK(str_at(events.events()[0], "type") == "connection.created");
}

namespace {
int do_nothing(const char*, void*) { return 0; }
int refuse(const char*, void*) { return 3; }
}  // namespace

TEST_CASE("oauth: interactive connect times out and an opener can cancel") {
  Store store;
  Devserver server({"--auto-approve", "--client", std::string(kClientId) + ":" + kSecret});
  bj::object cfg = config_object(store.path, store.key);
  cfg["catalog"] = bj::array{server.sandbox_app()};
  cfg["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", kClientId}, {"client_secret", kSecret}}}};
  cfg["oauth"] = bj::object{{"interactive_timeout_ms", 300}};
  ClientPtr c = open_client(to_json(cfg));

  REQUIRE(refold_set_url_opener(c.get(), &do_nothing, nullptr, nullptr) == REFOLD_OK);
  CHECK(refold_connect(c.get(), "acct", "sandbox", nullptr) == REFOLD_ETIMEOUT);
  REQUIRE(refold_set_url_opener(c.get(), &refuse, nullptr, nullptr) == REFOLD_OK);
  CHECK(refold_connect(c.get(), "acct", "sandbox", nullptr) == REFOLD_ECANCELLED);
  CHECK(server.counters().at("token").to_number<std::int64_t>() == 0);
  int rc = 0;
  get_credentials(c.get(), "acct", "sandbox", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("oauth: the whole flow works over https with a test CA") {
  OAuthFixture f({"--auto-approve"}, /*tls=*/true);
  CHECK(f.server.base_url().rfind("https://", 0) == 0);
  std::string cb = follow_authorize(f.begin(), f.server.ca_file);
  REQUIRE_MESSAGE(f.complete(cb) == REFOLD_OK, last_error());
  int rc = 0;
  bj::object c = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  CHECK(api_me_status(f.server, str_at(c, "access_token")) == 200);
}

TEST_CASE("oauth: without the test CA the https provider is not trusted") {
  Store store;
  TestPki pki = make_test_pki(store.dir.path());
  Devserver server({"--auto-approve", "--client", std::string(kClientId) + ":" + kSecret},
                   std::make_pair(pki.cert, pki.key));
  server.ca_file = pki.ca;
  bj::object cfg = config_object(store.path, store.key);
  cfg["catalog"] = bj::array{server.sandbox_app()};
  cfg["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", kClientId}, {"client_secret", kSecret},
                                                           {"redirect_uri", "http://127.0.0.1:9/cb"}}}};
  ClientPtr c = open_client(to_json(cfg));
  char* url = nullptr;
  REQUIRE(refold_oauth_begin(c.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK);
  std::string cb = follow_authorize(take(url), pki.ca);
  CHECK(refold_oauth_complete(c.get(), cb.c_str(), nullptr) == REFOLD_ENETWORK);
  CHECK(last_error().find("certificate") != std::string::npos);
  CHECK(server.counters().at("token").to_number<std::int64_t>() == 0);
}

TEST_CASE("keybased: a declared verification request gates saving") {
  OAuthFixture f;
  std::string good = "sk_sandbox_" + random_token(20);
  std::string bad = "sk_wrong_" + random_token(20);
  auto payload = [](const std::string& k) { return "{\"api_key\":\"" + k + "\"}"; };
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox-keys", payload(good).c_str()) == REFOLD_OK, last_error());
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-keys", payload(bad).c_str()) == REFOLD_EAUTH);
  CHECK(last_error().find(bad) == std::string::npos);
  // The rejected key replaced nothing.
  CHECK(field_is(credential_fields(f.client.get(), "acct", "sandbox-keys"), "api_key", good));
  CHECK(f.count("keys_verify") == 2);
}

TEST_CASE("keybased: an unreachable verification endpoint saves nothing") {
  Store store;
  bj::object app;
  {
    Devserver gone;  // started and stopped: its port refuses connections now
    app = gone.sandbox_keys_app();
  }
  bj::object cfg = config_object(store.path, store.key);
  cfg["catalog"] = bj::array{app};
  ClientPtr c = open_client(to_json(cfg));
  std::string key = "sk_sandbox_" + random_token(20);
  CHECK(refold_connect(c.get(), "acct", "sandbox-keys", ("{\"api_key\":\"" + key + "\"}").c_str()) == REFOLD_ENETWORK);
  CHECK(last_error().find(key) == std::string::npos);
  int rc = 0;
  get_credentials(c.get(), "acct", "sandbox-keys", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("config: oauth_clients must name OAuth apps of the catalog") {
  Store store;
  bj::object cfg = config_object(store.path, store.key);
  cfg["oauth_clients"] = bj::object{{"twilio", bj::object{{"client_id", "x"}}}};
  ClientPtr c;
  CHECK(try_open(to_json(cfg), c) == REFOLD_EINVALID);
  CHECK(last_error().find("oauth_clients.twilio") != std::string::npos);
  cfg["oauth_clients"] = bj::object{{"github", bj::object{{"client_id", "x"}, {"colour", "red"}}}};
  CHECK(try_open(to_json(cfg), c) == REFOLD_EINVALID);
  CHECK(last_error().find("colour") != std::string::npos);
  cfg["oauth_clients"] = bj::object{{"github", bj::object{{"client_id", "x"}, {"client_secret", "hunter2-secret"}}}};
  cfg["http"] = bj::object{{"timeout_ms", "soon"}};
  CHECK(try_open(to_json(cfg), c) == REFOLD_EINVALID);
  CHECK(last_error().find("timeout_ms") != std::string::npos);
  CHECK(last_error().find("hunter2-secret") == std::string::npos);
}
