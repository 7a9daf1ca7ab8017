#include "core/credential_cache.hpp"

#include <map>
#include <mutex>
#include <thread>

namespace refold::core {

namespace {

std::size_t this_thread_slot(std::size_t slots) {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % slots;
}

}  // namespace

std::size_t ReadMostlyLock::lock_shared() const noexcept {
  const std::size_t i = this_thread_slot(kSlots);
  for (;;) {
    slots_[i].readers.fetch_add(1, std::memory_order_seq_cst);
    if (!writer_.load(std::memory_order_seq_cst)) return i;
    // A writer is in (or coming): step back and wait for it.
    slots_[i].readers.fetch_sub(1, std::memory_order_release);
    while (writer_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
}

void ReadMostlyLock::lock() noexcept {
  writers_.lock();
  writer_.store(true, std::memory_order_seq_cst);
  for (auto& s : slots_)
    while (s.readers.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

void ReadMostlyLock::unlock() noexcept {
  writer_.store(false, std::memory_order_release);
  writers_.unlock();
}

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

namespace {

// When a shard is full, one miss in kAdmitOneIn replaces an arbitrary
// entry: a working set larger than the cache then costs its reads little
// (most misses skip the copy and the write lock), while a new hot
// connection still gets in after a few dozen reads.
constexpr std::uint32_t kAdmitOneIn = 32;

bool admit_when_full() {
  thread_local std::uint32_t x = 2463534242u ^ static_cast<std::uint32_t>(this_thread_slot(1u << 30));
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x % kAdmitOneIn == 0;
}

}  // namespace

void CredentialCache::put(std::string_view key, std::size_t h, const Credentials& c, std::uint64_t seen) {
  if (capacity_ == 0) return;
  Shard& sh = shard(h);
  const std::size_t per_shard = (capacity_ + kShards - 1) / kShards;
  bool full;
  {
    std::size_t slot = sh.mu.lock_shared();
    full = sh.map.size() >= per_shard && (!sh.may_hold(h) || sh.map.find(key) == sh.map.end());
    sh.mu.unlock_shared(slot);
  }
  if (full && !admit_when_full()) return;
  Credentials copy{c.state, crypto::WipedBytes(c.json.view())};
  std::lock_guard lock(sh.mu);
  // Compared under the shard lock that invalidate() bumps it under, so a
  // load that raced an invalidation of this key is never cached, and what
  // was cached for the key before may be as stale: dropped too.
  auto it = sh.map.find(key);
  if (sh.generation.load(std::memory_order_acquire) != seen) {
    if (it != sh.map.end()) {
      sh.map.erase(it);
      sh.removed(h);
    }
    return;
  }
  if (it != sh.map.end()) {
    it->second = std::move(copy);
    return;
  }
  if (sh.map.size() >= per_shard && !sh.map.empty()) {
    auto victim = sh.map.begin();
    sh.removed(Hash{}(victim->first));
    sh.map.erase(victim);
  }
  sh.map.emplace(std::string(key), std::move(copy));
  sh.added(h);
}

void CredentialCache::invalidate(std::string_view key) {
  if (capacity_ == 0) return;
  const std::size_t h = Hash{}(key);
  Shard& sh = shard(h);
  std::lock_guard lock(sh.mu);
  sh.generation.fetch_add(1, std::memory_order_acq_rel);
  if (auto it = sh.map.find(key); it != sh.map.end()) {
    sh.map.erase(it);
    sh.removed(h);
  }
}

void CredentialCache::clear() {
  if (capacity_ == 0) return;
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mu);
    sh.generation.fetch_add(1, std::memory_order_acq_rel);
    sh.map.clear();
    sh.filter.fill(0);
  }
}

}  // namespace refold::core
