#include "oauth/loopback.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.hpp"

namespace refold::oauth {

namespace {

constexpr std::size_t kMaxRequest = 16 * 1024;
constexpr int kRequestReadMs = 5000;  // per connection: a slow client can't hold the flow

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the browser went away; nothing useful to do
    }
    off += static_cast<std::size_t>(n);
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string response(int status, const char* reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
         "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n"
         "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

int ms_until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 60000));
}

// Reads one request head (up to its blank line or kMaxRequest bytes); ""
// if the client sent nothing in time. Secret: the callback's carries the
// code.
crypto::SecretString read_request_head(int fd) {
  crypto::SecretString buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestReadMs);
  while (buf.find("\r\n\r\n") == std::string::npos && buf.size() < kMaxRequest) {
    pollfd p{fd, POLLIN, 0};
    int ms = ms_until(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) <= 0) return "";
    char chunk[2048];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return "";
    buf += std::string_view(chunk, static_cast<std::size_t>(n));
  }
  return buf;
}

}  // namespace

std::optional<crypto::SecretString> callback_target(std::string_view head, std::string_view path) {
  auto eol = head.find("\r\n");
  std::string_view line = eol == std::string_view::npos ? std::string_view() : head.substr(0, eol);
  // "GET /callback?code=...&state=... HTTP/1.1"
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  std::string_view method = line.substr(0, sp1);
  std::string_view target =
      sp1 != std::string_view::npos && sp2 > sp1 ? line.substr(sp1 + 1, sp2 - sp1 - 1) : std::string_view();
  std::string_view route = target.substr(0, target.find('?'));
  if (method == "GET" && route == path) return crypto::SecretString(target);
  return std::nullopt;
}

LoopbackListener::LoopbackListener(unsigned short port, std::string path) : path_(std::move(path)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail(REFOLD_ENETWORK, std::string("loopback listener: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never 0.0.0.0: RFC 8252 8.3
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 8) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = std::strerror(errno);
    close_fd(listen_fd_);
    fail(REFOLD_ENETWORK, "loopback listener: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  port_ = ntohs(addr.sin_port);
}

LoopbackListener::~LoopbackListener() {
  close_fd(client_fd_);
  close_fd(listen_fd_);
}

std::string LoopbackListener::redirect_uri() const {
  return "http://127.0.0.1:" + std::to_string(port_) + path_;
}

crypto::SecretString LoopbackListener::wait(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{listen_fd_, POLLIN, 0};
    int ms = ms_until(deadline);
    if (ms == 0) fail(REFOLD_ETIMEOUT, "no browser reached the OAuth callback in time");
    int rc = ::poll(&p, 1, ms);
    if (rc < 0 && errno != EINTR) fail(REFOLD_ENETWORK, std::string("loopback listener: ") + std::strerror(errno));
    if (rc <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (auto target = callback_target(read_request_head(fd), path_)) {
      client_fd_ = fd;
      crypto::SecretString url("http://127.0.0.1:" + std::to_string(port_));
      url += *target;
      return url;
    }
    // Favicon requests, probes, stray tabs: answer and keep waiting.
    send_all(fd, response(404, "Not Found", "<!doctype html><title>Not found</title>"));
    ::close(fd);
  }
}

void LoopbackListener::respond(bool ok, const std::string& detail) {
  if (client_fd_ < 0) return;
  std::string title = ok ? "Connected" : "Connection failed";
  std::string body =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
      "</title><style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;"
      "text-align:center;color:#222}h1{font-size:1.6em}</style></head><body><h1>" +
      title + "</h1><p>" + html_escape(detail) +
      "</p><p>You can close this window and return to the application.</p></body></html>";
  send_all(client_fd_, response(ok ? 200 : 400, ok ? "OK" : "Bad Request", body));
  close_fd(client_fd_);
}

}  // namespace refold::oauth
