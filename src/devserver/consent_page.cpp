#include "consent_page.hpp"

#include "form.hpp"

namespace refold::devserver {

namespace {

constexpr std::string_view kStyle = R"(<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dt{color:#666}
dd{margin:0;word-break:break-all}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.5rem 1.5rem;border-radius:.3rem;border:1px solid #888;cursor:pointer}
button[value=approve]{background:#2d6a4f;color:#fff;border-color:#2d6a4f}
.note{color:#666;font-size:.85rem;margin-top:2rem}
</style>)";

std::string page(std::string_view title, const std::string& body) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<title>";
  out += html_escape(title);
  out += "</title>";
  out += kStyle;
  out += "</head><body>\n";
  out += body;
  out += "<p class=\"note\">refold-devserver: a local OAuth 2.0 sandbox. Nothing here is real.</p>"
         "\n</body></html>\n";
  return out;
}

}  // namespace

std::string consent_page(const AuthorizeRequest& request, std::string_view request_id) {
  std::string body = "<h1>Authorize <code>" + html_escape(request.client_id) + "</code>?</h1>\n";
  body += "<p>The application asks to act as the sandbox user <b>" + html_escape(request.sub) +
          "</b>.</p>\n<dl><dt>Scope</dt><dd>" + html_escape(request.scope) +
          "</dd><dt>Redirect to</dt><dd>" + html_escape(request.redirect_uri) + "</dd></dl>\n";
  body += "<form method=\"post\" action=\"/oauth/authorize/decision\">"
          "<input type=\"hidden\" name=\"request_id\" value=\"" +
          html_escape(request_id) +
          "\">\n<div class=\"buttons\">"
          "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>"
          "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>"
          "</div></form>\n";
  return page("Authorize " + request.client_id, body);
}

std::string error_page(std::string_view title, std::string_view detail) {
  std::string body = "<h1>" + html_escape(title) + "</h1>\n<p>" + html_escape(detail) + "</p>\n";
  return page(title, body);
}

}  // namespace refold::devserver
