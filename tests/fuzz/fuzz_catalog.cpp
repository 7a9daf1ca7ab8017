// App definitions (catalog::parse_app) from JSON, as a host's config
// catalog supplies them, alone and as a whole config catalog (an array, or
// the one definition) with `extends` resolved against the built-in apps
// and each other. A definition that loads must hold every invariant the
// rest of the library relies on without checking again.
#include <boost/json.hpp>
#include <re2/re2.h>
#include <set>

#include "catalog/catalog.hpp"
#include "catalog/template.hpp"
#include "check.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace bj = boost::json;
using namespace refold;

namespace {

// An endpoint as a request would be sent to it, with every placeholder
// (connection inputs in the host among them) filled by a label.
bool endpoint_ok(const std::string& tmpl) {
  auto filled = catalog::fill_template(tmpl, [](std::string_view) { return std::string_view("x"); }, false);
  return catalog::acceptable_endpoint(filled.view());
}

void check_app(const catalog::App& app) {
  FUZZ_CHECK(text::is_slug(app.slug));
  FUZZ_CHECK(!app.auth_types.empty());
  std::set<std::string> types(app.auth_types.begin(), app.auth_types.end());
  FUZZ_CHECK(types.size() == app.auth_types.size());
  for (const auto& t : types) FUZZ_CHECK(t == "oauth2" || t == "oauth2_cc" || t == "keybased");
  FUZZ_CHECK((app.offers("oauth2") || app.offers("oauth2_cc")) == app.oauth2.has_value());
  FUZZ_CHECK(!app.offers("oauth2_cc") || types.size() == 1);
  FUZZ_CHECK(app.offers("keybased") == !app.fields.empty());
  if (app.oauth2) {
    const auto& o = *app.oauth2;
    FUZZ_CHECK(o.client_credentials == app.offers("oauth2_cc"));
    // A client-credentials app has no authorization step, and its client
    // always authenticates.
    if (o.client_credentials)
      FUZZ_CHECK(o.authorization_endpoint.empty() && o.token_endpoint_auth_method != "none");
    else
      FUZZ_CHECK(endpoint_ok(o.authorization_endpoint));
    FUZZ_CHECK(endpoint_ok(o.token_endpoint));
    FUZZ_CHECK(o.revocation_endpoint.empty() || endpoint_ok(o.revocation_endpoint));
    FUZZ_CHECK(!o.scope_separator.empty());  // split_scopes would never end
    FUZZ_CHECK(o.token_endpoint_auth_method == "client_secret_basic" ||
               o.token_endpoint_auth_method == "client_secret_post" || o.token_endpoint_auth_method == "none");
    FUZZ_CHECK(o.token_endpoint_auth_method != "none" || o.pkce);
    FUZZ_CHECK(o.body_format == "form" || o.body_format == "json");
    FUZZ_CHECK(!o.default_lifetime_ms || *o.default_lifetime_ms > 0);
    for (const auto* ps : {&o.authorize_params, &o.token_params, &o.refresh_params})
      for (const auto& p : *ps) FUZZ_CHECK(!p.first.empty());
    FUZZ_CHECK(!o.iss_parameter_supported || !o.issuer.empty());
  }
  std::set<std::string> names;
  for (const auto& f : app.fields) {
    FUZZ_CHECK(names.insert(f.name).second);
    FUZZ_CHECK(f.min_length <= f.max_length);
    if (f.minimum && f.maximum) FUZZ_CHECK(*f.minimum <= *f.maximum);
    FUZZ_CHECK(f.pattern_source.has_value() == (f.pattern != nullptr));
    if (f.pattern) FUZZ_CHECK(f.pattern->ok() && f.type == catalog::FieldType::text);
    if (f.type == catalog::FieldType::select) FUZZ_CHECK(!f.options.empty());
    else FUZZ_CHECK(f.options.empty());
  }
  if (app.verify) {
    FUZZ_CHECK(app.verify->method == "GET" || app.verify->method == "POST" || app.verify->method == "HEAD");
    for (int s : app.verify->expect_status) FUZZ_CHECK(s >= 100 && s <= 599);
  }
}

// Every loaded field takes some value without anything but refold::Error.
void exercise_fields(const catalog::App& app) {
  if (!app.offers("keybased")) return;
  for (const bj::value& sample : {bj::value("0"), bj::value(1), bj::value(true), bj::value(nullptr)}) {
    bj::object payload;
    for (const auto& f : app.fields) payload[f.name] = sample;
    try {
      app.check_payload(payload);
    } catch (const Error& e) {
      FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    }
  }
}

void run(const std::uint8_t* data, std::size_t size) {
  bj::value doc;
  try {
    doc = json::parse(fuzz::as_text(data, size), "catalog");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    return;
  }
  try {
    catalog::App app = catalog::parse_app(doc, "config catalog[0]");
    check_app(app);
    exercise_fields(app);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    FUZZ_CHECK(std::string_view(e.what()).starts_with("catalog: "));
  }
  try {
    const bj::array extra = doc.is_array() ? doc.get_array() : bj::array{doc};
    const catalog::Catalog c(&extra);
    for (const auto& entry : c.apps()) check_app(entry.second);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    FUZZ_CHECK(std::string_view(e.what()).starts_with("catalog: "));
  }
}

}  // namespace

FUZZ_ENTRY(run)
