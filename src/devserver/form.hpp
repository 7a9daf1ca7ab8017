// application/x-www-form-urlencoded and URL text: query strings, form
// bodies, redirect URIs, HTML escaping.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace refold::devserver {

// Name/value pairs in the order they came, duplicates kept: OAuth rejects
// repeated parameters (RFC 6749 3.1, 3.2), so they must stay visible.
using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-decoding; '+' is a space when `plus_is_space`. nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Parses a query string or form body. nullopt on a malformed escape.
std::optional<Params> parse_form(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

std::size_t count_param(const Params& params, std::string_view name);

// The value of `name`, or nullopt when absent or empty (RFC 6749 3.1:
// "parameters sent without a value MUST be treated as if they were omitted").
std::optional<std::string> param(const Params& params, std::string_view name);

// The first parameter name that occurs more than once, if any.
std::optional<std::string> duplicate_param(const Params& params);

// `uri` with the parameters appended to its query.
std::string append_query(std::string_view uri, const Params& params);

std::string html_escape(std::string_view text);

// True when `text` starts with `lower_prefix`, ignoring ASCII case (HTTP
// auth schemes and media types are case-insensitive).
bool starts_with_nocase(std::string_view text, std::string_view lower_prefix);

}  // namespace refold::devserver
