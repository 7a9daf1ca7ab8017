// The authorization endpoint: what is refused with a page, what is
// redirected with an error, and the consent page.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace devtest;

namespace {

std::string target(const Fields& fields) { return "/oauth/authorize?" + form(fields); }

Fields good_fields(const Pkce& pkce) {
  return {{"response_type", "code"},        {"client_id", kClient},
          {"redirect_uri", kRedirect},      {"state", "st"},
          {"code_challenge", pkce.challenge}, {"code_challenge_method", "S256"}};
}

Fields without(Fields f, const std::string& name) {
  std::erase_if(f, [&](const auto& kv) { return kv.first == name; });
  return f;
}

Fields with(Fields f, const std::string& name, const std::string& value) {
  f = without(std::move(f), name);
  f.emplace_back(name, value);
  return f;
}

// The value of the hidden request_id input of the consent form.
std::string request_id_of(const std::string& html) {
  const std::string marker = "name=\"request_id\" value=\"";
  auto at = html.find(marker);
  REQUIRE(at != std::string::npos);
  at += marker.size();
  return html.substr(at, html.find('"', at) - at);
}

void check_error_page(const Response& r) {
  CHECK(r.status == 400);
  CHECK(r.header("Content-Type").find("text/html") == 0);
  CHECK_FALSE(r.has_header("Location"));
}

void check_redirect_error(const Response& r, const std::string& error) {
  REQUIRE(r.status == 302);
  auto q = query_of(r.header("Location"));
  CHECK(q["error"] == error);
  CHECK(q.count("code") == 0);
}

}  // namespace

TEST_CASE("authorize: unknown client or unregistered redirect gets a page, never a redirect") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  Fields good = good_fields(pkce);
  check_error_page(server.get(target(with(good, "client_id", "nobody"))));
  check_error_page(server.get(target(without(good, "client_id"))));
  check_error_page(server.get(target(with(good, "redirect_uri", "https://evil.example/cb"))));
  check_error_page(server.get(target(with(good, "redirect_uri", "http://127.0.0.1@evil.example/"))));
  check_error_page(server.get(target(with(good, "redirect_uri", "http://127.0.0.1:9/cb#frag"))));
  check_error_page(server.get(target(without(good, "redirect_uri"))));
  Fields twice = good;
  twice.emplace_back("client_id", kClient);
  check_error_page(server.get(target(twice)));
  // Any loopback redirect is fine for the default client.
  CHECK(server.get(target(with(good, "redirect_uri", "http://localhost:4321/x"))).status == 302);
  CHECK(server.get(target(with(good, "redirect_uri", "http://[::1]/cb"))).status == 302);
}

TEST_CASE("authorize: plain or missing PKCE and repeated parameters redirect with invalid_request") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  Fields good = good_fields(pkce);
  check_redirect_error(server.get(target(with(good, "code_challenge_method", "plain"))),
                       "invalid_request");
  check_redirect_error(server.get(target(without(good, "code_challenge_method"))),
                       "invalid_request");
  check_redirect_error(server.get(target(without(good, "code_challenge"))), "invalid_request");
  check_redirect_error(server.get(target(with(good, "code_challenge", "short"))), "invalid_request");
  Fields twice = good;
  twice.emplace_back("scope", "read");
  twice.emplace_back("scope", "write");
  Response r = server.get(target(twice));
  check_redirect_error(r, "invalid_request");
  auto q = query_of(r.header("Location"));
  CHECK(q["state"] == "st");
  CHECK(q["iss"] == server.issuer());
  check_redirect_error(server.get(target(with(good, "response_type", "token"))),
                       "unsupported_response_type");
  check_redirect_error(server.get(target(with(good, "scope", "read \"quoted\""))), "invalid_scope");
}

TEST_CASE("consent page: approve redirects with code, state and iss") {
  DevServer server;
  Pkce pkce = make_pkce();
  Response page = server.get(authorize_target(pkce.challenge, "consent-state", "read profile"));
  REQUIRE(page.status == 200);
  CHECK(page.header("Content-Type").find("text/html") == 0);
  CHECK(page.header("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
  CHECK(page.body.find("action=\"/oauth/authorize/decision\"") != std::string::npos);
  CHECK(page.body.find("value=\"approve\"") != std::string::npos);
  CHECK(page.body.find("value=\"deny\"") != std::string::npos);
  // The form carries a server-side id, not the request's parameters.
  CHECK(page.body.find(pkce.challenge) == std::string::npos);
  CHECK(page.body.find("consent-state") == std::string::npos);
  CHECK(page.body.find("<script") == std::string::npos);
  CHECK(page.body.find(kRedirect) != std::string::npos);

  std::string id = request_id_of(page.body);
  Response d = server.post_form("/oauth/authorize/decision",
                                form({{"request_id", id}, {"decision", "approve"}}));
  REQUIRE(d.status == 302);
  auto q = query_of(d.header("Location"));
  CHECK(q["state"] == "consent-state");
  CHECK(q["iss"] == server.issuer());
  Response t = exchange_code(server, q["code"], pkce.verifier);
  REQUIRE(t.status == 200);
  CHECK(std::string(t.json().at("scope").as_string()) == "read profile");

  // The pending request is single-use.
  check_error_page(server.post_form("/oauth/authorize/decision",
                                    form({{"request_id", id}, {"decision", "approve"}})));
}

TEST_CASE("consent page: deny redirects with access_denied, state and iss") {
  DevServer server;
  Pkce pkce = make_pkce();
  Response page = server.get(authorize_target(pkce.challenge, "deny-state"));
  REQUIRE(page.status == 200);
  Response d = server.post_form("/oauth/authorize/decision",
                                form({{"request_id", request_id_of(page.body)}, {"decision", "deny"}}));
  check_redirect_error(d, "access_denied");
  auto q = query_of(d.header("Location"));
  CHECK(q["state"] == "deny-state");
  CHECK(q["iss"] == server.issuer());
}

TEST_CASE("consent page: escapes what the client sent") {
  DevServer server;
  Pkce pkce = make_pkce();
  Fields f = good_fields(pkce);
  f.emplace_back("login_hint", "<script>alert(1)</script>");
  f.emplace_back("scope", "read<b>");
  Response page = server.get(target(f));
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<script") == std::string::npos);
  CHECK(page.body.find("read<b>") == std::string::npos);
  CHECK(page.body.find("read&lt;b&gt;") != std::string::npos);
  CHECK(page.body.find("&lt;script&gt;") != std::string::npos);
}

TEST_CASE("consent page: an unknown request id gets a page") {
  DevServer server;
  check_error_page(server.post_form("/oauth/authorize/decision",
                                    form({{"request_id", "nope"}, {"decision", "approve"}})));
}

TEST_CASE("login_hint picks the sandbox user") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  Fields f = good_fields(pkce);
  f.emplace_back("login_hint", "alice");
  Response a = server.get(target(f));
  REQUIRE(a.status == 302);
  Response t = exchange_code(server, query_of(a.header("Location"))["code"], pkce.verifier);
  REQUIRE(t.status == 200);
  Response me = api_me(server, std::string(t.json().at("access_token").as_string()));
  CHECK(std::string(me.json().at("sub").as_string()) == "alice");
}
