/*
 * A tour of refold's key-based connections through the C ABI:
 * open a client, list apps, connect Twilio (after one rejected payload),
 * read the credentials back, list connections, disconnect.
 *
 *   refold_sample_keybased [STORE_PATH]
 *
 * Without STORE_PATH it uses the default store (~/.local/share/refold).
 * The demo credentials are fake; secret values are never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refold.h"

static void on_event(const char *event_json, void *payload) {
  (void)payload;
  printf("  event: %s\n", event_json);
}

static int check(int rc, const char *what) {
  if (rc != REFOLD_OK)
    fprintf(stderr, "%s failed: %s (%s)\n", what, refold_strerror(rc), refold_last_error());
  return rc;
}

/* Prints each app's slug and auth types from the listing, crudely: the
 * listing is JSON; a real program would parse it. */
static void print_slugs(const char *json) {
  const char *p = json;
  while ((p = strstr(p, "\"slug\":\"")) != NULL) {
    const char *end;
    p += 8;
    end = strchr(p, '"');
    if (!end) break;
    printf("  - %.*s\n", (int)(end - p), p);
    p = end;
  }
}

int main(int argc, char **argv) {
  refold_client *client = NULL;
  char config[4096];
  char *json = NULL;
  const char *account = "acme-corp";
  int rc;

  if (argc > 1)
    snprintf(config, sizeof config, "{\"store\":\"%s\"}", argv[1]);
  else
    strcpy(config, "{}");

  printf("refold %s: key-based tour\n\n", refold_version());
  if (check(refold_client_open(&client, config), "refold_client_open")) return 1;
  refold_set_event_handler(client, on_event, NULL, NULL);

  printf("1. Apps in the catalog:\n");
  if (check(refold_list_apps(client, account, &json), "refold_list_apps")) goto fail;
  print_slugs(json);
  refold_free(json);
  json = NULL;

  printf("\n2. Connecting Twilio with a malformed Account SID is refused:\n");
  rc = refold_connect(client, account, "twilio",
                      "{\"sid\":\"not-a-sid\",\"auth_token\":\"0123456789abcdef0123456789abcdef\"}");
  printf("  %s: %s\n", refold_strerror(rc), refold_last_error());
  if (rc != REFOLD_EINVALID) goto fail;

  printf("\n3. Connecting Twilio with a good payload:\n");
  if (check(refold_connect(client, account, "twilio",
                           "{\"sid\":\"AC0123456789abcdef0123456789abcdef\","
                           "\"auth_token\":\"0123456789abcdef0123456789abcdef\","
                           "\"number\":15551234567}"),
            "refold_connect"))
    goto fail;

  printf("\n4. Reading the credentials back (decrypted on demand):\n");
  if (check(refold_get_credentials(client, account, "twilio", &json), "refold_get_credentials"))
    goto fail;
  printf("  %lu bytes of credentials JSON; it holds the sid: %s\n", (unsigned long)strlen(json),
         strstr(json, "AC0123456789abcdef0123456789abcdef") ? "yes" : "no");
  refold_free(json); /* wipes the secret bytes before freeing */
  json = NULL;

  printf("\n5. Connections of %s:\n", account);
  if (check(refold_list_connections(client, account, &json), "refold_list_connections")) goto fail;
  printf("  %s\n", json);
  refold_free(json);
  json = NULL;

  printf("\n6. Disconnecting Twilio removes every secret:\n");
  if (check(refold_disconnect(client, account, "twilio"), "refold_disconnect")) goto fail;
  rc = refold_get_credentials(client, account, "twilio", &json);
  printf("  reading again: %s\n", refold_strerror(rc));
  if (rc != REFOLD_ENOTFOUND) goto fail;

  refold_client_free(client);
  printf("\nDone.\n");
  return 0;

fail:
  refold_free(json);
  refold_client_free(client);
  return 1;
}
