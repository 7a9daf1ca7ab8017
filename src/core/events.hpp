// Delivery of connection events to the host's handler: after the change is
// committed, on the thread that made it, with no internal lock held.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/registration.hpp"
#include "refold.h"
#include "util/time.hpp"

namespace refold::core {

struct Event {
  Event(std::string type_, std::string account_, std::string app_, std::string auth_type_, Millis at_,
        std::optional<std::string> reason_ = std::nullopt)
      : type(std::move(type_)), account(std::move(account_)), app(std::move(app_)),
        auth_type(std::move(auth_type_)), at(at_), reason(std::move(reason_)) {}

  std::string type;  // "connection.created", ...
  std::string account;
  std::string app;
  std::string auth_type;
  Millis at = 0;
  std::optional<std::string> reason;
  std::optional<bool> revoked;     // connection.deleted: did the provider confirm revocation
  std::optional<Millis> retry_at;  // connection.refresh_failed: when the next attempt is due

  std::string to_json() const;
  boost::json::object to_object() const;
};

class EventHub {
 public:
  // Replaces the handler; the old one's free_payload runs once no delivery
  // to it is in flight.
  void set(refold_event_cb cb, void* payload, void (*free_payload)(void*));
  // Delivers `events` in order. Must be called with no internal lock held.
  void emit(const std::vector<Event>& events) const;

 private:
  Registration<refold_event_cb> handler_;
};

}  // namespace refold::core
