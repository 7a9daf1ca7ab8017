// Delivery of connection events to the host's handler: after the change is
// committed, on the thread that made it, with no internal lock held.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/registration.hpp"
#include "refold.h"
#include "util/time.hpp"

namespace refold::core {

struct Event {
  std::string type;  // "connection.created", ...
  std::string account;
  std::string app;
  std::string auth_type;
  Millis at = 0;
  std::optional<std::string> reason;

  std::string to_json() const;
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
