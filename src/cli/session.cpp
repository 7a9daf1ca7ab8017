#include "session.hpp"

#include "util/store_location.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "errors.hpp"

namespace refold_cli {

namespace {

// The whole file, into wiped memory: a config may hold a master key, a
// passphrase or client secrets.
SecretString read_config_file(const std::string& path) {
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0)
    throw Failure(kExitUsage, "cannot read config file '" + path + "': " + std::strerror(errno));
  SecretString text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Failure(kExitUsage, "cannot read config file '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    text.append(std::string_view(buf, static_cast<std::size_t>(n)));
    wipe(buf, static_cast<std::size_t>(n));
    if (text.size() > (16u << 20))
      throw Failure(kExitUsage, "config file '" + path + "' is larger than 16 MiB");
  }
  return text;
}

boost::json::array parse_listing(const LibraryString& text, const char* what) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text.get(), ec);
  if (ec || !v.is_array()) throw Failure(kExitError, std::string(what) + ": the library returned malformed JSON");
  return std::move(v.get_array());
}

// The library's default store (refold.h, refold_client_open).
std::string default_store_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/refold/refold.db";
  const char* home = std::getenv("HOME");
  if (home && home[0] == '/') return std::string(home) + "/.local/share/refold/refold.db";
  return "(no store: neither XDG_DATA_HOME nor HOME is set)";
}

}  // namespace

Session::Session(const Args& args, Use use) : account_(args.account) {
  std::optional<std::string> path = args.config;
  if (!path) {
    const char* env = std::getenv("REFOLD_CONFIG");
    if (env && *env) path = env;
  }
  SecretString config;
  if (path || args.store) {
    WipingResource res;
    std::optional<boost::json::value> doc;
    if (path) {
      SecretString text = read_config_file(*path);
      doc = parse_secret(text.view(), res);
      // No parser detail: it could quote the text, which may hold secrets.
      if (!doc) throw Failure(kExitUsage, "config file '" + *path + "' is not valid JSON");
      if (!doc->is_object())
        throw Failure(kExitUsage, "config file '" + *path + "' must hold a JSON object");
    } else {
      doc.emplace(boost::json::object(boost::json::storage_ptr(&res)));
    }
    boost::json::object& o = doc->get_object();
    if (args.store) o["store"] = *args.store;
    if (use == Use::observe && o.contains("background_refresh")) o["background_refresh"] = false;
    if (auto it = o.find("store"); it != o.end() && it->value().is_string())
      store_path_ = std::string(it->value().get_string());
    // A PostgreSQL URI is shown without its password (the library has
    // refused any store it cannot read by the time it is shown).
    try {
      store_path_ = refold::store_location::parse(store_path_).shown;
    } catch (const std::exception&) {
      store_path_.clear();
    }
    serialize_into(config, *doc);
  }
  refold_client* c = nullptr;
  int rc = refold_client_open(&c, config.empty() ? nullptr : config.c_str());
  std::string what = path ? "open (config file '" + *path + "')" : "open";
  check(rc, what);
  client_.reset(c);
  if (store_path_.empty()) store_path_ = default_store_path();
}

std::string Session::apps_text() const {
  char* out = nullptr;
  int rc = refold_list_apps(client(), account_.c_str(), &out);
  LibraryString text(out);
  check(rc, "list apps");
  return text.get();
}

boost::json::array Session::apps() const {
  char* out = nullptr;
  int rc = refold_list_apps(client(), account_.c_str(), &out);
  LibraryString text(out);
  check(rc, "list apps");
  return parse_listing(text, "list apps");
}

std::optional<boost::json::object> Session::find_app(const std::string& slug) const {
  for (auto& v : apps()) {
    if (!v.is_object()) continue;
    auto& o = v.get_object();
    if (auto it = o.find("slug"); it != o.end() && it->value() == slug.c_str()) return std::move(o);
  }
  return std::nullopt;
}

boost::json::object Session::app(const std::string& slug, const std::string& what) const {
  if (auto o = find_app(slug)) return std::move(*o);
  throw Failure(kExitNotFound, what + ": unknown app '" + slug + "' (see 'refold apps')");
}

boost::json::object Session::connections_page(const ConnectionQuery& query, long long limit,
                                              const std::optional<std::string>& cursor) const {
  boost::json::object q{{"limit", limit}};
  if (query.account) q["account"] = *query.account;
  if (query.app) q["app"] = *query.app;
  if (query.status) q["status"] = *query.status;
  if (cursor) q["cursor"] = *cursor;
  char* out = nullptr;
  int rc = refold_list_connections_page(client(), boost::json::serialize(q).c_str(), &out);
  LibraryString text(out);
  check(rc, "list connections");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text.get(), ec);
  if (ec || !v.is_object() || !v.get_object().contains("connections") ||
      !v.get_object().at("connections").is_array())
    throw Failure(kExitError, "list connections: the library returned malformed JSON");
  return std::move(v.get_object());
}

boost::json::array Session::all_connections(const ConnectionQuery& query) const {
  constexpr long long kPage = 1000;  // the most one page holds
  boost::json::array all;
  std::optional<std::string> cursor;
  do {
    boost::json::object page = connections_page(query, kPage, cursor);
    for (auto& c : page["connections"].get_array()) all.push_back(std::move(c));
    const boost::json::value& next = page["next_cursor"];
    cursor = next.is_string() ? std::optional<std::string>(next.get_string()) : std::nullopt;
  } while (cursor);
  return all;
}

boost::json::array Session::connections(bool all) const {
  ConnectionQuery q;
  if (!all) q.account = account_;
  return all_connections(q);
}

bool offers(const boost::json::object& app, std::string_view auth_type) {
  auto it = app.find("auth_types");
  if (it == app.end() || !it->value().is_array()) return false;
  for (const auto& t : it->value().get_array())
    if (t.is_string() && t.get_string() == auth_type) return true;
  return false;
}

}  // namespace refold_cli
