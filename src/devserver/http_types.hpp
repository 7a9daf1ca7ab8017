// The request and response shapes the handlers see. The server converts
// Beast's types to and from these, so only the files that do I/O include
// Beast and the handlers stay plain C++ (and cheap to compile).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace refold::devserver {

struct Header {
  std::string name;  // lower-case in requests, as written in responses
  std::string value;
};

struct HttpRequest {
  std::string method;
  std::string path;   // the target up to '?'
  std::string query;  // the raw text after '?', without it
  std::vector<Header> headers;
  std::string body;

  // Every value of the header `lower_name`, in order.
  std::vector<std::string_view> header_values(std::string_view lower_name) const;
};

// What the connection does after the handler has built the response.
enum class After {
  respond,   // write it now
  delay,     // write it after `delay` (failure injection "slow")
  hang,      // never write anything; wait for the peer to give up
  shutdown,  // write it, then stop the server
};

struct HttpResponse {
  unsigned status = 200;
  std::vector<Header> headers;
  std::string body;
  After after = After::respond;
  std::chrono::milliseconds delay{0};
  // Kept by the connection until the response is written (or dropped),
  // then released: counts a request as in flight until it is answered.
  std::shared_ptr<void> hold;

  HttpResponse& set(std::string name, std::string value);
};

}  // namespace refold::devserver
