// GET /oauth/authorize and POST /oauth/authorize/decision (RFC 6749 4.1.1,
// RFC 7636, RFC 9207).
#include <algorithm>

#include "consent_page.hpp"
#include "handlers.hpp"
#include "responses.hpp"

namespace refold::devserver {

namespace {

constexpr std::string_view kDefaultScope = "read";
constexpr std::string_view kDefaultSub = "sandbox-user";

// RFC 7636 4.2: 43 to 128 characters of [A-Za-z0-9-._~].
bool valid_pkce_value(std::string_view s) {
  if (s.size() < 43 || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

// login_hint picks the sandbox user, so one client can hold grants for
// several "people". Printable ASCII only: it is echoed into HTML and JSON.
std::string subject_from_hint(const std::optional<std::string>& hint) {
  if (!hint || hint->size() > 64) return std::string(kDefaultSub);
  bool printable = std::all_of(hint->begin(), hint->end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  return printable ? *hint : std::string(kDefaultSub);
}

HttpResponse bad_request_page(std::string_view detail) {
  return html_response(400, error_page("Invalid authorization request", detail));
}

}  // namespace

HttpResponse Router::redirect_error(const std::string& redirect_uri, const std::string* state,
                                    std::string_view error, std::string_view description) const {
  Params p{{"error", std::string(error)}};
  if (!description.empty()) p.emplace_back("error_description", std::string(description));
  if (state && !state->empty()) p.emplace_back("state", *state);
  p.emplace_back("iss", site_.issuer);
  return redirect_response(append_query(redirect_uri, p));
}

HttpResponse Router::approve(const AuthorizeRequest& request) {
  std::string code = provider_.issue_code(request);
  Params p{{"code", std::move(code)}};
  if (!request.state.empty()) p.emplace_back("state", request.state);
  p.emplace_back("iss", site_.issuer);
  for (auto& extra : provider_.callback_extra()) p.push_back(std::move(extra));
  return redirect_response(append_query(request.redirect_uri, p));
}

HttpResponse Router::authorize(const HttpRequest& req) {
  if (provider_.tenant_hosts() && !tenant_of(req))
    return bad_request_page("Unknown tenant: open this page at <tenant>.localhost.");
  auto parsed = parse_form(req.query);
  if (!parsed) return bad_request_page("The query string is not valid percent-encoding.");
  const Params& params = *parsed;

  // Until client and redirect URI are known good, errors are shown here and
  // never redirected: redirecting to an unchecked URI makes an open
  // redirector (RFC 6749 4.1.2.1).
  auto client_id = param(params, "client_id");
  if (count_param(params, "client_id") != 1 || !client_id)
    return bad_request_page("client_id is missing or repeated.");
  const Client* client = provider_.find_client(*client_id);
  if (!client) return bad_request_page("Unknown client_id.");
  auto redirect_uri = param(params, "redirect_uri");
  if (count_param(params, "redirect_uri") != 1 || !redirect_uri)
    return bad_request_page("redirect_uri is missing or repeated.");
  if (!provider_.redirect_allowed(*client, *redirect_uri))
    return bad_request_page("redirect_uri is not registered for this client.");

  // A repeated state cannot be echoed: which one would the client expect?
  std::optional<std::string> state;
  if (count_param(params, "state") == 1) state = param(params, "state");
  const std::string* state_ptr = state ? &*state : nullptr;

  if (auto dup = duplicate_param(params))
    return redirect_error(*redirect_uri, state_ptr, "invalid_request",
                          "parameter " + *dup + " is repeated");
  auto response_type = param(params, "response_type");
  if (!response_type)
    return redirect_error(*redirect_uri, state_ptr, "invalid_request", "response_type is missing");
  if (*response_type != "code")
    return redirect_error(*redirect_uri, state_ptr, "unsupported_response_type",
                          "only response_type=code is supported");
  auto method = param(params, "code_challenge_method");
  auto challenge = param(params, "code_challenge");
  if (!challenge)
    return redirect_error(*redirect_uri, state_ptr, "invalid_request",
                          "PKCE is required: code_challenge is missing");
  // A missing method means "plain" (RFC 7636 4.3), which is refused.
  if (method != "S256")
    return redirect_error(*redirect_uri, state_ptr, "invalid_request",
                          "code_challenge_method must be S256");
  if (!valid_pkce_value(*challenge))
    return redirect_error(*redirect_uri, state_ptr, "invalid_request",
                          "code_challenge is not a base64url SHA-256 value");
  auto scope = normalize_scope(param(params, "scope").value_or(std::string(kDefaultScope)));
  if (!scope)
    return redirect_error(*redirect_uri, state_ptr, "invalid_scope",
                          "scope contains characters RFC 6749 3.3 does not allow");
  if (scope->empty()) scope = std::string(kDefaultScope);

  AuthorizeRequest request{*client_id, *redirect_uri, *scope, state.value_or(""), *challenge,
                           subject_from_hint(param(params, "login_hint"))};
  if (provider_.auto_approve()) return approve(request);
  std::string id = provider_.add_pending(request);
  return html_response(200, consent_page(request, id));
}

HttpResponse Router::authorize_decision(const HttpRequest& req) {
  auto params = parse_form(req.body);
  if (!params) return bad_request_page("The form is not valid percent-encoding.");
  auto id = param(*params, "request_id");
  auto decision = param(*params, "decision");
  if (!id || !decision || (*decision != "approve" && *decision != "deny"))
    return bad_request_page("The form needs request_id and decision=approve|deny.");
  auto request = provider_.take_pending(*id);
  if (!request)
    return bad_request_page("This authorization request is unknown, used or expired. "
                            "Start again from the application.");
  if (*decision == "approve") return approve(*request);
  return redirect_error(request->redirect_uri, &request->state, "access_denied",
                        "the user denied the request");
}

}  // namespace refold::devserver
