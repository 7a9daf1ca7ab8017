// The client: one store, one catalog, one vault. Every public method is safe
// to call from many threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "catalog/catalog.hpp"
#include "core/config.hpp"
#include "core/credential_cache.hpp"
#include "core/events.hpp"
#include "core/url_opener.hpp"
#include "http/client.hpp"
#include "oauth/flow.hpp"
#include "crypto/vault.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

namespace refold::core {

// The client's clock: the host's (refold_set_clock) when it set one, else
// `base` (the system clock unless a test passed another).
class HostClock final : public Clock {
 public:
  explicit HostClock(std::unique_ptr<Clock> base);
  Millis now() const override;
  void set(refold_clock_cb cb, void* payload, void (*free_payload)(void*));

 private:
  std::unique_ptr<Clock> base_;
  std::atomic<bool> custom_{false};
  Registration<refold_clock_cb> host_;
};

class Client {
 public:
  // Opens the store, resolves and verifies the master key. Throws
  // refold::Error (REFOLD_EINVALID, REFOLD_ECRYPTO, REFOLD_ESTORE).
  explicit Client(Config config, std::unique_ptr<Clock> clock = nullptr);
  // Stops the background refresher (cancelling its request in flight).
  ~Client();

  // With a payload: key-based connect, validated against the app's fields
  // (and verified with the provider where the app declares how). Without:
  // the interactive OAuth flow through the browser.
  void connect(const std::string& account, const std::string& app, const char* payload_json);
  // The two-step OAuth flow for hosts that own their redirect URI.
  std::string oauth_begin(const std::string& account, const std::string& app, const char* options_json);
  // Returns {account, app, auth_type, status}.
  std::string oauth_complete(std::string_view callback_url);
  void disconnect(const std::string& account, const std::string& app);
  void delete_account(const std::string& account);
  // The credentials JSON, in memory that is wiped when released. Refreshes
  // an OAuth token that is due (client_lifecycle.cpp).
  crypto::WipedBytes credentials(const std::string& account, const std::string& app);
  // The host's API call got 401: with the credentials this thread was last
  // handed, or, when `access_token` is given, with that OAuth access token.
  void report_unauthorized(const std::string& account, const std::string& app,
                           std::optional<std::string_view> access_token = std::nullopt);
  // A provider told the host the connection is gone (webhook).
  void mark_reauth(const std::string& account, const std::string& app, const char* reason);
  HostClock& clock() { return clock_; }
  std::string list_apps(const std::optional<std::string>& account);
  std::string list_connections(const std::optional<std::string>& account);
  void rotate_master_key(const char* new_key);
  // Replaces the data key, re-sealing every record (crypto::Vault).
  void rotate_data_key();
  // The data keys with how many records each seals, as JSON.
  std::string data_key_status();
  EventHub& events() { return events_; }
  UrlOpener& url_opener() { return opener_; }

 private:
  const catalog::App& app_or_throw(const std::string& slug) const;
  void connect_keybased(const std::string& account, const catalog::App& app, const char* payload_json);
  void connect_interactive(const std::string& account, const catalog::App& app);
  // Seals and stores completed OAuth tokens, emits the event.
  void save_tokens(const oauth::Completed& done);
  void verify_keys(const catalog::App& app, const boost::json::object& fields);
  // Saves a connect's sealed record, emits created or reauthenticated.
  void save_connection(const store::ConnectionId& id, const crypto::SecretString& plain,
                       std::optional<Millis> expires_at, bool has_refresh_token);
  // Revokes what a removed connection held (best effort); nullopt when
  // there was nothing to revoke at.
  std::optional<bool> revoke(const store::ConnectionWithSecret& removed);
  void removed(const std::vector<store::ConnectionWithSecret>& rows, const char* reason);

