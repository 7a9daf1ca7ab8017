#include "http_test_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace refold::test {

// ---- Certificates --------------------------------------------------------

namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

PKey make_key() {
  PKey key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

struct CertSpec {
  std::string cn{};
  std::string san{};  // empty: none
  bool ca = false;
  bool self_signed_leaf = false;  // like `openssl req -x509`: CA:TRUE, no key usage
  long from_seconds = -86400;
  long to_seconds = 30 * 86400;
};

Cert make_cert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  Cert x(X509_new());
  check(x != nullptr, "X509_new");
  check(X509_set_version(x.get(), 2) == 1, "X509_set_version");
  unsigned char serial[8];
  check(RAND_bytes(serial, sizeof serial) == 1, "RAND_bytes");
  long sn = 1;
  for (unsigned char b : serial) sn = (sn * 131 + b) & 0x7FFFFFFFL;
  check(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), sn + 1) == 1, "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(x.get()), spec.from_seconds) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(x.get()), spec.to_seconds) != nullptr, "notAfter");
  check(X509_set_pubkey(x.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(x.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0) == 1,
        "subject");
  check(X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name) == 1, "issuer");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    check(ext != nullptr && X509_add_ext(x.get(), ext.get(), -1) == 1, "extension");
  };
  add(NID_subject_key_identifier, "hash");
  if (issuer) add(NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (spec.self_signed_leaf) {
    add(NID_basic_constraints, "critical,CA:TRUE");
  } else {
    add(NID_basic_constraints, "critical,CA:FALSE");
    add(NID_key_usage, "critical,digitalSignature");
    add(NID_ext_key_usage, "serverAuth");
  }
  if (!spec.san.empty()) add(NID_subject_alt_name, spec.san);
  check(X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return x;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string cert_pem(X509* x) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_X509(bio.get(), x) == 1, "PEM_write_bio_X509");
  return bio_text(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bio_text(bio.get());
}

}  // namespace

struct TestPki::Impl {
  PKey key = make_key();
  Cert cert = make_cert({.cn = "refold test CA", .ca = true}, key.get(), nullptr, nullptr);
};

TestPki::TestPki() : impl_(std::make_unique<Impl>()) {
  std::string pattern = (std::filesystem::temp_directory_path() / "refold-http-XXXXXX").string();
  check(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  dir_ = pattern;
  ca_file_ = dir_ + "/ca.pem";
  std::ofstream(ca_file_) << cert_pem(impl_->cert.get());
}

TestPki::~TestPki() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CertKey TestPki::issue(const std::string& san, int from_days, int to_days) const {
  PKey key = make_key();
  CertSpec spec{.cn = "refold test server", .san = san, .from_seconds = from_days * 86400L,
                .to_seconds = to_days * 86400L};
  Cert cert = make_cert(spec, key.get(), impl_->cert.get(), impl_->key.get());
  return {cert_pem(cert.get()), key_pem(key.get())};
}

CertKey TestPki::self_signed(const std::string& san) {
  PKey key = make_key();
  Cert cert = make_cert({.cn = "refold self-signed", .san = san, .self_signed_leaf = true}, key.get(), nullptr,
                        nullptr);
  return {cert_pem(cert.get()), key_pem(key.get())};
}

// ---- Server --------------------------------------------------------------

std::optional<std::string> ServerRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return std::nullopt;
}

struct TestServer::Impl {
  Handler handler;
  std::optional<asio::ssl::context> tls;
  // Declared after `tls`: destroying the io_context destroys the suspended
  // sessions, whose TLS streams use the context.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;  // written before the server thread starts
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> requests{0};
  std::atomic<std::size_t> closed{0};
  mutable std::mutex mutex;
  std::vector<std::string> targets;  // guarded by mutex
  std::thread thread;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections;
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (!tls) {
      co_await serve(socket);
      co_return;
    }
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (!ec) co_await serve(stream);
  }

  template <class Stream>
  void close(Stream& stream) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).close(ignored);
    ++closed;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++requests;
      ServerRequest r{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
      for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      {
        std::lock_guard lock(mutex);
        targets.push_back(r.target);
      }
      ServerResponse out = handler(r);
      if (out.hang_up) {
        close(stream);
        co_return;
      }
      if (out.never_answer) {
        // Parked until the client gives up and closes its end.
        char c;
        co_await stream.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), 11};
      for (const auto& [k, v] : out.headers) res.insert(k, v);
      res.body() = out.body;
      if (out.chunked) res.chunked(true); else res.prepare_payload();
      res.keep_alive(req.keep_alive() && !out.connection_close);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !res.keep_alive() || out.drop_after) {
        close(stream);
        co_return;
      }
    }
  }
};

TestServer::TestServer(Handler handler, const CertKey* tls) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  if (tls) {
    auto& ctx = impl_->tls.emplace(asio::ssl::context::tls_server);
    ctx.use_certificate_chain(asio::buffer(tls->cert_pem));
    ctx.use_private_key(asio::buffer(tls->key_pem), asio::ssl::context::pem);
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

TestServer::~TestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t TestServer::port() const { return impl_->port; }

std::string TestServer::url(std::string_view path, std::string_view host) const {
  return std::string(impl_->tls ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port()) +
         std::string(path);
}

std::size_t TestServer::connections() const { return impl_->connections; }
std::size_t TestServer::requests() const { return impl_->requests; }
std::size_t TestServer::closed() const { return impl_->closed; }

std::vector<std::string> TestServer::targets() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->targets;
}

// ---- A refusing port -----------------------------------------------------

struct RefusingPort::Impl {
  asio::io_context ioc{1};
  tcp::socket socket{ioc};
};

RefusingPort::RefusingPort() : impl_(std::make_unique<Impl>()) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->socket.open(ep.protocol());
  impl_->socket.bind(ep);
}

RefusingPort::~RefusingPort() = default;

std::uint16_t RefusingPort::port() const { return impl_->socket.local_endpoint().port(); }

}  // namespace refold::test
