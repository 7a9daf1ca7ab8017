// Opens the authorization URL for the interactive flow: the host's opener
// if it registered one, else the system browser.
#pragma once

#include <memory>
#include <string>

#include "core/registration.hpp"
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
  Registration<refold_open_url_cb> handler_;
};

}  // namespace refold::core
