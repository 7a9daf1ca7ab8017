// The client: one store, one catalog, one vault. Every public method is safe
// to call from many threads at once.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "core/config.hpp"
#include "core/lifecycle/lifecycle.hpp"
#include "core/events.hpp"
#include "core/page_query.hpp"
#include "core/url_opener.hpp"
#include "http/client.hpp"
#include "oauth/flow.hpp"
#include "vault/vault.hpp"
#include "store/store.hpp"
#include "util/json.hpp"
#include "util/store_location.hpp"
#include "util/time.hpp"

namespace refold::core {

// The largest connect or import payload taken.
inline constexpr std::size_t kMaxPayloadBytes = 64 * 1024;

// The request that verifies key-based `fields` (checked against the app's
// fields) for an app with `verify`: its URL, headers and Basic
// authentication filled from them. When a field chose the host it may reach
// public addresses only (Request::public_only). Throws REFOLD_EINVALID
// naming a field whose value cannot go into the host. The request carries
// the keys: secret.
http::Request verify_request(const catalog::App& app, const boost::json::object& fields);

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
  // Stops the refresh scheduler (cancelling its requests in flight).
  ~Client();

  // With a payload: key-based connect, validated against the app's fields
  // (and verified with the provider where the app declares how). Without:
  // the interactive OAuth flow through the browser.
  void connect(const std::string& account, const std::string& app, const char* payload_json);
  // The interactive OAuth flow with begin's options (refold_connect_oauth):
  // scopes, extra parameters and connection inputs; not a redirect URI.
  void connect_oauth(const std::string& account, const std::string& app, const char* options_json);
  // Saves a connection made elsewhere: OAuth tokens or key-based fields
  // (refold.h, refold_import_connection), validated as a connect would be.
  void import_connection(const std::string& account, const std::string& app, const char* credentials_json);
  // The two-step OAuth flow for hosts that own their redirect URI.
  std::string oauth_begin(const std::string& account, const std::string& app, const char* options_json);
  // Returns {account, app, auth_type, status}.
  std::string oauth_complete(std::string_view callback_url);
  void disconnect(const std::string& account, const std::string& app);
  void delete_account(const std::string& account);
  // The credentials JSON, in memory that is wiped when released. A token
  // inside its refresh window is served and refreshed in the background;
  // an expired one is refreshed first (lifecycle/lifecycle.hpp).
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
  // One page of a filtered listing (page_query.hpp): {"connections": [...],
  // "next_cursor": "..." or null}.
  std::string list_connections_page(const char* query_json);
  // Every connection of this client's store, sealed again into `to`'s
  // (refold_copy_connections); the report as JSON.
  std::string copy_connections_to(Client& to);
  // The durable event log (refold_read_events, refold_ack_events).
  std::string read_events(const std::string& consumer, std::size_t max);
  void ack_events(const std::string& consumer, std::int64_t seq);
  void rotate_master_key(const char* new_key);
  // Replaces the data key, re-sealing every record (vault::Vault).
  void rotate_data_key();
  // The data keys with how many records each seals, as JSON.
  std::string data_key_status();
  EventHub& events() { return events_; }
  UrlOpener& url_opener() { return opener_; }

 private:
  const catalog::App& app_or_throw(const std::string& slug) const;
  void connect_keybased(const std::string& account, const catalog::App& app, const char* payload_json);
  // Checks key-based fields (and verifies them where the app says how),
  // then seals and saves them.
  void save_keybased(const std::string& account, const catalog::App& app, const boost::json::object& fields);
  void connect_interactive(const std::string& account, const catalog::App& app, oauth::BeginOptions options = {});
  // An oauth2_cc app: fetches a token with the payload's client (or the
  // host's registration), which also proves the client works, and saves it.
  void connect_client_credentials(const std::string& account, const catalog::App& app, const char* payload_json);
  // The client a connection authenticates as: `o`'s client_id and
  // client_secret (both or neither; put in `t`, to be sealed with the
  // connection, and in `own`, which the result then points to), else the
  // host's registration of the app; null when there is neither. Errors
  // name `r`'s members, never a value.
  const oauth::ClientRegistration* own_or_registered(const catalog::App& app, const boost::json::object& o,
                                                     const json::Reader& r, oauth::ClientRegistration& own,
                                                     oauth::TokenSet& t) const;
  // Fetches a client-credentials token as `reg` for `base` (its inputs, own
  // client and any metadata given), runs the app's after_connect, and
  // saves the connection. Nothing is saved on any error.
  void fetch_and_save_cc(const std::string& account, const catalog::App& app, const oauth::ClientRegistration& reg,
                         const std::vector<std::string>& scopes, oauth::TokenSet base);
  // refold_import_connection of an oauth2_cc connection: its client (own
  // or the host's), and the token it holds now, or none (one is fetched, as
  // a connect does).
  void import_cc(const std::string& account, const catalog::App& app, const boost::json::object& credentials);
  // Seals and stores completed OAuth tokens, emits the event.
  void save_tokens(const oauth::Completed& done);
  void verify_keys(const catalog::App& app, const boost::json::object& fields);
  // Saves a connect's sealed record and non-secret config (JSON), emits
  // created or reauthenticated. `renew_by`, when given, schedules the first
  // refresh instead of `expires_at` (a user token that lapses sooner).
  void save_connection(const store::ConnectionId& id, const crypto::SecretString& plain,
                       std::optional<Millis> expires_at, bool has_refresh_token,
                       const std::string& config = "{}", std::optional<Millis> renew_by = std::nullopt);
  // Revokes what a removed connection held (best effort); nullopt when
  // there was nothing to revoke at.
  std::optional<bool> revoke(const store::ConnectionWithSecret& removed);
  void removed(const std::vector<store::ConnectionWithSecret>& rows, const char* reason);

  HostClock clock_;
  catalog::Catalog catalog_;
  // The store: a SQLite file (made absolute) or a PostgreSQL URI.
  store_location::Location store_location_;
  std::unique_ptr<store::Store> store_;
  CursorKey cursor_key_{};  // authenticates list_connections_page's cursors
  std::unique_ptr<vault::Vault> vault_;
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

  // Last: destroyed (its scheduler stopped) before what it uses.
  std::unique_ptr<Lifecycle> lifecycle_;
};

}  // namespace refold::core
