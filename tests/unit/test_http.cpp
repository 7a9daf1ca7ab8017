#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/client.hpp"
#include "http/url.hpp"
#include "http_test_server.hpp"
#include "failure.hpp"
#include "util/error.hpp"

using namespace std::chrono_literals;
using refold::http::make_http_client;
using refold::http::Options;
using refold::http::Request;
using refold::test::CertKey;
using refold::test::ServerRequest;
using refold::test::ServerResponse;
using refold::test::TestPki;
using refold::test::TestServer;

using refold_unit::contains;
using refold_unit::Failure;
using refold_unit::failure_of;

namespace {


ServerResponse echo(const ServerRequest& r) {
  return {.status = 200, .headers = {{"Content-Type", "text/plain"}, {"X-Method", r.method}},
          .body = r.method + " " + r.target + " " + r.body};
}

Options with_ca(const TestPki& pki) {
  Options o;
  o.ca_file = pki.ca_file();
  return o;
}

}  // namespace

// ---- The client against a local server ------------------------------------

TEST_CASE("http client: GET and POST round trip over plain http to 127.0.0.1") {
  std::mutex mutex;  // the handler runs on the server's thread
  std::vector<ServerRequest> seen;
  TestServer server([&](const ServerRequest& r) {
    std::lock_guard lock(mutex);
    seen.push_back(r);
    return echo(r);
  });
  auto client = make_http_client(Options{});

  auto get = client->send({.method = "GET", .url = server.url("/hello?x=1")});
  CHECK(get.status == 200);
  CHECK(get.body == "GET /hello?x=1 ");
  CHECK(get.header("x-method") == "GET");
  CHECK(get.header("CONTENT-TYPE") == "text/plain");
  CHECK_FALSE(get.header("x-missing"));

  auto post = client->send({.method = "POST",
                            .url = server.url("/token"),
                            .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                        {"Accept", "text/plain"}},
                            .body = "a=1&b=2"});
  CHECK(post.status == 200);
  CHECK(post.body == "POST /token a=1&b=2");

  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(seen[0].header("User-Agent") == std::string("refold/") + REFOLD_VERSION_STRING);
  CHECK(seen[0].header("Accept") == "application/json");
  CHECK(seen[1].header("Accept") == "text/plain");
  CHECK(seen[1].header("Content-Length") == "7");
  CHECK(seen[1].header("Content-Type") == "application/x-www-form-urlencoded");
}

TEST_CASE("http client: a public-only request to a loopback address is refused before it is sent") {
  std::atomic<int> seen{0};
  TestServer server([&](const ServerRequest& r) {
    ++seen;
    return echo(r);
  });
  auto client = make_http_client(Options{});
  // The same server is reachable, and a connection to it is pooled ...
  CHECK(client->send({.method = "GET", .url = server.url("/a")}).status == 200);
  // ... but a host a connection input chose must be public, checked afresh.
  Request req{.method = "GET", .url = server.url("/b?code=SECRET")};
  req.public_only = true;
  auto f = failure_of([&] { client->send(req); });
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(contains(f.message, "private"));
  CHECK_FALSE(contains(f.message, "SECRET"));
  // And by name: a name under localhost resolves to the loopback address.
  Request named{.method = "GET", .url = "http://tenant.localhost:" + std::to_string(server.port()) + "/c"};
  CHECK(client->send(named).status == 200);
  named.public_only = true;
  CHECK(failure_of([&] { client->send(named); }).code == REFOLD_EINVALID);
  CHECK(seen == 2);
}

TEST_CASE("http client: status codes and empty bodies come back as they are") {
  TestServer server([](const ServerRequest& r) {
    if (r.target == "/missing") return ServerResponse{.status = 404, .body = R"({"error":"not_found"})"};
    return ServerResponse{.status = 204};
  });
  auto client = make_http_client(Options{});
  auto missing = client->send({.url = server.url("/missing")});
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"error":"not_found"})");
  auto empty = client->send({.method = "DELETE", .url = server.url("/thing")});
  CHECK(empty.status == 204);
  CHECK(empty.body.empty());
}

