#include "core/config.hpp"

#include <cstdlib>

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json.hpp"
#include "util/store_location.hpp"

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

std::map<std::string, oauth::ClientRegistration, std::less<>> parse_clients(
    const bj::value& v, std::map<std::string, std::size_t, std::less<>>& max_in_flight) {
  if (!v.is_object()) fail(REFOLD_EINVALID, "config: 'oauth_clients' must be an object keyed by app slug");
  std::map<std::string, oauth::ClientRegistration, std::less<>> out;
  for (const auto& kv : v.get_object()) {
    std::string app(kv.key());
    std::string where = "config: oauth_clients." + (app.size() <= 64 ? app : std::string("?"));
    if (!kv.value().is_object()) fail(REFOLD_EINVALID, where + " must be an object");
    json::Reader r(kv.value().get_object(), where);
    r.only({"client_id", "client_secret", "redirect_uri", "scopes", "max_in_flight"});
    if (auto n = r.integer("max_in_flight", 1, 1024)) max_in_flight[app] = static_cast<std::size_t>(*n);
    oauth::ClientRegistration reg;
    reg.client_id = *r.str("client_id", true);
    if (reg.client_id.empty()) r.bad("client_id", "must not be empty");
    // Read in place: Reader::str would leave a copy in a plain std::string.
    if (const bj::value* secret = kv.value().get_object().if_contains("client_secret")) {
      if (!secret->is_string()) r.bad("client_secret", "must be a string");
      reg.client_secret = std::string_view(secret->get_string());
    }
    reg.redirect_uri = r.str("redirect_uri").value_or("");
    if (kv.value().get_object().contains("scopes")) reg.scopes = r.strings("scopes");
    out.emplace(std::move(app), std::move(reg));
  }
  return out;
}

// "90s", "15m", "24h", "7d": a whole number and one unit.
std::optional<Millis> parse_duration(std::string_view text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  Millis unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 24 * 3600 * 1000; break;
    default: return std::nullopt;
  }
  Millis n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n * unit;
}

std::chrono::milliseconds millis(const json::Reader& r, std::string_view key,
                                 std::chrono::milliseconds dflt) {
  auto v = r.integer(key, 1, 24LL * 3600 * 1000);
  return v ? std::chrono::milliseconds(*v) : dflt;
}

http::Options parse_http(const bj::value& v) {
  if (!v.is_object()) fail(REFOLD_EINVALID, "config: 'http' must be an object");
  json::Reader r(v.get_object(), "config: http");
  r.only({"ca_file", "connect_timeout_ms", "timeout_ms", "max_body_bytes"});
  http::Options o;
  o.ca_file = r.str("ca_file").value_or("");
  o.connect_timeout = millis(r, "connect_timeout_ms", o.connect_timeout);
  o.total_timeout = millis(r, "timeout_ms", o.total_timeout);
  if (auto b = r.integer("max_body_bytes", 1024, 64LL << 20)) o.max_body = static_cast<std::size_t>(*b);
  return o;
}

