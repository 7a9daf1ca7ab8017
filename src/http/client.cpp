#include "http/client.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "http/connection.hpp"
#include "http/url.hpp"
#include "util/error.hpp"

namespace refold::http {

namespace {

using detail::Clock;
using detail::Connection;

// Servers close idle connections after 5 to 120 seconds; past this a pooled
// connection is more likely dead than useful.
constexpr auto kMaxIdle = std::chrono::seconds(30);

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return low(x) == low(y);
         });
}

// RFC 9110 token characters, for methods and header names.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// CR, LF or NUL in a value would let it smuggle extra headers. The value is
// never quoted: headers carry credentials.
bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool idempotent_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

void check_request(const Request& req, const std::string& context) {
  if (!is_token(req.method)) fail(REFOLD_EINVALID, context + ": invalid HTTP method");
  for (const auto& h : req.headers) {
    if (!is_token(h.name)) fail(REFOLD_EINVALID, context + ": a request header name is not a valid token");
    if (!is_field_value(h.value))
      fail(REFOLD_EINVALID, context + ": request header '" + h.name + "' contains CR, LF or NUL");
  }
}

class PooledClient final : public HttpClient {
 public:
  explicit PooledClient(const Options& options) : options_(options), connector_(options) {}

  Response send(const Request& req) override {
    Url url = parse_url(req.url);
    require_secure(url);
    std::string context = (is_token(req.method) ? req.method : std::string("request")) + " " + url.redacted();
    check_request(req, context);

    auto start = Clock::now();
    auto total = req.timeout ? std::min(*req.timeout, options_.total_timeout) : options_.total_timeout;
    detail::Deadline deadline{std::min(start + options_.connect_timeout, start + total),
                              start + total, options_.connect_timeout, total, req.cancel};
    std::string origin = url.origin();
    const bool may_repeat = req.idempotent.value_or(idempotent_method(req.method));
    // One retry at most: a second failure on a fresh connection is real.
    for (bool retried = false;; retried = true) {
      // A host a connection input chose is resolved and checked afresh.
      auto conn = req.public_only ? nullptr : take_idle(origin);
      bool reused = conn != nullptr;
      if (!conn) conn = connector_.connect(url, deadline, context, req.public_only);
      try {
        bool reusable = false;
        Response res = conn->exchange(req, url, options_, deadline, context, reusable);
        if (reusable) put_idle(origin, std::move(conn));
        return res;
      } catch (const detail::NoResponse&) {
        // The server most likely closed the pooled connection while it sat
        // idle; nothing of a response arrived. Sent again only when doing
        // so twice does no harm: the server may have acted on it.
        if (!reused || retried || !may_repeat) throw;
      }
    }
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    Clock::time_point since;
  };

  std::unique_ptr<Connection> take_idle(const std::string& origin) {
    std::vector<Idle> expired;  // closed after the lock is released
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mutex_);
      auto it = idle_.find(origin);
      if (it == idle_.end()) return nullptr;
      auto& list = it->second;
      auto now = Clock::now();
      auto old = std::partition(list.begin(), list.end(), [&](const Idle& i) { return now - i.since < kMaxIdle; });
      std::move(old, list.end(), std::back_inserter(expired));
      list.erase(old, list.end());
      // The most recently used one is the least likely to be closed; one
      // the server has closed already is dropped for the next.
      while (!list.empty() && !found) {
        auto newest = std::max_element(list.begin(), list.end(),
                                       [](const Idle& a, const Idle& b) { return a.since < b.since; });
        if (newest->conn->idle_and_open()) found = std::move(newest->conn);
        else expired.push_back(std::move(*newest));
        list.erase(newest);
      }
      if (list.empty()) idle_.erase(it);
    }
    return found;
  }

  // A connection the pool has no room for is closed when `conn` goes out of
  // scope, after the lock is released.
  void put_idle(const std::string& origin, std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    auto& list = idle_[origin];
    if (list.size() < options_.max_idle_per_origin) list.push_back({std::move(conn), Clock::now()});
  }

  const Options options_;
  const detail::Connector connector_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Idle>> idle_;  // guarded by mutex_
};

}  // namespace

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const auto& h : headers)
    if (ieq(h.name, name)) return h.value.view();
  return std::nullopt;
}

std::unique_ptr<HttpClient> make_http_client(const Options& options) {
  return std::make_unique<PooledClient>(options);
}

}  // namespace refold::http