// Found by fuzz_http_response: Beast parses "000" as a status, which
// callers would have read as an answer from the provider.
TEST_CASE("http client: a status outside 100-599 is a malformed response") {
  TestServer server([](const ServerRequest&) { return ServerResponse{.status = 999}; });
  auto client = make_http_client(Options{});
  auto f = failure_of([&] { client->send({.url = server.url("/odd")}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "invalid status code 999"));
}

TEST_CASE("http client: plain http to a non-loopback host is rejected before connecting") {
  auto client = make_http_client(Options{});
  for (const char* url : {"http://example.com/token", "http://10.0.0.1:8080/", "http://127.0.0.1.nip.io/"}) {
    CAPTURE(url);
    auto f = failure_of([&] { client->send({.method = "POST", .url = url, .body = "x"}); });
    CHECK(f.code == REFOLD_EINVALID);
    CHECK(contains(f.message, "only allowed for loopback hosts"));
  }
  CHECK(failure_of([&] { client->send({.url = "not a url"}); }).code == REFOLD_EINVALID);
}

TEST_CASE("http client: bad methods and header values are rejected without quoting them") {
  TestServer server(echo);
  auto client = make_http_client(Options{});
  auto bad_value = failure_of([&] {
    client->send({.url = server.url("/"), .headers = {{"Authorization", "Bearer SECRET\r\nX-Injected: 1"}}});
  });
  CHECK(bad_value.code == REFOLD_EINVALID);
  CHECK_FALSE(contains(bad_value.message, "SECRET"));
  CHECK(failure_of([&] { client->send({.url = server.url("/"), .headers = {{"Bad Name", "v"}}}); }).code ==
        REFOLD_EINVALID);
  CHECK(failure_of([&] { client->send({.method = "GE T", .url = server.url("/")}); }).code == REFOLD_EINVALID);
  CHECK(server.requests() == 0);
}

TEST_CASE("http client: https with a certificate from the test CA works") {
  TestPki pki;
  CertKey cert = pki.issue("DNS:localhost,IP:127.0.0.1");
  TestServer server(echo, &cert);
  auto client = make_http_client(with_ca(pki));
  auto by_ip = client->send({.url = server.url("/a")});
  CHECK(by_ip.status == 200);
  CHECK(by_ip.body == "GET /a ");
  auto by_name = client->send({.method = "POST", .url = server.url("/b", "localhost"), .body = "z"});
  CHECK(by_name.status == 200);
  CHECK(by_name.body == "POST /b z");
}

TEST_CASE("http client: a certificate from an untrusted CA is rejected") {
  TestPki pki;
  CertKey cert = pki.issue("DNS:localhost,IP:127.0.0.1");
  TestServer server(echo, &cert);
  auto f = failure_of([&] { make_http_client(Options{})->send({.url = server.url("/")}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "certificate verify failed"));
  CHECK(contains(f.message, "not a trusted CA"));
  CHECK(server.requests() == 0);
}

TEST_CASE("http client: a self-signed certificate is rejected") {
  TestPki pki;
  CertKey cert = TestPki::self_signed("DNS:localhost,IP:127.0.0.1");
  TestServer server(echo, &cert);
  auto f = failure_of([&] { make_http_client(with_ca(pki))->send({.url = server.url("/")}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "self-signed certificate"));
  CHECK(server.requests() == 0);
}

TEST_CASE("http client: a certificate for another host name is rejected") {
  TestPki pki;
  CertKey cert = pki.issue("DNS:other.example,IP:10.9.8.7");
  TestServer server(echo, &cert);
  auto client = make_http_client(with_ca(pki));
  for (const char* host : {"localhost", "127.0.0.1"}) {
    CAPTURE(host);
    auto f = failure_of([&] { client->send({.url = server.url("/", host)}); });
    CHECK(f.code == REFOLD_ENETWORK);
    CHECK(contains(f.message, "host name mismatch"));
    CHECK(contains(f.message, host));
  }
  CHECK(server.requests() == 0);
}

TEST_CASE("http client: an expired certificate is rejected") {
  TestPki pki;
  CertKey cert = pki.issue("DNS:localhost,IP:127.0.0.1", -30, -1);
  TestServer server(echo, &cert);
  auto f = failure_of([&] { make_http_client(with_ca(pki))->send({.url = server.url("/")}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "certificate has expired"));
}

TEST_CASE("http client: https to a plain http server fails the handshake") {
  TestServer server(echo);
  auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto f = failure_of([&] { make_http_client(Options{})->send({.url = url}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "TLS handshake failed"));
}

TEST_CASE("http client: an unreadable ca_file is rejected") {
  Options o;
  o.ca_file = "/nonexistent/refold-ca.pem";
  auto f = failure_of([&] { make_http_client(o); });
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(contains(f.message, "ca_file"));
}

TEST_CASE("http client: a refused connection is reported in plain words") {
  refold::test::RefusingPort port;
  auto url = "http://127.0.0.1:" + std::to_string(port.port()) + "/token";
  auto f = failure_of([&] { make_http_client(Options{})->send({.url = url}); });
  CHECK(f.code == REFOLD_ENETWORK);
  CHECK(contains(f.message, "connection refused"));
  CHECK(contains(f.message, url));
}

TEST_CASE("http client: a response body over max_body fails") {
  TestServer server([](const ServerRequest& r) {
    return ServerResponse{.body = std::string(r.target == "/exact" ? 1024 : 1025, 'x'),
                          .chunked = r.target == "/chunked"};
  });
  Options o;
  o.max_body = 1024;
  auto client = make_http_client(o);
  CHECK(client->send({.url = server.url("/exact")}).body.size() == 1024);
  for (const char* path : {"/sized", "/chunked"}) {
    CAPTURE(path);
    auto f = failure_of([&] { client->send({.url = server.url(path)}); });
    CHECK(f.code == REFOLD_ENETWORK);
    CHECK(contains(f.message, "response body larger than 1024 bytes"));
  }
}

TEST_CASE("http client: a server that never answers times out") {
  TestServer server([](const ServerRequest&) { return ServerResponse{.never_answer = true}; });
  Options o;
  o.total_timeout = 300ms;
  auto f = failure_of([&] { make_http_client(o)->send({.url = server.url("/slow")}); });
  CHECK(f.code == REFOLD_ETIMEOUT);
  CHECK(contains(f.message, "timed out"));
}

TEST_CASE("http client: redirects are returned and not followed") {
  TestServer server([](const ServerRequest& r) {
    if (r.target == "/start") return ServerResponse{.status = 302, .headers = {{"Location", "/elsewhere"}}};
    return ServerResponse{.body = "followed"};
  });
  auto res = make_http_client(Options{})->send({.url = server.url("/start")});
  CHECK(res.status == 302);
  CHECK(res.header("location") == "/elsewhere");
  CHECK(server.targets() == std::vector<std::string>{"/start"});
}

TEST_CASE("http client: sequential requests reuse one connection") {
  TestServer server(echo);
  auto client = make_http_client(Options{});
  CHECK(client->send({.url = server.url("/1")}).status == 200);
  CHECK(client->send({.method = "POST", .url = server.url("/2"), .body = "b"}).status == 200);
  CHECK(client->send({.url = server.url("/3")}).status == 200);
  CHECK(server.requests() == 3);
  CHECK(server.connections() == 1);
}

namespace {

// echo, closing the connection after answering "/first".
ServerResponse echo_then_drop_first(const ServerRequest& r) {
  auto res = echo(r);
  res.drop_after = r.target == "/first";
  return res;
}

}  // namespace

TEST_CASE("http client: a pooled connection the server dropped is retried on a fresh one") {
  TestServer server(echo_then_drop_first);
  auto client = make_http_client(Options{});
  CHECK(client->send({.url = server.url("/first")}).status == 200);
  // Whether the client sees the close before sending (and skips the
  // connection) or only after (and sends again), the PUT arrives once.
  auto second = client->send({.method = "PUT", .url = server.url("/second"), .body = "once"});
  CHECK(second.status == 200);
  CHECK(second.body == "PUT /second once");
  CHECK(server.connections() == 2);
  CHECK(server.targets() == std::vector<std::string>{"/first", "/second"});
}

TEST_CASE("http client: an idle connection the server closed is not used for a POST") {
  TestServer server(echo_then_drop_first);
  auto client = make_http_client(Options{});
  CHECK(client->send({.url = server.url("/first")}).status == 200);
  // The server closes the connection while it sits in the pool. The POST,
  // which is never sent twice, must go out on a new connection: on the
  // closed one it would fail with no response.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.closed() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(server.closed() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the FIN crossing loopback
  auto second = client->send({.method = "POST", .url = server.url("/second"), .body = "once"});
  CHECK(second.status == 200);
  CHECK(second.body == "POST /second once");
  CHECK(server.connections() == 2);
  CHECK(server.targets() == std::vector<std::string>{"/first", "/second"});
}

TEST_CASE("http client: a request the server hung up on is sent again only if idempotent") {
  // "/flaky" hangs up without answering the first time it arrives on a
  // connection that already served a request: a server that acted on the
  // request and died before answering looks just like this.
  std::mutex mu;
  int flaky_seen = 0;
  TestServer server([&](const ServerRequest& r) {
    ServerResponse res = echo(r);
    if (r.target == "/flaky") {
      std::lock_guard lock(mu);
      res.hang_up = flaky_seen++ % 2 == 0;
    }
    return res;
  });
  auto client = make_http_client(Options{});
  auto targets_after = [&](const std::vector<std::string>& before, std::size_t n) {
    auto all = server.targets();
    return std::vector<std::string>(all.begin() + static_cast<std::ptrdiff_t>(before.size()),
                                    all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), before.size() + n)));
  };

  SUBCASE("GET is sent again on a fresh connection") {
    CHECK(client->send({.url = server.url("/warm")}).status == 200);
    auto before = server.targets();
    CHECK(client->send({.url = server.url("/flaky")}).status == 200);
    CHECK(targets_after(before, 3) == std::vector<std::string>{"/flaky", "/flaky"});
  }
  SUBCASE("POST is not: the error says no response came") {
    CHECK(client->send({.url = server.url("/warm")}).status == 200);
    auto before = server.targets();
    Failure f = failure_of([&] { client->send({.method = "POST", .url = server.url("/flaky"), .body = "x"}); });
    CHECK(f.code == REFOLD_ENETWORK);
    CHECK(contains(f.message, "no response"));
    CHECK(targets_after(before, 3) == std::vector<std::string>{"/flaky"});
  }
  SUBCASE("POST marked idempotent is") {
    CHECK(client->send({.url = server.url("/warm")}).status == 200);
    auto before = server.targets();
    Request req{.method = "POST", .url = server.url("/flaky"), .body = "x"};
    req.idempotent = true;
    CHECK(client->send(req).status == 200);
    CHECK(targets_after(before, 3) == std::vector<std::string>{"/flaky", "/flaky"});
  }
}

TEST_CASE("http client: a response saying Connection close is not pooled") {
  TestServer server([](const ServerRequest& r) {
    auto res = echo(r);
    res.connection_close = true;
    return res;
  });
  auto client = make_http_client(Options{});
  CHECK(client->send({.url = server.url("/1")}).status == 200);
  CHECK(client->send({.url = server.url("/2")}).status == 200);
  CHECK(server.connections() == 2);
}

TEST_CASE("http client: eight threads send at once over https") {
  TestPki pki;
  CertKey cert = pki.issue("DNS:localhost,IP:127.0.0.1");
  TestServer server(echo, &cert);
  auto client = make_http_client(with_ca(pki));
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  std::array<std::vector<std::string>, kThreads> bodies;
  std::array<std::string, kThreads> errors;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          for (int i = 0; i < kEach; ++i) {
            auto path = "/t" + std::to_string(t) + "/" + std::to_string(i);
            bodies[t].emplace_back(client->send({.method = "POST", .url = server.url(path), .body = path}).body.view());
          }
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    CHECK(errors[t] == "");
    REQUIRE(bodies[t].size() == kEach);
    for (int i = 0; i < kEach; ++i) {
      auto path = "/t" + std::to_string(t) + "/" + std::to_string(i);
      CHECK(bodies[t][i] == "POST " + path + " " + path);
    }
  }
  CHECK(server.requests() == kThreads * kEach);
}

TEST_CASE("http client: error messages never hold the query, headers or body") {
  const std::string secret = "s3cr3t-T0KEN";
  auto request_to = [&](const std::string& url) {
    return Request{.method = "POST",
                   .url = url + "?code=" + secret,
                   .headers = {{"Authorization", "Bearer " + secret}},
                   .body = "client_secret=" + secret};
  };
  std::vector<Failure> failures;

  refold::test::RefusingPort refusing;
  failures.push_back(failure_of([&] {
    make_http_client(Options{})->send(request_to("http://127.0.0.1:" + std::to_string(refusing.port()) + "/t"));
  }));

  TestServer silent([](const ServerRequest&) { return ServerResponse{.never_answer = true}; });
  Options quick;
  quick.total_timeout = 300ms;
  failures.push_back(failure_of([&] { make_http_client(quick)->send(request_to(silent.url("/t"))); }));

  TestServer big([](const ServerRequest&) { return ServerResponse{.body = std::string(100, 'x')}; });
  Options small;
  small.max_body = 10;
  failures.push_back(failure_of([&] { make_http_client(small)->send(request_to(big.url("/t"))); }));

  TestPki pki;
  CertKey cert = TestPki::self_signed("DNS:localhost");
  TestServer tls(echo, &cert);
  failures.push_back(failure_of([&] { make_http_client(with_ca(pki))->send(request_to(tls.url("/t"))); }));

  failures.push_back(failure_of([&] { make_http_client(Options{})->send(request_to("http://example.com/t")); }));

  for (const auto& f : failures) {
    CAPTURE(f.message);
    CHECK(f.code != 0);
    CHECK_FALSE(contains(f.message, secret));
    CHECK(contains(f.message, "/t"));
  }
}
