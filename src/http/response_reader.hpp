// Reading a response as the client does: the parser's limits, interim
// responses skipped, and how the parser's outcome becomes a Response or an
// error. Kept apart from the socket so the fuzz harness can feed it bytes
// from a buffer; connection.cpp is the only other includer.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>

#include "crypto/secret_string.hpp"
#include "http/client.hpp"
#include "http/connection.hpp"

namespace refold::http::detail {

// Big enough for any sane provider's headers, small enough that a hostile
// server cannot make us buffer much before the body limit applies.
inline constexpr std::uint32_t kHeaderLimit = 64 * 1024;

// Everything a response passes through is on the wiping allocator: the
// read buffer (which holds the raw bytes, token JSON included), the
// parsed header fields and the body.
using ReadBuffer = boost::beast::basic_flat_buffer<crypto::WipingAllocator<char>>;
using ResponseBody =
    boost::beast::http::basic_string_body<char, std::char_traits<char>, crypto::WipingAllocator<char>>;
using ResponseParser = boost::beast::http::response_parser<ResponseBody, crypto::WipingAllocator<char>>;

// Plain words for socket-level and parse failures (defined in connection.cpp).
std::string words(const boost::system::error_code& ec);

// `read(parser)` reads one message into `parser` through `buffer` and
// returns the read's error code. Throws NoResponse (REFOLD_ENETWORK) when
// nothing arrived, REFOLD_ENETWORK for a malformed, truncated or oversized
// response; `read` may throw too (timeouts). Sets `reusable` when the
// connection may carry another request.
template <class Read>
Response read_response(Read&& read, const ReadBuffer& buffer, std::size_t max_body,
                       bool head_request, const std::string& context, bool& reusable) {
  namespace bhttp = boost::beast::http;
  reusable = false;
  bool received = false;
  for (;;) {
    ResponseParser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(max_body);
    if (head_request) parser.skip(true);
    boost::system::error_code ec = read(parser);
    received = received || parser.got_some();
    if (ec == bhttp::error::body_limit)
      fail(REFOLD_ENETWORK, context + ": response body larger than " + std::to_string(max_body) + " bytes");
    if (ec == bhttp::error::header_limit)
      fail(REFOLD_ENETWORK, context + ": response header larger than " + std::to_string(kHeaderLimit) + " bytes");
    if (ec && !received) throw NoResponse(REFOLD_ENETWORK, context + ": no response: " + words(ec));
    if (ec) fail(REFOLD_ENETWORK, context + ": reading the response failed: " + words(ec));

    auto& res = parser.get();
    // Beast takes any three digits, "000" too. RFC 9110 15: a client treats
    // a status outside 100-599 as a server error; as a malformed response
    // it is one, retried and backed off like any network failure, instead of
    // reaching callers as a status (0 or 42) they would misclassify.
    if (res.result_int() < 100 || res.result_int() > 599)
      fail(REFOLD_ENETWORK, context + ": reading the response failed: invalid status code " +
                                std::to_string(res.result_int()));
    // An interim response (100 Continue, 103 Early Hints) precedes the real one.
    if (res.result_int() >= 100 && res.result_int() < 200 && res.result_int() != 101) continue;
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res)
      out.headers.push_back({std::string(field.name_string()), std::string_view(field.value())});
    out.body = std::move(res.body());
    // Leftover bytes would be the start of a response nobody asked for.
    reusable = res.keep_alive() && buffer.size() == 0;
    return out;
  }
}

}  // namespace refold::http::detail
