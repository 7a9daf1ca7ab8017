// Builders for the kinds of answers the handlers give.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "http_types.hpp"

namespace refold::devserver {

HttpResponse json_response(unsigned status, const boost::json::value& body);

// RFC 6749 5.2 error body, with Cache-Control: no-store like every answer of
// the token endpoint.
HttpResponse oauth_error(unsigned status, std::string_view error, std::string_view description);

// 401 invalid_client with a Basic challenge (RFC 6749 5.2).
HttpResponse invalid_client(std::string_view description);

// 401 with WWW-Authenticate: Bearer error="invalid_token" (RFC 6750 3.1).
HttpResponse invalid_token(std::string_view description, const boost::json::value& body);

HttpResponse html_response(unsigned status, std::string html);

HttpResponse redirect_response(std::string location);

// Marks a response as never to be cached (token and authorization answers).
void no_store(HttpResponse& response);

}  // namespace refold::devserver
