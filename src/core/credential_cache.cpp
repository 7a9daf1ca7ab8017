#include "core/credential_cache.hpp"

#include <map>
#include <mutex>

namespace refold::core {

CredentialCache::CredentialCache(std::size_t capacity) : capacity_(capacity) {}

std::shared_ptr<CredentialCache> CredentialCache::for_store(const std::vector<std::uint8_t>& store_id,
                                                            std::size_t capacity) {
  if (capacity == 0) return std::make_shared<CredentialCache>(0);
  static std::mutex mu;
  static std::map<std::vector<std::uint8_t>, std::weak_ptr<CredentialCache>> caches;
  std::lock_guard lock(mu);
  for (auto it = caches.begin(); it != caches.end();) {  // forget closed stores
    if (it->second.expired()) it = caches.erase(it);
    else ++it;
  }
  auto& slot = caches[store_id];
  auto cache = slot.lock();
  if (!cache) {
    cache = std::make_shared<CredentialCache>(capacity);
    slot = cache;
  }
  return cache;
}

std::string_view CredentialCache::key(std::string& buffer, std::string_view account,
                                      std::string_view app) {
  buffer.assign(account);
  buffer.push_back('\0');
  buffer.append(app);
  return buffer;
}

void CredentialCache::put(std::string_view key, const Credentials& c, std::uint64_t seen) {
  if (capacity_ == 0) return;
  Shard& sh = shard(key);
  Credentials copy{c.state, crypto::WipedBytes(c.json.view())};
  std::unique_lock lock(sh.mu);
  // Compared under the shard lock that invalidate() bumps it under, so a
  // load that raced an invalidation of this key is never cached.
  if (generation_.load(std::memory_order_acquire) != seen) return;
  auto it = sh.map.find(key);
  if (it != sh.map.end()) {
    it->second = std::move(copy);
    return;
  }
  // Full: drop an arbitrary entry (the first of the shard's table).
  if (sh.map.size() >= (capacity_ + kShards - 1) / kShards && !sh.map.empty()) sh.map.erase(sh.map.begin());
  sh.map.emplace(std::string(key), std::move(copy));
}

void CredentialCache::invalidate(std::string_view key) {
  if (capacity_ == 0) return;
  Shard& sh = shard(key);
  std::unique_lock lock(sh.mu);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (auto it = sh.map.find(key); it != sh.map.end()) sh.map.erase(it);
}

void CredentialCache::clear() {
  if (capacity_ == 0) return;
  for (auto& sh : shards_) {
    std::unique_lock lock(sh.mu);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    sh.map.clear();
  }
}

}  // namespace refold::core
