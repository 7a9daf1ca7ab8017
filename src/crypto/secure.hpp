// Memory for secrets: guarded, locked, wiped on release.
#pragma once

#include <boost/json/storage_ptr.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace refold::crypto {

// Calls sodium_init() once; throws REFOLD_ERROR if libsodium cannot start.
void ensure_sodium();

// A fixed-size secret buffer in sodium_malloc memory (guard pages, mlock),
// wiped and freed on destruction. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  SecretBytes(std::span<const std::uint8_t> bytes);
  ~SecretBytes();
  SecretBytes(SecretBytes&& o) noexcept;
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  // Shrinks the visible size (the allocation stays); used after decryption.
  void truncate(std::size_t size);

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Overwrites memory in a way the compiler cannot elide.
void wipe(void* p, std::size_t n);
void wipe(std::string& s);

// A Boost.JSON storage whose blocks are wiped when freed, for documents that
// hold secrets (payloads, configuration, decrypted records).
boost::json::storage_ptr wiping_storage();

}  // namespace refold::crypto
