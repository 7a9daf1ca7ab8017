// Templates in app definitions: strings with "{name}" placeholders, such as
// a verification URL "https://api.example.com/accounts/{sid}" or a
// revocation URL ".../applications/{client_id}/grant". Checked when a
// definition loads, filled when a request is built.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "crypto/secret_string.hpp"
#include "util/json.hpp"

namespace refold::catalog {

// Checks every "{name}" in `tmpl` against `known` and throws REFOLD_EINVALID
// through `r` naming `key` for an unclosed "{" or a name `known` rejects
// ("refers to '{x}', which is not <what>").
void check_template(const json::Reader& r, std::string_view key, std::string_view tmpl,
                    const std::function<bool(std::string_view)>& known, std::string_view what);

// Replaces each "{name}" in `tmpl` (already checked) with `value(name)`, or
// with nothing when it gives none; percent-encoded when `url` is true (every
// byte outside RFC 3986's unreserved set), else as is. The result is secret:
// the values are keys and tokens. Not thread-affine; `value` is called on
// the calling thread.
crypto::SecretString fill_template(std::string_view tmpl,
                                   const std::function<std::optional<std::string_view>(std::string_view)>& value,
                                   bool url);

// A URL template whose host may be chosen by a connection's inputs
// ("https://{connection.subdomain}.zendesk.com/oauth/tokens"). Checks the
// placeholders against `known` as check_template does, then the host: a
// placeholder there must be one `in_host` accepts; a "{connection.*}" one
// must be a whole label, the host must end in a fixed suffix of at least two
// labels (".zendesk.com") or in ".localhost", and the port may not be
// templated. Finally the template, with every placeholder filled by "x", must
// be an https URL (http only to loopback), unless it starts with a
// placeholder (a whole URL from the provider, checked once filled). Throws REFOLD_EINVALID through
// `r` naming `key`.
//
// `host_input` names the host inputs (connection fields with host_suffixes)
// by returning a sample host for them (their first suffix), nullopt for
// others: such a placeholder must instead be the end of the host, alone
// ("https://{connection.domain}/oauth/token", "https://api.{connection.site}/"),
// and its value is checked against the field's suffixes when given.
//
// `is_input` says which placeholders a customer types (they get the rules
// above for "{connection.*}"); empty: the "{connection.*}" ones. A key-based
// verification URL passes its fields ("https://{subdomain}.freshdesk.com/").
void check_url_template(
    const json::Reader& r, std::string_view key, std::string_view tmpl,
    const std::function<bool(std::string_view)>& known, std::string_view what,
    const std::function<bool(std::string_view)>& in_host,
    const std::function<std::optional<std::string>(std::string_view)>& host_input = {},
    const std::function<bool(std::string_view)>& is_input = {});

// A DNS host name: labels of letters, digits and '-' (not at either end,
// 1 to 63 characters) joined by dots, at most 253 characters.
bool is_host_name(std::string_view s);

struct FilledUrl {
  crypto::SecretString url;
  // A connection input chose the host and the host is not under
  // ".localhost": the request must reach public addresses only.
  bool public_only = false;
};

// Fills a URL template checked by check_url_template. A value in the host
// must be present and a DNS label (letters, digits and '-', not at either
// end, 1 to 63 characters), or a host name for a connection input that ends
// the host (a host input, whose suffix its field checked), and goes in
// lower-cased; a value after the host
// is percent-encoded; a placeholder that starts the template and is not a
// connection input (a whole URL the provider sent) goes in as it is.
// public_only is set when an input (a connection input, or what `is_input`
// names) is in the host and the host is not "localhost" or under
// ".localhost". Throws REFOLD_EINVALID naming the placeholder (never its
// value) for a missing value in the host or one that is not a label.
// `is_input` as for check_url_template.
FilledUrl fill_url(std::string_view tmpl,
                   const std::function<std::optional<std::string_view>(std::string_view)>& value,
                   const std::function<bool(std::string_view)>& is_input = {});

}  // namespace refold::catalog
