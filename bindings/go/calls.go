package refold

// The calls of refold.h, one method each.

/*
#include <stdlib.h>
#include <string.h>
#include "refold.h"
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"time"
	"unicode/utf8"
	"unsafe"
)

// ConnectKeyBased connects app's key-based auth for account with fields
// (the app's input fields by name; values are strings, numbers or
// booleans). Connecting again replaces the fields. Errors name the field
// that is wrong, never its value: ErrInvalid, ErrNotFound (unknown app),
// ErrAuth (the provider rejected the keys), ErrNetwork, ErrTimeout, ...
// A client-credentials app (AuthOAuth2CC) is connected the same way, with
// its "client_id", "client_secret" and "connection" as fields; its
// credentials then hold the token fetched with that client.
func (c *Client) ConnectKeyBased(account, app string, fields map[string]any) error {
	if fields == nil {
		fields = map[string]any{}
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return &Error{Code: CodeInvalid, Message: "fields: " + err.Error()}
	}
	defer wipeBytes(payload)
	return c.connect(account, app, payload)
}

// ConnectOAuth connects app's OAuth 2.0 auth for account interactively:
// it opens the authorization page through the URL opener (the system
// browser unless SetURLOpener replaced it), waits for the browser's
// redirect to a loopback listener and saves the tokens. It blocks until
// then or the configured interactive timeout (ErrTimeout). An opener that
// returns an error cancels it: ErrCancelled, wrapping that error.
func (c *Client) ConnectOAuth(account, app string) error {
	return c.connect(account, app, nil)
}

// ConnectOAuthWith is ConnectOAuth with the options BeginOAuth takes
// (scopes, extra parameters, connection inputs, the customer's own client;
// not RedirectURI, which is ErrInvalid: the redirect goes to the flow's own
// listener). An app that requires connection inputs is connected this way.
// Inputs are checked before a browser opens; errors name the input, never
// its value.
func (c *Client) ConnectOAuthWith(account, app string, opts *OAuthOptions) error {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	op, err := a.options(opts)
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_connect_oauth(p, acc, ap, op) })
}

// connect connects with payload, JSON fields (key-based), or with nil
// (OAuth). The payload is copied to C without a Go string in between.
func (c *Client) connect(account, app string, payload []byte) error {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	var pl *C.char
	if payload != nil {
		pl = cBytes(payload) // JSON from encoding/json: no NUL inside
		a.ptrs = append(a.ptrs, pl)
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_connect(p, acc, ap, pl) })
}

// ImportConnection saves a connection made elsewhere (another system's
// tokens or keys) for account and app, without the user, as refold.h
// refold_import_connection describes: credentials is
// {"auth_type": "oauth2", "access_token": ..., "refresh_token": ...,
// "expires_at": RFC 3339 or nil, "scopes": [...], "metadata": {...},
// "connection": {...}} or {"auth_type": "keybased", "fields": {...}}.
// It is checked as a connect is, then kept fresh like any connection.
// Errors name the member that is wrong, never its value: ErrInvalid,
// ErrNotFound (unknown app), and for verified key-based fields ErrAuth,
// ErrNetwork, ErrTimeout, ErrProvider. On error nothing is stored.
func (c *Client) ImportConnection(account, app string, credentials map[string]any) error {
	if credentials == nil {
		return &Error{Code: CodeInvalid, Message: "credentials: must be a JSON object"}
	}
	payload, err := json.Marshal(credentials)
	if err != nil {
		return &Error{Code: CodeInvalid, Message: "credentials: " + err.Error()}
	}
	defer wipeBytes(payload)
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	pl := cBytes(payload)
	a.ptrs = append(a.ptrs, pl)
	return c.call(func(p *C.refold_client) C.int { return C.refold_import_connection(p, acc, ap, pl) })
}

// Disconnect removes every connection of app for account and wipes its
// secrets. Disconnecting what is not connected succeeds.
func (c *Client) Disconnect(account, app string) error {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_disconnect(p, acc, ap) })
}

// DeleteAccount removes every connection of account and wipes their secrets.
func (c *Client) DeleteAccount(account string) error {
	var a cArgs
	defer a.free()
	acc, err := a.add(account, "account")
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_delete_account(p, acc) })
}

// jsonCall runs a call that returns JSON text through a char** and decodes
// it into out.
func (c *Client) jsonCall(out any, f func(p *C.refold_client, text **C.char) C.int) error {
	var text *C.char
	if err := c.call(func(p *C.refold_client) C.int { return f(p, &text) }); err != nil {
		return err
	}
	defer C.refold_free(unsafe.Pointer(text))
	return decodeJSON(C.GoBytes(unsafe.Pointer(text), C.int(C.strlen(text))), out)
}

// Credentials reads account's credentials for app. ErrNotFound when it is
// not connected; ErrReauthRequired when its user must connect it again.
func (c *Client) Credentials(account, app string) (*Credentials, error) {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return nil, err
	}
	var creds Credentials
	err = c.jsonCall(&creds, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_get_credentials(p, acc, ap, out)
	})
	if err != nil {
		return nil, err
	}
	return &creds, nil
}

// ListApps lists the catalog with account's connection state ("": none).
func (c *Client) ListApps(account string) ([]App, error) {
	var a cArgs
	defer a.free()
	acc, err := a.optional(account, "account")
	if err != nil {
		return nil, err
	}
	apps := []App{}
	err = c.jsonCall(&apps, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_list_apps(p, acc, out)
	})
	return apps, err
}

// ListConnections lists account's connections ("": every account's). It
// never holds a secret.
func (c *Client) ListConnections(account string) ([]Connection, error) {
	var a cArgs
	defer a.free()
	acc, err := a.optional(account, "account")
	if err != nil {
		return nil, err
	}
	conns := []Connection{}
	err = c.jsonCall(&conns, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_list_connections(p, acc, out)
	})
	return conns, err
}

// ListConnectionsPage lists one page of the connections query selects, in
// (account, app, auth type) order; pass the page's NextCursor back in
// query.Cursor (with the same Account, App and Status) for the next one,
// until it is "". Pages are by key: connections added or removed between
// pages never make another one repeat or go missing. ErrInvalid names the
// query's key that is wrong (a Limit outside 1 to 1000, an unknown Status,
// a cursor of another query or store).
func (c *Client) ListConnectionsPage(query ConnectionQuery) (ConnectionPage, error) {
	page := ConnectionPage{Connections: []Connection{}}
	// json.Marshal would quietly turn invalid UTF-8 into U+FFFD and so
	// list another account than the one asked for: refuse it instead.
	for _, f := range []struct{ name, value string }{
		{"account", query.Account}, {"app", query.App}, {"status", query.Status}, {"cursor", query.Cursor},
	} {
		if !utf8.ValidString(f.value) {
			return page, &Error{Code: CodeInvalid, Message: "query: '" + f.name + "' is not valid UTF-8"}
		}
	}
	text, err := json.Marshal(query)
	if err != nil {
		return page, &Error{Code: CodeInvalid, Message: "query: " + err.Error()}
	}
	var a cArgs
	defer a.free()
	q, err := a.add(string(text), "query")
	if err != nil {
		return page, err
	}
	err = c.jsonCall(&page, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_list_connections_page(p, q, out)
	})
	return page, err
}

// CopyConnectionsTo copies every connection of c's store into to's, as
// refold.h refold_copy_connections describes: how a SQLite store moves into
// PostgreSQL. Each record is opened with c's keys and sealed again with
// to's (the stores may have different master keys), with its non-secret
// config, expiry and refresh schedule and status (one that needs re-auth
// still does). In to each is a new connection, with EventCreated (and
// EventExpired) in to's handler and event log; one that to already has is
// replaced. Pending OAuth flows and the event log are not copied. Each
// connection is its own transaction: on an error the copy stops, naming
// the connection, and what it copied stays; copying again copies
// everything again. Stop the writers of c's store first for an exact move.
// It blocks for as long as the copy takes; neither client is closed
// meanwhile (Close waits). ErrInvalid when to is nil, c itself, or a
// client of the same store; ErrCrypto for a record c cannot open;
// ErrStore; ErrClosed when either client is closed.
func (c *Client) CopyConnectionsTo(to *Client) (CopyReport, error) {
	var report CopyReport
	if to == nil {
		return report, &Error{Code: CodeInvalid, Message: "to is nil"}
	}
	var text *C.char
	err := c.callWith(to, func(p, q *C.refold_client) C.int { return C.refold_copy_connections(p, q, &text) })
	if err != nil {
		return report, err
	}
	defer C.refold_free(unsafe.Pointer(text))
	err = decodeJSON(C.GoBytes(unsafe.Pointer(text), C.int(C.strlen(text))), &report)
	return report, err
}

// ReadEvents reads up to max (1 to 10000) events of the durable event log
// after consumer's cursor, oldest first: every event a handler gets, kept
// in the store with the change it reports, whichever client or process
// made it. A consumer (a name of your choosing, kept in the store) reads,
// handles, then acknowledges with AckEvents; what it has not acknowledged
// it reads again, from any client of the store, so no event is lost when
// a process dies between a change and its handler. A consumer never seen
// before starts at the oldest event kept. Reading changes nothing. An
// empty Events means the consumer is up to date; Missed, that events it
// had not acknowledged outlived the event_retention and were removed.
// ErrInvalid names the argument that is wrong (consumer, max).
func (c *Client) ReadEvents(consumer string, max int) (EventPage, error) {
	page := EventPage{Events: []LoggedEvent{}}
	var a cArgs
	defer a.free()
	cons, err := a.add(consumer, "consumer")
	if err != nil {
		return page, err
	}
	if max < 0 {
		max = 0 // out of range: the library names it
	}
	err = c.jsonCall(&page, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_read_events(p, cons, C.size_t(max), out)
	})
	return page, err
}

// AckEvents acknowledges consumer's events up to and including seq (the Seq
// of the last event it handled): ReadEvents then returns what comes after.
// A cursor never moves back: acknowledging an older seq changes nothing.
// Durable when it returns. ErrInvalid for a bad consumer, or a seq below 1
// or past the last event written.
func (c *Client) AckEvents(consumer string, seq int64) error {
	var a cArgs
	defer a.free()
	cons, err := a.add(consumer, "consumer")
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_ack_events(p, cons, C.int64_t(seq)) })
}

// BeginOAuth starts connecting app for account, for a host that owns its
// redirect URI, and returns the authorization URL to send the user to
// (it holds no secret). opts may be nil.
func (c *Client) BeginOAuth(account, app string, opts *OAuthOptions) (string, error) {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return "", err
	}
	op, err := a.options(opts)
	if err != nil {
		return "", err
	}
	var url *C.char
	err = c.call(func(p *C.refold_client) C.int { return C.refold_oauth_begin(p, acc, ap, op, &url) })
	if err != nil {
		return "", err
	}
	return takeString(url), nil
}

// CompleteOAuth finishes a flow with the full callback URL the browser
// reached. ErrState for an unknown, reused or expired state; ErrCancelled
// when the user denied access.
func (c *Client) CompleteOAuth(callbackURL string) (*OAuthResult, error) {
	var a cArgs
	defer a.free()
	cb, err := a.add(callbackURL, "callback URL")
	if err != nil {
		return nil, err
	}
	var res OAuthResult
	err = c.jsonCall(&res, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_oauth_complete(p, cb, out)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// SetEventHandler registers fn to receive every event of the client,
// replacing the previous handler; nil removes it. fn runs on the goroutine
// whose call caused the event, after the change is committed; it may call
// the client again. Events of different goroutines may arrive
// concurrently. A panic in fn comes out of the Client method that caused
// the event (after its change is committed), never through C.
func (c *Client) SetEventHandler(fn func(Event)) error {
	if fn == nil {
		return c.call(func(p *C.refold_client) C.int { return C.refold_go_set_event_handler(p, 0) })
	}
	return c.register(eventHandler(fn), func(p *C.refold_client, h C.uintptr_t) C.int {
		return C.refold_go_set_event_handler(p, h)
	})
}

// SetURLOpener replaces how ConnectOAuth opens the authorization URL; nil
// restores the default (the system browser). fn runs on the goroutine
// calling ConnectOAuth before the library waits for the browser's
// redirect, so it must hand the URL off (to a browser, another goroutine)
// and return. A non-nil error cancels the flow.
func (c *Client) SetURLOpener(fn func(url string) error) error {
	if fn == nil {
		return c.call(func(p *C.refold_client) C.int { return C.refold_go_set_url_opener(p, 0) })
	}
	return c.register(urlOpener(fn), func(p *C.refold_client, h C.uintptr_t) C.int {
		return C.refold_go_set_url_opener(p, h)
	})
}

// register hands v to the library as a cgo.Handle payload; the library
// releases it (refoldGoRelease) when the registration ends.
func (c *Client) register(v any, set func(p *C.refold_client, h C.uintptr_t) C.int) error {
	h := newHandle(v)
	err := c.call(func(p *C.refold_client) C.int { return set(p, C.uintptr_t(h)) })
	if err != nil {
		deleteHandle(h) // never registered
	}
	return err
}

// SetClock replaces the clock the client uses for token expiry, refresh
// scheduling and timestamps (for tests and simulations); nil restores the
// system clock. fn may run on any thread, including the background
// refresher's; it must be fast and must not call the client. A panic in it
// falls back to the system clock for that reading.
func (c *Client) SetClock(fn func() time.Time) error {
	if fn == nil {
		return c.call(func(p *C.refold_client) C.int { return C.refold_go_set_clock(p, 0) })
	}
	return c.register(clock(fn), func(p *C.refold_client, h C.uintptr_t) C.int {
		return C.refold_go_set_clock(p, h)
	})
}

// MarkReauth marks account's connection to app as needing
// re-authentication, for a host that learned from the provider (a webhook)
// that access ended. reason is a short word such as "uninstalled",
// "revoked" or "deleted" ("" means "revoked"). Emits EventExpired for each
// connection it changes; reads then fail with ErrReauthRequired until the
// user connects again. ErrNotFound when there is no such connection.
func (c *Client) MarkReauth(account, app, reason string) error {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	rs, err := a.optional(reason, "reason")
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_mark_reauth(p, acc, ap, rs) })
}

// ReportUnauthorized tells the client that an API call made with account's
// current credentials for app got HTTP 401. When the OAuth token could be
// refreshed it returns nil: read the credentials again and retry. When the
// user must connect again it returns ErrReauthRequired (and EventExpired is
// emitted).
//
// The library tells which token the 401 was about by the OS thread that
// read it, and goroutines move between threads: prefer
// ReportUnauthorizedToken, which is told the token instead (see
// refold_report_unauthorized in refold.h).
func (c *Client) ReportUnauthorized(account, app string) error {
	return c.reportUnauthorized(account, app, nil)
}

// ReportUnauthorizedToken tells the client that an API call made with
// accessToken (the AccessToken of account's credentials for app, the bare
// token, not the "Bearer ..." header) got HTTP 401. If that token was already replaced it does nothing and returns
// nil: read the credentials again and retry. Otherwise it acts as
// ReportUnauthorized does for the current token: nil after one refresh,
// ErrReauthRequired (and EventExpired) when the user must connect again.
// Safe from any goroutine. For a key-based connection the token is not
// compared: the report is told by thread, as ReportUnauthorized does.
func (c *Client) ReportUnauthorizedToken(account, app, accessToken string) error {
	return c.reportUnauthorized(account, app, &accessToken)
}

func (c *Client) reportUnauthorized(account, app string, accessToken *string) error {
	var a cArgs
	defer a.free()
	acc, ap, err := a.connection(account, app)
	if err != nil {
		return err
	}
	if accessToken == nil {
		return c.call(func(p *C.refold_client) C.int { return C.refold_report_unauthorized(p, acc, ap) })
	}
	tok, err := a.add(*accessToken, "accessToken")
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int {
		return C.refold_report_unauthorized_token(p, acc, ap, tok)
	})
}

// RotateMasterKey replaces the master key with newKey (32 bytes, base64 or
// hex); the store then opens only with the new key.
func (c *Client) RotateMasterKey(newKey string) error {
	var a cArgs
	defer a.free()
	k, err := a.add(newKey, "key")
	if err != nil {
		return err
	}
	return c.call(func(p *C.refold_client) C.int { return C.refold_rotate_master_key(p, k) })
}

// RotateDataKey replaces the store's data key: a new key becomes current
// for every write, every record is re-encrypted under it in short
// batches (reads and refreshes go on meanwhile, in every process), then
// the older keys are deleted. It finishes a rotation that stopped
// part-way instead of starting another. It blocks until done: run it on a
// goroutine of its own; DataKeyStatus shows its progress.
func (c *Client) RotateDataKey() error {
	return c.call(func(p *C.refold_client) C.int { return C.refold_rotate_data_key(p) })
}

// DataKeyStatus reports the store's data keys and how many records each
// seals (never key material).
func (c *Client) DataKeyStatus() (*DataKeyStatus, error) {
	var st DataKeyStatus
	if err := c.jsonCall(&st, func(p *C.refold_client, out **C.char) C.int {
		return C.refold_data_key_status(p, out)
	}); err != nil {
		return nil, err
	}
	return &st, nil
}
