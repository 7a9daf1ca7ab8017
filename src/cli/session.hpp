// One open refold client for a command: the config (file, $REFOLD_CONFIG,
// --store) and the listings most commands need.
#pragma once

#include <refold.h>

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "args.hpp"
#include "secret.hpp"

namespace refold_cli {

// What a command does with the store.
enum class Use {
  act,      // reads and writes as the config says
  observe,  // only looks (status, watch): the config's background_refresh is
            // turned off, so the tool never refreshes a token it is watching
};

// Which connections a listing selects; nullopt: no filter.
struct ConnectionQuery {
  std::optional<std::string> account;
  std::optional<std::string> app;
  std::optional<std::string> status;
};

class Session {
 public:
  // Opens the client the options describe. Throws a Failure: exit 2 for an
  // unreadable or invalid config file, else the library's code mapped.
  explicit Session(const Args& args, Use use = Use::act);

  refold_client* client() const { return client_.get(); }
  const std::string& account() const { return account_; }
  // The store's path as the config gives it (relative paths as given), or
  // the library's default; for messages.
  const std::string& store_path() const { return store_path_; }

  // refold_list_apps for the account, as the library's JSON text.
  std::string apps_text() const;
  // refold_list_apps, parsed.
  boost::json::array apps() const;
  // The app `slug` in the listing, if the catalog has it.
  std::optional<boost::json::object> find_app(const std::string& slug) const;
  // The app `slug` in the listing; a not-found Failure (exit 3) when the
  // catalog has no such app. `what` prefixes the error.
  boost::json::object app(const std::string& slug, const std::string& what) const;

  // One page of refold_list_connections_page: {"connections": [...],
  // "next_cursor": "..." or null}.
  boost::json::object connections_page(const ConnectionQuery& query, long long limit,
                                       const std::optional<std::string>& cursor) const;
  // Every connection the query selects, fetched a page of 1000 at a time
  // (each connection once; not one snapshot when others write meanwhile).
  boost::json::array all_connections(const ConnectionQuery& query) const;
  // The account's connections (every account's when `all`).
  boost::json::array connections(bool all) const;

 private:
  struct ClientFree {
    void operator()(refold_client* c) const noexcept { refold_client_free(c); }
  };
  std::unique_ptr<refold_client, ClientFree> client_;
  std::string account_;
  std::string store_path_;
};

// Whether an app's listing offers an auth type ("oauth2", "keybased").
bool offers(const boost::json::object& app, std::string_view auth_type);

}  // namespace refold_cli
