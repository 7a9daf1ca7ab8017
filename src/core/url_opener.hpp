// Opens the authorization URL for the interactive flow: the host's opener
// if it registered one, else the system browser.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "refold.h"

namespace refold::core {

class UrlOpener {
 public:
  // Same registration rules as the event handler: NULL cb restores the
  // system browser; free_payload runs when the registration ends.
  void set(refold_open_url_cb cb, void* payload, void (*free_payload)(void*));
  // Throws REFOLD_ECANCELLED when the host's opener returns non-zero,
  // REFOLD_ERROR when no browser can be started. Called with no lock held.
  void open(const std::string& url) const;

 private:
  struct Handler {
    // Built in place (never copied): a copy's destructor would release the
    // payload while the registration is still live.
    Handler(refold_open_url_cb c, void* p, void (*f)(void*)) : cb(c), payload(p), free_payload(f) {}
    Handler(const Handler&) = delete;
    Handler& operator=(const Handler&) = delete;
    refold_open_url_cb cb;
    void* payload;
    void (*free_payload)(void*);
    ~Handler() {
      if (free_payload) free_payload(payload);
    }
  };
  mutable std::mutex mu_;
  std::shared_ptr<const Handler> handler_;
};

}  // namespace refold::core
