/* refold.h must compile as strict C89 (-std=c89 -pedantic -Werror) and every
 * declaration must be usable from C. */
#include "refold.h"

static void on_event(const char *event_json, void *payload) {
  (void)event_json;
  (void)payload;
}

int refold_headertest_c(void);

int refold_headertest_c(void) {
  refold_client *client = 0;
  char *json = 0;
  int rc = refold_client_open(&client, "{\"master_key\":\"bad\"}");
  if (rc != REFOLD_EINVALID || client != 0) return 1;
  if (refold_last_error()[0] == '\0') return 2;
  if (refold_strerror(REFOLD_ECANCELLED) == 0) return 3;
  /* Every function is referenced so a missing declaration fails the build. */
  refold_client_free(client);
  rc = refold_connect(client, "a", "twilio", "{}");
  rc |= refold_disconnect(client, "a", "twilio");
  rc |= refold_delete_account(client, "a");
  rc |= refold_get_credentials(client, "a", "twilio", &json);
  rc |= refold_list_apps(client, "a", &json);
  rc |= refold_list_connections(client, 0, &json);
  rc |= refold_list_connections_page(client, "{\"status\":\"reauth_required\"}", &json);
  rc |= refold_set_event_handler(client, on_event, 0, 0);
  rc |= refold_rotate_master_key(client, "k");
  refold_free(json);
  if (rc == 0) return 4; /* NULL client: every call must fail */
  return 0;
}
