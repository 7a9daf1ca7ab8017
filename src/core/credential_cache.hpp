// Decrypted credentials kept in memory so a read of a valid token costs a
// hash lookup and a copy, not a store read, a decryption and a JSON pass.
//
// Coherence: every change this process makes invalidates the entry it
// touches (and bumps a generation, so a read that loaded the old row while
// the change committed cannot put it back); changes by other processes are
// noticed through the store's data version, checked by the client at most
// every 100 ms (docs/threading.md). Clients of one process on one store
// share a cache.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "crypto/secure.hpp"
#include "util/time.hpp"

namespace refold::core {

// What a read needs to decide about a connection without the store.
struct CredentialState {
  bool keybased = false;
  bool client_credentials = false;  // an oauth2_cc connection (renewed by a new grant)
  bool active = true;
  std::optional<std::string> reason;  // why re-auth is required, or why refreshing fails
  std::int64_t version = 0;
  std::optional<Millis> expires_at;
  std::optional<Millis> due_at;       // next refresh (or retry after a failure)
  int failures = 0;                   // failed refreshes in a row
  bool has_refresh_token = false;     // or, for oauth2_cc, the client to fetch a new token with
  bool forced_refresh = false;        // the token came from a refresh forced by a 401
  Millis updated_at = 0;              // when the row last changed
};

struct Credentials {
  CredentialState state;
  crypto::WipedBytes json;  // what refold_get_credentials hands out
};

// A reader-writer lock for a read-mostly structure: each reader counts
// itself in one of several cache-line-sized slots (chosen per thread), so
// readers on different cores do not bounce one cache line between them,
// which a single reader count (std::shared_mutex) does on every read.
// Writers are rare (cache fills and invalidations): a writer raises a flag
// and waits for every slot to drain. Reader and writer check each other's
// marks with sequentially consistent operations (the Dekker pattern).
class ReadMostlyLock {
 public:
  // Returns the slot to pass to unlock_shared().
  std::size_t lock_shared() const noexcept;
  void unlock_shared(std::size_t slot) const noexcept {
    slots_[slot].readers.fetch_sub(1, std::memory_order_release);
  }
  void lock() noexcept;
  void unlock() noexcept;

 private:
  static constexpr std::size_t kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<int> readers{0};
  };
  mutable std::array<Slot, kSlots> slots_;
  std::atomic<bool> writer_{false};
  std::mutex writers_;
};

class CredentialCache {
 public:
  // At most `capacity` entries; 0 disables the cache.
  explicit CredentialCache(std::size_t capacity);

  // Keys are spread over this many shards by hash % kShards, each with its
  // own lock and generation.
  static constexpr std::size_t kShards = 16;

  // The cache every client of this process shares for the store with this
  // id, so a change one client makes is seen by the others at once. The
  // first client to ask sets the capacity; a capacity of 0 gets a private,
  // disabled cache.
  static std::shared_ptr<CredentialCache> for_store(const std::vector<std::uint8_t>& store_id,
                                                    std::size_t capacity);

  // The cache key of a connection: account and app, NUL-separated.
  static std::string_view key(std::string& buffer, std::string_view account, std::string_view app);
  // The hash the cache files `key` under (for a caller that needs it too,
  // so a read computes it once).
  static std::size_t hash(std::string_view key) { return Hash{}(key); }

  enum class Found { no, served, stale };
  // Looks `key` up. When `servable(state)` holds, copies the credentials
  // into `out.json` and returns served; otherwise copies state and
  // credentials into `out` and returns stale.
  template <class Servable>
  Found find(std::string_view key, Servable&& servable, Credentials& out) const {
    return find(key, hash(key), std::forward<Servable>(servable), out);
  }
  // The same, with `h` = hash(key) computed by the caller.
  template <class Servable>
  Found find(std::string_view key, std::size_t h, Servable&& servable, Credentials& out) const {
    if (capacity_ == 0) return Found::no;
    const Shard& sh = shard(h);
    struct Reader {
      const ReadMostlyLock& lock;
      std::size_t slot;
      ~Reader() { lock.unlock_shared(slot); }
    } reader{sh.mu, sh.mu.lock_shared()};
    if (!sh.may_hold(h)) return Found::no;
    auto it = sh.map.find(key);
    if (it == sh.map.end()) return Found::no;
    const Credentials& c = it->second;
    out.json = crypto::WipedBytes(c.json.view());
    if (servable(c.state)) return Found::served;
    out.state = c.state;
    return Found::stale;
  }

  // The generation to pass to put() for the key with hash `h`: read it
  // before loading from the store. It counts invalidations of the keys in
  // one shard, so changes to other connections rarely keep a load out.
  std::uint64_t generation(std::size_t h) const {
    return shard(h).generation.load(std::memory_order_acquire);
  }
  // Caches `c` unless an invalidation in the key's shard happened since
  // `seen` was read (then drops whatever the key held).
  void put(std::string_view key, const Credentials& c, std::uint64_t seen) { put(key, hash(key), c, seen); }
  void put(std::string_view key, std::size_t h, const Credentials& c, std::uint64_t seen);
  void invalidate(std::string_view key);
  void clear();

 private:
  // Deliberately not noexcept: libstdc++ then keeps each node's hash code
  // (as it does for std::hash<std::string>), so walking a bucket compares
  // codes instead of hashing every key it passes.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable ReadMostlyLock mu;
    // Bumped under mu by every invalidation in this shard (and clear()).
    std::atomic<std::uint64_t> generation{0};
    std::unordered_map<std::string, Credentials, Hash, std::equal_to<>> map;
    // A counting filter over the keys' hashes: a zero count means the key
    // is not in `map`, known without touching its nodes (scattered over
    // the heap, so a lookup that misses costs cache misses: about a third
    // of a microsecond per read with 10,000 entries and random reads).
    // Counts stick at their maximum until clear().
    std::array<std::uint8_t, 4096> filter{};
    static std::size_t filter_slot(std::size_t h) {
      const auto x = static_cast<std::uint64_t>(h);  // size_t may be 32 bits
      return static_cast<std::size_t>((x >> 32 ^ x >> 4) & 4095);
    }
    bool may_hold(std::size_t h) const { return filter[filter_slot(h)] != 0; }
    void added(std::size_t h) {
      std::uint8_t& n = filter[filter_slot(h)];
      if (n != 255) ++n;
    }
    void removed(std::size_t h) {
      std::uint8_t& n = filter[filter_slot(h)];
      if (n != 255 && n != 0) --n;
    }
  };

  const Shard& shard(std::size_t hash) const { return shards_[hash % kShards]; }
  Shard& shard(std::size_t hash) { return shards_[hash % kShards]; }

  std::size_t capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace refold::core
