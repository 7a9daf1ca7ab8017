// URLs as the HTTP client needs them, and the form/query encodings OAuth
// uses. Everything here is pure string work: no I/O, no locale.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/secret_string.hpp"

namespace refold::http {

// An absolute http(s) URL split into what a request needs. Built only by
// parse_url, so every field is already checked.
struct Url {
  std::string scheme;  // "https" or "http", lower case
  std::string host;    // lower case; an IPv6 literal without its brackets
  std::string port;    // decimal, the scheme's default when the URL had none
  // Path and query, at least "/"; never the fragment. Secret: the query
  // often carries codes and tokens.
  crypto::SecretString target;

  bool tls() const { return scheme == "https"; }
  // "scheme://host:port" with the port always present: the key connections
  // are pooled under.
  std::string origin() const;
  // The Host header value: host (bracketed if IPv6), ":port" unless default.
  std::string authority() const;
  // "scheme://host[:port]/path", without query or fragment: the query often
  // carries codes and tokens, so this is the only form errors may quote.
  std::string redacted() const;
};

// Parses an absolute http or https URL. Throws REFOLD_EINVALID for anything
// malformed: no or another scheme, userinfo, empty or invalid host, bad port,
// spaces, control or non-ASCII bytes, malformed percent escapes. The message
// never quotes the URL, which may hold a secret in its query.
Url parse_url(std::string_view text);

// 127.0.0.0/8 as a strict dotted quad, "::1" (in any IPv6 spelling),
// "localhost" or a name under it ("acme.localhost", RFC 6761 6.3), any case.
// The host is given without brackets.
bool is_loopback_host(std::string_view host);

// True for an IP address (IPv4 dotted quad or IPv6, without brackets) that
// is routed on the public internet: false for loopback, private (10/8,
// 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), link-local,
// unspecified, multicast, reserved and documentation ranges, and for an
// IPv4-mapped IPv6 address of any of those. False for anything that is not
// an IP address.
bool is_public_ip(std::string_view address);

// Throws REFOLD_EINVALID unless the URL is https, or http to a loopback host:
// credentials must never travel in the clear over a real network.
void require_secure(const Url& url);

// Names and values; the values are secret (codes, tokens, client secrets).
using Params = std::vector<std::pair<std::string, crypto::SecretString>>;

// application/x-www-form-urlencoded. RFC 3986 unreserved bytes
// (A-Z a-z 0-9 - . _ ~) are kept, every other byte is %XX (upper-case hex),
// and space is always "%20", never "+": "%20" means a space to every form and
// URI decoder, while a "+" in a query is read literally by some servers.
// The result is usable both as a request body and as a URL query.
crypto::SecretString form_encode(const Params& params);
crypto::SecretString form_encode(std::initializer_list<std::pair<std::string_view, std::string_view>> params);

// Decodes %XX escapes (either hex case); with plus_as_space, "+" is a space
// as in form data. Throws REFOLD_EINVALID for a "%" not followed by two hex
// digits, without quoting the input.
crypto::SecretString percent_decode(std::string_view text, bool plus_as_space = false);

// Splits "a=1&b=2" (a leading "?" is skipped) into decoded pairs, in order,
// duplicates kept. Empty segments ("a=1&&b=2") are skipped; a key without
// "=" gets an empty value. "+" decodes to a space. Throws REFOLD_EINVALID for
// malformed percent escapes.
Params parse_query(std::string_view query);

}  // namespace refold::http
