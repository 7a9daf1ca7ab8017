#include "crypto/secure.hpp"

#include <boost/json/memory_resource.hpp>
#include <boost/json/serializer.hpp>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <new>
#include <sodium.h>

#include "util/error.hpp"

namespace refold::crypto {

void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) fail(REFOLD_ERROR, "libsodium failed to initialise");
}

SecretBytes::SecretBytes(std::size_t size) {
  ensure_sodium();
  if (size == 0) return;
  data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
  if (!data_) throw std::bad_alloc();
  size_ = size;
}

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes) : SecretBytes(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
}

SecretBytes::~SecretBytes() {
  if (data_) sodium_free(data_);  // wipes before unmapping
}

SecretBytes::SecretBytes(SecretBytes&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    if (data_) sodium_free(data_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void SecretBytes::truncate(std::size_t size) {
  if (size < size_) {
    sodium_memzero(data_ + size, size_ - size);
    size_ = size;
  }
}

namespace {
// Blocks carry their capacity in front so free_released can wipe them.
constexpr std::size_t kHeader = alignof(std::max_align_t);
}  // namespace

WipedBytes::WipedBytes(std::size_t size) : size_(size) {
  auto* block = static_cast<char*>(std::malloc(kHeader + size + 1));
  if (!block) throw std::bad_alloc();
  std::size_t capacity = size + 1;
  std::memcpy(block, &capacity, sizeof capacity);
  data_ = block + kHeader;
  data_[size] = '\0';
}

WipedBytes::WipedBytes(std::string_view text) : WipedBytes(text.size()) {
  if (!text.empty()) std::memcpy(data_, text.data(), text.size());
}

WipedBytes& WipedBytes::operator=(WipedBytes&& o) noexcept {
  if (this != &o) {
    free_released(data_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void WipedBytes::truncate(std::size_t size) {
  if (size < size_) {
    sodium_memzero(data_ + size, size_ - size);
    size_ = size;
  }
}

char* WipedBytes::release() {
  size_ = 0;
  return std::exchange(data_, nullptr);
}

void WipedBytes::free_released(void* p) noexcept {
  if (!p) return;
  char* block = static_cast<char*>(p) - kHeader;
  std::size_t capacity;
  std::memcpy(&capacity, block, sizeof capacity);
  sodium_memzero(block, kHeader + capacity);
  std::free(block);
}

void wipe(void* p, std::size_t n) noexcept {
  if (p && n) sodium_memzero(p, n);
}

namespace {

class WipingResource final : public boost::json::memory_resource {
  // Boost.JSON may free a block with another alignment than it asked for
  // (both within the default), so only over-aligned requests go to the
  // aligned operators.
  static bool over_aligned(std::size_t align) { return align > __STDCPP_DEFAULT_NEW_ALIGNMENT__; }
  void* do_allocate(std::size_t n, std::size_t align) override {
    return over_aligned(align) ? ::operator new(n, std::align_val_t(align)) : ::operator new(n);
  }
  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    sodium_memzero(p, n);
    if (over_aligned(align)) ::operator delete(p, std::align_val_t(align));
    else ::operator delete(p);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace

boost::json::storage_ptr wiping_storage() {
  static WipingResource resource;
  return boost::json::storage_ptr(&resource);
}

namespace {

template <class Json>
SecretString serialize_into(const Json& v) {
  // Written into the string's own buffer; each growth frees the old one
  // through the wiping allocator. The serializer keeps only positions in
  // `v`, never a copy of its strings.
  boost::json::serializer sr;
  sr.reset(&v);
  SecretString out;
  WipedString& s = out.str();
  while (!sr.done()) {
    std::size_t used = s.size();
    s.resize(used + 256);
    s.resize(used + sr.read(s.data() + used, 256).size());
  }
  return out;
}

}  // namespace

SecretString serialize(const boost::json::value& v) { return serialize_into(v); }
SecretString serialize(const boost::json::object& o) { return serialize_into(o); }

}  // namespace refold::crypto
