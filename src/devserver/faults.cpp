#include "faults.hpp"

#include <array>
#include <utility>

namespace refold::devserver {

namespace {
constexpr std::array<std::pair<FaultMode, const char*>, 6> kModes{{
    {FaultMode::http500, "500"},
    {FaultMode::http429, "429"},
    {FaultMode::malformed_json, "malformed_json"},
    {FaultMode::slow, "slow"},
    {FaultMode::invalid_client, "invalid_client"},
    {FaultMode::hang, "hang"},
}};
}  // namespace

std::optional<FaultMode> parse_fault_mode(std::string_view text) {
  for (const auto& [mode, name] : kModes)
    if (text == name) return mode;
  return std::nullopt;
}

const char* fault_mode_name(FaultMode mode) {
  for (const auto& [m, name] : kModes)
    if (m == mode) return name;
  return "?";
}

bool is_fault_endpoint(std::string_view endpoint) {
  return endpoint == "authorize" || endpoint == "token" || endpoint == "revoke" ||
         endpoint == "me" || endpoint == "resources" || endpoint == "keys_verify";
}

void Faults::add(const std::string& endpoint, Fault fault) {
  if (fault.count <= 0) return;
  std::lock_guard lock(mutex_);
  queue_[endpoint].push_back(fault);
}

void Faults::clear(std::string_view endpoint) {
  std::lock_guard lock(mutex_);
  if (endpoint.empty()) {
    queue_.clear();
  } else if (auto it = queue_.find(endpoint); it != queue_.end()) {
    queue_.erase(it);
  }
}

std::optional<Fault> Faults::take(std::string_view endpoint) {
  std::lock_guard lock(mutex_);
  auto it = queue_.find(endpoint);
  if (it == queue_.end() || it->second.empty()) return std::nullopt;
  Fault& front = it->second.front();
  if (front.after > 0) {
    --front.after;
    return std::nullopt;
  }
  Fault out = front;
  if (--front.count <= 0) it->second.pop_front();
  if (it->second.empty()) queue_.erase(it);
  return out;
}

std::map<std::string, std::vector<Fault>> Faults::pending() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::vector<Fault>> out;
  for (const auto& [endpoint, q] : queue_) out[endpoint].assign(q.begin(), q.end());
  return out;
}

}  // namespace refold::devserver
