// The loopback listener's request parsing (oauth/loopback.hpp
// callback_target), fed the bytes a browser or any local process might
// send, then the URL the listener builds through the callback parser, as
// the interactive flow does.
#include "check.hpp"
#include "http/url.hpp"
#include "oauth/flow.hpp"
#include "oauth/loopback.hpp"

using namespace refold;

namespace {

constexpr std::string_view kPath = "/callback";
constexpr const char* kBase = "http://127.0.0.1:53682";

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view head = fuzz::as_text(data, size);
  auto target = oauth::callback_target(head, kPath);
  if (!target) return;
  // Only a GET for the callback path is taken; its query is the callback's.
  FUZZ_CHECK(head.starts_with("GET "));
  FUZZ_CHECK(target->starts_with(kPath));
  FUZZ_CHECK(target->size() == kPath.size() || (*target)[kPath.size()] == '?');
  FUZZ_CHECK(fuzz::contains(head.substr(0, head.find("\r\n")), *target));
  FUZZ_CHECK(!fuzz::contains(*target, "\r\n"));

  // Whatever the request said, the URL handed on is for the listener itself.
  std::string url = kBase + std::string(target->view());
  try {
    http::Url u = http::parse_url(url);
    FUZZ_CHECK(u.scheme == "http" && u.host == "127.0.0.1" && u.port == "53682");
    FUZZ_CHECK(u.target.starts_with(kPath));
    oauth::callback_params(url);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
  }
}

}  // namespace

FUZZ_ENTRY(run)
