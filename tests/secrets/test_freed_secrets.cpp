// After a connect, a refresh and a disconnect, no heap block refold freed
// still holds a secret: not the client secret, the authorization codes,
// the PKCE verifiers, any access or refresh token, an API key or the
// master key's text. The provider is an in-process server on its own
// thread (its copies are the provider's business); only frees on the test
// thread, inside refold calls, are kept and searched (freed_heap.h).
//
// Output names secrets and gives block counts and sizes, never a value.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "recording.hpp"
#include "http_test_server.hpp"
#include "test_support.hpp"

namespace {

using refold_test::escape;
using refold_test::Recording;
using refold::test::ServerRequest;
using refold::test::ServerResponse;
namespace bj = boost::json;

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

std::map<std::string, std::string> form(std::string_view s) {
  std::map<std::string, std::string> out;
  while (!s.empty()) {
    auto amp = s.find('&');
    std::string_view part = s.substr(0, amp);
    auto eq = part.find('=');
    if (eq != std::string_view::npos) out[decode(part.substr(0, eq))] = decode(part.substr(eq + 1));
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
  }
  return out;
}

std::map<std::string, std::string> query(const std::string& url) {
  auto q = url.find('?');
  return q == std::string::npos ? std::map<std::string, std::string>() : form(std::string_view(url).substr(q + 1));
}

std::string base64(std::string_view in) {
  static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < in.size() ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? abc[v & 63] : '=';
  }
  return out;
}

// The provider: codes it accepts, the tokens it hands out in turn
// (refresh tokens rotate), what it was sent. Runs on the server thread.
struct Provider {
  std::string client_id = "vault-client";
  std::string client_secret = refold_test::random_token(40);
  std::string api_key = refold_test::random_token(32);
  std::string code = refold_test::random_token(40);
  // Short enough for the small-string buffer inside a std::string object.
  std::string short_code = refold_test::random_token(12);
  std::vector<std::pair<std::string, std::string>> pool = [] {
    std::vector<std::pair<std::string, std::string>> p;
    for (int i = 0; i < 6; ++i) p.emplace_back(refold_test::random_token(44), refold_test::random_token(44));
    return p;
  }();

  std::mutex mu;
  std::size_t issued = 0;
  std::vector<std::string> verifiers;
  std::vector<std::string> revoked;
  int token_requests = 0;
  int verifies = 0;
  int refused = 0;

  ServerResponse handle(const ServerRequest& req) {
    std::lock_guard lock(mu);
    auto path = req.target.substr(0, req.target.find('?'));
    if (path == "/verify") {
      ++verifies;
      bool ok = req.header("Authorization") == "Bearer " + api_key;
      refused += ok ? 0 : 1;
      return {ok ? 200 : 401, {{"Content-Type", "application/json"}}, "{}"};
    }
    auto f = form(req.body);
    if (req.header("Authorization") != "Basic " + base64(client_id + ":" + client_secret)) {
      ++refused;
      return {401, {{"Content-Type", "application/json"}}, R"({"error":"invalid_client"})"};
    }
    if (path == "/revoke") {
      revoked.push_back(f["token"]);
      return {200, {}, ""};
    }
    if (path != "/token") return {404, {}, ""};
    ++token_requests;
    bool grant = false;
    if (f["grant_type"] == "authorization_code") {
      grant = f["code"] == code || f["code"] == short_code;
      verifiers.push_back(f["code_verifier"]);
    } else if (f["grant_type"] == "refresh_token") {
      for (std::size_t i = 0; i < issued; ++i) grant = grant || f["refresh_token"] == pool[i].second;
    }
    if (!grant || issued == pool.size()) {
      ++refused;
      return {400, {{"Content-Type", "application/json"}}, R"({"error":"invalid_grant"})"};
    }
    const auto& [access, refresh] = pool[issued++];
    bj::object body{{"access_token", access}, {"token_type", "Bearer"}, {"expires_in", 3600},
                    {"refresh_token", refresh}, {"scope", "read"}};
    return {200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, bj::serialize(body)};
  }
};

// The user's browser in the interactive flow: on its own thread, it takes
// the authorize URL refold opens and goes straight to the loopback
// redirect with the provider's (short) code.
struct Browser {
  Provider* provider = nullptr;
  std::thread thread;

