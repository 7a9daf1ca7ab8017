#include "session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <cstdio>
#include <optional>
#include <type_traits>

namespace refold::devserver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// A keep-alive connection may sit idle this long between requests.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// Closing waits this long for the peer (TLS close_notify, or the rest of an
// unread body) so it reads our last answer instead of a reset.
constexpr auto kLingerTimeout = std::chrono::seconds(2);

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

HttpRequest convert(http::request<http::string_body>&& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  std::string_view target = req.target();
  std::size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.headers.push_back(Header{std::move(name), std::string(field.value())});
  }
  out.body = std::move(req.body());
  return out;
}

// Method and path only: queries carry codes and state, headers carry
// credentials, bodies carry secrets; so does the path of a refresh-token
// DELETE, which is cut before the token. Control characters are replaced
// so a crafted path cannot forge log lines.
void log_request(const HttpRequest& req) {
  constexpr std::string_view kTokenPath = "/oauth/refresh-tokens/";
  std::string line = "refold-devserver: " + req.method + " ";
  const std::string path =
      req.path.starts_with(kTokenPath) ? std::string(kTokenPath) + "[redacted]" : req.path.substr(0, 200);
  for (char c : path)
    line.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

HttpResponse plain_error(unsigned status, std::string_view text) {
  HttpResponse r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = std::string(R"({"error":")") + std::string(text) + "\"}";
  return r;
}

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(SessionHost& host, std::uint64_t id, Args&&... args)
      : host_(host), id_(id), stream_(std::forward<Args>(args)...), timer_(stream_.get_executor()) {}

  ~Session() override { host_.remove(id_); }

  void start() override {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->on_stop(); });
  }

 private:
  enum class State { handshake, reading, delaying, writing, hanging, lingering, closed };

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void begin() {
    if (stopping_) return close_now();
    if constexpr (kTls) {
      state_ = State::handshake;
      lowest().expires_after(kHandshakeTimeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

  void on_stop() {
    stopping_ = true;
    // A response being written is let out; everything else is cut now
    // (a hanging request is exactly what must not hold up shutdown).
    if (state_ != State::writing) close_now();
  }

  void do_read() {
    if (stopping_) return close_now();
    state_ = State::reading;
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(kHeaderLimit);
    lowest().expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (state_ == State::closed) return;
    if (ec == http::error::end_of_stream) return linger();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      keep_alive_ = false;
      return do_write(plain_error(413, "request_too_large"));
    }
    if (is_http_error(ec)) {
      keep_alive_ = false;
      return do_write(plain_error(400, "bad_request"));
    }
    if (ec) return close_now();

    keep_alive_ = parser_->keep_alive();
    HttpRequest req = convert(parser_->release());
    parser_.reset();
    if (host_.verbose()) log_request(req);
    HttpResponse res;
    try {
      res = host_.handle(req);
    } catch (const std::exception&) {
      res = plain_error(500, "server_error");
    }
    if (res.after == After::shutdown) keep_alive_ = false;
    switch (res.after) {
      case After::hang:
        hold_ = std::move(res.hold);
        return hang();
      case After::delay:
        state_ = State::delaying;
        timer_.expires_after(res.delay);
        timer_.async_wait([self = this->shared_from_this(), r = std::move(res)](
                              beast::error_code) mutable {
          if (self->state_ == State::closed) return;
          self->do_write(std::move(r));
        });
        return;
      case After::respond:
      case After::shutdown:
        return do_write(std::move(res));
    }
  }

  // Failure injection "hang": accept the request, never answer. The read
  // only notices when the client gives up (closes); stop() cuts it too.
  void hang() {
    state_ = State::hanging;
    lowest().expires_never();
    stream_.async_read_some(net::buffer(scratch_),
                            [self = this->shared_from_this()](beast::error_code, std::size_t) {
                              self->close_now();
                            });
  }

  void do_write(HttpResponse r) {
    state_ = State::writing;
    hold_ = std::move(r.hold);
    res_.emplace();
    res_->version(11);
    res_->result(static_cast<http::status>(r.status));
    res_->set(http::field::server, "refold-devserver");
    for (auto& h : r.headers) res_->set(h.name, h.value);
    res_->body() = std::move(r.body);
    res_->keep_alive(keep_alive_ && !stopping_);
    res_->prepare_payload();
    shutdown_after_ = r.after == After::shutdown;
    lowest().expires_after(kWriteTimeout);
    http::async_write(stream_, *res_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_write(ec);
                      });
  }

  void on_write(beast::error_code ec) {
    res_.reset();
    hold_.reset();
    if (shutdown_after_) host_.request_stop();
    if (ec || stopping_) return close_now();
    if (!keep_alive_) return linger();
    do_read();
  }

  // An orderly close: TLS sends close_notify; plain TCP half-closes and
  // drains what the peer still sends (say, the rest of a refused body), so
  // the peer sees our last answer rather than a connection reset.
  void linger() {
    if (stopping_) return close_now();
    state_ = State::lingering;
    lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        self->close_now();
      });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }

  void drain() {
    // Through the tcp_stream, not the raw socket, so kLingerTimeout applies.
    lowest().async_read_some(
        net::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec || self->state_ == State::closed) return self->close_now();
          self->drain();
        });
  }

  void close_now() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    hold_.reset();
    timer_.cancel();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  SessionHost& host_;
  const std::uint64_t id_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::shared_ptr<void> hold_;  // the response's, until it is written
  std::array<char, 4096> scratch_{};
  State state_ = State::handshake;
  bool keep_alive_ = true;
  bool stopping_ = false;
  bool shutdown_after_ = false;
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

std::shared_ptr<SessionBase> make_session(tcp::socket socket, net::ssl::context* tls,
                                          SessionHost& host, std::uint64_t id) {
  if (tls) return std::make_shared<TlsSession>(host, id, std::move(socket), *tls);
  return std::make_shared<PlainSession>(host, id, std::move(socket));
}

}  // namespace refold::devserver
