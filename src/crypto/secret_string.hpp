// Strings that hold secrets (tokens, client secrets, codes, verifiers, and
// the URLs, headers and bodies that carry them) and wipe themselves: no
// path, an exception's included, frees one without wiping it first.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace refold::crypto {

// Overwrites memory in a way the compiler cannot elide (sodium_memzero).
void wipe(void* p, std::size_t n) noexcept;

// std::allocator, except that every block is wiped before it is freed: a
// container on it (a string's heap buffer, Beast's read buffer and header
// fields) leaves nothing behind when it grows, shrinks or dies.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    wipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

// A std::basic_string on the wiping allocator: what Beast's string bodies
// and internal string work use. Its heap buffer is wiped; a short value in
// its small-string buffer is not (see SecretString).
using WipedString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// A secret string. The heap buffer is wiped when freed (WipingAllocator),
// and the object itself (where a short value lives in the small-string
// buffer, or stale bytes of one it held before it grew) is wiped when it
// is destroyed, so it may sit in any container or heap object. Moves keep
// the secret in one place; the moved-from object is wiped with the rest.
// Reads go through view() (or the string_view conversion); str() gives the
// whole std::basic_string interface for building one.
class SecretString {
 public:
  SecretString() noexcept { new (&s_) WipedString(); }
  SecretString(std::string_view v) { new (&s_) WipedString(v.data(), v.size()); }
  SecretString(const char* s) : SecretString(std::string_view(s)) {}
  SecretString(const std::string& s) : SecretString(std::string_view(s)) {}
  SecretString(WipedString&& s) noexcept { new (&s_) WipedString(std::move(s)); }
  SecretString(const SecretString& o) : SecretString(o.view()) {}
  SecretString(SecretString&& o) noexcept { new (&s_) WipedString(std::move(o.s_)); }
  SecretString& operator=(const SecretString& o) {
    if (this != &o) s_.assign(o.s_.data(), o.s_.size());
    return *this;
  }
  SecretString& operator=(SecretString&& o) noexcept {
    s_ = std::move(o.s_);
    return *this;
  }
  ~SecretString() {
    s_.~WipedString();
    wipe(&s_, sizeof s_);
  }

  std::string_view view() const noexcept { return {s_.data(), s_.size()}; }
  operator std::string_view() const noexcept { return view(); }
  const char* data() const noexcept { return s_.data(); }
  char* data() noexcept { return s_.data(); }
  const char* c_str() const noexcept { return s_.c_str(); }
  std::size_t size() const noexcept { return s_.size(); }
  bool empty() const noexcept { return s_.empty(); }
  char operator[](std::size_t i) const noexcept { return s_[i]; }
  const char* begin() const noexcept { return s_.data(); }
  const char* end() const noexcept { return s_.data() + s_.size(); }
  std::size_t find(std::string_view v, std::size_t pos = 0) const noexcept { return view().find(v, pos); }
  std::size_t find(char c, std::size_t pos = 0) const noexcept { return view().find(c, pos); }
  bool starts_with(std::string_view v) const noexcept { return view().starts_with(v); }
  WipedString& str() noexcept { return s_; }
  const WipedString& str() const noexcept { return s_; }
  static constexpr std::size_t npos = std::string_view::npos;

  SecretString& operator+=(std::string_view v) {
    s_.append(v.data(), v.size());
    return *this;
  }
  SecretString& operator+=(char c) {
    s_.push_back(c);
    return *this;
  }

  friend bool operator==(const SecretString& a, const SecretString& b) noexcept { return a.view() == b.view(); }
  friend bool operator==(const SecretString& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const SecretString& a, const char* b) noexcept { return a.view() == b; }
  friend bool operator==(const SecretString& a, const std::string& b) noexcept { return a.view() == b; }

 private:
  // In a union so that the destructor can wipe the object's bytes after
  // the string inside has been destroyed.
  union {
    WipedString s_;
  };
};

}  // namespace refold::crypto
