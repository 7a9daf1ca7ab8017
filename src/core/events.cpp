#include "core/events.hpp"

#include <boost/json.hpp>
#include <utility>

namespace refold::core {

std::string Event::to_json() const {
  boost::json::object o;
  o["type"] = type;
  o["account"] = account;
  o["app"] = app;
  o["auth_type"] = auth_type;
  o["at"] = rfc3339(at);
  if (reason) o["reason"] = *reason;
  return boost::json::serialize(o);
}

EventHub::~EventHub() = default;

void EventHub::set(refold_event_cb cb, void* payload, void (*free_payload)(void*)) {
  std::shared_ptr<const Handler> next;
  if (cb) next = std::make_shared<const Handler>(cb, payload, free_payload);
  else if (free_payload) free_payload(payload);  // nothing registered: release at once
  std::shared_ptr<const Handler> old;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(handler_, std::move(next));
  }
  // `old` is released here, outside the lock; if a delivery holds it, its
  // free_payload runs when that delivery ends.
}

void EventHub::emit(const std::vector<Event>& events) const {
  if (events.empty()) return;
  std::shared_ptr<const Handler> h;
  {
    std::lock_guard lock(mu_);
    h = handler_;
  }
  if (!h) return;
  for (const auto& e : events) {
    std::string json = e.to_json();
    h->cb(json.c_str(), h->payload);
  }
}

}  // namespace refold::core
