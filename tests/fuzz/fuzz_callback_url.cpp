// Authorization callback URLs (oauth/flow.hpp callback_params and
// callback_code), as Flows::complete reads them before and after the state
// lookup.
//
// Input: line 1 is the app's issuer mode ("none", "issuer": issuer
// https://auth.example, "required": the provider always sends iss); the
// rest is the callback URL.
#include "check.hpp"
#include "http/url.hpp"
#include "oauth/flow.hpp"

using namespace refold;

namespace {

constexpr const char* kIssuer = "https://auth.example";

std::string get(const oauth::CallbackParams& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : std::string(it->second.view());
}

// The outcome of callback_code: the code, or the error's code and message.
struct Outcome {
  std::string code;
  int error = 0;
  std::string message;
};

Outcome run_code(const oauth::CallbackParams& params, const catalog::OAuth2& def) {
  Outcome o;
  try {
    o.code = std::string(oauth::callback_code(params, "fuzzapp", def).view());
  } catch (const Error& e) {
    o.error = e.code();
    o.message = e.what();
  }
  return o;
}

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::as_text(data, size);
  std::string_view mode = fuzz::take_line(rest);
  catalog::OAuth2 def;
  if (mode == "issuer" || mode == "required") def.issuer = kIssuer;
  def.iss_parameter_supported = mode == "required";
  std::string url(rest);

  oauth::CallbackParams params;
  try {
    params = oauth::callback_params(url);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    return;
  }
  // Accepted callbacks are well-formed URLs whose query holds each
  // parameter once, decoded as parse_query decodes it.
  http::Url u = http::parse_url(url);
  auto q = u.target.find('?');
  http::Params pairs = q == std::string::npos ? http::Params{} : http::parse_query(std::string_view(u.target).substr(q + 1));
  FUZZ_CHECK(pairs.size() == params.size());
  for (const auto& [k, v] : pairs) FUZZ_CHECK(params.at(k) == v);

  Outcome o = run_code(params, def);
  auto iss = params.find("iss");
  if (o.error == 0) {
    // A code is exchanged only when the response is no error and comes from
    // the issuer the app names.
    FUZZ_CHECK(!o.code.empty() && o.code == get(params, "code"));
    FUZZ_CHECK(get(params, "error").empty());
    if (def.iss_parameter_supported) FUZZ_CHECK(iss != params.end());
    if (iss != params.end() && !def.issuer.empty()) FUZZ_CHECK(iss->second == def.issuer);
    return;
  }
  FUZZ_CHECK(fuzz::one_of(o.error, {REFOLD_ESTATE, REFOLD_ECANCELLED, REFOLD_EPROVIDER}));
  if (o.error == REFOLD_ECANCELLED) FUZZ_CHECK(get(params, "error") == "access_denied");
  if (o.error == REFOLD_ESTATE)
    FUZZ_CHECK(iss != params.end() ? iss->second != def.issuer : def.iss_parameter_supported);

  // The message never depends on the code: a different code gives the same one.
  if (params.count("code") && !params["code"].empty()) {
    auto other = params;
    other["code"] = params["code"] == "x" ? "y" : "x";
    Outcome o2 = run_code(other, def);
    FUZZ_CHECK(o2.error == o.error && o2.message == o.message);
  }
  for (char c : o.message) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
}

}  // namespace

FUZZ_ENTRY(run)
