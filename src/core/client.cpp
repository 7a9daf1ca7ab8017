#include "core/client.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <sodium.h>
#include <unistd.h>

#include "crypto/encoding.hpp"
#include "core/oauth_record.hpp"
#include "vault/master_key.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

// Records a data-key rotation re-seals per transaction: a few milliseconds
// of holding the write lock, so other writers wait little, and one sync
// per batch instead of per record.
constexpr std::size_t kResealBatch = 500;

store::Bytes random_id() {
  store::Bytes id(16);
  randombytes_buf(id.data(), id.size());
  return id;
}

// Opens the vault with `key`; where the key lives in a file, also recovers
// from a rotation that crashed between committing the store and replacing
// the file (the new key then waits in "<file>.next"), and lets the vault
// read the file again when another process has rotated the key.
std::unique_ptr<vault::Vault> open_vault(store::Store& store, vault::MasterKey& key,
                                          const store::Bytes& store_id, const Clock& clock) {
  if (!key.key_file) return std::make_unique<vault::Vault>(store, std::move(key.kek), store_id, clock);
  const std::string file = *key.key_file;
  const std::string next = file + ".next";
  // The file, and the new key a rotation in another process may have
  // committed to the store but not yet moved into place.
  vault::Vault::KekSource reread = [file, next] {
    std::vector<crypto::SecretBytes> keys;
    for (const std::string* f : {&file, &next}) {
      try {
        keys.push_back(vault::read_key_file(*f));
      } catch (const Error&) {
      }
    }
    return keys;
  };
  try {
    auto vault = std::make_unique<vault::Vault>(store, std::move(key.kek), store_id, clock, reread);
    if (files::exists(next)) std::remove(next.c_str());  // a rotation that never committed
    return vault;
  } catch (const Error& e) {
    if (e.code() != REFOLD_ECRYPTO || !files::exists(next)) throw;
    auto vault = std::make_unique<vault::Vault>(store, vault::read_key_file(next), store_id, clock, reread);
    files::replace(next, file, REFOLD_ESTORE);
    return vault;
  }
}

bj::array field_options(const catalog::Field& f) {
  bj::array opts;
  for (const auto& o : f.options) opts.push_back(bj::object{{"name", o.name}, {"value", o.value}});
  return opts;
}

bj::object input_field(const catalog::Field& f) {
  static const char* kTypes[] = {"text", "number", "boolean", "select"};
  bj::object o;
  o["name"] = f.name;
  o["label"] = f.label;
  o["type"] = kTypes[static_cast<int>(f.type)];
  o["required"] = f.required;
  o["secret"] = f.secret;
  o["placeholder"] = f.placeholder;
  o["help_text"] = f.help_text;
  if (f.pattern_source) o["pattern"] = *f.pattern_source;
  if (f.type == catalog::FieldType::text) {
    o["min_length"] = f.min_length;
    o["max_length"] = f.max_length;
  }
  if (f.minimum) o["minimum"] = *f.minimum;
  if (f.maximum) o["maximum"] = *f.maximum;
  if (f.type == catalog::FieldType::select) o["options"] = field_options(f);
  // A host input: the domains its whole host name must be within.
  if (!f.host_suffixes.empty()) {
    bj::array suffixes;
    for (const auto& d : f.host_suffixes) suffixes.emplace_back(d);
    o["host_suffixes"] = std::move(suffixes);
  }
  return o;
}

bj::value time_or_null(const std::optional<Millis>& t) {
  return t ? bj::value(rfc3339(*t)) : bj::value(nullptr);
}

