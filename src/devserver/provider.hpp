// The authorization server's state: registered clients, pending consent
// requests, authorization codes, grants and their tokens. Everything lives in
// memory and is gone when the process exits.
//
// Thread safety: every member function may be called from any thread; one
// mutex guards the mutable state (the server runs its handlers on two
// threads). Clients are fixed at construction and read without the lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace refold::devserver {

struct Client {
  std::string id;
  std::string secret;
  // Empty: any loopback redirect URI (http or https on 127.0.0.1, [::1] or
  // localhost, any port) is allowed. Otherwise a redirect URI must start
  // with this text and continue at a URL boundary.
  std::string redirect_prefix;
};

// A validated authorization request, waiting for consent or turned into a
// code.
struct AuthorizeRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string state;  // empty when the client sent none
  std::string code_challenge;
  std::string sub;  // the sandbox user the grant belongs to
};

struct TokenSet {
  std::string access_token;
  std::string refresh_token;  // empty: none issued, the answer omits it
  std::string scope;
  std::int64_t expires_in = 0;
  std::int64_t refresh_expires_in = 0;  // 0: the refresh token does not expire
};

// The answer of a token operation: tokens, or an RFC 6749 5.2 error code.
struct TokenOutcome {
  std::optional<TokenSet> tokens;
  std::string error;
  std::string description;
  std::optional<TokenSet> user_tokens = {};  // TokenQuirks::user_tokens
  std::string sub = {};                      // with user_tokens: whose they are
};

struct AccessInfo {
  std::string sub;
  std::string client_id;
  std::string scope;
};

// Why an access token was refused (for the WWW-Authenticate description).
struct AccessOutcome {
  std::optional<AccessInfo> info;
  std::string reason;
};

struct GrantSummary {
  std::uint64_t id = 0;
  std::string client_id;
  std::string sub;
  std::string scope;
  bool revoked = false;
  std::string revoked_reason;
  std::uint64_t access_tokens_issued = 0;
  std::uint64_t refreshes = 0;
  std::int64_t created_at = 0;  // Unix seconds
};

// How the token endpoint hands out refresh tokens.
struct RefreshPolicy {
  // false: no refresh_token in any token answer (a provider whose access
  // tokens simply expire). Refresh tokens issued earlier keep working.
  bool issue = true;
  // false: a refresh answers without a refresh_token and the one presented
  // stays valid (no rotation, no replay detection).
  bool rotate = true;
  // Seconds a refresh token lives once issued (its answer carries
  // refresh_token_expires_in); 0: until it is revoked or rotated.
  std::int64_t ttl = 0;
};

// How the token endpoint departs from RFC 6749, the way some real
// providers do, so a client's per-app settings can be tried against it.
struct TokenQuirks {
  // How clients must authenticate: "any" (client_secret_basic or
  // client_secret_post), or only "client_secret_basic" or
  // "client_secret_post"; another way is refused as invalid_client.
  std::string client_auth = "any";
  // The token request's body: "form" (RFC 6749), "json" (a JSON object of
  // strings, as Notion takes it) or "any". Revocation stays a form.
  std::string body = "form";
  // Slack: every answer of the token endpoint is HTTP 200, an error being
  // {"ok": false, "error": ...} and a success carrying "ok": true.
  bool errors_with_200 = false;
  // The answer leaves out expires_in, though the token expires as usual.
  bool omit_expires_in = false;
  // Slack: a code exchange also grants a user token, from a grant of its
  // own, under "authed_user" (with "id", the user). Refreshing it answers
  // at the top, as any refresh does.
  bool user_tokens = false;
};

class Provider {
 public:
  using Clock = std::chrono::steady_clock;

  Provider(std::vector<Client> clients, std::int64_t access_token_ttl, bool auto_approve,
           RefreshPolicy refresh_policy = {});

  const Client* find_client(std::string_view id) const;
  bool redirect_allowed(const Client& client, std::string_view uri) const;
  // Constant-time secret check; false for an unknown client.
  bool authenticate(std::string_view client_id, std::string_view secret) const;

  // Consent: a pending request is kept server-side under a random id that
  // the consent page posts back; the page carries no parameters.
  std::string add_pending(AuthorizeRequest request);
  std::optional<AuthorizeRequest> take_pending(std::string_view id);

  // A fresh single-use code, valid for 60 seconds.
  std::string issue_code(const AuthorizeRequest& request);

