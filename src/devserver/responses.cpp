#include "responses.hpp"

#include <boost/json/serialize.hpp>

namespace refold::devserver {

std::vector<std::string_view> HttpRequest::header_values(std::string_view lower_name) const {
  std::vector<std::string_view> out;
  for (const auto& h : headers)
    if (h.name == lower_name) out.emplace_back(h.value);
  return out;
}

HttpResponse& HttpResponse::set(std::string name, std::string value) {
  headers.push_back(Header{std::move(name), std::move(value)});
  return *this;
}

void no_store(HttpResponse& response) {
  response.set("Cache-Control", "no-store");
  response.set("Pragma", "no-cache");
}

HttpResponse json_response(unsigned status, const boost::json::value& body) {
  HttpResponse r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = boost::json::serialize(body);
  return r;
}

HttpResponse oauth_error(unsigned status, std::string_view error, std::string_view description) {
  boost::json::object body;
  body["error"] = error;
  if (!description.empty()) body["error_description"] = description;
  HttpResponse r = json_response(status, body);
  no_store(r);
  return r;
}

HttpResponse invalid_client(std::string_view description) {
  HttpResponse r = oauth_error(401, "invalid_client", description);
  r.set("WWW-Authenticate", "Basic realm=\"refold-devserver\"");
  return r;
}

HttpResponse invalid_token(std::string_view description, const boost::json::value& body) {
  HttpResponse r = json_response(401, body);
  // The description is one of our own fixed sentences, never client input,
  // so it needs no quoting beyond the surrounding quotes.
  r.set("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"" +
                                std::string(description) + "\"");
  return r;
}

HttpResponse html_response(unsigned status, std::string html) {
  HttpResponse r;
  r.status = status;
  r.set("Content-Type", "text/html; charset=utf-8");
  // Self-contained pages: nothing to load, nothing to frame us in.
  r.set("Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  r.set("X-Frame-Options", "DENY");
  r.set("Referrer-Policy", "no-referrer");
  no_store(r);
  r.body = std::move(html);
  return r;
}

HttpResponse redirect_response(std::string location) {
  HttpResponse r;
  r.status = 302;
  r.set("Location", std::move(location));
  // The Location carries a code; keep it out of the Referer of the next page.
  r.set("Referrer-Policy", "no-referrer");
  no_store(r);
  return r;
}

}  // namespace refold::devserver