bj::object connection_json(const store::Connection& c) {
  bj::object o;
  o["account"] = c.id.account;
  o["app"] = c.id.app;
  o["auth_type"] = c.id.auth_type;
  o["status"] = c.status;
  o["reason"] = c.reason ? bj::value(*c.reason) : bj::value(nullptr);
  o["created_at"] = rfc3339(c.created_at);
  o["updated_at"] = rfc3339(c.updated_at);
  o["expires_at"] = time_or_null(c.expires_at);
  o["next_refresh_at"] = time_or_null(c.status == "active" ? c.next_refresh_at : std::nullopt);
  o["refresh_failures"] = c.refresh_failures;
  // Non-secret: the inputs the connection was made with, metadata kept from
  // the provider's answers, the API base, and when the refresh token lapses.
  if (c.config != "{}") {
    boost::system::error_code ec;
    bj::value config = bj::parse(c.config, ec);
    if (!ec && config.is_object())
      for (const char* key : {"connection", "metadata", "api_base_url", "refresh_token_expires_at"})
        if (const bj::value* v = config.get_object().if_contains(key)) o[key] = *v;
  }
  return o;
}

}  // namespace

Client::Client(Config config, std::unique_ptr<Clock> clock)
    : clock_(std::move(clock)),
      catalog_(config.catalog ? &*config.catalog : nullptr),
      store_location_(store_location::parse(config.store_path)),
      oauth_clients_(std::move(config.oauth_clients)),
      loopback_port_(config.loopback_port),
      interactive_timeout_(config.interactive_timeout),
      http_options_(config.http) {
  for (const auto& [slug, reg] : oauth_clients_) {
    const catalog::App* app = catalog_.find(slug);
    if (!app || !app->oauth2)
      fail(REFOLD_EINVALID, "config: oauth_clients." + slug + ": no OAuth 2.0 app '" + slug +
                                "' in the catalog");
  }
  // Enough keep-alive connections for the refreshes the scheduler runs at
  // once against one provider.
  http_options_.max_idle_per_origin = std::max<std::size_t>(4, config.refresh_concurrency);
  // Loaded on the first HTTPS request, which may come after a chdir().
  if (!http_options_.ca_file.empty()) http_options_.ca_file = files::absolute(http_options_.ca_file);
  if (!http_options_.ca_file.empty() && !files::exists(http_options_.ca_file))
    fail(REFOLD_EINVALID, "config: http.ca_file '" + http_options_.ca_file + "' does not exist");
  if (config.keys.key_file) config.keys.key_file = files::absolute(*config.keys.key_file);
  const bool postgres = store_location_.kind == store_location::Kind::postgresql;
  // Every instance sharing a PostgreSQL store must hold the same key: one
  // refold invented in a local file would lock the others out.
  if (postgres && !config.keys.master_key && !config.keys.key_file && !config.keys.passphrase)
    fail(REFOLD_EINVALID,
         "config: a PostgreSQL store needs the master key every instance shares: give 'master_key', "
         "'key_file' or 'passphrase', or set REFOLD_MASTER_KEY (refold makes no key file for it)");
  if (postgres) {
    store::PgOptions po;
    po.uri = store_location_.target;
    po.shown = store_location_.shown;
    po.password = store_location_.password;
    po.password_raw = store_location_.password_raw;
    po.schema = config.postgresql.schema;
    po.pool = config.postgresql.pool_size;
    po.connect_timeout = config.postgresql.connect_timeout;
    po.statement_timeout = config.postgresql.statement_timeout;
    store_ = std::make_unique<store::PgStore>(std::move(po));
  } else {
    // Absolute: connections, checkpoints and key rotations made later
    // still find the files if the host changes directory.
    store_location_.target = store_location_.shown = files::absolute(store_location_.target);
    files::make_dirs(files::parent(store_location_.target));
    store_ = std::make_unique<store::SqliteStore>(store_location_.target);
  }
  store_->set_event_retention(config.event_retention);
  store::Meta meta = store_->meta();
  if (!meta.initialized) meta = store_->initialize(random_id(), vault::new_kdf_salt());
  cursor_key_ = cursor_key(meta.store_id);
  const bool has_data = !store_->data_keys().empty();
  vault::MasterKey key = vault::resolve_master_key(config.keys, store_location_.target, meta, has_data);
  key_file_ = key.key_file;
  vault_ = open_vault(*store_, key, meta.store_id, clock_);
  store_->migrate();
  flows_ = std::make_unique<oauth::Flows>(
      catalog_, *store_, *vault_, [this]() -> http::HttpClient& { return http(); }, clock_,
      oauth_clients_);
  Lifecycle::Options lo;
  lo.policy.refresh_ahead = config.refresh_ahead_ms;
  lo.policy.at_least_every = config.refresh_at_least_every;
  lo.lease_ms = config.http.total_timeout.count() + 15000;
  lo.concurrency = config.refresh_concurrency;
  lo.max_in_flight = config.max_in_flight;
  lo.background = config.background_refresh;
  lo.store_id = meta.store_id;
  lo.cache_capacity = config.credential_cache;
  lifecycle_ = std::make_unique<Lifecycle>(
      Lifecycle::Deps{clock_, catalog_, *store_, *vault_, oauth_clients_,
                      [this]() -> http::HttpClient& { return http(); }, events_},
      std::move(lo));
}

