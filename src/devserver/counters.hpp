// Request counters for GET /admin/counters, so tests can assert how many
// calls a client made (e.g. that concurrent readers shared one refresh).
#pragma once

#include <atomic>
#include <cstdint>

namespace refold::devserver {

struct Counters {
  std::atomic<std::uint64_t> authorize{0};
  std::atomic<std::uint64_t> token{0};
  std::atomic<std::uint64_t> token_authorization_code{0};
  std::atomic<std::uint64_t> token_refresh{0};
  std::atomic<std::uint64_t> revoke{0};
  std::atomic<std::uint64_t> me{0};
  std::atomic<std::uint64_t> keys_verify{0};
  std::atomic<std::uint64_t> connections{0};  // TCP connections accepted

  void reset() {
    for (auto* c : {&authorize, &token, &token_authorization_code, &token_refresh, &revoke, &me,
                    &keys_verify, &connections})
      c->store(0);
  }
};

}  // namespace refold::devserver