  static int open(const char* url, void* payload) {
    auto* self = static_cast<Browser*>(payload);
    auto q = query(url);
    self->thread = std::thread([self, redirect = q["redirect_uri"], state = q["state"]] {
      // "http://127.0.0.1:<port>/callback"
      auto hostport = redirect.substr(7, redirect.find('/', 7) - 7);
      auto port = static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.find(':') + 1)));
      std::string path = redirect.substr(redirect.find('/', 7));
      std::string request = "GET " + path + "?code=" + self->provider->short_code + "&state=" + state +
                            " HTTP/1.1\r\nHost: " + hostport + "\r\nConnection: close\r\n\r\n";
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buf[4096];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
      }
      ::close(fd);
    });
    return 0;
  }
};

double g_now_ms = 0;
double now_ms(void*) { return g_now_ms; }

// Frees are kept only where they should be: a block freed while recording
// is found, one freed outside is not, through both operator new and
// SQLite's allocator.
TEST_CASE("secrets: the freed-heap log keeps what a recording thread frees") {
  freed_heap_clear();
  const std::string canary = refold_test::random_token(48);
  {
    Recording r;
    std::string copy = canary;
    escape(copy.data());
    char* p = static_cast<char*>(sqlite3_malloc(64));
    REQUIRE(p != nullptr);
    std::memcpy(p, canary.data(), canary.size());
    escape(p);
    sqlite3_free(p);
  }
  {
    std::string unrecorded = canary;
    escape(unrecorded.data());
  }
  CHECK(freed_heap_overflowed() == 0);
  CHECK(freed_heap_search(canary.data(), canary.size(), nullptr, nullptr) == 2);
  freed_heap_clear();
}

