#include "core/oauth_record.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "util/json.hpp"
#include "util/time.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

bj::object pairs_object(const std::vector<std::pair<std::string, std::string>>& pairs) {
  bj::object m;
  for (const auto& [k, v] : pairs) m[k] = v;
  return m;
}

void read_pairs(const bj::object& o, const char* key, std::vector<std::pair<std::string, std::string>>& out) {
  if (const bj::value* m = o.if_contains(key); m && m->is_object())
    for (const auto& [k, val] : m->get_object())
      if (val.is_string()) out.emplace_back(std::string(k), std::string(val.get_string()));
}

// What a token of either kind (oauth::TokenSet, oauth::UserToken) keeps:
// the token, its type, expiry and scopes, and its refresh token.
template <class Token>
void write_token(bj::object& o, const Token& t) {
  o["access_token"] = t.access_token.view();
  o["token_type"] = t.token_type;
  o["expires_at"] = t.expires_at ? bj::value(*t.expires_at) : bj::value(nullptr);
  bj::array scopes;
  for (const auto& s : t.scopes) scopes.emplace_back(s);
  o["scopes"] = std::move(scopes);
  if (t.refresh_token) o["refresh_token"] = t.refresh_token->view();
}

template <class Token>
void read_token(const bj::object& o, Token& t) {
  t.access_token = std::string_view(o.at("access_token").as_string());
  t.token_type = std::string(o.at("token_type").as_string());
  if (const bj::value* e = o.if_contains("expires_at"); e && e->is_int64()) t.expires_at = e->get_int64();
  if (const bj::value* s = o.if_contains("scopes"); s && s->is_array())
    for (const auto& x : s->get_array())
      if (x.is_string()) t.scopes.emplace_back(x.get_string());
  if (const bj::value* r = o.if_contains("refresh_token"); r && r->is_string())
    t.refresh_token = std::string_view(r->get_string());
}

}  // namespace

std::string connection_config(const oauth::TokenSet& t) {
  if (t.metadata.empty() && !t.api_base_url && t.connection.empty() && !t.refresh_expires_at) return "{}";
  bj::object o;
  if (t.refresh_expires_at) o["refresh_token_expires_at"] = rfc3339(*t.refresh_expires_at);
  if (!t.connection.empty()) o["connection"] = pairs_object(t.connection);
  if (!t.metadata.empty()) o["metadata"] = pairs_object(t.metadata);
  if (t.api_base_url) o["api_base_url"] = *t.api_base_url;
  return bj::serialize(o);
}

crypto::SecretString oauth_record(const oauth::TokenSet& t, std::string_view auth_type) {
  bj::object o(crypto::wiping_storage());
  o["auth_type"] = auth_type;
  write_token(o, t);
  if (t.refresh_token && t.refresh_expires_at) o["refresh_token_expires_at"] = *t.refresh_expires_at;
  if (!t.connection.empty()) o["connection"] = pairs_object(t.connection);
  if (!t.metadata.empty()) o["metadata"] = pairs_object(t.metadata);
  if (t.api_base_url) o["api_base_url"] = *t.api_base_url;
  if (t.client_id) o["client_id"] = *t.client_id;
  if (t.client_secret) o["client_secret"] = t.client_secret->view();
  if (t.user) {
    bj::object u(crypto::wiping_storage());
    write_token(u, *t.user);
    if (!t.user->id.empty()) u["id"] = t.user->id;
    if (t.user->failures > 0) u["failures"] = t.user->failures;
    o["user"] = std::move(u);
  }
  return crypto::serialize(o);
}

oauth::TokenSet read_oauth_record(std::string_view record) {
  bj::value v = json::parse(record, "stored credentials", crypto::wiping_storage());
  const bj::object& o = v.as_object();
  oauth::TokenSet t;
  read_token(o, t);
  if (const bj::value* e = o.if_contains("refresh_token_expires_at"); e && e->is_int64())
    t.refresh_expires_at = e->get_int64();
  read_pairs(o, "connection", t.connection);
  read_pairs(o, "metadata", t.metadata);
  if (const bj::value* b = o.if_contains("api_base_url"); b && b->is_string())
    t.api_base_url = std::string(b->get_string());
  if (const bj::value* c = o.if_contains("client_id"); c && c->is_string()) t.client_id = std::string(c->get_string());
  if (const bj::value* c = o.if_contains("client_secret"); c && c->is_string())
    t.client_secret = std::string_view(c->get_string());
  if (const bj::value* uv = o.if_contains("user"); uv && uv->is_object()) {
    const bj::object& u = uv->get_object();
    oauth::UserToken& user = t.user.emplace();
    read_token(u, user);
    if (const bj::value* id = u.if_contains("id"); id && id->is_string()) user.id = std::string(id->get_string());
    if (const bj::value* n = u.if_contains("failures"); n && n->is_int64())
      user.failures = static_cast<int>(std::clamp<std::int64_t>(n->get_int64(), 0, 1000));
  }
  return t;
}

crypto::WipedBytes oauth_credentials(std::string_view record) {
  bj::value v = json::parse(record, "stored credentials", crypto::wiping_storage());
  bj::object& o = v.as_object();
  o.erase("refresh_token");
  o.erase("client_secret");
  bj::value& exp = o["expires_at"];
  if (exp.is_int64()) exp = rfc3339(exp.get_int64());
  if (bj::value* r = o.if_contains("refresh_token_expires_at"); r && r->is_int64()) *r = rfc3339(r->get_int64());
  if (bj::value* u = o.if_contains("user"); u && u->is_object()) {
    u->get_object().erase("refresh_token");
    u->get_object().erase("failures");
    if (bj::value* e = u->get_object().if_contains("expires_at"); e && e->is_int64()) *e = rfc3339(e->get_int64());
  }
  return crypto::WipedBytes(crypto::serialize(o).view());
}

}  // namespace refold::core
