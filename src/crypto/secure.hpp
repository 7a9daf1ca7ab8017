// Memory for secrets: guarded, locked, wiped on release.
#pragma once

#include <boost/json/fwd.hpp>
#include <boost/json/storage_ptr.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secret_string.hpp"

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

// A heap buffer for short-lived secrets (a decrypted record on its way to
// the caller), always followed by a NUL byte, wiped on destruction. It
// avoids sodium_malloc's guard pages, which would dominate a credential
// read. release() hands the bytes to a C caller, who returns them through
// free_released() (refold_free), which wipes them too.
class WipedBytes {
 public:
  WipedBytes() = default;
  explicit WipedBytes(std::size_t size);
  WipedBytes(std::string_view text);
  ~WipedBytes() { free_released(data_); }
  WipedBytes(WipedBytes&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  WipedBytes& operator=(WipedBytes&& o) noexcept;
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;

  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(data_); }
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(data_); }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  // Shrinks the visible size; the tail is wiped at once.
  void truncate(std::size_t size);
  // Gives up ownership of the NUL-terminated bytes.
  char* release();
  // Wipes and frees what release() returned. NULL is a no-op.
  static void free_released(void* p) noexcept;

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

// A Boost.JSON storage whose blocks are wiped when freed, for documents that
// hold secrets (payloads, configuration, decrypted records).
boost::json::storage_ptr wiping_storage();

// `v` as JSON text, written straight into a SecretString (an object
// directly: converting it to a value would copy it to the default heap).
SecretString serialize(const boost::json::value& v);
SecretString serialize(const boost::json::object& o);

}  // namespace refold::crypto
