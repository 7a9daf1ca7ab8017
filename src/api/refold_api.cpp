// The C ABI: argument checks, exceptions to codes, the thread-local error
// detail, ownership of returned strings. No logic lives here.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "core/client.hpp"
#include "crypto/secure.hpp"
#include "refold.h"
#include "util/error.hpp"
#include "util/text.hpp"

struct refold_client {
  refold::core::Client impl;
};

namespace {

thread_local std::string t_last_error;

// The longest access token refold_report_unauthorized_token accepts (a
// JWT with many claims stays well under it).
constexpr std::size_t kMaxReportedToken = 64 * 1024;

// Every string handed to the caller is wiped again by refold_free.
char* out_string(std::string_view s) { return refold::crypto::WipedBytes(s).release(); }

// Runs `body`, turning every exception into a code and the error detail.
template <class F>
int guard(F&& body) noexcept {
  try {
    t_last_error.clear();
    body();
    return REFOLD_OK;
  } catch (const refold::Error& e) {
    try { t_last_error = e.what(); } catch (...) {}
    return e.code();
  } catch (const std::bad_alloc&) {
    try { t_last_error = "out of memory"; } catch (...) {}
    return REFOLD_ERROR;
  } catch (const std::exception& e) {
    try { t_last_error = std::string("internal error: ") + e.what(); } catch (...) {}
    return REFOLD_ERROR;
  } catch (...) {
    try { t_last_error = "internal error"; } catch (...) {}
    return REFOLD_ERROR;
  }
}

refold::core::Client& need(refold_client* c) {
  if (!c) refold::fail(REFOLD_EINVALID, "client is NULL");
  return c->impl;
}

void need_out(void* out, const char* name) {
  if (!out) refold::fail(REFOLD_EINVALID, std::string(name) + " is NULL");
}

std::optional<std::string> optional_account(const char* account) {
  if (!account) return std::nullopt;
  refold::text::check_account(account);
  return std::string(account);
}

}  // namespace

extern "C" {

REFOLD_EXTERN const char* refold_version(void) { return REFOLD_VERSION_STRING; }

REFOLD_EXTERN const char* refold_strerror(int code) {
  switch (code) {
    case REFOLD_OK: return "success";
    case REFOLD_ERROR: return "internal error";
    case REFOLD_EINVALID: return "invalid argument";
    case REFOLD_ENOTFOUND: return "not found";
    case REFOLD_EREAUTH: return "re-authentication required";
    case REFOLD_EAUTH: return "credentials rejected by the provider";
    case REFOLD_ENETWORK: return "network error";
    case REFOLD_EPROVIDER: return "provider error";
    case REFOLD_ESTATE: return "unknown, reused or expired OAuth state";
    case REFOLD_ESTORE: return "store error";
    case REFOLD_ECRYPTO: return "cryptographic failure (wrong key or tampered data)";
    case REFOLD_ETIMEOUT: return "timed out";
    case REFOLD_ECANCELLED: return "cancelled";
    default: return "unknown error code";
  }
}

REFOLD_EXTERN const char* refold_last_error(void) { return t_last_error.c_str(); }

REFOLD_EXTERN void refold_free(void* ptr) { refold::crypto::WipedBytes::free_released(ptr); }

REFOLD_EXTERN int refold_client_open(refold_client** out, const char* config_json) {
  if (out) *out = nullptr;
  return guard([&] {
    need_out(out, "out");
    auto config = refold::core::parse_config(config_json);
    *out = new refold_client{refold::core::Client(std::move(config))};
  });
}

REFOLD_EXTERN void refold_client_free(refold_client* client) { delete client; }

REFOLD_EXTERN int refold_connect(refold_client* client, const char* account, const char* app,
                                 const char* payload_json) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.connect(account, app, payload_json);
  });
}

REFOLD_EXTERN int refold_connect_oauth(refold_client* client, const char* account, const char* app,
                                       const char* options_json) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.connect_oauth(account, app, options_json);
  });
}

REFOLD_EXTERN int refold_import_connection(refold_client* client, const char* account, const char* app,
                                           const char* credentials_json) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.import_connection(account, app, credentials_json);
  });
}

REFOLD_EXTERN int refold_copy_connections(refold_client* from, refold_client* to, char** report_json) {
  if (report_json) *report_json = nullptr;
  return guard([&] {
    auto& f = need(from);
    auto& t = need(to);
    need_out(report_json, "report_json");
    *report_json = out_string(f.copy_connections_to(t));
  });
}

REFOLD_EXTERN int refold_disconnect(refold_client* client, const char* account, const char* app) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.disconnect(account, app);
  });
}

