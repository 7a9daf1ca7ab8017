#include "provider.hpp"

#include <algorithm>
#include <set>

#include "crypto.hpp"

namespace refold::devserver {

namespace {

constexpr auto kCodeLifetime = std::chrono::seconds(60);
constexpr auto kPendingLifetime = std::chrono::minutes(10);
// A used or expired code is remembered this long so a late replay is still
// recognised as a replay (and revokes its grant) rather than "unknown".
constexpr auto kCodeMemory = std::chrono::minutes(10);
constexpr std::uint64_t kSweepEvery = 256;

std::vector<std::string> split_scope(std::string_view scope) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < scope.size()) {
    std::size_t j = scope.find(' ', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j > i) {
      std::string item(scope.substr(i, j - i));
      if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    }
    i = j + 1;
  }
  return out;
}

std::string join_scope(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  }
  return out;
}

TokenOutcome fail(std::string error, std::string description) {
  return TokenOutcome{std::nullopt, std::move(error), std::move(description)};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<std::string> normalize_scope(std::string_view scope) {
  for (char ch : scope) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
    if (!ok) return std::nullopt;
  }
  return join_scope(split_scope(scope));
}

bool is_loopback_redirect(std::string_view uri) {
  std::string_view rest;
  if (uri.starts_with("http://")) rest = uri.substr(7);
  else if (uri.starts_with("https://")) rest = uri.substr(8);
  else return false;
  if (uri.find('#') != std::string_view::npos) return false;
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  // Userinfo would let "http://127.0.0.1@evil.example" pass a naive check.
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host;
  std::string_view port;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    port = authority.substr(close + 1);
  } else {
    std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (host != "127.0.0.1" && host != "[::1]" && host != "localhost") return false;
  if (port.empty()) return true;
  if (port.size() < 2 || port.size() > 6 || port[0] != ':') return false;
  return std::all_of(port.begin() + 1, port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Provider::Provider(std::vector<Client> clients, std::int64_t access_token_ttl, bool auto_approve,
                   RefreshPolicy refresh_policy)
    : clients_(std::move(clients)),
      access_token_ttl_(access_token_ttl),
      auto_approve_(auto_approve),
      refresh_policy_(refresh_policy) {}

const Client* Provider::find_client(std::string_view id) const {
  for (const auto& c : clients_)
    if (c.id == id) return &c;
  return nullptr;
}

bool Provider::redirect_allowed(const Client& client, std::string_view uri) const {
  if (uri.find('#') != std::string_view::npos) return false;  // RFC 6749 3.1.2
  if (std::any_of(uri.begin(), uri.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return false;
  if (client.redirect_prefix.empty()) return is_loopback_redirect(uri);
  const std::string& prefix = client.redirect_prefix;
  if (!uri.starts_with(prefix)) return false;
  // The match must end at a URL boundary, so "http://h/cb" does not admit
  // "http://h/cbx" and "http://h" does not admit "http://h.evil.example".
  if (uri.size() == prefix.size()) return true;
  char last = prefix.back();
  if (last == '/' || last == '?' || last == '&') return true;
  char next = uri[prefix.size()];
  return next == '/' || next == '?';
}

bool Provider::authenticate(std::string_view client_id, std::string_view secret) const {
  const Client* c = find_client(client_id);
  // Compare against something even for unknown ids, so timing says nothing.
  return constant_time_equal(c ? std::string_view(c->secret) : std::string_view{}, secret) &&
         c != nullptr;
}

std::string Provider::add_pending(AuthorizeRequest request) {
  std::string id = random_token();
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  sweep(now);
  pending_[id] = Pending{std::move(request), now + kPendingLifetime};
  return id;
}

std::optional<AuthorizeRequest> Provider::take_pending(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (Clock::now() >= p.expires_at) return std::nullopt;
  return std::move(p.request);
}

std::string Provider::issue_code(const AuthorizeRequest& request) {
  std::string code = random_token();
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  sweep(now);
  codes_[code] = Code{request, now + kCodeLifetime, false, std::nullopt, std::nullopt};
  return code;
}

TokenOutcome Provider::redeem_code(std::string_view client_id, std::string_view code,
                                   std::string_view redirect_uri, std::string_view code_verifier) {
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  auto it = codes_.find(code);
  if (it == codes_.end()) return fail("invalid_grant", "unknown authorization code");
  Code& c = it->second;
  if (c.used) {
    // RFC 6749 4.1.2: a replayed code may mean it leaked; revoke what it
    // produced.
    for (auto id : {c.grant_id, c.user_grant_id}) {
      if (!id) continue;
      auto g = grants_.find(*id);
      if (g != grants_.end()) revoke_grant(g->second, "authorization code reused");
    }
    return fail("invalid_grant",
                "authorization code already used; the tokens issued from it are revoked");
  }
  // Single use whatever happens next: a failed attempt also burns the code,
  // so a verifier cannot be guessed by retrying.
  c.used = true;
  if (now >= c.expires_at) return fail("invalid_grant", "authorization code expired");
  if (c.request.client_id != client_id)
    return fail("invalid_grant", "authorization code was issued to another client");
  if (c.request.redirect_uri != redirect_uri)
    return fail("invalid_grant", "redirect_uri differs from the authorization request");
  if (!constant_time_equal(s256_challenge(code_verifier), c.request.code_challenge))
    return fail("invalid_grant", "code_verifier does not match the code_challenge");

  std::uint64_t id = next_grant_id_++;
  Grant& grant = grants_[id];
  grant.summary = GrantSummary{id, c.request.client_id, c.request.sub, c.request.scope, false, {},
                               0, 0, unix_now()};
  c.grant_id = id;
  TokenOutcome out{issue_tokens(grant, grant.summary.scope, refresh_policy_.issue), {}, {}};
  if (token_quirks_.user_tokens) {
    // A grant of its own, so that each token refreshes and is revoked
    // apart, as Slack's bot and user tokens are.
    std::uint64_t user_id = next_grant_id_++;
    Grant& user = grants_[user_id];
    user.summary = GrantSummary{user_id, c.request.client_id, c.request.sub, c.request.scope, false, {}, 0, 0,
                                unix_now()};
    out.user_tokens = issue_tokens(user, user.summary.scope, refresh_policy_.issue);
    out.sub = c.request.sub;
    c.user_grant_id = user_id;
  }
  return out;
}

TokenOutcome Provider::client_credentials(std::string_view client_id, std::string_view scope) {
  std::lock_guard lock(mutex_);
  std::uint64_t id = next_grant_id_++;
  Grant& grant = grants_[id];
  grant.summary = GrantSummary{id, std::string(client_id), "client:" + std::string(client_id), std::string(scope),
                               false, {}, 0, 0, unix_now()};
  return TokenOutcome{issue_tokens(grant, grant.summary.scope, false), {}, {}};
}

TokenOutcome Provider::refresh(std::string_view client_id, std::string_view refresh_token,
                               std::string_view scope) {
  std::lock_guard lock(mutex_);
  auto it = refresh_tokens_.find(refresh_token);
  if (it == refresh_tokens_.end()) return fail("invalid_grant", "unknown refresh token");
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end()) return fail("invalid_grant", "unknown refresh token");
  Grant& grant = g->second;
  if (grant.summary.client_id != client_id)
    return fail("invalid_grant", "refresh token was issued to another client");
  if (grant.summary.revoked) return fail("invalid_grant", "the grant was revoked");
  if (it->second.expires_at && Clock::now() >= *it->second.expires_at)
    return fail("invalid_grant", "the refresh token expired");
  if (it->second.rotated) {
    // RFC 9700 4.14.2: reuse of a rotated token means two parties hold it;
    // the server cannot tell which is legitimate, so the grant goes.
    revoke_grant(grant, "rotated refresh token reused");
    return fail("invalid_grant", "refresh token already rotated; the grant is revoked");
  }
  std::string granted = grant.summary.scope;
  if (!scope.empty()) {
    auto have = split_scope(grant.summary.scope);
    auto want = split_scope(scope);
    for (const auto& s : want)
      if (std::find(have.begin(), have.end(), s) == have.end())
        return fail("invalid_scope", "scope exceeds the scope of the grant");
    granted = join_scope(want);
  }
  // Without a new refresh token in the answer, the client keeps the one it
  // has (RFC 6749 6), so that one must stay valid: no rotation then.
  const bool rotate = refresh_policy_.issue && refresh_policy_.rotate;
  if (rotate) it->second.rotated = true;
  ++grant.summary.refreshes;
  return TokenOutcome{issue_tokens(grant, granted, rotate), {}, {}};
}

void Provider::revoke(std::string_view client_id, std::string_view token) {
  std::lock_guard lock(mutex_);
  if (auto at = access_tokens_.find(token); at != access_tokens_.end()) {
    auto g = grants_.find(at->second.grant_id);
    if (g != grants_.end() && g->second.summary.client_id == client_id) at->second.revoked = true;
    return;
  }
  if (auto rt = refresh_tokens_.find(token); rt != refresh_tokens_.end()) {
    auto g = grants_.find(rt->second.grant_id);
    if (g != grants_.end() && g->second.summary.client_id == client_id)
      revoke_grant(g->second, "refresh token revoked by the client");
  }
}

AccessOutcome Provider::check_access(std::string_view access_token) {
  std::lock_guard lock(mutex_);
  auto it = access_tokens_.find(access_token);
  if (it == access_tokens_.end()) return {std::nullopt, "unknown access token"};
  if (it->second.revoked) return {std::nullopt, "the access token was revoked"};
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end() || g->second.summary.revoked)
    return {std::nullopt, "the grant was revoked"};
  if (Clock::now() >= it->second.expires_at) return {std::nullopt, "the access token expired"};
  return {AccessInfo{g->second.summary.sub, g->second.summary.client_id, it->second.scope}, {}};
}

std::int64_t Provider::access_token_ttl() const {
  std::lock_guard lock(mutex_);
  return access_token_ttl_;
}

bool Provider::auto_approve() const {
  std::lock_guard lock(mutex_);
  return auto_approve_;
}

void Provider::set_access_token_ttl(std::int64_t seconds) {
  std::lock_guard lock(mutex_);
  access_token_ttl_ = seconds;
}

void Provider::set_auto_approve(bool on) {
  std::lock_guard lock(mutex_);
  auto_approve_ = on;
}

RefreshPolicy Provider::refresh_policy() const {
  std::lock_guard lock(mutex_);
  return refresh_policy_;
}

void Provider::set_refresh_policy(RefreshPolicy policy) {
  std::lock_guard lock(mutex_);
  refresh_policy_ = policy;
}

std::string Provider::token_response_extra() const {
  std::lock_guard lock(mutex_);
  return token_response_extra_;
}

void Provider::set_token_response_extra(std::string json_object) {
  std::lock_guard lock(mutex_);
  token_response_extra_ = std::move(json_object);
}

std::vector<std::pair<std::string, std::string>> Provider::callback_extra() const {
  std::lock_guard lock(mutex_);
  return callback_extra_;
}

bool Provider::tenant_hosts() const {
  std::lock_guard lock(mutex_);
  return tenant_hosts_;
}

void Provider::set_tenant_hosts(bool on) {
  std::lock_guard lock(mutex_);
  tenant_hosts_ = on;
}

TokenQuirks Provider::token_quirks() const {
  std::lock_guard lock(mutex_);
  return token_quirks_;
}

void Provider::set_token_quirks(TokenQuirks quirks) {
  std::lock_guard lock(mutex_);
  token_quirks_ = std::move(quirks);
}

void Provider::set_callback_extra(std::vector<std::pair<std::string, std::string>> params) {
  std::lock_guard lock(mutex_);
  callback_extra_ = std::move(params);
}

bool Provider::revoke_grant_of(std::string_view refresh_token, const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto it = refresh_tokens_.find(refresh_token);
  if (it == refresh_tokens_.end()) return false;
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end()) return false;
  revoke_grant(g->second, reason);
  return true;
}

bool Provider::revoke_grant_of_access(std::string_view access_token, const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto it = access_tokens_.find(access_token);
  if (it == access_tokens_.end() || it->second.revoked || Clock::now() >= it->second.expires_at) return false;
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end() || g->second.summary.revoked) return false;
  revoke_grant(g->second, reason);
  return true;
}

