// A host callback registration (function pointer, payload, payload
// destructor) that may be replaced while calls to it are in flight: callers
// take a reference-counted snapshot, and the payload is released once the
// registration has ended and the last in-flight call has returned.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace refold::core {

template <class Fn>
class Registration {
 public:
  struct Handler {
    // Built in place (never copied): a copy's destructor would release the
    // payload while the registration is still live.
    Handler(Fn c, void* p, void (*f)(void*)) : cb(c), payload(p), free_payload(f) {}
    Handler(const Handler&) = delete;
    Handler& operator=(const Handler&) = delete;
    ~Handler() {
      if (free_payload) free_payload(payload);
    }
    Fn cb;
    void* payload;
    void (*free_payload)(void*);
  };

  // Replaces the registration; a NULL `cb` removes it (and releases
  // `payload` at once, as nothing holds it).
  void set(Fn cb, void* payload, void (*free_payload)(void*)) {
    std::shared_ptr<const Handler> next;
    if (cb) next = std::make_shared<const Handler>(cb, payload, free_payload);
    else if (free_payload) free_payload(payload);
    std::shared_ptr<const Handler> old;
    {
      std::lock_guard lock(mu_);
      old = std::exchange(handler_, std::move(next));
    }
    // `old` is released here, outside the lock.
  }

  // The current handler, or null; call it with no lock held.
  std::shared_ptr<const Handler> get() const {
    std::lock_guard lock(mu_);
    return handler_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Handler> handler_;
};

}  // namespace refold::core
