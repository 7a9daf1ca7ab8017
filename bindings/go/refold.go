// Package refold is the Go binding of refold, an embeddable app-connection
// manager: OAuth 2.0 and key-based credentials, stored encrypted, read back
// on demand.
//
// It is a thin layer over the C library (include/refold.h): every
// function of the header has a method here, errors are *Error values that
// work with errors.Is (refold.ErrReauthRequired, refold.ErrNotFound, ...),
// and handlers are Go functions. A Client is safe for concurrent use by many
// goroutines.
//
// The library is found with pkg-config (see README.md).
package refold

/*
#cgo pkg-config: refold
#include <stdlib.h>
#include <string.h>
#include "refold.h"
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Version is the version of the loaded library, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.refold_version()) }

// Client is an open refold store with its catalog and master key. Its
// methods may be called from many goroutines at once. Close it when done;
// a finalizer closes a Client that becomes unreachable, but a handler
// closure that refers to its own Client keeps it reachable, so do not rely
// on that.
type Client struct {
	mu       sync.Mutex
	ptr      *C.refold_client // nil once closed
	inflight sync.WaitGroup   // calls in progress, which Close waits for
}

// Open opens a client with cfg (the zero Config: every default).
func Open(cfg Config) (*Client, error) {
	text, err := json.Marshal(cfg)
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Message: "config: " + err.Error()}
	}
	// The text may hold a master key or client secrets: copied to C
	// without a Go string in between, and wiped.
	defer wipeBytes(text)
	return openC(cBytes(text))
}

// OpenJSON opens a client with a configuration given as JSON text, as
// refold_client_open takes it ("" means every default).
func OpenJSON(config string) (*Client, error) {
	if config == "" {
		return openC(nil)
	}
	cfg, err := cString(config, "config")
	if err != nil {
		return nil, err
	}
	return openC(cfg)
}

// openC opens a client with cfg (NULL: every default), which it wipes and
// frees: a config may hold a master key or client secrets.
func openC(cfg *C.char) (*Client, error) {
	if cfg != nil {
		defer freeWiped(cfg)
	}
	var ptr *C.refold_client
	err := locked(func() C.int { return C.refold_client_open(&ptr, cfg) })
	if err != nil {
		return nil, err
	}
	c := &Client{ptr: ptr}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close releases the client after the calls in progress on it return, and
// ends its handler registrations. Calls made after Close return ErrClosed.
// Closing twice is a no-op. Do not call Close from inside a handler.
func (c *Client) Close() error {
	c.mu.Lock()
	ptr := c.ptr
	c.ptr = nil
	c.mu.Unlock()
	if ptr == nil {
		return nil
	}
	runtime.SetFinalizer(c, nil)
	c.inflight.Wait()
	C.refold_client_free(ptr)
	return nil
}

// call runs one C call on the client with the OS thread locked, so that the
// error detail is read on the thread that failed, and raises again a panic
// that a handler raised during the call.
func (c *Client) call(f func(p *C.refold_client) C.int) error {
	ptr := c.hold()
	if ptr == nil {
		return ErrClosed
	}
	defer c.inflight.Done()
	return locked(func() C.int { return f(ptr) })
}

// callWith is call for a C call on two clients: other's handle is held as
// well, so that neither client is freed (Close waits) until f returns.
// ErrClosed when either is closed.
func (c *Client) callWith(other *Client, f func(p, q *C.refold_client) C.int) error {
	q := other.hold()
	if q == nil {
		return ErrClosed
	}
	defer other.inflight.Done()
	return c.call(func(p *C.refold_client) C.int { return f(p, q) })
}

// hold returns the client's handle and counts a call in progress, which the
// caller ends with c.inflight.Done(); nil (and nothing counted) once closed.
func (c *Client) hold() *C.refold_client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		c.inflight.Add(1)
	}
	return c.ptr
}

// locked is the one place that turns a C return code into an error.
func locked(f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := enterCall()
	rc := f()
	var err *Error
	if rc != C.REFOLD_OK {
		err = lastError(rc)
	}
	panicked, panicVal, openerErr := leaveCall(tid)
	if panicked {
		panic(panicVal)
	}
	if err == nil {
		return nil
	}
	if err.Code == CodeCancelled {
		err.cause = openerErr
	}
	return err
}

// cString copies s for C; the caller frees it. A NUL byte inside s would cut
// it short in C, so it is refused.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: CodeInvalid, Message: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// cBytes copies JSON text for C, NUL-terminated; the caller frees it with
// freeWiped. (JSON from encoding/json escapes NUL, so none is inside.)
func cBytes(text []byte) *C.char {
	p := (*C.char)(C.malloc(C.size_t(len(text) + 1)))
	buf := unsafe.Slice((*byte)(unsafe.Pointer(p)), len(text)+1)
	copy(buf, text)
	buf[len(text)] = 0
	return p
}

// wipeBytes zeroes b.
func wipeBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// wipeC zeroes the C string p (up to its NUL).
func wipeC(p *C.char) {
	if p != nil {
		C.memset(unsafe.Pointer(p), 0, C.strlen(p))
	}
}

// freeWiped zeroes and frees a C copy made by cString, so no copy of a
// secret argument (fields, a token, a key, a callback URL's code) that the
// binding made outlives the call. The Go strings themselves are the
// caller's: Go gives no way to wipe them.
func freeWiped(p *C.char) {
	wipeC(p)
	C.free(unsafe.Pointer(p))
}

// cArgs holds the C copies of a call's string arguments; free wipes and
// releases them. An empty optional string becomes NULL.
type cArgs struct{ ptrs []*C.char }

func (a *cArgs) add(s, what string) (*C.char, error) {
	p, err := cString(s, what)
	if err == nil {
		a.ptrs = append(a.ptrs, p)
	}
	return p, err
}

// connection adds the account and app that name a connection.
func (a *cArgs) connection(account, app string) (acc, ap *C.char, err error) {
	if acc, err = a.add(account, "account"); err != nil {
		return nil, nil, err
	}
	if ap, err = a.add(app, "app"); err != nil {
		return nil, nil, err
	}
	return acc, ap, nil
}

// options adds begin's options as JSON; nil for none. They may hold a
// customer's client secret, so they go to C as connect fields do: no Go
// string in between, and the text is wiped once copied.
func (a *cArgs) options(opts *OAuthOptions) (*C.char, error) {
	if opts == nil {
		return nil, nil
	}
	text, err := json.Marshal(opts)
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Message: "options: " + err.Error()}
	}
	defer wipeBytes(text)
	p := cBytes(text) // JSON from encoding/json: no NUL inside
	a.ptrs = append(a.ptrs, p)
	return p, nil
}

func (a *cArgs) optional(s, what string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return a.add(s, what)
}

func (a *cArgs) free() {
	for _, p := range a.ptrs {
		freeWiped(p)
	}
}

// takeString copies a string the library returned and releases it with
// refold_free, which wipes it.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.refold_free(unsafe.Pointer(p))
	return C.GoString(p)
}
