#include "core/events.hpp"

#include <boost/json.hpp>
#include <utility>

namespace refold::core {

std::string Event::to_json() const { return boost::json::serialize(to_object()); }

boost::json::object Event::to_object() const {
  boost::json::object o;
  o["type"] = type;
  o["account"] = account;
  o["app"] = app;
  o["auth_type"] = auth_type;
  o["at"] = rfc3339(at);
  if (reason) o["reason"] = *reason;
  if (revoked) o["revoked"] = *revoked;
  if (retry_at) o["retry_at"] = rfc3339(*retry_at);
  return o;
}

void EventHub::set(refold_event_cb cb, void* payload, void (*free_payload)(void*)) {
  handler_.set(cb, payload, free_payload);
}

void EventHub::emit(const std::vector<Event>& events) const {
  if (events.empty()) return;
  auto h = handler_.get();
  if (!h) return;
  for (const auto& e : events) {
    std::string json = e.to_json();
    h->cb(json.c_str(), h->payload);
  }
}

}  // namespace refold::core
