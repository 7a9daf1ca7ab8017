#include "shim.h"

#include "_cgo_export.h"

static void event_trampoline(const char *event_json, void *payload) {
  refoldGoEvent((char *)event_json, (uintptr_t)payload);
}

static int opener_trampoline(const char *url, void *payload) {
  return refoldGoOpenURL((char *)url, (uintptr_t)payload);
}

static double clock_trampoline(void *payload) { return refoldGoClock((uintptr_t)payload); }

static void release_handle(void *payload) { refoldGoRelease((uintptr_t)payload); }

int refold_go_set_event_handler(refold_client *client, uintptr_t handle) {
  if (handle == 0) return refold_set_event_handler(client, NULL, NULL, NULL);
  return refold_set_event_handler(client, event_trampoline, (void *)handle, release_handle);
}

int refold_go_set_url_opener(refold_client *client, uintptr_t handle) {
  if (handle == 0) return refold_set_url_opener(client, NULL, NULL, NULL);
  return refold_set_url_opener(client, opener_trampoline, (void *)handle, release_handle);
}

int refold_go_set_clock(refold_client *client, uintptr_t handle) {
  if (handle == 0) return refold_set_clock(client, NULL, NULL, NULL);
  return refold_set_clock(client, clock_trampoline, (void *)handle, release_handle);
}
