// The Client's token lifecycle: credential reads through the in-memory
// cache, refresh ahead of expiry with one refresh per connection (threads
// share an in-process flight; processes share a lease on the row), failure
// classification and back-off, re-auth marking, and the background
// refresher.
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <sodium.h>

#include "core/client.hpp"
#include "core/oauth_record.hpp"
#include "oauth/refresh.hpp"
#include "util/error.hpp"

namespace refold::core {

namespace {

using namespace std::chrono_literals;

// How stale the cache may be about changes made by other processes.
constexpr auto kRecheck = 100ms;
// Back-off after failed refreshes: passing failures, and client
// configuration errors (which a person has to fix).
constexpr Millis kTransientBase = 1000, kTransientCap = 5 * 60 * 1000;
constexpr Millis kClientBase = 30 * 1000, kClientCap = 60 * 60 * 1000;
// The background refresher looks at the store at least this often.
constexpr auto kBackgroundMaxSleep = 1000ms;
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

// Uniform in [0, n).
Millis random_below(Millis n) {
  if (n <= 1) return 0;
  return static_cast<Millis>(randombytes_uniform(static_cast<std::uint32_t>(std::min<Millis>(n, 0xFFFFFFFF))));
}

// base * 2^(failures - 1), capped, less up to a fifth at random so that
// many connections failing together do not retry together.
Millis backoff(int failures, Millis base, Millis cap) {
  Millis d = base;
  for (int i = 1; i < failures && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return d - random_below(d / 5 + 1);
}

// True when the credentials can be handed out as they are.
bool servable(const CredentialState& s, Millis now) {
  if (!s.active) return false;
  if (s.keybased) return true;
  if (s.expires_at && now >= *s.expires_at) return false;
  return !s.due_at || now < *s.due_at;
}

bool expired(const CredentialState& s, Millis now) { return s.expires_at && now >= *s.expires_at; }

// The code a read gets while a failed refresh backs off.
int code_for(const std::optional<std::string>& reason) {
  if (!reason) return REFOLD_EPROVIDER;
  if (*reason == "timeout") return REFOLD_ETIMEOUT;
  if (*reason == "network") return REFOLD_ENETWORK;
  if (*reason == "server_error" || *reason == "rate_limited" || *reason == "malformed_response")
    return REFOLD_EPROVIDER;
  return REFOLD_EAUTH;  // the provider refused the app's client: a config problem
}

std::string reauth_message(const std::string& app, const std::optional<std::string>& reason) {
  return "the connection to app '" + app + "' needs its user to connect again (reason: " +
         reason.value_or("unknown") + ")";
}

// What a read is told while a failed refresh backs off.
std::string backoff_message(const std::string& app, const std::optional<std::string>& reason,
                            Millis retry_at, bool gone) {
  std::string m = "app '" + app + "': " + (gone ? "the access token expired and " : "") +
                  "refreshing it failed (" + reason.value_or("unknown") + "); next attempt after " +
                  rfc3339(retry_at);
  if (code_for(reason) == REFOLD_EAUTH)
    m += "; the provider refused the app's OAuth client: check oauth_clients." + app + " in the config";
  return m;
}

Credentials copy(const Credentials& c) { return Credentials{c.state, crypto::WipedBytes(c.json.view())}; }

bool valid_reason(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char ch : r) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// One refresh in flight for a connection, shared by every thread that
// needs its result.
struct Client::Flight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int code = REFOLD_OK;
  std::string message;
  std::optional<Credentials> result;
};

HostClock::HostClock(std::unique_ptr<Clock> base)
    : base_(base ? std::move(base) : std::make_unique<SystemClock>()) {}

Millis HostClock::now() const {
  if (!custom_.load(std::memory_order_acquire)) return base_->now();
  auto h = host_.get();
  if (!h) return base_->now();
  double v = h->cb(h->payload);
  if (!std::isfinite(v) || v < 0 || v > 1e15) return base_->now();
  return static_cast<Millis>(v);
}

void HostClock::set(refold_clock_cb cb, void* payload, void (*free_payload)(void*)) {
  host_.set(cb, payload, free_payload);
  custom_.store(cb != nullptr, std::memory_order_release);
}

std::optional<Millis> Client::schedule(Millis now, std::optional<Millis> expires_at,
                                       bool has_refresh_token) const {
  if (!expires_at) return std::nullopt;        // no known lifetime: used until refused
  if (!has_refresh_token) return *expires_at;  // nothing to refresh with: due when it expires
  Millis window = std::min(refresh_ahead_, std::max<Millis>(*expires_at - now, 0) / 2);
  return *expires_at - window - random_below(window / 10 + 1);
}

void Client::invalidate(const std::string& account, const std::string& app) {
  std::string buffer;
  cache_->invalidate(CredentialCache::key(buffer, account, app));
}

void Client::recheck_cache() {
  std::int64_t t = steady_ns();
  if (t < next_recheck_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(recheck_mu_, std::try_to_lock);
  if (!lock || t < next_recheck_.load(std::memory_order_relaxed)) return;  // someone else checks
  std::int64_t v = store_->data_version();
  if (v != data_version_) {
    cache_->clear();
    data_version_ = v;
  }
  next_recheck_.store(t + std::chrono::nanoseconds(kRecheck).count(), std::memory_order_relaxed);
}

Credentials Client::decrypt(const store::ConnectionWithSecret& row, std::optional<std::string_view> token,
                             bool* holds) const {
  const store::Connection& conn = row.connection;
  Credentials c;
  CredentialState& s = c.state;
  s.keybased = conn.id.auth_type == "keybased";
  s.active = conn.status == "active";
  s.reason = conn.reason;
  s.version = conn.version;
  s.expires_at = conn.expires_at;
  s.due_at = conn.next_refresh_at;
  s.failures = conn.refresh_failures;
  s.forced_refresh = conn.forced_refresh;
  s.updated_at = conn.updated_at;
  crypto::WipedBytes plain = vault_->open(conn.id, row.sealed);
  if (s.keybased) {
    c.json = std::move(plain);  // stored as returned
    return c;
  }
  oauth::TokenSet t = read_oauth_record(plain.view());
  s.has_refresh_token = t.refresh_token.has_value();
  if (token && holds)
    *holds = t.access_token.size() == token->size() &&
             sodium_memcmp(t.access_token.data(), token->data(), token->size()) == 0;
  c.json = oauth_credentials(plain.view());
  return c;
}

Client::KeyRef Client::key_ref(std::string& buffer, const std::string& account, const std::string& app) {
  const std::string_view key = CredentialCache::key(buffer, account, app);
  return KeyRef{key, CredentialCache::hash(key)};
}

Credentials Client::load(const std::string& account, const std::string& app) {
  std::string buffer;
  return load(account, app, key_ref(buffer, account, app));
}

Credentials Client::load(const std::string& account, const std::string& app, KeyRef k) {
  std::uint64_t seen = cache_->generation(k.hash);
  auto row = store_->find(account, app);
  if (!row) fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  Credentials c = decrypt(*row);
  cache_->put(k.key, k.hash, c, seen);
  return c;
}

crypto::WipedBytes Client::credentials(const std::string& account, const std::string& app) {
  recheck_cache();
  thread_local std::string buffer;
  Millis now = clock_.now();
  Credentials cur;
  const KeyRef k = key_ref(buffer, account, app);
  std::int64_t version = 0;
  auto servable_now = [now, &version](const CredentialState& s) {
    version = s.version;
    return servable(s, now);
  };
  auto found = cache_->find(k.key, k.hash, servable_now, cur);
  if (found == CredentialCache::Found::served) {
    note_handed(k, version);
    return std::move(cur.json);
  }
  if (found == CredentialCache::Found::no) cur = load(account, app, k);
  return resolve(account, app, k, std::move(cur), now);
}

void Client::note_handed(KeyRef k, std::int64_t version) const {
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

std::optional<std::int64_t> Client::handed(KeyRef k) const {
  for (const Handed& e : t_handed.entries)
    if (e.client == serial_ && e.hash == k.hash && e.key == k.key) return e.version;
  return std::nullopt;
}

crypto::WipedBytes Client::resolve(const std::string& account, const std::string& app, KeyRef k,
                                   Credentials cur, Millis now) {
  const CredentialState& s = cur.state;
  auto hand = [&](Credentials& c) {
    note_handed(k, c.state.version);
    return std::move(c.json);
  };
  if (!s.active) fail(REFOLD_EREAUTH, reauth_message(app, s.reason));
  if (s.keybased) return hand(cur);
  if (servable(s, now)) return hand(cur);
  bool gone = expired(s, now);
  if (!s.has_refresh_token && !gone) return hand(cur);
  // From here on host handlers may run (events) and read on this thread,
  // reusing the buffer `k` points into: `k` is not used again.
  std::string buffer;
  if (!s.has_refresh_token) {
    if (mark_expired(account, app, std::string("oauth2"), "expired", std::nullopt, s.version, nullptr))
      fail(REFOLD_EREAUTH, "app '" + app + "': the access token expired and there is no refresh "
                           "token; the user must connect again");
    // Replaced meanwhile: look again.
    const KeyRef again = key_ref(buffer, account, app);
    return resolve(account, app, again, load(account, app, again), clock_.now());
  }
  if (gone && s.failures > 0 && s.due_at && now < *s.due_at)
    fail(code_for(s.reason), backoff_message(app, s.reason, *s.due_at, true));
  Credentials fresh = refresh_shared(account, app, std::move(cur), gone, std::nullopt, nullptr);
  note_handed(key_ref(buffer, account, app), fresh.state.version);
  return std::move(fresh.json);
}

std::size_t Client::mark_expired(const std::string& account, const std::string& app,
                                 const std::optional<std::string>& auth_type, const std::string& reason,
                                 const std::optional<std::string>& owner, std::optional<std::int64_t> version,
                                 std::vector<Event>* deferred) {
  Millis now = clock_.now();
  auto changed = store_->mark_reauth(account, app, auth_type, reason, now, owner, version);
  invalidate(account, app);
  std::vector<Event> events;
  for (const auto& c : changed) events.emplace_back("connection.expired", account, app, c.id.auth_type, now, reason);
  if (deferred) deferred->insert(deferred->end(), events.begin(), events.end());
  else events_.emit(events);
  return changed.size();
}

void Client::expire(const std::string& account, const std::string& app, const std::string& auth_type,
                    const std::string& reason, const std::optional<std::string>& owner,
                    const std::string& why, std::vector<Event>* deferred) {
  mark_expired(account, app, auth_type, reason, owner, std::nullopt, deferred);
  fail(REFOLD_EREAUTH, why + (why.find("connect again") == std::string::npos ? "; the user must connect again" : ""));
}

Credentials Client::refresh_shared(const std::string& account, const std::string& app,
                                   Credentials seen, bool need_new, std::optional<std::int64_t> forced,
                                   const std::atomic<bool>* cancel) {
  std::string key;
  CredentialCache::key(key, account, app);
  std::shared_ptr<Flight> flight;
  for (;;) {
    bool leader = false;
    {
      std::lock_guard lock(flights_mu_);
      auto it = flights_.find(key);
      if (it != flights_.end()) {
        flight = it->second;
      } else {
        flight = std::make_shared<Flight>();
        flights_.emplace(key, flight);
        leader = true;
      }
    }
    if (leader) break;
    // Someone is refreshing: a still-valid token is served at once.
    if (!need_new && !forced) return seen;
    std::unique_lock lock(flight->mu);
    flight->cv.wait(lock, [&] { return flight->done; });
    if (flight->code != REFOLD_OK) fail(flight->code, flight->message);
    const CredentialState& got = flight->result->state;
    // That flight may have answered another need than this caller's (a
    // refresh found unnecessary, or not the version this caller saw
    // rejected): then this caller leads the next one.
    const bool answers = forced ? got.version != *forced : !expired(got, clock_.now());
    if (answers) return copy(*flight->result);
  }

  std::optional<Credentials> result;
  int code = REFOLD_OK;
  std::string message;
  // Events wait until the flight is over: a handler that reads this
  // connection again must not find itself waiting for its own refresh.
  std::vector<Event> events;
  std::optional<Credentials> shared;
  try {
    result = refresh_leader(account, app, forced, cancel, events);
    shared = copy(*result);
  } catch (const Error& e) {
    code = e.code();
    message = e.what();
  } catch (const std::bad_alloc&) {
    code = REFOLD_ERROR;
    message = "out of memory";
  } catch (const std::exception& e) {
    code = REFOLD_ERROR;
    message = std::string("internal error: ") + e.what();
  } catch (...) {
    code = REFOLD_ERROR;
    message = "internal error";
  }
  // From here nothing may throw before the waiters are woken.
  {
    std::lock_guard lock(flights_mu_);
    flights_.erase(key);
  }
  {
    std::lock_guard lock(flight->mu);
    flight->done = true;
    flight->code = code;
    flight->message.swap(message);
    flight->result.swap(shared);
  }
  flight->cv.notify_all();
  events_.emit(events);
  if (code != REFOLD_OK) fail(flight->code, flight->message);
  return std::move(*result);
}

Credentials Client::refresh_leader(const std::string& account, const std::string& app,
                                   std::optional<std::int64_t> forced, const std::atomic<bool>* cancel,
                                   std::vector<Event>& events) {
  store::ConnectionId id{account, app, "oauth2"};
  std::string buffer;
  const std::string_view key = CredentialCache::key(buffer, account, app);
  const std::size_t key_hash = CredentialCache::hash(key);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(lease_ms_ + 1000);
  auto pause = 5ms;
  for (;;) {
    if (cancel && cancel->load(std::memory_order_acquire))
      fail(REFOLD_ECANCELLED, "the refresh was cancelled: the client is closing");
    Millis now = clock_.now();
    std::uint64_t seen = cache_->generation(key_hash);
    store::LeaseResult lease = store_->acquire_lease(id, owner_, now, now + lease_ms_);
    now = clock_.now();  // taking the lease may have waited for the store
    if (lease.state == store::LeaseResult::State::missing) {
      invalidate(account, app);
      fail(REFOLD_ENOTFOUND, "account has no OAuth connection to app '" + app + "'");
    }
    const bool held = lease.state == store::LeaseResult::State::acquired;
    auto release = [&] {
      if (held) store_->release_lease(id, owner_);
    };

    // What is stored now: another thread or process may have refreshed (or
    // the user reconnected, or re-auth was marked) since the caller looked.
    Credentials cur;
    try {
      cur = decrypt(*lease.row);
    } catch (...) {
      release();
      throw;
    }
    const CredentialState s = cur.state;
    const bool gone = expired(s, now);
    if (!s.active) {
      release();
      cache_->put(key, key_hash, cur, seen);
      fail(REFOLD_EREAUTH, reauth_message(app, s.reason));
    }
    const bool needed = forced ? s.version == *forced : !servable(s, now);
    if (!needed) {
      release();
      cache_->put(key, key_hash, cur, seen);
      return cur;  // no request sent
    }
    if (s.failures > 0 && s.due_at && now < *s.due_at) {  // backing off
      release();
      fail(code_for(s.reason), backoff_message(app, s.reason, *s.due_at, gone));
    }
    if (!held) {
      // Another process is refreshing. A valid token is served meanwhile;
      // an expired one waits for that refresh (polling the row).
      if (!forced && !gone) return cur;
      if (std::chrono::steady_clock::now() > give_up)
        fail(REFOLD_ETIMEOUT, "app '" + app + "': another process has held the refresh lease on "
                              "this connection for longer than its lifetime");
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::milliseconds>(pause * 2, 100ms);
      continue;
    }
    if (!s.has_refresh_token) {
      expire(account, app, "oauth2", forced ? "unauthorized" : "expired", owner_,
             "app '" + app + (forced ? "': the access token was rejected (HTTP 401)"
                                     : "': the access token expired") +
                 " and there is no refresh token",
             &events);
    }

    // We hold the lease and a refresh is needed: send it.
    oauth::RefreshResult r;
    oauth::TokenSet old;
    try {
      old = read_oauth_record(vault_->open(id, lease.row->sealed).view());
      const catalog::App* def = catalog_.find(app);
      if (!def || !def->oauth2) {
        r.failure = oauth::RefreshFailure::client;
        r.reason = "unknown_app";
        r.code = REFOLD_EINVALID;
        r.message = "app '" + app + "' is no longer an OAuth 2.0 app in the catalog; cannot refresh";
      } else if (oauth_clients_.find(app) == oauth_clients_.end()) {
        r.failure = oauth::RefreshFailure::client;
        r.reason = "missing_client";
        r.code = REFOLD_EINVALID;
        r.message = "app '" + app + "': no OAuth client registration to refresh with; add "
                    "oauth_clients." + app + " (client_id, client_secret) to the config";
      } else {
        // The new tokens will be sealed under the store's current data key:
        // a key this client cannot open must fail now, not after the
        // provider has rotated the refresh token.
        vault_->require_current_key();
        r = oauth::refresh(http(), *def, oauth_clients_.at(app), *old.refresh_token, old.scopes, now,
                           cancel);
      }
    } catch (...) {
      release();
      throw;
    }

    if (r.failure == oauth::RefreshFailure::none) {
      oauth::TokenSet& t = r.tokens;
      // A response without a refresh token keeps the old one (RFC 6749 6).
      if (!t.refresh_token) t.refresh_token = std::move(old.refresh_token);
      crypto::SecretString plain = oauth_record(t);
      Millis done_at = clock_.now();
      store::RefreshedTokens saved;
      saved.expires_at = t.expires_at;
      saved.next_refresh_at = schedule(done_at, t.expires_at, true);
      saved.forced = forced.has_value();
      Credentials fresh;
      // Read before the save: a change committed after it (another process
      // marking re-auth, say) must keep the new token out of the cache.
      const std::uint64_t before_save = cache_->generation(key_hash);
      try {
        saved.seal = vault_->sealer(id, std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
        // Durable before anyone sees the new access token: a rotated
        // refresh token must survive a crash right after this.
        if (!store_->save_refreshed(id, owner_, s.version, saved, done_at))
          continue;  // lost the lease to a change meanwhile: read again
        fresh.json = oauth_credentials(plain);
      } catch (...) {
        release();
        throw;
      }
      fresh.state = s;
      fresh.state.version = s.version + 1;
      fresh.state.expires_at = saved.expires_at;
      fresh.state.due_at = saved.next_refresh_at;
      fresh.state.failures = 0;
      fresh.state.reason.reset();
      fresh.state.has_refresh_token = true;
      fresh.state.forced_refresh = saved.forced;
      fresh.state.updated_at = done_at;
      // A reader that loaded the row before the save may put the old token
      // back after this: invalidating bumps the generation past what that
      // reader saw, so its put drops the entry instead. This put succeeds
      // only if nothing else in the key's shard was invalidated since
      // before the save (the generation is the shard's, not this key's).
      invalidate(account, app);
      cache_->put(key, key_hash, fresh, before_save + 1);
      events.emplace_back("connection.refreshed", account, app, "oauth2", done_at);
      return fresh;
    }

    if (r.failure == oauth::RefreshFailure::grant)
      expire(account, app, "oauth2", r.reason, owner_, r.message, &events);

    // A passing failure, or the app's client configuration: keep the
    // tokens, back off, say so.
    Millis delay = r.failure == oauth::RefreshFailure::client
                       ? backoff(s.failures + 1, kClientBase, kClientCap)
                       : backoff(s.failures + 1, kTransientBase, kTransientCap);
    if (r.retry_after) delay = std::max(delay, *r.retry_after);
    Millis failed_at = clock_.now();
    Millis retry_at = failed_at + delay;
    store_->record_refresh_failure(id, owner_, failed_at, retry_at, r.reason);
    invalidate(account, app);
    events.emplace_back("connection.refresh_failed", account, app, "oauth2", failed_at, r.reason);
    events.back().retry_at = retry_at;
    if (!forced && !expired(s, failed_at)) return cur;  // the old token is still good
    fail(r.code, r.message + "; next attempt after " + rfc3339(retry_at));
  }
}

void Client::report_unauthorized(const std::string& account, const std::string& app,
                                 std::optional<std::string_view> access_token) {
  app_or_throw(app);
  // Which version the caller used: this thread's last read through this
  // client, or the one holding the access token the caller names. A
  // key-based connection has no token to compare: told by thread.
  auto row = store_->find(account, app);
  if (!row) fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  bool holds = false;
  Credentials cur = decrypt(*row, access_token, &holds);
  const CredentialState s = cur.state;
  if (!s.active) fail(REFOLD_EREAUTH, reauth_message(app, s.reason));
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
      if (clock_.now() - s.updated_at < kLateReport) return;
      rejected = "' rejected the token of a refresh made after an earlier 401 (HTTP 401)";
    }
  }
  if (rejected) {
    if (mark_expired(account, app, s.keybased ? "keybased" : "oauth2", "unauthorized", std::nullopt, s.version,
                     nullptr))
      fail(REFOLD_EREAUTH, "app '" + app + rejected + "; the user must connect again");
    return;  // replaced meanwhile
  }
  refresh_shared(account, app, std::move(cur), true, s.version, nullptr);
}

void Client::mark_reauth(const std::string& account, const std::string& app, const char* reason_c) {
  std::string reason = reason_c ? reason_c : "revoked";
  if (!valid_reason(reason))
    fail(REFOLD_EINVALID, "reason must be 1 to 64 characters of A-Z a-z 0-9 _ . : -");
  if (mark_expired(account, app, std::nullopt, reason, std::nullopt, std::nullopt, nullptr) == 0 &&
      !store_->find(account, app))
    fail(REFOLD_ENOTFOUND, "account has no connection to app '" + app + "'");
  // else marked, or already reauth_required
}

void Client::background_loop() {
  // Connections it could not move forward (unreadable record, an auth type
  // that shadows the OAuth one): left alone for a while, so they cannot
  // crowd out the others at the head of the due list.
  std::map<std::string, std::chrono::steady_clock::time_point> skip;
  while (!closing_.load(std::memory_order_acquire)) {
    std::chrono::milliseconds sleep = kBackgroundMaxSleep;
    try {
      auto steady = std::chrono::steady_clock::now();
      std::erase_if(skip, [&](const auto& kv) { return kv.second <= steady; });
      for (const auto& id : store_->due(clock_.now(), 256)) {
        if (closing_.load(std::memory_order_acquire)) return;
        std::string key;
        CredentialCache::key(key, id.account, id.app);
        if (skip.count(key)) continue;
        bool moved = false;
        try {
          Credentials cur = load(id.account, id.app);
          if (!cur.state.keybased && cur.state.active) {
            Millis now = clock_.now();
            if (!cur.state.has_refresh_token) {
              if (expired(cur.state, now))
                mark_expired(id.account, id.app, "oauth2", "expired", std::nullopt, cur.state.version, nullptr);
              moved = true;
            } else {
              bool gone = expired(cur.state, now);
              refresh_shared(id.account, id.app, std::move(cur), gone, std::nullopt, &closing_);
              moved = true;
            }
          }
        } catch (const Error& e) {
          // Refresh failures are recorded in the store (with their back-off)
          // and reported as events; only the others leave the row stuck.
          moved = e.code() != REFOLD_ESTORE && e.code() != REFOLD_ECRYPTO && e.code() != REFOLD_ERROR;
          if (e.code() == REFOLD_ECANCELLED) return;
        } catch (const std::exception&) {
          // Out of memory or a bug: leave this row for a while, go on.
        }
        if (!moved) skip[key] = steady + std::chrono::minutes(5);
      }
      // Sleep until the next refresh is due (plus jitter), but look again
      // within kBackgroundMaxSleep: another process or a clock set by the
      // host may change what is due.
      if (auto next = store_->next_due()) {
        Millis wait = *next - clock_.now();
        if (wait > 0 && wait < kBackgroundMaxSleep.count())
          sleep = std::chrono::milliseconds(wait + random_below(50));
      }
    } catch (const std::exception&) {
      // A store error: try again after the full sleep.
    }
    std::unique_lock lock(bg_mu_);
    bg_cv_.wait_for(lock, sleep, [&] { return closing_.load(std::memory_order_acquire); });
  }
}

}  // namespace refold::core
