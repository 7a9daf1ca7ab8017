// Token endpoint responses (oauth/token_response.hpp) under every knob of
// the app's OAuth definition.
//
// Input: line 1 is token_path, line 2 scope_separator, line 3
// token_endpoint_auth_method, pkce, issuer and iss support as
// "<method> <0|1> <issuer|-> <0|1>", line 4 the HTTP status; the rest is
// the body. The definition goes through catalog::parse_app, so only
// definitions the catalog accepts are fuzzed.
#include <boost/json.hpp>
#include <charconv>

#include "catalog/catalog.hpp"
#include "check.hpp"
#include "oauth/token_response.hpp"

namespace bj = boost::json;
using namespace refold;

namespace {

// Planted: the harness passes them as the request's secrets, and the
// corpus has responses that echo them.
const std::vector<std::string_view> kSecrets = {"PLANTED-code-4f1d9a", "PLANTED-client-secret-77c0",
                                                "PLANTED-verifier-e3b2"};

std::optional<catalog::App> make_app(std::string_view& rest) {
  std::string token_path(fuzz::take_line(rest));
  std::string separator(fuzz::take_line(rest));
  std::string_view knobs = fuzz::take_line(rest);
  const std::string knob_line(knobs);
  std::string words[4];
  for (auto& w : words) {
    auto sp = knobs.find(' ');
    w = std::string(knobs.substr(0, sp));
    knobs = sp == std::string_view::npos ? std::string_view() : knobs.substr(sp + 1);
  }
  // The definition is the host's, never secret: a planted secret there would
  // rightly be quoted ("no object at '<token_path>'").
  for (const auto& s : kSecrets)
    if (fuzz::contains(token_path, s) || fuzz::contains(separator, s) || fuzz::contains(knob_line, s))
      return std::nullopt;
  bj::object oa{{"authorization_endpoint", "https://auth.example/authorize"},
                {"token_endpoint", "https://auth.example/token"},
                {"scopes", bj::array{"read", "write"}},
                {"token_path", token_path},
                {"scope_separator", separator},
                {"pkce", words[1] != "0"}};
  if (!words[0].empty()) oa["token_endpoint_auth_method"] = words[0];
  if (!words[2].empty() && words[2] != "-") oa["issuer"] = words[2];
  if (words[3] == "1") oa["authorization_response_iss_parameter_supported"] = true;
  bj::object app{{"slug", "fuzzapp"}, {"name", "Fuzz"}, {"auth_types", bj::array{"oauth2"}}, {"oauth2", oa}};
  try {
    return catalog::parse_app(app, "fuzz");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    return std::nullopt;
  }
}

void check_message(const std::string& msg) {
  for (const auto& s : kSecrets) FUZZ_CHECK(!fuzz::contains(msg, s));
}

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::as_text(data, size);
  auto app = make_app(rest);
  if (!app) return;
  std::string_view status_line = fuzz::take_line(rest);
  int status = 0;
  auto r = std::from_chars(status_line.data(), status_line.data() + status_line.size(), status);
  if (r.ec != std::errc() || status < 0 || status > 999) return;
  std::string body(rest);
  const std::vector<std::string> requested = app->oauth2->scopes;
  const Millis now = 1'800'000'000'000;

  auto err = oauth::token_error(status, body, kSecrets);
  if (err) {
    check_message(err->error);
    check_message(err->description);
    FUZZ_CHECK(err->description.size() <= 203 && err->error.size() <= 203);
  }
  try {
    oauth::TokenSet t = oauth::parse_token_response(status, body, *app, requested, now, kSecrets);
    // A token is never handed out from an error response.
    FUZZ_CHECK(!err);
    FUZZ_CHECK(status >= 200 && status < 300);
    FUZZ_CHECK(!t.access_token.empty());
    FUZZ_CHECK(!t.token_type.empty());
    if (t.expires_at) FUZZ_CHECK(*t.expires_at >= now && *t.expires_at <= now + oauth::kMaxLifetime);
    if (t.refresh_token) FUZZ_CHECK(!t.refresh_token->empty());
  } catch (const Error& e) {
    FUZZ_CHECK(fuzz::one_of(e.code(), {REFOLD_EAUTH, REFOLD_EPROVIDER}));
    if (err) FUZZ_CHECK(e.code() == oauth::classify(*err));
    check_message(e.what());
    FUZZ_CHECK(fuzz::contains(e.what(), "app 'fuzzapp'"));
  }
}

}  // namespace

FUZZ_ENTRY(run)