TEST_CASE("secrets: no freed heap block holds a secret after connect, refresh and disconnect") {
  Provider provider;
  refold::test::TestServer server([&](const ServerRequest& req) { return provider.handle(req); });
  Browser browser;
  browser.provider = &provider;
  refold_test::TempDir dir;
  const std::string master_key = refold_test::random_hex_key();

  bj::object oauth_app{
      {"slug", "vault"}, {"name", "Vault"}, {"auth_types", bj::array{"oauth2"}},
      {"oauth2", bj::object{{"authorization_endpoint", server.url("/authorize")},
                            {"token_endpoint", server.url("/token")},
                            {"revocation_endpoint", server.url("/revoke")},
                            {"scopes", bj::array{"read"}}}}};
  bj::object keys_app{
      {"slug", "vault-keys"}, {"name", "Vault keys"}, {"auth_types", bj::array{"keybased"}},
      {"keybased", bj::object{{"fields", bj::array{bj::object{{"name", "api_key"}, {"label", "API key"},
                                                              {"type", "text"}, {"secret", true}}}},
                              {"verify", bj::object{{"url", server.url("/verify")},
                                                    {"headers", bj::object{{"Authorization", "Bearer {api_key}"}}}}}}}};
  bj::object cfg = refold_test::config_object(dir.store(), master_key);
  cfg["catalog"] = bj::array{oauth_app, keys_app};
  cfg["oauth_clients"] = bj::object{{"vault", bj::object{{"client_id", provider.client_id},
                                                         {"client_secret", provider.client_secret},
                                                         {"redirect_uri", "http://127.0.0.1:9/callback"}}}};
  cfg["oauth"] = bj::object{{"interactive_timeout_ms", 30000}};
  const std::string config = refold_test::to_json(cfg);
  const std::string payload = refold_test::to_json(bj::object{{"api_key", provider.api_key}});
  g_now_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());

  freed_heap_clear();
  refold_client* client = nullptr;
  int rc;
  {
    Recording r;
    rc = refold_client_open(&client, config.c_str());
  }
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());
  {
    Recording r;
    rc = refold_set_clock(client, &now_ms, nullptr, nullptr);
    if (rc == REFOLD_OK) rc = refold_set_url_opener(client, &Browser::open, &browser, nullptr);
  }
  REQUIRE(rc == REFOLD_OK);

  // Connect: begin/complete, the interactive flow, a key-based app.
  char* out = nullptr;
  {
    Recording r;
    rc = refold_oauth_begin(client, "acct", "vault", nullptr, &out);
  }
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());
  std::string authorize_url = out;
  {
    Recording r;
    refold_free(out);
  }
  auto q = query(authorize_url);
  std::string callback = q["redirect_uri"] + "?code=" + provider.code + "&state=" + q["state"];
  {
    Recording r;
    rc = refold_oauth_complete(client, callback.c_str(), &out);
    if (rc == REFOLD_OK) refold_free(out);
  }
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());
  {
    Recording r;
    rc = refold_connect(client, "acct2", "vault", nullptr);
  }
  if (browser.thread.joinable()) browser.thread.join();
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());
  {
    Recording r;
    rc = refold_connect(client, "acct", "vault-keys", payload.c_str());
  }
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());

  // Reads: the first token as issued, then, an hour and more later, a
  // refreshed one.
  auto read_holds = [&](const char* account, const char* app, const std::string& secret) {
    char* creds = nullptr;
    bool holds = false;
    Recording r;
    int code = refold_get_credentials(client, account, app, &creds);
    if (code == REFOLD_OK) {
      holds = std::strstr(creds, secret.c_str()) != nullptr;
      refold_free(creds);
    }
    return code == REFOLD_OK && holds;
  };
  CHECK(read_holds("acct", "vault", provider.pool[0].first));
  CHECK(read_holds("acct", "vault-keys", provider.api_key));
  g_now_ms += 2 * 3600 * 1000.0;
  CHECK_MESSAGE(read_holds("acct", "vault", provider.pool[2].first), refold_test::last_error());

  // A data-key rotation decrypts and re-seals every record, tokens and
  // the API key among them.
  {
    Recording r;
    rc = refold_rotate_data_key(client);
  }
  REQUIRE_MESSAGE(rc == REFOLD_OK, refold_test::last_error());
  CHECK(read_holds("acct", "vault-keys", provider.api_key));

  // Disconnect: revokes each connection's refresh and access tokens.
  for (const char* account : {"acct", "acct2"}) {
    Recording r;
    rc = refold_disconnect(client, account, "vault");
    CHECK(rc == REFOLD_OK);
  }
  {
    Recording r;
    rc = refold_disconnect(client, "acct", "vault-keys");
  }
  CHECK(rc == REFOLD_OK);
  {
    Recording r;
    refold_client_free(client);
  }

  {
    std::lock_guard lock(provider.mu);
    CHECK(provider.token_requests == 3);  // two codes and one refresh
    CHECK(provider.issued == 3);
    CHECK(provider.verifies == 1);
    CHECK(provider.revoked.size() == 4);
    CHECK(provider.refused == 0);
    CHECK(provider.verifiers.size() == 2);
  }

  std::vector<std::pair<std::string, std::string>> secrets{
      {"client secret", provider.client_secret},
      {"Basic authorization value", base64(provider.client_id + ":" + provider.client_secret)},
      {"master key text", master_key},
      {"API key", provider.api_key},
      {"authorization code", provider.code},
      {"authorization code (short, interactive)", provider.short_code},
  };
  for (std::size_t i = 0; i < provider.verifiers.size(); ++i)
    secrets.emplace_back("PKCE verifier #" + std::to_string(i + 1), provider.verifiers[i]);
  for (std::size_t i = 0; i < provider.issued; ++i) {
    secrets.emplace_back("access token #" + std::to_string(i + 1), provider.pool[i].first);
    secrets.emplace_back("refresh token #" + std::to_string(i + 1), provider.pool[i].second);
  }

  REQUIRE_MESSAGE(freed_heap_overflowed() == 0, "the freed-block log ran out of room");
  std::printf("kept %zu blocks (%zu bytes) freed by refold on the test thread\n", freed_heap_blocks(),
              freed_heap_bytes());
  CHECK(freed_heap_blocks() > 1000);  // the log did see refold's frees
  std::size_t total = 0;
  for (const auto& [name, value] : secrets) {
    REQUIRE(!value.empty());
    std::vector<std::size_t> sizes = refold_test::freed_blocks_holding(value);
    std::size_t hits = sizes.size();
    std::string line = name + ": " + std::to_string(hits) + " freed block(s)";
    for (std::size_t i = 0; i < sizes.size(); ++i) line += (i ? ", " : " of ") + std::to_string(sizes[i]);
    std::printf("%s%s\n", line.c_str(), hits ? " bytes" : "");
    CHECK_MESSAGE(hits == 0, name);
    total += hits;
  }
  std::printf("%zu freed block(s) hold a secret\n", total);
  freed_heap_clear();
}

}  // namespace
