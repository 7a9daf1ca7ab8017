#include "core/config.hpp"

#include <cstdlib>

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

crypto::SecretBytes secret_string(const bj::object& o, std::string_view key) {
  const bj::value& v = o.at(bj::string_view(key.data(), key.size()));
  if (!v.is_string()) fail(REFOLD_EINVALID, "config: '" + std::string(key) + "' must be a string");
  const auto& s = v.get_string();
  return crypto::SecretBytes(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

bj::array load_catalog(const bj::value& v) {
  if (v.is_array()) return v.get_array();
  if (!v.is_string())
    fail(REFOLD_EINVALID, "config: 'catalog' must be a file path or an array of apps");
  std::string path(v.get_string());
  auto text = files::read(path, 4 << 20, REFOLD_EINVALID);
  if (!text) fail(REFOLD_EINVALID, "config: 'catalog' file '" + path + "' does not exist");
  bj::value doc = json::parse(*text, "catalog file '" + path + "'");
  if (!doc.is_array())
    fail(REFOLD_EINVALID, "catalog file '" + path + "' must hold a JSON array of apps");
  return std::move(doc.get_array());
}

}  // namespace

std::string default_store_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/refold/refold.db";
  const char* home = std::getenv("HOME");
  if (home && home[0] == '/') return std::string(home) + "/.local/share/refold/refold.db";
  fail(REFOLD_EINVALID, "config: no 'store' given and neither XDG_DATA_HOME nor HOME is set");
}

Config parse_config(const char* text) {
  Config cfg;
  bj::value doc;
  if (text) doc = json::parse(text, "config", crypto::wiping_storage());
  if (text && !doc.is_object()) fail(REFOLD_EINVALID, "config must be a JSON object");
  bj::object empty(crypto::wiping_storage());
  const bj::object& o = text ? doc.get_object() : empty;

  json::Reader r(o, "config");
  r.only({"store", "master_key", "key_file", "passphrase", "catalog"});
  int key_sources = 0;
  if (o.contains("master_key")) {
    cfg.keys.master_key = secret_string(o, "master_key");
    ++key_sources;
  }
  if (auto kf = r.str("key_file")) {
    if (kf->empty()) r.bad("key_file", "must not be empty");
    cfg.keys.key_file = std::move(*kf);
    ++key_sources;
  }
  if (o.contains("passphrase")) {
    cfg.keys.passphrase = secret_string(o, "passphrase");
    ++key_sources;
  }
  if (key_sources > 1)
    fail(REFOLD_EINVALID, "config: give at most one of 'master_key', 'key_file' and 'passphrase'");

  auto store = r.str("store");
  if (store && store->empty()) r.bad("store", "must not be empty");
  cfg.store_path = store ? std::move(*store) : default_store_path();
  if (const bj::value* c = o.if_contains("catalog")) cfg.catalog = load_catalog(*c);
  return cfg;
}

}  // namespace refold::core
