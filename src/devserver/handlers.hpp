// Routes a request to its endpoint, counts it, and applies injected
// failures. The endpoints themselves live in authorize_handlers.cpp,
// token_handlers.cpp and admin_handlers.cpp.
//
// Thread safety: handle() may run on several threads at once; all state it
// touches is in Provider, Counters and Faults, which lock for themselves.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "counters.hpp"
#include "faults.hpp"
#include "form.hpp"
#include "http_types.hpp"
#include "provider.hpp"

namespace refold::devserver {

struct Site {
  std::string base_url;  // where the endpoints are, e.g. http://127.0.0.1:8080
  std::string issuer;    // the "issuer" and "iss" value (RFC 8414, RFC 9207)
};

class Router {
 public:
  Router(Provider& provider, Counters& counters, Faults& faults, Site site);

  HttpResponse handle(const HttpRequest& request);

 private:
  using Endpoint = std::function<HttpResponse()>;
  // Counts a request to `name`, then answers it normally or with the
  // failure queued for it.
  HttpResponse counted(std::string_view name, const HttpRequest& request, const Endpoint& endpoint);
  HttpResponse injected(const Fault& fault, std::string_view name) const;

  HttpResponse metadata() const;
  HttpResponse me(const HttpRequest& request);
  HttpResponse resources(const HttpRequest& request);
  HttpResponse accounts(const HttpRequest& request);
  HttpResponse keys_verify(const HttpRequest& request) const;

  // authorize_handlers.cpp
  HttpResponse authorize(const HttpRequest& request);
  HttpResponse authorize_decision(const HttpRequest& request);
  HttpResponse approve(const AuthorizeRequest& request);
  HttpResponse redirect_error(const std::string& redirect_uri, const std::string* state,
                              std::string_view error, std::string_view description) const;

  // token_handlers.cpp
  // token() answers as TokenQuirks say; token_grant() is RFC 6749's answer.
  HttpResponse token(const HttpRequest& request);
  HttpResponse token_grant(const HttpRequest& request);
  HttpResponse revoke(const HttpRequest& request);
  // Revocations that are not RFC 7009, for apps' request templates:
  // Slack's auth.revoke (the access token as a Bearer, answered with "ok")
  // and HubSpot's DELETE of the refresh token in the path.
  HttpResponse revoke_bearer(const HttpRequest& request);
  HttpResponse delete_refresh_token(const HttpRequest& request);

  // admin_handlers.cpp
  HttpResponse admin(const HttpRequest& request);
  HttpResponse admin_config(const HttpRequest& request);
  HttpResponse admin_fail(const HttpRequest& request);
  HttpResponse admin_grants_revoke(const HttpRequest& request);
  HttpResponse admin_grants() const;
  HttpResponse admin_counters() const;

  Provider& provider_;
  Counters& counters_;
  Faults& faults_;
  const Site site_;
};

// The parameters of a token request's body: a JSON object of strings when
// its Content-Type says JSON, form-urlencoded otherwise; nullopt when it is
// neither.
std::optional<Params> request_params(const HttpRequest& request);

// The token of an "Authorization: Bearer <token>" header; nullopt when the
// header is missing, repeated or of another scheme.
std::optional<std::string> bearer_token(const HttpRequest& request);

// The tenant a request's Host names: "acme" for "acme.localhost[:port]"
// (lower-cased); nullopt for any other host, or a missing or repeated Host.
std::optional<std::string> tenant_of(const HttpRequest& request);

}  // namespace refold::devserver