Client::~Client() { lifecycle_.reset(); }

HostClock::HostClock(std::unique_ptr<Clock> base)
    : base_(base ? std::move(base) : std::make_unique<SystemClock>()) {}

Millis HostClock::now() const {
  if (!custom_.load(std::memory_order_acquire)) return base_->now();
  auto h = host_.get();
  if (!h) return base_->now();
  double v = h->cb(h->payload);
  if (!std::isfinite(v) || v < 0 || v > 1e15) return base_->now();
  return static_cast<Millis>(v);
}

void HostClock::set(refold_clock_cb cb, void* payload, void (*free_payload)(void*)) {
  host_.set(cb, payload, free_payload);
  custom_.store(cb != nullptr, std::memory_order_release);
}

crypto::WipedBytes Client::credentials(const std::string& account, const std::string& app) {
  return lifecycle_->credentials(account, app);
}

void Client::report_unauthorized(const std::string& account, const std::string& app,
                                 std::optional<std::string_view> access_token) {
  app_or_throw(app);
  lifecycle_->report_unauthorized(account, app, access_token);
}

void Client::mark_reauth(const std::string& account, const std::string& app, const char* reason) {
  lifecycle_->mark_reauth(account, app, reason);
}

http::HttpClient& Client::http() {
  std::call_once(http_once_, [this] { http_ = http::make_http_client(http_options_); });
  return *http_;
}

const catalog::App& Client::app_or_throw(const std::string& slug) const {
  const catalog::App* app = catalog_.find(slug);
  if (!app) fail(REFOLD_ENOTFOUND, "unknown app '" + slug + "'");
  return *app;
}

void Client::connect(const std::string& account, const std::string& slug, const char* payload_json) {
  const catalog::App& app = app_or_throw(slug);
  if (app.offers("oauth2_cc")) return connect_client_credentials(account, app, payload_json);
  if (payload_json) return connect_keybased(account, app, payload_json);
  if (!app.offers("oauth2"))
    fail(REFOLD_EINVALID, "app '" + slug + "' is key-based: connect needs a payload with its fields");
  connect_interactive(account, app);
}

