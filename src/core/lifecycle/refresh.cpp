// The refreshing half of the token lifecycle: the single flight, the
// leader that takes the row's lease and sends the refresh, and the
// background worker's job.
#include <chrono>
#include <thread>

#include "core/lifecycle/lifecycle.hpp"
#include "core/oauth_record.hpp"
#include "oauth/refresh.hpp"
#include "util/error.hpp"

namespace refold::core {

namespace {

using namespace std::chrono_literals;

Credentials copy(const Credentials& c) { return Credentials{c.state, crypto::WipedBytes(c.json.view())}; }

}  // namespace

Credentials Lifecycle::refresh_shared(const std::string& account, const std::string& app,
                                      Credentials seen, bool need_new, std::optional<std::int64_t> forced,
                                      Slot slot) {
  std::string key;
  CredentialCache::key(key, account, app);
  const std::string auth_type = token_auth_type(seen.state);
  for (;;) {
    auto joined = flights_.join(key);
    if (!joined.lead) {
      // Someone is refreshing. A still-valid token is served at once; a
      // background worker never waits (it may hold the slot the leader
      // needs).
      if (slot == Slot::held || (!need_new && !forced)) return seen;
      const Credentials& got = joined.result.get();  // the leader's error, rethrown
      // That flight may have answered another need than this caller's (a
      // refresh found unnecessary, or not the version this caller saw
      // rejected): then this caller leads the next one.
      const bool answers = forced ? got.state.version != *forced
                                  : !lifecycle::expired(token_state(got.state), deps_.clock.now());
      if (answers) return copy(got);
      continue;
    }
    std::promise<Credentials> promise = std::move(*joined.lead);
    // Events wait until the flight is over: a handler that reads this
    // connection again must not find itself waiting for its own refresh.
    std::vector<Event> events;
    Credentials result;
    try {
      result = refresh_leader(account, app, auth_type, forced, slot, events);
    } catch (...) {
      flights_.finish(key);
      promise.set_exception(std::current_exception());
      deps_.events.emit(events);
      throw;
    }
    flights_.finish(key);
    try {
      promise.set_value(copy(result));
    } catch (...) {
      promise.set_exception(std::current_exception());  // out of memory copying
    }
    deps_.events.emit(events);
    return result;
  }
}

oauth::RefreshResult Lifecycle::send_refresh(const store::ConnectionId& id, const oauth::TokenSet& old,
                                             Millis now, Slot slot) {
  const std::string& app = id.app;
  oauth::RefreshResult r;
  const catalog::App* def = deps_.catalog.find(app);
  oauth::ClientRegistration own;
  const oauth::ClientRegistration* client = oauth::client_for(old, app, deps_.clients, own);
  if (!def || !def->oauth2 || def->oauth2->client_credentials != (id.auth_type == "oauth2_cc")) {
    r.failure = oauth::RefreshFailure::client;
    r.reason = "unknown_app";
    r.code = REFOLD_EINVALID;
    r.message = "app '" + app + "' is no longer an " + id.auth_type + " app in the catalog; cannot refresh";
    return r;
  }
  if (!client) {
    r.failure = oauth::RefreshFailure::client;
    r.reason = "missing_client";
    r.code = REFOLD_EINVALID;
    r.message = "app '" + app + "': no OAuth client registration to refresh with; add "
                "oauth_clients." + app + " (client_id, client_secret) to the config";
    return r;
  }
  // The new tokens will be sealed under the store's current data key: a
  // key this client cannot open must fail now, not after the provider has
  // rotated the refresh token.
  deps_.vault.require_current_key();
  // A read of an expired token takes its app's next slot, ahead of
  // background work; a worker holds one already.
  struct Slotted {
    lifecycle::AppGate* gate;
    const std::string& app;
    ~Slotted() {
      if (gate) gate->leave(app);
    }
  } slotted{nullptr, app};
  if (slot == Slot::none) {
    gate_.enter(app);
    slotted.gate = &gate_;
  }
  if (def->oauth2->client_credentials)
    return oauth::fetch_client_credentials(deps_.http(), *def, *client, old.scopes, now, &scheduler_.stopping(),
                                           &old);
  return oauth::refresh(deps_.http(), *def, *client, *old.refresh_token, old.scopes, now,
                        &scheduler_.stopping(), &old);
}

Credentials Lifecycle::refresh_leader(const std::string& account, const std::string& app,
                                      const std::string& auth_type, std::optional<std::int64_t> forced, Slot slot,
                                      std::vector<Event>& events) {
  const std::atomic<bool>* cancel = &scheduler_.stopping();
  store::ConnectionId id{account, app, auth_type};
  std::string buffer;
  const std::string_view key = CredentialCache::key(buffer, account, app);
  const std::size_t key_hash = CredentialCache::hash(key);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.lease_ms + 1000);
  auto pause = 5ms;
  for (;;) {
    if (cancel && cancel->load(std::memory_order_acquire))
      fail(REFOLD_ECANCELLED, "the refresh was cancelled: the client is closing");
    Millis now = deps_.clock.now();
    std::uint64_t seen = cache_->generation(key_hash);
    store::LeaseResult lease = deps_.store.acquire_lease(id, owner_, now, now + options_.lease_ms);
    now = deps_.clock.now();  // taking the lease may have waited for the store
    if (lease.state == store::LeaseResult::State::missing) {
      invalidate(account, app);
      fail(REFOLD_ENOTFOUND, "account has no OAuth connection to app '" + app + "'");
    }
    const bool held = lease.state == store::LeaseResult::State::acquired;
    auto release = [&] {
      if (held) deps_.store.release_lease(id, owner_);
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
    const bool gone = lifecycle::expired(token_state(s), now);
    if (!s.active) {
      release();
      cache_->put(key, key_hash, cur, seen);
      fail(REFOLD_EREAUTH, lifecycle::reauth_message(app, s.reason));
    }
    // Inside the window or expired; with `forced`, still the version the
    // host saw rejected.
    const bool needed = forced ? s.version == *forced
                               : lifecycle::decide_read(token_state(s), now) != lifecycle::ReadAction::serve;
    if (!needed) {
      release();
      cache_->put(key, key_hash, cur, seen);
      return cur;  // no request sent
    }
    if (s.failures > 0 && s.due_at && now < *s.due_at) {  // backing off
      release();
      fail(lifecycle::code_for_reason(s.reason), lifecycle::backoff_message(app, s.reason, *s.due_at, gone));
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
      expire(account, app, auth_type, forced ? "unauthorized" : "expired", owner_,
             "app '" + app + (forced ? "': the access token was rejected (HTTP 401)"
                                     : "': the access token expired") +
                 " and there is no refresh token",
             &events);
    }

    // We hold the lease and a refresh is needed: send it.
    oauth::RefreshResult r;
    oauth::TokenSet old;
    try {
      old = read_oauth_record(deps_.vault.open(id, lease.row->sealed).view());
    } catch (...) {
      release();
      throw;
    }
    // A refresh token past the lifetime the provider gave it would only be
    // refused: the user is needed, and the provider is not asked.
    if (old.refresh_expires_at && now >= *old.refresh_expires_at)
      expire(account, app, auth_type, "expired", owner_,
             "app '" + app + "': the refresh token expired at " + rfc3339(*old.refresh_expires_at), &events);
    try {
      r = send_refresh(id, old, now, slot);
    } catch (...) {
      release();
      throw;
    }

    if (r.failure == oauth::RefreshFailure::none) {
      oauth::TokenSet& t = r.tokens;
      // A response without a refresh token keeps the old one (RFC 6749 6).
      if (!t.refresh_token) {
        t.refresh_token = std::move(old.refresh_token);
        t.refresh_expires_at = old.refresh_expires_at;
      }
      // The connection's inputs and its own client are its own, whatever the
      // app says now.
      if (t.connection.empty()) t.connection = old.connection;
      t.client_id = std::move(old.client_id);
      t.client_secret = std::move(old.client_secret);
      // So does metadata the response did not repeat; the API base is built
      // again from it, and stays as it was if the new values do not make one.
      if (const catalog::App* def = deps_.catalog.find(app)) {
        try {
          oauth::finish_metadata(*def, t, &old);
        } catch (const Error&) {
          t.api_base_url = old.api_base_url;
        }
      }
      crypto::SecretString plain = oauth_record(t, auth_type);
      Millis done_at = deps_.clock.now();
      store::RefreshedTokens saved;
      if (r.user_token_kept) {
        // The user token could not be refreshed for a passing reason: the
        // connection lives by its main token meanwhile, and both are tried
        // again after a back-off that grows with each such failure in a row.
        saved.expires_at = t.expires_at;
        const int failures = t.user ? t.user->failures : 1;
        const Millis retry =
            done_at + lifecycle::retry_delay(failures, lifecycle::FailureKind::transient, r.retry_after, jitter());
        const std::optional<Millis> main_due = schedule(done_at, t.expires_at, true);
        saved.next_refresh_at = main_due ? std::min(*main_due, retry) : retry;
      } else {
        saved.expires_at = t.expires_at;
        saved.next_refresh_at = schedule(done_at, oauth::renew_by(t), true);
      }
      saved.forced = forced.has_value();
      saved.config = connection_config(t);
      Credentials fresh;
      // Read before the save: a change committed after it (another process
      // marking re-auth, say) must keep the new token out of the cache.
      const std::uint64_t before_save = cache_->generation(key_hash);
      try {
        saved.seal = deps_.vault.sealer(id, std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
        // Durable before anyone sees the new access token: a rotated
        // refresh token must survive a crash right after this. Saved in
        // one transaction (one sync) with the refreshes that completed
        // meanwhile.
        if (!commits_.save(store::RefreshSave{id, owner_, s.version, std::move(saved)}))
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
      events.emplace_back("connection.refreshed", account, app, auth_type, done_at);
      return fresh;
    }

    if (r.failure == oauth::RefreshFailure::grant)
      expire(account, app, auth_type, r.reason, owner_, r.message, &events);

    // A passing failure, or the app's client configuration: keep the
    // tokens, back off, say so.
    const Millis delay = lifecycle::retry_delay(
        s.failures + 1,
        r.failure == oauth::RefreshFailure::client ? lifecycle::FailureKind::client
                                                   : lifecycle::FailureKind::transient,
        r.retry_after, jitter());
    const Millis failed_at = deps_.clock.now();
    const Millis retry_at = failed_at + delay;
    // The provider asked for a pause (429 or 503 with Retry-After): it holds
    // for every connection of the app, not only this one.
    if (r.retry_after) gate_.pause(app, failed_at + *r.retry_after);
    deps_.store.record_refresh_failure(id, owner_, failed_at, retry_at, r.reason);
    invalidate(account, app);
    events.emplace_back("connection.refresh_failed", account, app, auth_type, failed_at, r.reason);
    events.back().retry_at = retry_at;
    if (!forced && !lifecycle::expired(token_state(s), failed_at)) return cur;  // the old token is still good
    fail(r.code, r.message + "; next attempt after " + rfc3339(retry_at));
  }
}

std::chrono::milliseconds Lifecycle::refresh_in_background(const store::ConnectionId& id) noexcept {
  using std::chrono::milliseconds;
  constexpr milliseconds kMoved{0};
  try {
    Credentials cur = load(id.account, id.app);
    const CredentialState& s = cur.state;
    if (s.keybased) return kMoved;
    const Millis now = deps_.clock.now();
    switch (lifecycle::decide_read(token_state(s), now)) {
      case lifecycle::ReadAction::serve:        // refreshed meanwhile
      case lifecycle::ReadAction::backing_off:  // its retry is not due yet
      case lifecycle::ReadAction::reauth:
        return kMoved;
      case lifecycle::ReadAction::expire:
        mark_expired(id.account, id.app, std::string(token_auth_type(s)), "expired", std::nullopt, s.version, nullptr);
        return kMoved;
      case lifecycle::ReadAction::serve_and_refresh:
      case lifecycle::ReadAction::refresh_and_wait: {
        const bool gone = lifecycle::expired(token_state(s), now);
        refresh_shared(id.account, id.app, std::move(cur), gone, std::nullopt, Slot::held);
        return kMoved;
      }
    }
    return kMoved;
  } catch (const Error& e) {
    // Refresh failures are recorded in the store (with their back-off) and
    // reported as events. The store failing (a database restarting, say)
    // passes the row over for seconds: its lease, if the refresh took one,
    // holds the others off until it runs out. An unreadable record, minutes.
    if (e.code() == REFOLD_ESTORE) return milliseconds(10000);
    if (e.code() == REFOLD_ECRYPTO || e.code() == REFOLD_ERROR) return milliseconds(5 * 60 * 1000);
    return kMoved;
  } catch (...) {
    return milliseconds(5 * 60 * 1000);  // out of memory or a bug: leave this row for a while
  }
}

}  // namespace refold::core
