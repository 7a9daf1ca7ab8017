// Failure injection: POST /admin/fail queues failures that the next requests
// to an endpoint get instead of (or, for "slow", on top of) a normal answer.
//
// Thread safety: all members may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace refold::devserver {

enum class FaultMode { http500, http429, malformed_json, slow, invalid_client, hang };

struct Fault {
  FaultMode mode = FaultMode::http500;
  std::int64_t count = 1;        // requests still to fail this way
  std::int64_t after = 0;        // requests still to pass before the first fails
  std::int64_t retry_after = 1;  // seconds, for 429
  std::int64_t delay_ms = 1000;  // for slow
};

std::optional<FaultMode> parse_fault_mode(std::string_view text);
const char* fault_mode_name(FaultMode mode);
// The endpoints that accept faults: authorize, token, revoke, me, keys_verify.
bool is_fault_endpoint(std::string_view endpoint);

class Faults {
 public:
  // Queued after any failures already waiting for that endpoint.
  void add(const std::string& endpoint, Fault fault);
  // Empty `endpoint`: every endpoint.
  void clear(std::string_view endpoint);
  // The failure the next request to `endpoint` gets, if any; uses it up.
  std::optional<Fault> take(std::string_view endpoint);
  // What is still queued, for GET /admin/fail.
  std::map<std::string, std::vector<Fault>> pending() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<Fault>, std::less<>> queue_;
};

}  // namespace refold::devserver
