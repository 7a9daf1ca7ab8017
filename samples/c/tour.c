/*
 * A tour of refold from C: open a client, list apps, connect a key-based
 * app and an OAuth app against the local sandbox, read a token, handle a
 * re-auth event, disconnect.
 *
 *   refold-devserver --port 8765 --auto-approve &     # the sandbox provider
 *   refold_sample_tour                                # built-in catalog, temporary store
 *   refold_sample_tour CATALOG STORE                  # a catalog file and a store path
 *
 * The URL opener plays the user's browser with the curl tool (the sandbox
 * approves at once); a real application keeps the default opener, the
 * system browser. Secrets are never printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <refold.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pid_t browser = -1;

/* Hands the URL to curl in the background and returns at once: refold then
 * waits for the redirect to its loopback listener. */
static int open_url(const char *url, void *payload) {
  char *argv[] = {"curl", "-s", "-o", "/dev/null", "-L", NULL, NULL};
  (void)payload;
  argv[5] = (char *)url;
  return posix_spawnp(&browser, "curl", NULL, NULL, argv, environ) == 0 ? 0 : 1;
}

static void on_event(const char *event_json, void *payload) {
  (void)payload;
  printf("  event %s\n", event_json); /* events never hold a secret */
  if (strstr(event_json, "\"connection.expired\""))
    printf("  -> ask the user to connect again\n");
}

static void check(int rc, const char *what) {
  if (rc != REFOLD_OK) {
    fprintf(stderr, "%s: %s (%s)\n", what, refold_strerror(rc), refold_last_error());
    exit(1);
  }
}

int main(int argc, char **argv) {
  char config[4096], store[1024];
  refold_client *client;
  char *json;
  int rc;
  const char *account = "customer-42";

  if (argc == 3) {
    snprintf(store, sizeof store, "%s", argv[2]);
  } else {
    char dir[] = "/tmp/refold-sample-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    snprintf(store, sizeof store, "%s/refold.db", dir); /* a key file is created beside it */
  }
  /* refold-devserver's default OAuth client. */
  snprintf(config, sizeof config,
           "{\"store\":\"%s\",%s%s%s\"oauth_clients\":{\"sandbox\":{\"client_id\":\"sandbox-client\","
           "\"client_secret\":\"sandbox-secret\"}}}",
           store, argc == 3 ? "\"catalog\":\"" : "", argc == 3 ? argv[1] : "", argc == 3 ? "\"," : "");

  printf("refold %s from C\n", refold_version());
  check(refold_client_open(&client, config), "open");
  check(refold_set_event_handler(client, on_event, NULL, NULL), "events");

  printf("1. Apps (the catalog with this account's connection state):\n");
  check(refold_list_apps(client, account, &json), "list apps");
  printf("  %lu bytes of JSON\n", (unsigned long)strlen(json));
  refold_free(json);

  printf("2. A key the provider rejects, then a good one:\n");
  rc = refold_connect(client, account, "sandbox-keys", "{\"api_key\":\"sk_live_0123456789abcdefghij\"}");
  printf("  rejected: %s (%s)\n", refold_strerror(rc), refold_last_error());
  check(refold_connect(client, account, "sandbox-keys", "{\"api_key\":\"sk_sandbox_0123456789abcdefghij\"}"),
        "connect key-based");

  printf("3. OAuth: the opener plays the browser:\n");
  check(refold_set_url_opener(client, open_url, NULL, NULL), "opener");
  rc = refold_connect(client, account, "sandbox", NULL);
  if (browser > 0) waitpid(browser, NULL, 0);
  check(rc, "connect OAuth");

  printf("4. Reading the token (refreshed first when it is about to expire):\n");
  check(refold_get_credentials(client, account, "sandbox", &json), "credentials");
  printf("  %s\n", strstr(json, "\"token_type\"") ? "an OAuth access token, not printed" : "?");
  refold_free(json); /* wipes it */

  printf("5. The provider revoked access (say, a webhook told us):\n");
  check(refold_mark_reauth(client, account, "sandbox", "revoked"), "mark re-auth");
  rc = refold_get_credentials(client, account, "sandbox", &json);
  printf("  reading again: %s\n", rc == REFOLD_EREAUTH ? "re-auth required" : refold_strerror(rc));

  printf("6. Disconnecting:\n");
  check(refold_disconnect(client, account, "sandbox"), "disconnect");
  check(refold_disconnect(client, account, "sandbox-keys"), "disconnect");
  check(refold_list_connections(client, account, &json), "list connections");
  printf("  connections left: %s\n", json);
  refold_free(json);

  refold_client_free(client);
  return 0;
}
