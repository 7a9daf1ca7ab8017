// HTTP responses as the client reads them (http/response_reader.hpp, the
// code Connection::exchange runs): status line, headers, interim responses,
// Content-Length and chunked bodies, truncation and the size limits.
//
// Input: line 1 is "<GET|HEAD> <max_body> <read_size>" (bad or missing
// values fall back to GET, 1 MiB, 4096); the rest is what the server sends
// before closing the connection. read_size bounds each read, so the
// parser sees the bytes split at every boundary a socket might split them.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <charconv>

#include "check.hpp"
#include "http/response_reader.hpp"

using namespace refold;
namespace beast = boost::beast;

namespace {

constexpr const char* kContext = "POST https://auth.example/token";

std::size_t number(std::string_view& knobs, std::size_t dflt, std::size_t lo, std::size_t hi) {
  auto sp = knobs.find(' ');
  std::string_view w = knobs.substr(0, sp);
  knobs = sp == std::string_view::npos ? std::string_view() : knobs.substr(sp + 1);
  std::size_t n = 0;
  auto r = std::from_chars(w.data(), w.data() + w.size(), n);
  if (r.ec != std::errc() || n < lo || n > hi) return dflt;
  return n;
}

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::as_text(data, size);
  std::string_view knobs = fuzz::take_line(rest);
  bool head = knobs.starts_with("HEAD");
  knobs = knobs.substr(std::min(knobs.size(), knobs.find(' ') + 1));
  std::size_t max_body = number(knobs, 1 << 20, 1, 64 << 20);
  std::size_t read_size = number(knobs, 4096, 1, 1 << 20);

  boost::asio::io_context ioc;
  beast::test::stream stream(ioc, beast::string_view(rest.data(), rest.size()));
  stream.read_size(read_size);
  stream.close_remote();  // the server closes after sending the input
  http::detail::ReadBuffer buffer;
  bool reusable = true;
  int reads = 0;
  try {
    http::Response res = http::detail::read_response(
        [&](http::detail::ResponseParser& parser) {
          ++reads;
          boost::system::error_code ec;
          boost::beast::http::read(stream, buffer, parser, ec);
          return ec;
        },
        buffer, max_body, head, kContext, reusable);
    // Interim responses are skipped, never returned.
    FUZZ_CHECK(res.status >= 200 || res.status == 101);
    FUZZ_CHECK(res.status <= 599);
    FUZZ_CHECK(res.body.size() <= max_body);
    if (head) FUZZ_CHECK(res.body.empty());
    for (const auto& h : res.headers) {
      FUZZ_CHECK(!h.name.empty());
      for (char c : h.name + std::string(h.value.view())) FUZZ_CHECK(c != '\r' && c != '\n');
    }
    // A connection is reused only when nothing beyond this response arrived.
    if (reusable) FUZZ_CHECK(buffer.size() == 0);
    // A body framed by Content-Length is exactly that long.
    auto cl = res.header("content-length");
    bool chunked = false;
    for (const auto& h : res.headers)
      chunked = chunked || beast::iequals(h.name, "transfer-encoding");
    if (cl && !head && !chunked && res.status != 204 && res.status != 304 && res.status >= 200) {
      std::size_t n = 0;
      auto r = std::from_chars(cl->data(), cl->data() + cl->size(), n);
      if (r.ec == std::errc() && r.ptr == cl->data() + cl->size()) FUZZ_CHECK(res.body.size() == n);
    }
  } catch (const http::detail::NoResponse& e) {
    FUZZ_CHECK(e.code() == REFOLD_ENETWORK);
    FUZZ_CHECK(!reusable);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_ENETWORK);
    FUZZ_CHECK(!reusable);
    // Errors name the request, never quote what the server sent.
    FUZZ_CHECK(std::string_view(e.what()).starts_with(kContext));
    FUZZ_CHECK(!fuzz::contains(e.what(), "PLANTED"));
  }
  FUZZ_CHECK(reads >= 1);
}

}  // namespace

FUZZ_ENTRY(run)