// The postgresql_* keys: only with a postgresql:// store, where they are
// checked; the store's kind is checked here too, so a bad scheme fails
// before anything is opened.
void parse_postgresql(const json::Reader& r, const bj::object& o, Config& cfg) {
  const bool postgres = store_location::parse(cfg.store_path).kind == store_location::Kind::postgresql;
  for (const char* key : {"postgresql_schema", "postgresql_pool_size", "postgresql_connect_timeout_ms",
                          "postgresql_statement_timeout_ms"})
    if (!postgres && o.contains(key)) r.bad(key, "applies only to a postgresql:// store");
  if (!postgres) return;
  PostgresConfig& pg = cfg.postgresql;
  if (auto schema = r.str("postgresql_schema")) {
    // A plain identifier, so it needs no quoting anywhere and cannot name
    // a system schema.
    // At most 56: the store notifies the channel "refold_<schema>", and
    // PostgreSQL names are at most 63 bytes.
    bool ok = !schema->empty() && schema->size() <= 56 && schema->rfind("pg_", 0) != 0 &&
              !(schema->front() >= '0' && schema->front() <= '9');
    for (char ch : *schema)
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
    if (!ok)
      r.bad("postgresql_schema",
            "must be 1 to 56 lower-case letters, digits and '_', not starting with a digit or 'pg_'");
    pg.schema = std::move(*schema);
  }
  if (auto v = r.integer("postgresql_pool_size", 1, 256)) pg.pool_size = static_cast<std::size_t>(*v);
  if (auto v = r.integer("postgresql_connect_timeout_ms", 1000, 600000)) pg.connect_timeout = std::chrono::milliseconds(*v);
  if (auto v = r.integer("postgresql_statement_timeout_ms", 100, 3600000)) pg.statement_timeout = std::chrono::milliseconds(*v);
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
  // On the wiping storage from the start: assigning a document to a value
  // on another storage copies it there.
  bj::value doc(crypto::wiping_storage());
  if (text) doc = json::parse(text, "config", crypto::wiping_storage());
  if (text && !doc.is_object()) fail(REFOLD_EINVALID, "config must be a JSON object");
  bj::object empty(crypto::wiping_storage());
  const bj::object& o = text ? doc.get_object() : empty;

  json::Reader r(o, "config");
  r.only({"store", "master_key", "key_file", "passphrase", "catalog", "oauth_clients", "http",
          "oauth", "refresh_ahead_ms", "background_refresh", "credential_cache",
          "refresh_concurrency", "refresh_at_least_every", "event_retention", "postgresql_schema",
          "postgresql_pool_size", "postgresql_connect_timeout_ms", "postgresql_statement_timeout_ms"});
  int key_sources = 0;
  if (o.contains("master_key")) {
    // Decoded now, so a malformed key fails before anything touches disk.
    crypto::SecretBytes given = secret_string(o, "master_key");
    cfg.keys.master_key = vault::parse_key(given.view(), "config: 'master_key'", REFOLD_EINVALID);
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
  if (const char* env = std::getenv("REFOLD_MASTER_KEY"); key_sources == 0 && env && *env)
    cfg.keys.master_key = vault::parse_key(env, "REFOLD_MASTER_KEY", REFOLD_EINVALID);

  auto store = r.str("store");
  if (store && store->empty()) r.bad("store", "must not be empty");
  cfg.store_path = store ? std::move(*store) : default_store_path();
  parse_postgresql(r, o, cfg);
  if (const bj::value* c = o.if_contains("catalog")) cfg.catalog = load_catalog(*c);
  if (const bj::value* c = o.if_contains("oauth_clients"))
    cfg.oauth_clients = parse_clients(*c, cfg.max_in_flight);
  if (const bj::value* h = o.if_contains("http")) cfg.http = parse_http(*h);
  if (const bj::object* oa = r.object("oauth")) {
    json::Reader orr(*oa, "config: oauth");
    orr.only({"loopback_port", "interactive_timeout_ms"});
    if (auto p = orr.integer("loopback_port", 0, 65535)) cfg.loopback_port = static_cast<unsigned short>(*p);
    cfg.interactive_timeout = millis(orr, "interactive_timeout_ms", cfg.interactive_timeout);
  }
  if (auto v = r.integer("refresh_ahead_ms", 0, 24LL * 3600 * 1000)) cfg.refresh_ahead_ms = *v;
  if (auto v = r.boolean("background_refresh")) cfg.background_refresh = *v;
  if (auto v = r.integer("refresh_concurrency", 1, 1024)) cfg.refresh_concurrency = static_cast<std::size_t>(*v);
  if (auto v = r.str("refresh_at_least_every")) {
    auto d = parse_duration(*v);
    if (!d || *d < 60 * 1000 || *d > 365LL * 24 * 3600 * 1000)
      r.bad("refresh_at_least_every", "must be a duration from \"1m\" to \"365d\", such as \"24h\" or \"7d\"");
    cfg.refresh_at_least_every = *d;
  }
  if (auto v = r.str("event_retention")) {
    auto d = parse_duration(*v);
    if (!d || *d < 3600 * 1000 || *d > 365LL * 24 * 3600 * 1000)
      r.bad("event_retention", "must be a duration from \"1h\" to \"365d\", such as \"7d\"");
    cfg.event_retention = *d;
  }
  if (auto v = r.integer("credential_cache", 0, 10000000)) cfg.credential_cache = static_cast<std::size_t>(*v);
  return cfg;
}

}  // namespace refold::core
