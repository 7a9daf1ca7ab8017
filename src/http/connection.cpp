#include "http/connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <poll.h>
#include <vector>

#include "http/response_reader.hpp"
#include "http/tls.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace refold::http::detail {

// Plain words for socket-level failures; the rest use the system's text.
std::string words(const error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset by the server";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return "could not resolve the host name";
  if (ec == asio::error::network_unreachable) return "network unreachable";
  if (ec == asio::error::host_unreachable) return "host unreachable";
  if (ec == asio::error::broken_pipe) return "connection closed by the server";
  if (ec == asio::error::eof || ec == bhttp::error::end_of_stream) return "connection closed by the server";
  if (ec == asio::ssl::error::stream_truncated) return "connection closed by the server without a TLS close";
  if (ec == bhttp::error::partial_message) return "connection closed in the middle of the response";
  std::string m = ec.message();
  if (m.size() > 1 && m[0] >= 'A' && m[0] <= 'Z' && !(m[1] >= 'A' && m[1] <= 'Z'))
    m[0] = static_cast<char>(m[0] - 'A' + 'a');
  return m;
}

namespace {

using TlsStream = asio::ssl::stream<tcp::socket>;

[[noreturn]] void timed_out(const std::string& context, const char* doing, const Deadline& d, bool connecting) {
  bool by_connect = connecting && d.connect < d.total;
  auto ms = by_connect ? d.connect_timeout : d.total_timeout;
  fail(REFOLD_ETIMEOUT, context + ": timed out " + doing + " (" + (by_connect ? "connect" : "total") +
                            " timeout of " + std::to_string(ms.count()) + " ms)");
}

bool needs_content_length(const std::string& method, std::string_view body) {
  return !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
}

bool is_client_owned(std::string_view name) {
  for (std::string_view owned : {"host", "content-length", "transfer-encoding", "connection"})
    if (beast::iequals(name, owned)) return true;
  return false;
}

bool has_header(const Request& req, std::string_view name) {
  for (const auto& h : req.headers)
    if (beast::iequals(h.name, name)) return true;
  return false;
}

}  // namespace

struct Connection::Impl {
  static constexpr std::chrono::milliseconds kCancelPoll{50};
  asio::io_context ioc{1};
  const std::atomic<bool>* cancel_flag = nullptr;
  tcp::socket plain{ioc};
  std::optional<TlsStream> tls;  // set for https; then `plain` stays unused
  ReadBuffer buffer;

  tcp::socket& socket() { return tls ? tls->next_layer() : plain; }

  template <class F>
  void with_stream(F&& f) {
    if (tls) f(*tls); else f(plain);
  }

