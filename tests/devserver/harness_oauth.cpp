// OAuth client steps the tests share, written from the RFCs rather than
// from the server's code.
#include <doctest/doctest.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <stdexcept>

#include "harness.hpp"

namespace devtest {

namespace {

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string b = base64(std::string(reinterpret_cast<const char*>(data), n));
  while (!b.empty() && b.back() == '=') b.pop_back();
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return b;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  throw std::runtime_error("bad percent-encoding");
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

}  // namespace

std::string base64(const std::string& bytes) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
             (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
  }
  if (bytes.size() - i == 1) {
    auto n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    out += {k[n >> 18], k[(n >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
             (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
  }
  return out;
}

Pkce make_pkce() {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND");
  Pkce p;
  p.verifier = base64url(raw.data(), raw.size());
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(p.verifier.data()), p.verifier.size(),
         digest.data());
  p.challenge = base64url(digest.data(), digest.size());
  return p;
}

std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string form(const Fields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

std::string basic_auth(const std::string& id, const std::string& secret) {
  return "Basic " + base64(url_encode(id) + ":" + url_encode(secret));
}

Fields basic_header(const std::string& id, const std::string& secret) {
  return {{"Authorization", basic_auth(id, secret)}};
}

std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> out;
  auto q = url.find('?');
  if (q == std::string::npos) return out;
  std::string rest = url.substr(q + 1);
  std::size_t i = 0;
  while (i <= rest.size()) {
    std::size_t amp = rest.find('&', i);
    if (amp == std::string::npos) amp = rest.size();
    std::string pair = rest.substr(i, amp - i);
    auto eq = pair.find('=');
    if (!pair.empty())
      out[url_decode(pair.substr(0, eq))] =
          eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
    i = amp + 1;
  }
  return out;
}

std::string authorize_target(const std::string& challenge, const std::string& state,
                             const std::string& scope, const std::string& client_id,
                             const std::string& redirect_uri) {
  return "/oauth/authorize?" + form({{"response_type", "code"},
                                     {"client_id", client_id},
                                     {"redirect_uri", redirect_uri},
                                     {"scope", scope},
                                     {"state", state},
                                     {"code_challenge", challenge},
                                     {"code_challenge_method", "S256"}});
}

std::string authorize_code(const DevServer& server, const Pkce& pkce, const std::string& scope) {
  Response r = server.get(authorize_target(pkce.challenge, "st", scope));
  REQUIRE(r.status == 302);
  auto q = query_of(r.header("Location"));
  REQUIRE(q.count("code") == 1);
  return q["code"];
}

Response exchange_code(const DevServer& server, const std::string& code,
                       const std::string& verifier, const std::string& redirect_uri) {
  return server.post_form("/oauth/token",
                          form({{"grant_type", "authorization_code"},
                                {"code", code},
                                {"redirect_uri", redirect_uri},
                                {"code_verifier", verifier}}),
                          basic_header());
}

Response refresh(const DevServer& server, const std::string& refresh_token,
                 const std::string& scope) {
  Fields f{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  if (!scope.empty()) f.emplace_back("scope", scope);
  return server.post_form("/oauth/token", form(f), basic_header());
}

Response api_me(const DevServer& server, const std::string& access_token) {
  return server.get("/api/me", {{"Authorization", "Bearer " + access_token}});
}

Tokens obtain_tokens(const DevServer& server, const std::string& scope) {
  Pkce pkce = make_pkce();
  std::string code = authorize_code(server, pkce, scope);
  Response r = exchange_code(server, code, pkce.verifier);
  REQUIRE(r.status == 200);
  auto o = r.json().as_object();
  return {std::string(o.at("access_token").as_string()),
          std::string(o.at("refresh_token").as_string())};
}

}  // namespace devtest