void Client::connect_keybased(const std::string& account, const catalog::App& app,
                              const char* payload_json) {
  std::string_view text(payload_json);
  if (text.size() > kMaxPayloadBytes)
    fail(REFOLD_EINVALID, "payload is larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
  bj::value doc = json::parse(text, "payload", crypto::wiping_storage());
  if (!doc.is_object()) fail(REFOLD_EINVALID, "payload must be a JSON object of field values");

  save_keybased(account, app, doc.get_object());
}

void Client::save_keybased(const std::string& account, const catalog::App& app, const bj::object& fields) {
  bj::object record(crypto::wiping_storage());
  record["auth_type"] = "keybased";
  record["fields"] = app.check_payload(fields);
  if (app.verify) verify_keys(app, record["fields"].get_object());
  save_connection({account, app.slug, "keybased"}, crypto::serialize(record), std::nullopt, false);
}

void Client::save_connection(const store::ConnectionId& id, const crypto::SecretString& plain,
                             std::optional<Millis> expires_at, bool has_refresh_token,
                             const std::string& config, std::optional<Millis> renew_by) {
  Millis now = clock_.now();
  store::UpsertResult r = store_->upsert(
      id, vault_->sealer(id, std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size())),
      now, expires_at, lifecycle_->schedule(now, renew_by ? renew_by : expires_at, has_refresh_token), config);
  lifecycle_->changed(id.account, id.app);
  events_.emit({Event(r.created ? "connection.created" : "connection.reauthenticated", id.account,
                      id.app, id.auth_type, now)});
}

void Client::removed(const std::vector<store::ConnectionWithSecret>& rows, const char* reason) {
  Millis now = clock_.now();
  std::vector<Event> events;
  for (const auto& row : rows) {
    const store::Connection& c = row.connection;
    lifecycle_->changed(c.id.account, c.id.app);
    events.emplace_back("connection.deleted", c.id.account, c.id.app, c.id.auth_type, now, reason);
  }
  // The rows are gone (durably) before anything is sent: a crash while
  // revoking leaves nothing stored.
  for (std::size_t i = 0; i < rows.size(); ++i) events[i].revoked = revoke(rows[i]);
  events_.emit(events);
}

std::string Client::read_events(const std::string& consumer, std::size_t max) {
  if (max < 1 || max > 10000) fail(REFOLD_EINVALID, "max must be from 1 to 10000");
  store::EventPage page = store_->read_events(consumer, max);
  bj::array events;
  events.reserve(page.events.size());
  for (const auto& e : page.events) {
    Event ev(e.type, e.id.account, e.id.app, e.id.auth_type, e.at, e.reason);
    ev.retry_at = e.retry_at;
    bj::object o = ev.to_object();
    o["seq"] = e.seq;
    events.emplace_back(std::move(o));
  }
  bj::object out;
  out["events"] = std::move(events);
  out["missed"] = page.missed;
  return bj::serialize(out);
}

void Client::ack_events(const std::string& consumer, std::int64_t seq) {
  if (seq < 1) fail(REFOLD_EINVALID, "seq must be a sequence number from refold_read_events (1 or more)");
  store_->ack_events(consumer, seq, clock_.now());
}

void Client::disconnect(const std::string& account, const std::string& app) {
  auto rows = store_->remove(account, app, clock_.now());
  if (rows.empty() && !catalog_.find(app)) fail(REFOLD_ENOTFOUND, "unknown app '" + app + "'");
  removed(rows, "disconnected");
}

void Client::delete_account(const std::string& account) {
  removed(store_->remove(account, std::nullopt, clock_.now()), "account_deleted");
}

