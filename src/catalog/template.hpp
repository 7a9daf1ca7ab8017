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

// True when a placeholder appears before the path of the URL template
// `tmpl` (in its scheme, host or port).
bool template_in_authority(std::string_view tmpl);

// Replaces each "{name}" in `tmpl` (already checked) with `value(name)`, or
// with nothing when it gives none; percent-encoded when `url` is true (every
// byte outside RFC 3986's unreserved set), else as is. The result is secret:
// the values are keys and tokens. Not thread-affine; `value` is called on
// the calling thread.
crypto::SecretString fill_template(std::string_view tmpl,
                                   const std::function<std::optional<std::string_view>(std::string_view)>& value,
                                   bool url);

}  // namespace refold::catalog
