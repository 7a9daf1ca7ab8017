// The client: one store, one catalog, one vault. Every public method is safe
// to call from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "crypto/vault.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

namespace refold::core {

class Client {
 public:
  // Opens the store, resolves and verifies the master key. Throws
  // refold::Error (REFOLD_EINVALID, REFOLD_ECRYPTO, REFOLD_ESTORE).
  explicit Client(Config config, std::unique_ptr<Clock> clock = nullptr);
  ~Client();

  // Key-based connect: validates `payload_json` against the app's fields.
  void connect(const std::string& account, const std::string& app, const char* payload_json);
  void disconnect(const std::string& account, const std::string& app);
  void delete_account(const std::string& account);
  // The credentials JSON, in memory that is wiped when released.
  crypto::WipedBytes credentials(const std::string& account, const std::string& app);
  std::string list_apps(const std::optional<std::string>& account);
  std::string list_connections(const std::optional<std::string>& account);
  void rotate_master_key(const char* new_key);
  EventHub& events() { return events_; }

 private:
  const catalog::App& app_or_throw(const std::string& slug) const;

  std::unique_ptr<Clock> clock_;
  catalog::Catalog catalog_;
  std::string store_path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::Vault> vault_;
  std::optional<std::string> key_file_;  // where the master key lives, if in a file
  EventHub events_;
};

}  // namespace refold::core
