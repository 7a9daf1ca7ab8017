// The two HTML pages of the authorization endpoint: consent and error.
// Self-contained (inline style, no scripts, no external resources) so they
// render offline and pass a strict Content-Security-Policy.
#pragma once

#include <string>
#include <string_view>

#include "provider.hpp"

namespace refold::devserver {

// The form posts `request_id` and `decision` (approve|deny) to
// POST /oauth/authorize/decision; the request's parameters stay on the
// server under `request_id`.
std::string consent_page(const AuthorizeRequest& request, std::string_view request_id);

// Shown instead of redirecting when the client or redirect URI cannot be
// trusted (RFC 6749 4.1.2.1).
std::string error_page(std::string_view title, std::string_view detail);

}  // namespace refold::devserver
