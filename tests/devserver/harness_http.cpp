// The synchronous HTTP(S) client of the tests.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>

#include <stdexcept>

#include "harness.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace devtest {

namespace {

// Generous: only there so a broken server fails a test instead of hanging
// it. Never a timing assertion.
constexpr auto kTimeout = std::chrono::seconds(30);

http::request<http::string_body> to_beast(const Request& r) {
  http::request<http::string_body> req;
  req.method_string(r.method);
  req.target(r.target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : r.headers) req.insert(k, v);
  if (!r.body.empty() || r.method == "POST") {
    req.body() = r.body;
    req.prepare_payload();
  }
  return req;
}

Response from_beast(http::response<http::string_body>&& res) {
  Response out;
  out.status = res.result_int();
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(res.body());
  return out;
}

bool iequal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

std::string Response::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (iequal(k, name)) return v;
  return {};
}

bool Response::has_header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (iequal(k, name)) return true;
  return false;
}

boost::json::value Response::json() const { return boost::json::parse(body); }

struct Connection::Impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

Connection::Connection(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->stream.expires_after(kTimeout);
  impl_->stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
}

Connection::~Connection() = default;

void Connection::write_only(const Request& request) {
  auto req = to_beast(request);
  impl_->stream.expires_after(kTimeout);
  http::write(impl_->stream, req);
}

Response Connection::send(const Request& request) {
  write_only(request);
  http::response<http::string_body> res;
  impl_->stream.expires_after(kTimeout);
  http::read(impl_->stream, impl_->buffer, res);
  return from_beast(std::move(res));
}

bool Connection::closed_without_answer() {
  std::array<char, 256> buf{};
  std::size_t total = 0;
  beast::error_code ec;
  impl_->stream.expires_after(kTimeout);
  for (;;) {
    std::size_t n = impl_->stream.read_some(net::buffer(buf), ec);
    total += n;
    if (ec) break;
  }
  return total == 0 && ec != beast::error::timeout;
}

Response send(std::uint16_t port, const Request& request) {
  Connection c(port);
  return c.send(request);
}

Response https_get(std::uint16_t port, const std::string& target, const std::string& ca_file) {
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(net::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.handshake(net::ssl::stream_base::client);
  Request r;
  r.target = target;
  auto req = to_beast(r);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ignored;
  stream.shutdown(ignored);
  return from_beast(std::move(res));
}

}  // namespace devtest