  TokenOutcome redeem_code(std::string_view client_id, std::string_view code,
                           std::string_view redirect_uri, std::string_view code_verifier);
  // RFC 6749 4.4: an access token for the (authenticated) client itself,
  // without a refresh token, in a grant whose subject is "client:<id>".
  TokenOutcome client_credentials(std::string_view client_id, std::string_view scope);
  // `scope` empty: the grant's whole scope.
  TokenOutcome refresh(std::string_view client_id, std::string_view refresh_token,
                       std::string_view scope);
  // RFC 7009: unknown tokens and tokens of other clients are ignored.
  void revoke(std::string_view client_id, std::string_view token);

  AccessOutcome check_access(std::string_view access_token);

  // Admin.
  std::int64_t access_token_ttl() const;
  bool auto_approve() const;
  void set_access_token_ttl(std::int64_t seconds);
  void set_auto_approve(bool on);
  RefreshPolicy refresh_policy() const;
  void set_refresh_policy(RefreshPolicy policy);
  // Provider quirks to test a client against: members added to every
  // successful token response (a serialized JSON object, "{}" for none),
  // and parameters added to every authorization redirect that carries a
  // code (QuickBooks' realmId).
  std::string token_response_extra() const;
  void set_token_response_extra(std::string json_object);
  std::vector<std::pair<std::string, std::string>> callback_extra() const;
  void set_callback_extra(std::vector<std::pair<std::string, std::string>> params);
  // A tenant per host name, as Zendesk or Shopify have one: when on, the
  // authorization and token endpoints answer only requests whose Host is
  // "<tenant>.localhost", and a token response names the tenant it came
  // from ("tenant"), so a client's use of the right host can be checked.
  bool tenant_hosts() const;
  void set_tenant_hosts(bool on);
  TokenQuirks token_quirks() const;
  void set_token_quirks(TokenQuirks quirks);
  bool revoke_grant_of(std::string_view refresh_token, const std::string& reason);
  // Revokes the grant of a valid access token (Slack's auth.revoke); false
  // for a token unknown, expired, revoked or of a revoked grant.
  bool revoke_grant_of_access(std::string_view access_token, const std::string& reason);
  bool revoke_grant_id(std::uint64_t id, const std::string& reason);
  std::size_t revoke_all(const std::string& reason);
  std::vector<GrantSummary> grants() const;

 private:
  struct Code {
    AuthorizeRequest request;
    Clock::time_point expires_at;
    bool used = false;
    std::optional<std::uint64_t> grant_id;  // set once redeemed successfully
    std::optional<std::uint64_t> user_grant_id;  // and its user token's, with TokenQuirks::user_tokens
  };
  struct Pending {
    AuthorizeRequest request;
    Clock::time_point expires_at;
  };
  struct Grant {
    GrantSummary summary;
  };
  struct AccessToken {
    std::uint64_t grant_id = 0;
    std::string scope;
    Clock::time_point expires_at;
    bool revoked = false;
  };
  struct RefreshToken {
    std::uint64_t grant_id = 0;
    bool rotated = false;  // superseded by a newer refresh token
    std::optional<Clock::time_point> expires_at;
  };

  // All below: call with mutex_ held.
  // A new access token and, with `with_refresh`, a new refresh token (else
  // TokenSet::refresh_token stays empty).
  TokenSet issue_tokens(Grant& grant, const std::string& scope, bool with_refresh);
  void revoke_grant(Grant& grant, const std::string& reason);
  void sweep(Clock::time_point now);

  const std::vector<Client> clients_;
  mutable std::mutex mutex_;
  std::int64_t access_token_ttl_;
  bool auto_approve_;
  RefreshPolicy refresh_policy_;
  std::string token_response_extra_ = "{}";
  std::vector<std::pair<std::string, std::string>> callback_extra_;
  bool tenant_hosts_ = false;
  TokenQuirks token_quirks_;
  std::uint64_t next_grant_id_ = 1;
  std::uint64_t issued_since_sweep_ = 0;
  std::map<std::string, Pending, std::less<>> pending_;
  std::map<std::string, Code, std::less<>> codes_;
  std::map<std::uint64_t, Grant> grants_;
  std::map<std::string, AccessToken, std::less<>> access_tokens_;
  std::map<std::string, RefreshToken, std::less<>> refresh_tokens_;
};

// RFC 6749 3.3 scope: space-delimited scope-tokens of %x21 / %x23-5B /
// %x5D-7E. Returns the tokens de-duplicated and single-spaced, or nullopt
// when a character is not allowed.
std::optional<std::string> normalize_scope(std::string_view scope);

// True for a redirect URI on a loopback host (RFC 8252 7.3), without
// userinfo or fragment.
bool is_loopback_redirect(std::string_view uri);

}  // namespace refold::devserver
