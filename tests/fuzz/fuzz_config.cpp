// The client configuration (core::parse_config), the JSON a host passes to
// refold_client_open. A config that parses is within every documented
// range; an error is REFOLD_EINVALID and never quotes a key or secret.
//
// A "catalog" given as a file path is skipped: the path names a host file,
// not outside input, and the fuzzer must not read arbitrary files.
#include <boost/json.hpp>
#include <cstdlib>

#include "check.hpp"
#include "core/config.hpp"

namespace bj = boost::json;
using namespace refold;

namespace {

// The secret strings of a config: master_key, passphrase, client secrets.
void collect_secrets(const bj::object& o, std::vector<std::string>& out) {
  for (const char* k : {"master_key", "passphrase"})
    if (const bj::value* v = o.if_contains(k); v && v->is_string()) out.emplace_back(v->get_string());
  if (const bj::value* c = o.if_contains("oauth_clients"); c && c->is_object())
    for (const auto& kv : c->get_object())
      if (kv.value().is_object())
        if (const bj::value* s = kv.value().get_object().if_contains("client_secret"); s && s->is_string())
          out.emplace_back(s->get_string());
}

// Every string of the document except the secrets' own values: a secret
// that also appears as a key or another value may be quoted as that.
void collect_other_strings(const bj::value& v, std::string_view key, std::vector<std::string>& out) {
  if (v.is_string() && key != "master_key" && key != "passphrase" && key != "client_secret")
    out.emplace_back(v.get_string());
  if (v.is_array())
    for (const auto& e : v.get_array()) collect_other_strings(e, "", out);
  if (v.is_object())
    for (const auto& kv : v.get_object()) {
      out.emplace_back(kv.key());
      collect_other_strings(kv.value(), kv.key(), out);
    }
}

void run(const std::uint8_t* data, std::size_t size) {
  // A C string: the API never sees bytes after a NUL.
  std::string text(fuzz::as_text(data, size));
  text = text.c_str();
  boost::system::error_code ec;
  bj::value doc = bj::parse(text, ec);
  std::vector<std::string> secrets, others;
  if (!ec && doc.is_object()) {
    if (const bj::value* c = doc.get_object().if_contains("catalog"); c && c->is_string()) return;
    collect_secrets(doc.get_object(), secrets);
    collect_other_strings(doc, "", others);
  }
  try {
    core::Config cfg = core::parse_config(text.c_str());
    FUZZ_CHECK(!cfg.store_path.empty());
    int sources = cfg.keys.master_key.has_value() + cfg.keys.key_file.has_value() +
                  cfg.keys.passphrase.has_value();
    FUZZ_CHECK(sources <= 1);
    if (cfg.keys.master_key) FUZZ_CHECK(cfg.keys.master_key->size() == 32);
    if (cfg.keys.key_file) FUZZ_CHECK(!cfg.keys.key_file->empty());
    for (const auto& [app, reg] : cfg.oauth_clients) FUZZ_CHECK(!reg.client_id.empty());
    FUZZ_CHECK(cfg.http.max_body >= 1024 && cfg.http.max_body <= (64u << 20));
    for (auto t : {cfg.http.connect_timeout, cfg.http.total_timeout, cfg.interactive_timeout})
      FUZZ_CHECK(t.count() >= 1 && t.count() <= 24LL * 3600 * 1000);
    FUZZ_CHECK(cfg.refresh_ahead_ms >= 0 && cfg.refresh_ahead_ms <= 24LL * 3600 * 1000);
    FUZZ_CHECK(cfg.credential_cache <= 10000000);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    std::string_view msg = e.what();
    for (const auto& s : secrets) {
      if (s.size() < 8) continue;
      bool elsewhere = false;
      for (const auto& o : others) elsewhere = elsewhere || fuzz::contains(o, s);
      if (!elsewhere) FUZZ_CHECK(!fuzz::contains(msg, s));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The result must not depend on the environment of whoever runs it.
  ::setenv("HOME", "/nonexistent-fuzz-home", 1);
  ::unsetenv("XDG_DATA_HOME");
  ::unsetenv("REFOLD_MASTER_KEY");
  return 0;
}

FUZZ_ENTRY(run)
