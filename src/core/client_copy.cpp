// Copying every connection from one client's store into another's: how a
// SQLite store moves into PostgreSQL (refold_copy_connections, `refold
// store copy`). Records are sealed with their store's id, so each is
// opened here and sealed again for the destination.
#include <boost/json.hpp>

#include "core/client.hpp"
#include "util/error.hpp"

namespace refold::core {

namespace bj = boost::json;

std::string Client::copy_connections_to(Client& to) {
  if (&to == this) fail(REFOLD_EINVALID, "from and to are the same client");
  if (store_->meta().store_id == to.store_->meta().store_id)
    fail(REFOLD_EINVALID, "from and to are clients of the same store");
  std::size_t copied = 0, reauth = 0;
  for (const store::Connection& listed : store_->list(std::nullopt)) {
    const store::ConnectionId& id = listed.id;
    std::optional<store::ConnectionWithSecret> row = store_->get(id);
    if (!row) continue;  // removed since it was listed
    const store::Connection& c = row->connection;
    const std::string where = "connection of account '" + id.account + "' to '" + id.app + "' (" + id.auth_type + ")";
    try {
      crypto::WipedBytes plain = vault_->open(id, row->sealed);
      const Millis now = to.clock_.now();
      store::UpsertResult r = to.store_->upsert(id, to.vault_->sealer(id, std::span(plain.data(), plain.size())),
                                                now, c.expires_at, c.next_refresh_at, c.config);
      std::vector<Event> events{Event(r.created ? "connection.created" : "connection.reauthenticated", id.account,
                                      id.app, id.auth_type, now)};
      if (c.status != "active") {
        for (const auto& m : to.store_->mark_reauth(id.account, id.app, id.auth_type,
                                                    c.reason.value_or("copied"), now, std::nullopt, std::nullopt))
          events.emplace_back("connection.expired", m.id.account, m.id.app, m.id.auth_type, now, m.reason);
        ++reauth;
      }
      to.lifecycle_->changed(id.account, id.app);
      to.events_.emit(events);
      ++copied;
    } catch (const Error& e) {
      fail(e.code(), "copying the " + where + ": " + e.what() + " (" + std::to_string(copied) +
                         " connections copied before it stay; copying again replaces them)");
    }
  }
  bj::object out;
  out["copied"] = copied;
  out["reauth_required"] = reauth;
  return bj::serialize(out);
}

}  // namespace refold::core
