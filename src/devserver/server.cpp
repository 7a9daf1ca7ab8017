#include "server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "session.hpp"

namespace refold::devserver {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr int kThreads = 2;

net::ssl::context make_tls_context(const std::string& cert, const std::string& key) {
  net::ssl::context ctx(net::ssl::context::tls_server);
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("cannot require TLS 1.2");
  ctx.use_certificate_chain_file(cert);
  ctx.use_private_key_file(key, net::ssl::context::pem);
  return ctx;
}

}  // namespace

struct Server::Impl final : SessionHost {
  // Declared before the io_context so they outlive it: sessions still
  // queued in the io_context when it is destroyed deregister themselves
  // from their destructors.
  std::mutex mutex;
  std::map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_id = 1;
  bool stopping = false;

  Handler handler;
  const bool verbose_log;
  std::atomic<std::uint64_t>& connections;
  std::optional<net::ssl::context> tls;

  net::io_context ioc{kThreads};
  // The acceptor and stopping run on this strand.
  net::strand<net::io_context::executor_type> strand = net::make_strand(ioc);
  tcp::acceptor acceptor{strand};

  Impl(const ServerOptions& options, std::atomic<std::uint64_t>& counter)
      : verbose_log(options.verbose), connections(counter) {
    if (!options.tls_cert.empty()) tls.emplace(make_tls_context(options.tls_cert, options.tls_key));
    auto address = net::ip::make_address(options.host);
    if (!address.is_loopback())
      throw std::invalid_argument("refusing to listen on non-loopback address " + options.host);
    tcp::endpoint endpoint(address, options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
  }

  HttpResponse handle(const HttpRequest& request) override { return handler(request); }
  bool verbose() const override { return verbose_log; }

  void remove(std::uint64_t id) override {
    std::lock_guard lock(mutex);
    sessions.erase(id);
  }

  void request_stop() override {
    net::post(strand, [this] { do_stop(); });
  }

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](boost::system::error_code ec,
                                                        tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) accepted(std::move(socket));
      do_accept();
    });
  }

  void accepted(tcp::socket socket) {
    ++connections;
    std::shared_ptr<SessionBase> session;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;  // the socket closes as it goes out of scope
      std::uint64_t id = next_id++;
      session = make_session(std::move(socket), tls ? &*tls : nullptr, *this, id);
      sessions[id] = session;
    }
    session->start();
  }

  void do_stop() {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
      for (auto& [id, weak] : sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    boost::system::error_code ignored;
    acceptor.close(ignored);
    // Once every session has closed nothing is left to do and run() returns
    // on both threads.
    for (auto& s : live) s->stop();
  }

  void run_thread() {
    // A handler that throws would end this thread's run(); log it and keep
    // serving rather than silently losing half the threads.
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "refold-devserver: internal error: %s\n", e.what());
      }
    }
  }
};

Server::Server(const ServerOptions& options, std::atomic<std::uint64_t>& connections)
    : impl_(std::make_unique<Impl>(options, connections)) {}

Server::~Server() = default;

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

bool Server::tls() const { return impl_->tls.has_value(); }

void Server::run(Handler handler) {
  impl_->handler = std::move(handler);
  // SIGINT and SIGTERM are blocked in every thread (those made below
  // inherit the mask) and taken by one thread with sigwait(), rather than
  // by a handler interrupting whichever thread they land on: nothing then
  // depends on when that thread gets to run the handler's work (under
  // ThreadSanitizer, which defers handlers, an idle thread could hold a
  // SIGINT forever).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread signal_thread([this, stop_signals] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) impl_->request_stop();
  });
  net::post(impl_->strand, [this] { impl_->do_accept(); });
  {
    std::vector<std::jthread> extra;
    for (int i = 1; i < kThreads; ++i) extra.emplace_back([this] { impl_->run_thread(); });
    impl_->run_thread();
  }
  // Stopped another way (POST /admin/shutdown): wake the signal thread.
  // After a signal it has returned already, and this does nothing.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
}

}  // namespace refold::devserver