REFOLD_EXTERN int refold_delete_account(refold_client* client, const char* account) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    c.delete_account(account);
  });
}

REFOLD_EXTERN int refold_get_credentials(refold_client* client, const char* account,
                                         const char* app, char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    refold::text::check_account(account);
    refold::text::check_slug(app);
    *json_out = c.credentials(account, app).release();
  });
}

REFOLD_EXTERN int refold_list_apps(refold_client* client, const char* account, char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    *json_out = out_string(c.list_apps(optional_account(account)));
  });
}

REFOLD_EXTERN int refold_list_connections(refold_client* client, const char* account,
                                          char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    *json_out = out_string(c.list_connections(optional_account(account)));
  });
}

REFOLD_EXTERN int refold_list_connections_page(refold_client* client, const char* query_json,
                                               char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    *json_out = out_string(c.list_connections_page(query_json));
  });
}

REFOLD_EXTERN int refold_read_events(refold_client* client, const char* consumer, size_t max,
                                     char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    refold::text::check_id(consumer, "consumer");
    *json_out = out_string(c.read_events(consumer, max));
  });
}

REFOLD_EXTERN int refold_ack_events(refold_client* client, const char* consumer, int64_t seq) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_id(consumer, "consumer");
    c.ack_events(consumer, seq);
  });
}

REFOLD_EXTERN int refold_oauth_begin(refold_client* client, const char* account, const char* app,
                                     const char* options_json, char** authorize_url_out) {
  if (authorize_url_out) *authorize_url_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(authorize_url_out, "authorize_url_out");
    refold::text::check_account(account);
    refold::text::check_slug(app);
    *authorize_url_out = out_string(c.oauth_begin(account, app, options_json));
  });
}

REFOLD_EXTERN int refold_oauth_complete(refold_client* client, const char* callback_url,
                                        char** result_json_out) {
  if (result_json_out) *result_json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    if (!callback_url) refold::fail(REFOLD_EINVALID, "callback_url is NULL");
    std::string result = c.oauth_complete(callback_url);
    if (result_json_out) *result_json_out = out_string(result);
  });
}

REFOLD_EXTERN int refold_set_url_opener(refold_client* client, refold_open_url_cb cb, void* payload,
                                        void (*free_payload)(void*)) {
  return guard([&] { need(client).url_opener().set(cb, payload, free_payload); });
}

REFOLD_EXTERN int refold_set_event_handler(refold_client* client, refold_event_cb cb,
                                           void* payload, void (*free_payload)(void*)) {
  return guard([&] { need(client).events().set(cb, payload, free_payload); });
}

REFOLD_EXTERN int refold_report_unauthorized(refold_client* client, const char* account,
                                             const char* app) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.report_unauthorized(account, app);
  });
}

REFOLD_EXTERN int refold_report_unauthorized_token(refold_client* client, const char* account,
                                                   const char* app, const char* access_token) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    if (!access_token || !*access_token)
      refold::fail(REFOLD_EINVALID, "access_token must be the token the rejected request carried, not "
                                    "NULL or empty (refold_report_unauthorized reports by thread)");
    const std::size_t n = strnlen(access_token, kMaxReportedToken + 1);
    if (n > kMaxReportedToken)
      refold::fail(REFOLD_EINVALID, "access_token is longer than " + std::to_string(kMaxReportedToken) +
                                    " bytes: not a token this client handed out");
    c.report_unauthorized(account, app, std::string_view(access_token, n));
  });
}

REFOLD_EXTERN int refold_mark_reauth(refold_client* client, const char* account, const char* app,
                                     const char* reason) {
  return guard([&] {
    auto& c = need(client);
    refold::text::check_account(account);
    refold::text::check_slug(app);
    c.mark_reauth(account, app, reason);
  });
}

REFOLD_EXTERN int refold_set_clock(refold_client* client, refold_clock_cb cb, void* payload,
                                   void (*free_payload)(void*)) {
  return guard([&] { need(client).clock().set(cb, payload, free_payload); });
}

REFOLD_EXTERN int refold_rotate_master_key(refold_client* client, const char* new_key) {
  return guard([&] { need(client).rotate_master_key(new_key); });
}

REFOLD_EXTERN int refold_rotate_data_key(refold_client* client) {
  return guard([&] { need(client).rotate_data_key(); });
}

REFOLD_EXTERN int refold_data_key_status(refold_client* client, char** json_out) {
  if (json_out) *json_out = nullptr;
  return guard([&] {
    auto& c = need(client);
    need_out(json_out, "json_out");
    *json_out = out_string(c.data_key_status());
  });
}

}  // extern "C"
