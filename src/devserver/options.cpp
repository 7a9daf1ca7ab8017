#include "options.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <stdexcept>

namespace refold::devserver {

namespace {

constexpr std::int64_t kMaxTtl = 10LL * 365 * 24 * 3600;

std::int64_t parse_int(const std::string& flag, const std::string& text, std::int64_t lo,
                       std::int64_t hi) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi)
    throw std::invalid_argument(flag + " needs an integer from " + std::to_string(lo) + " to " +
                                std::to_string(hi) + ", not '" + text + "'");
  return v;
}

bool parse_bool(const std::string& flag, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw std::invalid_argument(flag + " needs true or false, not '" + text + "'");
}

}  // namespace

const char* usage_text() {
  return R"(refold-devserver: a local OAuth 2.0 sandbox provider for developing and testing
against refold. It plays a real authorization server (authorization code + PKCE,
refresh token rotation, revocation) on loopback, plus a key-based sandbox app
and an admin API for failure injection. All state is kept in memory and lost
when the process exits.

Usage: refold-devserver [options]

  --port N                 listen on port N (default 0: an ephemeral port)
  --host ADDR              loopback address to bind (default 127.0.0.1; only
                           127.0.0.0/8, ::1 or localhost are accepted)
  --tls-cert FILE          serve HTTPS (TLS 1.2+) with this PEM certificate chain
  --tls-key FILE           ... and this PEM private key (both or neither)
  --client ID:SECRET[:REDIRECT_PREFIX]
                           register a client (repeatable). The secret may
                           contain ':'; REDIRECT_PREFIX starts at the first
                           ':http://' or ':https://'. Without a prefix any
                           loopback redirect URI is allowed. Without any
                           --client: sandbox-client / sandbox-secret.
  --auto-approve           skip the consent page: approve every request
  --access-token-ttl SECS  access token lifetime (default 3600; 0 allowed)
  --issue-refresh-tokens BOOL
                           true (default) or false: issue no refresh tokens
                           at all (refresh tokens issued before keep working)
  --rotate-refresh-tokens BOOL
                           true (default) or false: a refresh answers without
                           a refresh_token and the old one stays valid
  --refresh-token-ttl SECS refresh token lifetime, sent as refresh_token_expires_in
                           (default 0: until revoked or rotated)
  --issuer URL             issuer identifier (default: the base URL)
  --verbose                log "METHOD /path" of each request to stderr
                           (never queries, headers or bodies)
  --help                   print this text

On start it prints one line of JSON to stdout, e.g.
  {"port":8080,"base_url":"http://127.0.0.1:8080","issuer":"http://127.0.0.1:8080"}
then serves until SIGINT, SIGTERM or POST /admin/shutdown (exit status 0).
See docs/devserver.md for the endpoints and the admin API.
)";
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

Client parse_client(const std::string& spec) {
  std::size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    // The value is not echoed: it may hold a secret.
    throw std::invalid_argument("--client needs ID:SECRET[:REDIRECT_PREFIX]");
  Client c;
  c.id = spec.substr(0, colon);
  std::string rest = spec.substr(colon + 1);
  std::size_t p = std::min(rest.find(":http://"), rest.find(":https://"));
  if (p != std::string::npos) {
    c.secret = rest.substr(0, p);
    c.redirect_prefix = rest.substr(p + 1);
  } else {
    c.secret = rest;
  }
  if (c.secret.empty()) throw std::invalid_argument("--client " + c.id + ": the secret is empty");
  return c;
}

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (std::size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
      return args[++i];
    };
    auto no_value = [&] {
      if (inline_value) throw std::invalid_argument(flag + " takes no value");
    };

    if (flag == "--help" || flag == "-h") {
      no_value();
      o.help = true;
    } else if (flag == "--port") {
      o.port = static_cast<std::uint16_t>(parse_int(flag, value(), 0, 65535));
    } else if (flag == "--host") {
      o.host = value();
      if (!is_loopback_host(o.host))
        throw std::invalid_argument("--host must be a loopback address (127.0.0.1, ::1), not '" +
                                    o.host + "': the sandbox is never reachable from elsewhere");
      if (o.host == "localhost") o.host = "127.0.0.1";
    } else if (flag == "--tls-cert") {
      o.tls_cert = value();
    } else if (flag == "--tls-key") {
      o.tls_key = value();
    } else if (flag == "--client") {
      o.clients.push_back(parse_client(value()));
    } else if (flag == "--auto-approve") {
      no_value();
      o.auto_approve = true;
    } else if (flag == "--access-token-ttl") {
      o.access_token_ttl = parse_int(flag, value(), 0, kMaxTtl);
    } else if (flag == "--issue-refresh-tokens") {
      o.refresh_policy.issue = parse_bool(flag, value());
    } else if (flag == "--rotate-refresh-tokens") {
      o.refresh_policy.rotate = parse_bool(flag, value());
    } else if (flag == "--refresh-token-ttl") {
      o.refresh_policy.ttl = parse_int(flag, value(), 0, kMaxTtl);
    } else if (flag == "--issuer") {
      o.issuer = value();
      if (o.issuer.empty()) throw std::invalid_argument("--issuer must not be empty");
    } else if (flag == "--verbose" || flag == "-v") {
      no_value();
      o.verbose = true;
    } else {
      // The flag only, not an inline value, which might be a secret.
      throw std::invalid_argument("unknown option '" + flag + "' (see --help)");
    }
  }
  if (o.tls_cert.empty() != o.tls_key.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  for (std::size_t i = 0; i < o.clients.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (o.clients[i].id == o.clients[j].id)
        throw std::invalid_argument("--client " + o.clients[i].id + " given twice");
  if (o.clients.empty()) o.clients.push_back(Client{"sandbox-client", "sandbox-secret", ""});
  return o;
}

}  // namespace refold::devserver
