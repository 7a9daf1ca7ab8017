#include "core/lifecycle/lifecycle.hpp"

#include <array>
#include <chrono>
#include <sodium.h>
#include <unistd.h>

#include "core/oauth_record.hpp"
#include "crypto/encoding.hpp"
#include "util/error.hpp"

namespace refold::core {

using lifecycle::ReadAction;

namespace {

using namespace std::chrono_literals;

// How stale the cache may be about changes made by other processes.
constexpr auto kRecheck = 100ms;
// Change-log entries read per recheck; more changed than this and the
// whole cache is dropped instead.
constexpr std::size_t kMaxChanges = 4096;
// A 401 reported within this long of a refresh forced by an earlier 401,
// by a thread this client did not hand the new token to, is taken for a
// late report about the token before it (see report_unauthorized).
constexpr Millis kLateReport = 10 * 1000;

// Which version of a connection each thread was last handed, by which
// client: the 16 connections the thread read most recently. Matched on the
// whole key, so two connections never share an entry.
struct Handed {
  std::uint64_t client = 0;  // the client's serial; 0 for an unused entry
  std::size_t hash = 0;      // of `key`, compared first
  std::int64_t version = 0;
  std::uint64_t used = 0;    // the thread's count of notes when last noted
  std::string key;
};
struct HandedTable {
  std::array<Handed, 16> entries;
  std::uint64_t notes = 0;
};
thread_local HandedTable t_handed;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool valid_reason(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char ch : r) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

// A lease owner name unique to this lifecycle: pid (for a person reading
// the store) and 64 random bits.
std::string lease_owner() {
  std::uint8_t r[8];
  randombytes_buf(r, sizeof r);
  return std::to_string(::getpid()) + ":" + crypto::to_hex(std::span<const std::uint8_t>(r, sizeof r));
}

// Distinct for every lifecycle of the process, never reused.
std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Lifecycle::Lifecycle(Deps deps, Options options)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      owner_(lease_owner()),
      serial_(next_serial()),
      cache_(CredentialCache::for_store(options_.store_id, options_.cache_capacity)),
      change_seq_(deps_.store.last_change()),
      gate_(deps_.clock, options_.default_max_in_flight, options_.max_in_flight),
      commits_(deps_.store, deps_.clock),
      scheduler_({options_.concurrency, options_.background, owner_, options_.lease_ms}, deps_.store,
                 deps_.clock, gate_,
                 [this](const store::ConnectionId& id) { return refresh_in_background(id); }) {}

Lifecycle::~Lifecycle() { scheduler_.stop(); }

double Lifecycle::jitter() const { return randombytes_uniform(1u << 24) / static_cast<double>(1u << 24); }

std::optional<Millis> Lifecycle::schedule(Millis now, std::optional<Millis> expires_at,
                                          bool has_refresh_token) const {
  return lifecycle::next_refresh(options_.policy, now, expires_at, has_refresh_token, jitter());
}

lifecycle::TokenState Lifecycle::token_state(const CredentialState& s) {
  return lifecycle::TokenState{s.keybased, s.active, s.expires_at, s.due_at, s.failures, s.has_refresh_token};
}

void Lifecycle::changed(const std::string& account, const std::string& app) { invalidate(account, app); }

void Lifecycle::invalidate(const std::string& account, const std::string& app) {
  std::string buffer;
  cache_->invalidate(CredentialCache::key(buffer, account, app));
}

void Lifecycle::recheck_cache() {
  std::int64_t t = steady_ns();
  if (t < next_recheck_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(recheck_mu_, std::try_to_lock);
  if (!lock || t < next_recheck_.load(std::memory_order_relaxed)) return;  // someone else checks
  std::int64_t v = deps_.store.data_version();
  if (v != data_version_) {
    // Only what changed: another connection's write leaves the rest cached.
    store::Changes ch = deps_.store.changes_since(change_seq_, kMaxChanges);
    if (ch.everything) {
      cache_->clear();
    } else {
      std::string buffer;
      for (const auto& [account, app] : ch.connections)
        cache_->invalidate(CredentialCache::key(buffer, account, app));
    }
    change_seq_ = ch.last;
    data_version_ = v;
  }
  next_recheck_.store(t + std::chrono::nanoseconds(kRecheck).count(), std::memory_order_relaxed);
}

Credentials Lifecycle::decrypt(const store::ConnectionWithSecret& row, std::optional<std::string_view> token,
                             bool* holds) const {
  const store::Connection& conn = row.connection;
  Credentials c;
  CredentialState& s = c.state;
  s.keybased = conn.id.auth_type == "keybased";
  s.client_credentials = conn.id.auth_type == "oauth2_cc";
  s.active = conn.status == "active";
  s.reason = conn.reason;
  s.version = conn.version;
  s.expires_at = conn.expires_at;
  s.due_at = conn.next_refresh_at;
  s.failures = conn.refresh_failures;
  s.forced_refresh = conn.forced_refresh;
  s.updated_at = conn.updated_at;
  crypto::WipedBytes plain = deps_.vault.open(conn.id, row.sealed);
  if (s.keybased) {
    c.json = std::move(plain);  // stored as returned
    return c;
  }
  oauth::TokenSet t = read_oauth_record(plain.view());
  // A client-credentials connection renews with its client, as another
  // renews with its refresh token.
  s.has_refresh_token = t.refresh_token.has_value() || s.client_credentials;
  if (token && holds)
    *holds = t.access_token.size() == token->size() &&
             sodium_memcmp(t.access_token.data(), token->data(), token->size()) == 0;
  c.json = oauth_credentials(plain.view());
  return c;
}

Lifecycle::KeyRef Lifecycle::key_ref(std::string& buffer, const std::string& account, const std::string& app) {
  const std::string_view key = CredentialCache::key(buffer, account, app);
  return KeyRef{key, CredentialCache::hash(key)};
}

Credentials Lifecycle::load(const std::string& account, const std::string& app) {
  std::string buffer;
  return load(account, app, key_ref(buffer, account, app));
}

Credentials Lifecycle::load(const std::string& account, const std::string& app, KeyRef k) {
  std::uint64_t seen = cache_->generation(k.hash);
  auto row = deps_.store.find(account, app);
  if (!row) fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  Credentials c = decrypt(*row);
  cache_->put(k.key, k.hash, c, seen);
  return c;
}

crypto::WipedBytes Lifecycle::credentials(const std::string& account, const std::string& app) {
  recheck_cache();
  thread_local std::string buffer;
  const Millis now = deps_.clock.now();
  Credentials cur;
  const KeyRef k = key_ref(buffer, account, app);
  std::int64_t version = 0;
  bool due = false;
  const char* auth_type = "oauth2";
  auto servable_now = [now, &version, &due, &auth_type](const CredentialState& s) {
    version = s.version;
    auth_type = token_auth_type(s);
    const ReadAction a = lifecycle::decide_read(token_state(s), now);
    due = a == ReadAction::serve_and_refresh;
    return a == ReadAction::serve || due;
  };
  auto found = cache_->find(k.key, k.hash, servable_now, cur);
  if (found == CredentialCache::Found::served) {
    note_handed(k, version);
    // Valid, inside the window: served now, refreshed in the background.
    if (due) scheduler_.kick(account, app, auth_type);
    return std::move(cur.json);
  }
  if (found == CredentialCache::Found::no) cur = load(account, app, k);
  return resolve(account, app, k, std::move(cur), now);
}

void Lifecycle::note_handed(KeyRef k, std::int64_t version) const {
  HandedTable& t = t_handed;
  ++t.notes;
  Handed* oldest = &t.entries[0];
  for (Handed& e : t.entries) {
    if (e.client == serial_ && e.hash == k.hash && e.key == k.key) {
      e.version = version;
      e.used = t.notes;
      return;
    }
    if (e.used < oldest->used) oldest = &e;
  }
  oldest->client = serial_;
  oldest->hash = k.hash;
  oldest->key.assign(k.key);
  oldest->version = version;
  oldest->used = t.notes;
}

std::optional<std::int64_t> Lifecycle::handed(KeyRef k) const {
  for (const Handed& e : t_handed.entries)
    if (e.client == serial_ && e.hash == k.hash && e.key == k.key) return e.version;
  return std::nullopt;
}

crypto::WipedBytes Lifecycle::resolve(const std::string& account, const std::string& app, KeyRef k,
                                      Credentials cur, Millis now) {
  const CredentialState& s = cur.state;
  auto hand = [&](Credentials& c) {
    note_handed(k, c.state.version);
    return std::move(c.json);
  };
  switch (lifecycle::decide_read(token_state(s), now)) {
    case ReadAction::reauth:
      fail(REFOLD_EREAUTH, lifecycle::reauth_message(app, s.reason));
    case ReadAction::serve:
      return hand(cur);
    case ReadAction::serve_and_refresh:
      scheduler_.kick(account, app, token_auth_type(s));
      return hand(cur);
    case ReadAction::backing_off:
      fail(lifecycle::code_for_reason(s.reason), lifecycle::backoff_message(app, s.reason, *s.due_at, true));
    case ReadAction::expire:
    case ReadAction::refresh_and_wait:
      break;
  }
  // From here on host handlers may run (events) and read on this thread,
  // reusing the buffer `k` points into: `k` is not used again.
  std::string buffer;
  if (!s.has_refresh_token) {
    if (mark_expired(account, app, std::string(token_auth_type(s)), "expired", std::nullopt, s.version, nullptr))
      fail(REFOLD_EREAUTH, "app '" + app + "': the access token expired and there is no refresh "
                           "token; the user must connect again");
    // Replaced meanwhile: look again.
    const KeyRef again = key_ref(buffer, account, app);
    return resolve(account, app, again, load(account, app, again), deps_.clock.now());
  }
  Credentials fresh = refresh_shared(account, app, std::move(cur), true, std::nullopt, Slot::none);
  note_handed(key_ref(buffer, account, app), fresh.state.version);
  return std::move(fresh.json);
}

std::size_t Lifecycle::mark_expired(const std::string& account, const std::string& app,
                                 const std::optional<std::string>& auth_type, const std::string& reason,
                                 const std::optional<std::string>& owner, std::optional<std::int64_t> version,
                                 std::vector<Event>* deferred) {
  Millis now = deps_.clock.now();
  auto changed = deps_.store.mark_reauth(account, app, auth_type, reason, now, owner, version);
  invalidate(account, app);
  std::vector<Event> events;
  for (const auto& c : changed) events.emplace_back("connection.expired", account, app, c.id.auth_type, now, reason);
  if (deferred) deferred->insert(deferred->end(), events.begin(), events.end());
  else deps_.events.emit(events);
  return changed.size();
}

void Lifecycle::expire(const std::string& account, const std::string& app, const std::string& auth_type,
                    const std::string& reason, const std::optional<std::string>& owner,
                    const std::string& why, std::vector<Event>* deferred) {
  mark_expired(account, app, auth_type, reason, owner, std::nullopt, deferred);
  fail(REFOLD_EREAUTH, why + (why.find("connect again") == std::string::npos ? "; the user must connect again" : ""));
}

void Lifecycle::report_unauthorized(const std::string& account, const std::string& app,
                                    std::optional<std::string_view> access_token) {
  // Which version the caller used: this thread's last read through this
  // client, or the one holding the access token the caller names. A
  // key-based connection has no token to compare: told by thread.
  auto row = deps_.store.find(account, app);
  if (!row) fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  bool holds = false;
  Credentials cur = decrypt(*row, access_token, &holds);
  const CredentialState s = cur.state;
  if (!s.active) fail(REFOLD_EREAUTH, lifecycle::reauth_message(app, s.reason));
  std::optional<std::int64_t> handed_version;
  if (access_token && !s.keybased) {
    if (!holds) return;  // replaced since
    handed_version = s.version;
  } else {
    std::string buffer;
    handed_version = handed(key_ref(buffer, account, app));
  }
  // Replaced since this thread read it (another thread or process
  // refreshed, or the user reconnected): the 401 is about the old token.
  if (handed_version && *handed_version != s.version) return;
  const char* rejected = nullptr;
  if (s.keybased) {
    rejected = "' rejected the stored credentials (HTTP 401)";
  } else if (s.forced_refresh) {
    // The current token came from a refresh forced by an earlier 401. When
    // this thread was handed it, it is rejected too. When not, a report
    // just after that refresh is most likely a late one about the token
    // before it (several threads got 401 on it together): nothing to do.
    // A failed refresh since then moved updated_at, so the report's time
    // says nothing: refresh again rather than risk a needless re-auth.
    if (handed_version) {
      rejected = "' rejected the token of a refresh made after an earlier 401 (HTTP 401)";
    } else if (s.failures == 0) {
      if (deps_.clock.now() - s.updated_at < kLateReport) return;
      rejected = "' rejected the token of a refresh made after an earlier 401 (HTTP 401)";
    }
  }
  if (rejected) {
    if (mark_expired(account, app, s.keybased ? "keybased" : token_auth_type(s), "unauthorized", std::nullopt, s.version,
                     nullptr))
      fail(REFOLD_EREAUTH, "app '" + app + rejected + "; the user must connect again");
    return;  // replaced meanwhile
  }
  refresh_shared(account, app, std::move(cur), true, s.version, Slot::none);
}

void Lifecycle::mark_reauth(const std::string& account, const std::string& app, const char* reason_c) {
  std::string reason = reason_c ? reason_c : "revoked";
  if (!valid_reason(reason))
    fail(REFOLD_EINVALID, "reason must be 1 to 64 characters of A-Z a-z 0-9 _ . : -");
  if (mark_expired(account, app, std::nullopt, reason, std::nullopt, std::nullopt, nullptr) == 0 &&
      !deps_.store.find(account, app))
    fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  // else marked, or already reauth_required
}

}  // namespace refold::core