  // ---- token lifecycle (client_lifecycle.cpp) ----
  struct Flight;
  // A connection's cache key and its hash, computed once per read.
  struct KeyRef {
    std::string_view key;
    std::size_t hash;
  };
  static KeyRef key_ref(std::string& buffer, const std::string& account, const std::string& app);
  // Reads the connection from the store (bypassing the cache) and caches it.
  Credentials load(const std::string& account, const std::string& app);
  Credentials load(const std::string& account, const std::string& app, KeyRef k);
  // `token`, for an OAuth record: whether its access token is this one
  // (constant time), in *holds; *holds is left as it was for a key-based
  // record or when no token is given.
  Credentials decrypt(const store::ConnectionWithSecret& row,
                      std::optional<std::string_view> token = std::nullopt, bool* holds = nullptr) const;
  // What a read returns given `cur`, as of `now`: refreshing or marking
  // re-auth when due. `k` is used only before anything that may run a
  // host handler (which may read on this thread, reusing its buffer).
  crypto::WipedBytes resolve(const std::string& account, const std::string& app, KeyRef k,
                             Credentials cur, Millis now);
  // One refresh per connection in this process: the first caller leads,
  // the others wait for its result (or, with a still-valid token and no
  // need for a new one, return at once).
  Credentials refresh_shared(const std::string& account, const std::string& app, Credentials seen,
                             bool need_new, std::optional<std::int64_t> forced,
                             const std::atomic<bool>* cancel);
  // Takes the row's lease (waiting for another process's refresh when the
  // token has expired), re-reads it and refreshes only if still needed.
  // Events to emit are appended to `events`.
  Credentials refresh_leader(const std::string& account, const std::string& app,
                             std::optional<std::int64_t> forced, const std::atomic<bool>* cancel,
                             std::vector<Event>& events);
  // Marks the active connections of (account, app) (of `auth_type` when
  // given; fenced by the lease `owner` and the row `version` when given)
  // reauth_required and emits (or defers) connection.expired for each.
  // Returns how many it changed: 0 when none was active or, with
  // `version`, the row is no longer at it (the caller decided on what has
  // since been replaced).
  std::size_t mark_expired(const std::string& account, const std::string& app,
                    const std::optional<std::string>& auth_type,
                    const std::string& reason, const std::optional<std::string>& owner,
                    std::optional<std::int64_t> version, std::vector<Event>* deferred);
  // mark_expired without a version fence, then throws REFOLD_EREAUTH with `why`.
  [[noreturn]] void expire(const std::string& account, const std::string& app,
                           const std::string& auth_type, const std::string& reason,
                           const std::optional<std::string>& owner, const std::string& why,
                           std::vector<Event>* deferred = nullptr);
  // The version of (account, app) this client last handed to the calling
  // thread, for report_unauthorized to tell a 401 on a replaced token.
  void note_handed(KeyRef k, std::int64_t version) const;
  std::optional<std::int64_t> handed(KeyRef k) const;
  std::optional<Millis> schedule(Millis now, std::optional<Millis> expires_at, bool has_refresh_token) const;
  void recheck_cache();
  void invalidate(const std::string& account, const std::string& app);
  void background_loop();

  HostClock clock_;
  catalog::Catalog catalog_;
  std::string store_path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::Vault> vault_;
  std::optional<std::string> key_file_;  // where the master key lives, if in a file
  std::map<std::string, oauth::ClientRegistration, std::less<>> oauth_clients_;
  unsigned short loopback_port_;
  std::chrono::milliseconds interactive_timeout_;
  http::HttpClient& http();
  http::Options http_options_;
  std::once_flag http_once_;
  std::unique_ptr<http::HttpClient> http_;  // made on first use, see http()
  std::unique_ptr<oauth::Flows> flows_;
  EventHub events_;
  UrlOpener opener_;

  // Token lifecycle.
  Millis refresh_ahead_;
  Millis lease_ms_;      // outlives the HTTP timeout
  std::string owner_;    // this client's name on refresh leases
  std::uint64_t serial_;  // tells this client's notes in thread-local state from another's
  std::shared_ptr<CredentialCache> cache_;  // shared with other clients of this store
  std::mutex recheck_mu_;
  std::atomic<std::int64_t> next_recheck_{0};  // steady clock, ns
  std::int64_t data_version_ = -1;             // guarded by recheck_mu_
  std::mutex flights_mu_;
  std::map<std::string, std::shared_ptr<Flight>, std::less<>> flights_;  // one refresh per connection
  std::atomic<bool> closing_{false};
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  std::thread refresher_;  // background_refresh; joined first thing in ~Client
};

}  // namespace refold::core