std::string Client::list_apps(const std::optional<std::string>& account) {
  std::vector<store::Connection> conns;
  if (account) conns = store_->list(account);
  bj::array out;
  for (const auto& [slug, app] : catalog_.apps()) {
    bj::object o;
    o["slug"] = app.slug;
    o["type"] = app.slug;
    o["name"] = app.name;
    o["description"] = app.description;
    o["icon"] = app.icon;
    o["category"] = app.category;
    o["docs_url"] = app.docs_url;
    bj::array tags;
    for (const auto& t : app.tags) tags.push_back(bj::value(t));
    o["tags"] = std::move(tags);
    bj::array types;
    for (const auto& t : app.auth_types) types.push_back(bj::value(t));
    o["auth_type"] = app.auth_types.front();
    o["auth_types"] = std::move(types);
    bj::object options;
    if (app.offers("keybased")) {
      bj::array fields;
      for (const auto& f : app.fields) fields.push_back(input_field(f));
      options["keybased"] = std::move(fields);
    }
    // An OAuth app's inputs are asked for before the redirect.
    bj::array inputs;
    for (const auto& f : app.connection_fields) inputs.push_back(input_field(f));
    if (app.offers("oauth2")) options["oauth2"] = inputs;
    if (app.offers("oauth2_cc")) options["oauth2_cc"] = inputs;
    o["auth_type_options"] = std::move(options);
    o["connection_fields"] = std::move(inputs);

    bool connected = false, reauth = false;
    bj::array accounts;
    for (const auto& c : conns) {
      if (c.id.app != slug) continue;
      connected = true;
      bool active = c.status == "active";
      reauth = reauth || !active;
      bj::object a;
      a["auth_type"] = c.id.auth_type;
      a["connected_at"] = rfc3339(c.created_at);
      a["status"] = active ? "active" : "expired";
      if (c.reason) a["reason"] = *c.reason;
      accounts.push_back(std::move(a));
    }
    o["connected"] = connected;
    o["reauth_required"] = reauth;
    o["connected_accounts"] = std::move(accounts);
    out.push_back(std::move(o));
  }
  return bj::serialize(out);
}

std::string Client::list_connections(const std::optional<std::string>& account) {
  bj::array out;
  for (const auto& c : store_->list(account)) out.push_back(connection_json(c));
  return bj::serialize(out);
}

std::string Client::list_connections_page(const char* query_json) {
  store::PageFilter filter = parse_page_query(query_json, cursor_key_);
  // One row more than the page: whether there is a next page, without a
  // cursor that leads to an empty one.
  const std::size_t limit = filter.limit;
  filter.limit = limit + 1;
  std::vector<store::Connection> rows = store_->list_page(filter);
  const bool more = rows.size() > limit;
  if (more) rows.resize(limit);
  bj::array conns;
  conns.reserve(rows.size());
  for (const auto& c : rows) conns.push_back(connection_json(c));
  bj::object out;
  out["connections"] = std::move(conns);
  out["next_cursor"] = more ? bj::value(make_cursor(filter, rows.back().id, cursor_key_)) : bj::value(nullptr);
  return bj::serialize(out);
}

void Client::rotate_master_key(const char* new_key) {
  if (!new_key) fail(REFOLD_EINVALID, "new_key is NULL");
  crypto::SecretBytes kek = vault::parse_key(new_key, "new_key", REFOLD_EINVALID);
  if (!key_file_) {
    vault_->rotate_master_key(std::move(kek), [] {});
    return;
  }
  // The new key is durable in "<file>.next" before the store commits, and
  // replaces the file after: a crash in between is repaired on next open.
  const std::string next = *key_file_ + ".next";
  std::remove(next.c_str());
  vault::write_key_file(next, kek);
  try {
    vault_->rotate_master_key(std::move(kek), [] {});
  } catch (...) {
    std::remove(next.c_str());
    throw;
  }
  files::replace(next, *key_file_, REFOLD_ESTORE);
}

void Client::rotate_data_key() { vault_->rotate_data_key(kResealBatch); }

std::string Client::data_key_status() {
  auto keys = store_->data_key_use();
  bj::array list;
  std::int64_t to_reseal = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const bool current = i + 1 == keys.size();
    if (!current) to_reseal += k.connections + k.flows;
    list.push_back(bj::object{{"id", k.id},
                              {"created_at", rfc3339(k.created_at)},
                              {"state", current ? "current" : "retiring"},
                              {"connections", k.connections},
                              {"pending_flows", k.flows}});
  }
  bj::object o;
  o["current_key"] = keys.empty() ? bj::value(nullptr) : bj::value(keys.back().id);
  o["rotating"] = keys.size() > 1;
  o["records_to_reseal"] = to_reseal;
  o["keys"] = std::move(list);
  return bj::serialize(o);
}

}  // namespace refold::core
