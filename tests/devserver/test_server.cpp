// The process and the transport: signals, shutdown, hanging requests,
// keep-alive, limits, HTTPS, command line.
#include <doctest/doctest.h>

#include <signal.h>

#include <set>
#include <thread>

#include "harness.hpp"

using namespace devtest;

TEST_CASE("SIGTERM exits 0") {
  DevServer server;
  CHECK(server.get("/.well-known/oauth-authorization-server").status == 200);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("SIGINT exits 0 with an idle keep-alive connection open") {
  DevServer server;
  Connection idle(server.port());
  CHECK(idle.send(Request{"GET", "/admin/counters", {}, {}}).status == 200);
  CHECK(server.stop(SIGINT) == 0);
}

TEST_CASE("admin shutdown answers, then exits 0") {
  DevServer server;
  Response r = server.post_json("/admin/shutdown", "");
  CHECK(r.status == 200);
  CHECK(server.wait() == 0);
}

TEST_CASE("a hanging request blocks neither other connections nor shutdown") {
  DevServer server;
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"me","mode":"hang"})").status == 200);
  Connection hanging(server.port());
  hanging.write_only(Request{"GET", "/api/me", {}, {}});
  // Another connection is served while the first one hangs; the counter
  // shows the hanging request did arrive.
  Response other = server.get("/admin/counters");
  REQUIRE(other.status == 200);
  CHECK(other.json().at("me").to_number<int>() == 1);
  CHECK(server.get("/api/me").status == 401);  // the fault was used up
  CHECK(server.stop(SIGTERM) == 0);
  CHECK(hanging.closed_without_answer());
}

TEST_CASE("concurrent clients are served together and each gets its own tokens") {
  DevServer server({"--auto-approve"});
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  // No doctest assertions inside the threads: results are checked after.
  std::vector<std::vector<std::string>> got(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&server, &mine = got[static_cast<std::size_t>(i)]] {
        for (int j = 0; j < kEach; ++j) {
          try {
            Pkce pkce = make_pkce();
            Response a = server.get(authorize_target(pkce.challenge, "s"));
            Response t = exchange_code(server, query_of(a.header("Location"))["code"], pkce.verifier);
            if (t.status != 200) continue;
            Response r = refresh(server, std::string(t.json().at("refresh_token").as_string()));
            if (r.status != 200) continue;
            std::string access(r.json().at("access_token").as_string());
            if (api_me(server, access).status == 200) mine.push_back(access);
          } catch (const std::exception&) {
            // Counted as missing below.
          }
        }
      });
    }
  }
  std::set<std::string> all;
  for (const auto& list : got) all.insert(list.begin(), list.end());
  CHECK(all.size() == kThreads * kEach);
  auto counters = server.get("/admin/counters").json();
  CHECK(counters.at("token_authorization_code").to_number<int>() == kThreads * kEach);
  CHECK(counters.at("token_refresh").to_number<int>() == kThreads * kEach);
  CHECK(server.get("/admin/grants").json().at("grants").as_array().size() == kThreads * kEach);
}

TEST_CASE("keep-alive: several requests on one connection") {
  DevServer server;
  Connection c(server.port());
  for (int i = 0; i < 3; ++i) {
    Response r = c.send(Request{"GET", "/.well-known/oauth-authorization-server", {}, {}});
    CHECK(r.status == 200);
  }
}

TEST_CASE("a body over 64 KiB gets 413") {
  DevServer server;
  Response r = server.post_form("/oauth/token", std::string(70 * 1024, 'a'));
  CHECK(r.status == 413);
  CHECK(server.get("/admin/counters").status == 200);
}

TEST_CASE("unknown paths get 404 and wrong methods 405") {
  DevServer server;
  CHECK(server.get("/nothing").status == 404);
  Response r = server.get("/oauth/token");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "POST");
}

TEST_CASE("HTTPS with --tls-cert and --tls-key") {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  write_self_signed(cert, key);
  DevServer server({"--tls-cert", cert, "--tls-key", key});
  CHECK(server.base_url() == "https://127.0.0.1:" + std::to_string(server.port()));
  Response r = https_get(server.port(), "/.well-known/oauth-authorization-server", cert);
  REQUIRE(r.status == 200);
  CHECK(std::string(r.json().at("token_endpoint").as_string()) ==
        server.base_url() + "/oauth/token");
}

TEST_CASE("command line: non-loopback hosts and bad flags are refused") {
  CHECK(run_to_exit({"--host", "0.0.0.0"}).first == 2);
  CHECK(run_to_exit({"--host", "192.168.1.10"}).first == 2);
  CHECK(run_to_exit({"--port", "70000"}).first == 2);
  CHECK(run_to_exit({"--tls-cert", "only-cert.pem"}).first == 2);
  CHECK(run_to_exit({"--no-such-flag"}).first == 2);
  CHECK(run_to_exit({"--client", "no-secret"}).first == 2);
}

TEST_CASE("command line: help says state is in memory") {
  auto [status, out] = run_to_exit({"--help"});
  CHECK(status == 0);
  CHECK(out.find("in memory") != std::string::npos);
  CHECK(out.find("--auto-approve") != std::string::npos);
}
