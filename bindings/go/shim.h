/* C side of the Go binding's callbacks: registers the Go trampolines
 * (exported from callbacks.go) with a runtime/cgo.Handle as the payload.
 * A handle of 0 removes the registration. */
#ifndef REFOLD_GO_SHIM_H
#define REFOLD_GO_SHIM_H

#include <stdint.h>

#include "refold.h"

int refold_go_set_event_handler(refold_client *client, uintptr_t handle);
int refold_go_set_url_opener(refold_client *client, uintptr_t handle);
int refold_go_set_clock(refold_client *client, uintptr_t handle);

#endif
