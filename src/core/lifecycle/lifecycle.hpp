// The token lifecycle: credential reads through the in-memory cache, refresh
// ahead of expiry (a read inside the window is served at once while one
// refresh runs in the background; only a read of an expired token waits,
// and its refresh goes ahead of background work), one refresh per
// connection (threads share a flight, processes a lease on the row),
// failure classification and back-off, re-auth marking, and the scheduler
// that keeps many refreshes in flight.
//
// The rules are in policy.hpp, the single flight in single_flight.hpp, the
// workers in scheduler.hpp and the group commit in group_commit.hpp; this
// class wires them to the store, the vault and the cache.
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/credential_cache.hpp"
#include "core/events.hpp"
#include "core/lifecycle/group_commit.hpp"
#include "core/lifecycle/policy.hpp"
#include "core/lifecycle/scheduler.hpp"
#include "core/lifecycle/single_flight.hpp"
#include "vault/vault.hpp"
#include "http/client.hpp"
#include "oauth/flow.hpp"
#include "oauth/refresh.hpp"
#include "store/store.hpp"

namespace refold::core {

class Lifecycle {
 public:
  struct Deps {
    const Clock& clock;
    const catalog::Catalog& catalog;
    store::Store& store;
    vault::Vault& vault;
    const std::map<std::string, oauth::ClientRegistration, std::less<>>& clients;
    std::function<http::HttpClient&()> http;
    EventHub& events;
  };
  struct Options {
    lifecycle::Policy policy;
    Millis lease_ms = 45000;  // outlives the HTTP timeout
    std::size_t concurrency = 128;
    std::size_t default_max_in_flight = 0;  // per app; 0: only the concurrency
    std::map<std::string, std::size_t, std::less<>> max_in_flight;  // per app
    bool background = false;
    std::vector<std::uint8_t> store_id;  // picks the cache shared in this process
    std::size_t cache_capacity = 10000;
  };

  Lifecycle(Deps deps, Options options);
  // Stops the scheduler, cancelling refreshes in flight.
  ~Lifecycle();

  // The credentials JSON, in memory that is wiped when released. Throws
  // refold::Error: REFOLD_ENOTFOUND, REFOLD_EREAUTH, or a refresh's error
  // when the token has expired and could not be refreshed.
  crypto::WipedBytes credentials(const std::string& account, const std::string& app);
  // The host's API call got 401 (see Client::report_unauthorized).
  void report_unauthorized(const std::string& account, const std::string& app,
                           std::optional<std::string_view> access_token);
  // A provider told the host the connection is gone.
  void mark_reauth(const std::string& account, const std::string& app, const char* reason);
  // When a token saved now should be refreshed (policy.hpp).
  std::optional<Millis> schedule(Millis now, std::optional<Millis> expires_at, bool has_refresh_token) const;
  // A write outside the lifecycle (connect, disconnect) changed (account, app).
  void changed(const std::string& account, const std::string& app);

  // For tests and benchmarks.
  const lifecycle::AppGate& gate() const { return gate_; }
  const lifecycle::GroupCommit& commits() const { return commits_; }

 private:
  // Whether the caller already holds a slot of the app's gate.
  enum class Slot { none, held };
  struct KeyRef {
    std::string_view key;
    std::size_t hash;
  };
  static KeyRef key_ref(std::string& buffer, const std::string& account, const std::string& app);
  static lifecycle::TokenState token_state(const CredentialState& s);
  // "oauth2" or "oauth2_cc": the auth type of a connection with tokens.
  static const char* token_auth_type(const CredentialState& s) {
    return s.client_credentials ? "oauth2_cc" : "oauth2";
  }
  Credentials load(const std::string& account, const std::string& app);
  Credentials load(const std::string& account, const std::string& app, KeyRef k);
  Credentials decrypt(const store::ConnectionWithSecret& row,
                      std::optional<std::string_view> token = std::nullopt, bool* holds = nullptr) const;
  crypto::WipedBytes resolve(const std::string& account, const std::string& app, KeyRef k,
                             Credentials cur, Millis now);
  // One refresh per connection in this process: the first caller leads,
  // the others share its outcome (or, with a still-valid token and no need
  // for a new one, return at once).
  Credentials refresh_shared(const std::string& account, const std::string& app, Credentials seen,
                             bool need_new, std::optional<std::int64_t> forced, Slot slot);
  // Takes the row's lease, re-reads it and refreshes only if still needed.
  Credentials refresh_leader(const std::string& account, const std::string& app, const std::string& auth_type,
                             std::optional<std::int64_t> forced, Slot slot, std::vector<Event>& events);
  // Sends the refresh for the row read under the lease (for oauth2_cc, a
  // new client-credentials grant), as the connection's own client or the
  // host's registration; the app's gate slot is taken (foreground) or
  // already held (background).
  oauth::RefreshResult send_refresh(const store::ConnectionId& id, const oauth::TokenSet& old, Millis now,
                                    Slot slot);
  // A worker's job: refreshes one due connection if it still needs it.
  std::chrono::milliseconds refresh_in_background(const store::ConnectionId& id) noexcept;
  std::size_t mark_expired(const std::string& account, const std::string& app,
                           const std::optional<std::string>& auth_type, const std::string& reason,
                           const std::optional<std::string>& owner, std::optional<std::int64_t> version,
                           std::vector<Event>* deferred);
  [[noreturn]] void expire(const std::string& account, const std::string& app, const std::string& auth_type,
                           const std::string& reason, const std::optional<std::string>& owner,
                           const std::string& why, std::vector<Event>* deferred = nullptr);
  void note_handed(KeyRef k, std::int64_t version) const;
  std::optional<std::int64_t> handed(KeyRef k) const;
  // Drops from the cache what other processes (and this one) changed, as
  // the store's change log says; at most every 100 ms.
  void recheck_cache();
  void invalidate(const std::string& account, const std::string& app);
  double jitter() const;

  Deps deps_;
  const Options options_;
  const std::string owner_;     // this lifecycle's name on refresh leases
  const std::uint64_t serial_;  // tells its notes in thread-local state from another's
  std::shared_ptr<CredentialCache> cache_;
  std::mutex recheck_mu_;
  std::atomic<std::int64_t> next_recheck_{0};  // steady clock, ns
  std::int64_t data_version_ = -1;             // guarded by recheck_mu_
  std::int64_t change_seq_ = 0;                // guarded by recheck_mu_
  lifecycle::SingleFlight<Credentials> flights_;
  lifecycle::AppGate gate_;
  lifecycle::GroupCommit commits_;
  // Last: stopped (its workers joined) before anything they use goes.
  lifecycle::Scheduler scheduler_;
};

}  // namespace refold::core