  // Runs this connection's handlers until the pending operation sets `done`
  // or `deadline` passes; then closing the socket makes that operation
  // complete (aborted), so no handler outlives the caller's stack frame.
  // Returns false when the deadline passed.
  // A set `*cancel_flag` ends the wait the same way, within kCancelPoll,
  // with REFOLD_ECANCELLED.
  template <class Cancel>
  bool run(const bool& done, Clock::time_point deadline, Cancel cancel) {
    ioc.restart();
    while (!done) {
      bool cancelled = cancel_flag && cancel_flag->load(std::memory_order_acquire);
      if (cancelled || Clock::now() >= deadline) {
        cancel();
        ioc.restart();
        while (!done && ioc.run_one() > 0) {
        }
        if (cancelled) fail(REFOLD_ECANCELLED, "the request was cancelled: the client is closing");
        return false;
      }
      ioc.run_one_until(cancel_flag ? std::min(deadline, Clock::now() + kCancelPoll) : deadline);
      if (ioc.stopped() && !done) fail(REFOLD_ERROR, "internal: an I/O operation finished without completing");
    }
    return true;
  }
  bool run(const bool& done, Clock::time_point deadline) {
    return run(done, deadline, [this] {
      error_code ignored;
      socket().close(ignored);
    });
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

bool Connection::idle_and_open() {
  Impl& s = *impl_;
  if (s.buffer.size() != 0 || !s.socket().is_open()) return false;
  pollfd p{};
  p.fd = s.socket().native_handle();
  p.events = POLLIN;
  int n = ::poll(&p, 1, 0);
  return n == 0;  // nothing to read, no hang-up, no error
}

Response Connection::exchange(const Request& req, const Url& url, const Options& options,
                              const Deadline& deadline, const std::string& context, bool& reusable) {
  reusable = false;
  Impl& s = *impl_;
  s.cancel_flag = deadline.cancel;

  // span_body sends the caller's body in place: no extra copy of what is
  // often a secret. The header fields (Authorization among them) are
  // copied, into storage that is wiped when the message goes.
  bhttp::request<bhttp::span_body<const char>, bhttp::basic_fields<crypto::WipingAllocator<char>>> msg;
  bhttp::verb verb = bhttp::string_to_verb(req.method);
  if (verb == bhttp::verb::unknown) msg.method_string(req.method); else msg.method(verb);
  msg.target(url.target.view());
  msg.version(11);
  for (const auto& h : req.headers)
    if (!is_client_owned(h.name)) msg.insert(h.name, h.value.view());
  msg.set(bhttp::field::host, url.authority());
  if (!has_header(req, "user-agent")) msg.set(bhttp::field::user_agent, options.user_agent);
  if (!has_header(req, "accept")) msg.set(bhttp::field::accept, "application/json");
  msg.body() = {req.body.data(), req.body.size()};
  if (needs_content_length(req.method, req.body)) msg.content_length(req.body.size());

  error_code ec;
  bool done = false;
  s.with_stream([&](auto& stream) {
    bhttp::async_write(stream, msg, [&](error_code e, std::size_t) { ec = e; done = true; });
  });
  if (!s.run(done, deadline.total)) timed_out(context, "sending the request", deadline, false);
  if (ec) throw NoResponse(REFOLD_ENETWORK, context + ": sending the request failed: " + words(ec));

  Response res = read_response(
      [&](ResponseParser& parser) {
        done = false;
        s.with_stream([&](auto& stream) {
          bhttp::async_read(stream, s.buffer, parser, [&](error_code e, std::size_t) { ec = e; done = true; });
        });
        if (!s.run(done, deadline.total)) timed_out(context, "waiting for the response", deadline, false);
        return ec;
      },
      s.buffer, options.max_body, verb == bhttp::verb::head, context, reusable);
  // The buffer still holds the raw response (a token response, say) after
  // the parser is done with it; freeing it wipes it, rather than leaving it
  // in a connection that waits idle in the pool.
  if (s.buffer.size() == 0) s.buffer.shrink_to_fit();
  return res;
}

struct Connector::Impl {
  asio::ssl::context tls;
};

Connector::Connector(const Options& options)
    : impl_(std::make_unique<Impl>(Impl{make_tls_context(options.ca_file)})) {}
Connector::~Connector() = default;

std::unique_ptr<Connection> Connector::connect(const Url& url, const Deadline& deadline,
                                               const std::string& context, bool public_only) const {
  auto s = std::make_unique<Connection::Impl>();
  s->cancel_flag = deadline.cancel;
  error_code ec;
  bool done = false;

  std::vector<tcp::endpoint> endpoints;
  auto port = static_cast<unsigned short>(std::stoi(url.port));
  auto address = asio::ip::make_address(url.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    tcp::resolver resolver(s->ioc);
    const bool under_localhost = url.host.size() > 10 && url.host.ends_with(".localhost");  // host is lower case
    resolver.async_resolve(under_localhost ? std::string("localhost") : url.host, url.port, [&](error_code e, const tcp::resolver::results_type& r) {
      ec = e;
      for (const auto& entry : r) endpoints.push_back(entry.endpoint());
      done = true;
    });
    if (!s->run(done, deadline.connect, [&] { resolver.cancel(); }))
      timed_out(context, "resolving the host name", deadline, true);
    if (ec) {
      std::string why = words(ec);
      fail(REFOLD_ENETWORK, context + ": " +
                                (why.find("resolve") == std::string::npos ? "could not resolve the host name: " : "") + why);
    }
  }

  if (public_only)
    for (const auto& e : endpoints)
      if (!is_public_ip(e.address().to_string()))
        fail(REFOLD_EINVALID, context + ": refused: the host resolves to a loopback, private or reserved "
                              "address, and a value the customer typed chose it");

  done = false;
  asio::async_connect(s->socket(), endpoints, [&](error_code e, const tcp::endpoint&) { ec = e; done = true; });
  if (!s->run(done, deadline.connect)) timed_out(context, "connecting", deadline, true);
  if (ec) fail(REFOLD_ENETWORK, context + ": " + words(ec));
  // Requests are small and written at once; Nagle would only add latency.
  s->socket().set_option(tcp::no_delay(true), ec);

  if (url.tls()) {
    s->tls.emplace(std::move(s->plain), impl_->tls);
    expect_host(s->tls->native_handle(), url.host);
    done = false;
    s->tls->async_handshake(asio::ssl::stream_base::client, [&](error_code e) { ec = e; done = true; });
    if (!s->run(done, deadline.connect)) timed_out(context, "in the TLS handshake", deadline, true);
    if (ec)
      fail(REFOLD_ENETWORK, context + ": " + describe_handshake_failure(s->tls->native_handle(), ec, url.host));
  }
  return std::make_unique<Connection>(std::move(s));
}

}  // namespace refold::http::detail
