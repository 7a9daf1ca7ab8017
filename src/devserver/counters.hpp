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
  std::atomic<std::uint64_t> token_client_credentials{0};
  std::atomic<std::uint64_t> revoke{0};
  std::atomic<std::uint64_t> me{0};
  std::atomic<std::uint64_t> resources{0};
  std::atomic<std::uint64_t> keys_verify{0};
  std::atomic<std::uint64_t> connections{0};  // TCP connections accepted
  // Token requests received and not yet answered (a delayed answer counts
  // until it is written), and the most there were at once since the last
  // reset: a test checks that a client's concurrency cap holds.
  std::atomic<std::uint64_t> token_in_flight{0};
  std::atomic<std::uint64_t> token_peak_in_flight{0};

  void token_started() {
    std::uint64_t now = ++token_in_flight;
    std::uint64_t peak = token_peak_in_flight.load();
    while (now > peak && !token_peak_in_flight.compare_exchange_weak(peak, now)) {
    }
  }

  void reset() {
    for (auto* c : {&authorize, &token, &token_authorization_code, &token_refresh, &token_client_credentials, &revoke, &me, &resources,
                    &keys_verify, &connections})
      c->store(0);
    token_peak_in_flight.store(token_in_flight.load());
  }
};

}  // namespace refold::devserver