bool Provider::revoke_grant_id(std::uint64_t id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto g = grants_.find(id);
  if (g == grants_.end()) return false;
  revoke_grant(g->second, reason);
  return true;
}

std::size_t Provider::revoke_all(const std::string& reason) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [id, grant] : grants_) {
    if (!grant.summary.revoked) ++n;
    revoke_grant(grant, reason);
  }
  return n;
}

std::vector<GrantSummary> Provider::grants() const {
  std::lock_guard lock(mutex_);
  std::vector<GrantSummary> out;
  out.reserve(grants_.size());
  for (const auto& [id, grant] : grants_) out.push_back(grant.summary);
  return out;
}

TokenSet Provider::issue_tokens(Grant& grant, const std::string& scope, bool with_refresh) {
  auto now = Clock::now();
  if (++issued_since_sweep_ >= kSweepEvery) {
    issued_since_sweep_ = 0;
    sweep(now);
  }
  TokenSet t;
  // Prefixes make a token's kind obvious when debugging; the randomness is
  // the 256 bits after them.
  t.access_token = "at_" + random_token();
  t.scope = scope;
  t.expires_in = access_token_ttl_;
  access_tokens_[t.access_token] =
      AccessToken{grant.summary.id, scope, now + std::chrono::seconds(access_token_ttl_), false};
  if (with_refresh) {
    t.refresh_token = "rt_" + random_token();
    std::optional<Clock::time_point> lapses;
    if (refresh_policy_.ttl > 0) {
      t.refresh_expires_in = refresh_policy_.ttl;
      lapses = now + std::chrono::seconds(refresh_policy_.ttl);
    }
    refresh_tokens_[t.refresh_token] = RefreshToken{grant.summary.id, false, lapses};
  }
  ++grant.summary.access_tokens_issued;
  return t;
}

void Provider::revoke_grant(Grant& grant, const std::string& reason) {
  // The first reason sticks: it is the one that explains the revocation.
  if (grant.summary.revoked) return;
  grant.summary.revoked = true;
  grant.summary.revoked_reason = reason;
}

void Provider::sweep(Clock::time_point now) {
  std::erase_if(pending_, [&](const auto& kv) { return now >= kv.second.expires_at; });
  std::erase_if(codes_, [&](const auto& kv) { return now >= kv.second.expires_at + kCodeMemory; });
  // Expired access tokens are answered as "unknown" after this, which is
  // just as much a 401.
  std::erase_if(access_tokens_,
                [&](const auto& kv) { return now >= kv.second.expires_at + kCodeMemory; });
  // Refresh tokens stay: a rotated one must be recognised whenever it is
  // replayed. That memory is the price of an in-memory sandbox.
}

}  // namespace refold::devserver
