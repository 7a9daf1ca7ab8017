use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{self, NonNull};

use crate::callbacks::{self, CallScope, ClockFn, EventFn, OpenerFn};
use crate::error::{Error, Result};
use crate::json::Value;
use crate::sys;
use crate::types::{
    App, Connection, ConnectionPage, ConnectionQuery, CopyReport, Credentials, DataKeyStatus,
    Event, EventPage, OAuthOptions, OAuthResult,
};

/// An open refold store with its catalog and master key.
///
/// `Client` is `Send + Sync`: the C client may be used from many threads at
/// once, so share it with `Arc` or scoped threads. Dropping it closes the
/// store and ends the handler registrations.
pub struct Client {
    raw: NonNull<sys::refold_client>,
}

// SAFETY: refold.h documents a client as safe to use from many threads at
// once; refold_client_free (Drop) needs &mut self, so it cannot race.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

/// A Rust string copied as a C argument (NUL-terminated). The copy is
/// zeroed when dropped, so none that the binding made of a secret argument
/// (fields, a token, a key, a callback URL's code, a config) outlives the
/// call; the caller's own strings are the caller's to wipe.
struct CArg(Vec<u8>);

impl CArg {
    fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr() as *const c_char
    }
}

impl Drop for CArg {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Zeroes `bytes` with writes the compiler may not drop.
fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: a valid, exclusive reference.
        unsafe { ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// A Rust string as a C argument; a NUL byte inside is refused.
fn c_arg(s: &str, what: &str) -> Result<CArg> {
    if s.as_bytes().contains(&0) {
        return Err(Error::Invalid(format!("{what} contains a NUL byte")));
    }
    // Sized once, so no reallocation leaves an unwiped copy behind.
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    Ok(CArg(v))
}

/// Connect fields (or other members that may hold a secret) as a JSON
/// object written straight into a C argument. A counting pass sizes it
/// first, so the text is never reallocated (which would leave an unwiped
/// copy of a secret behind). Control characters, NUL included, are escaped,
/// so the text has no NUL byte inside.
fn fields_arg(fields: &[(&str, Value)]) -> Result<CArg> {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    struct Fill(Vec<u8>);
    impl std::fmt::Write for Fill {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            if self.0.len() + s.len() >= self.0.capacity() {
                return Err(std::fmt::Error); // never: sized by Count
            }
            self.0.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = crate::json::write_object(&mut count, fields);
    let mut fill = Fill(Vec::with_capacity(count.0 + 1));
    let complete = crate::json::write_object(&mut fill, fields).is_ok();
    let mut arg = CArg(fill.0); // wiped on drop, whatever happens next
    if !complete {
        return Err(Error::Internal(
            "connect fields: the JSON text outgrew its size".into(),
        ));
    }
    arg.0.push(0);
    Ok(arg)
}

/// OAuth options as a C argument, written as connect fields are: they may
/// hold a customer's client secret. The members' copy is wiped too.
fn options_arg(options: &OAuthOptions) -> Result<CArg> {
    let mut members = options.members();
    let arg = fields_arg(&members);
    members.iter_mut().for_each(|(_, v)| v.wipe());
    arg
}

fn opt_ptr(s: &Option<CArg>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// A string the library returned: read, then released with refold_free
/// (which wipes it).
struct Owned(*mut c_char);

impl Owned {
    fn text(&self) -> Result<&str> {
        if self.0.is_null() {
            return Err(Error::Internal("the library returned no text".into()));
        }
        // SAFETY: a NUL-terminated string the library returned and still owns.
        unsafe { CStr::from_ptr(self.0) }
            .to_str()
            .map_err(|_| Error::Internal("text that is not UTF-8".into()))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: returned by the library, released once; NULL is a no-op.
        unsafe { sys::refold_free(self.0 as *mut c_void) }
    }
}

/// Runs one C call and turns its code into a `Result`, reading the error
/// detail at once on this thread; resumes a handler's panic afterwards.
fn call(f: impl FnOnce() -> c_int) -> Result<()> {
    let scope = CallScope::enter();
    let rc = f();
    let result = if rc == sys::REFOLD_OK {
        Ok(())
    } else {
        Err(Error::last(rc))
    };
    let opener_error = scope.finish();
    match (result, opener_error) {
        (Err(Error::Cancelled(m)), Some(why)) => Err(Error::Cancelled(format!("{m}: {why}"))),
        (r, _) => r,
    }
}

impl Client {
    /// Opens a client. `config_json` is the configuration object of
    /// `refold_client_open` (store, master_key, key_file, passphrase,
    /// catalog, oauth_clients, http, oauth); `""` means every default.
    pub fn open(config_json: &str) -> Result<Client> {
        let config = if config_json.is_empty() {
            None
        } else {
            Some(c_arg(config_json, "config")?)
        };
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer to a local; config is NULL or a C string.
        call(|| unsafe { sys::refold_client_open(&mut raw, opt_ptr(&config)) })?;
        NonNull::new(raw)
            .map(|raw| Client { raw })
            .ok_or_else(|| Error::Internal("no client".into()))
    }

    fn ptr(&self) -> *mut sys::refold_client {
        self.raw.as_ptr()
    }

    /// Connects `app`'s key-based auth for `account` with `fields` (the
    /// app's input fields by name). Connecting again replaces them. Errors
    /// name the field that is wrong, never its value. A client-credentials
    /// app (`"oauth2_cc"`) is connected the same way, with its `client_id`,
    /// `client_secret` and `connection` as fields; its credentials then hold
    /// the token fetched with that client.
    pub fn connect_keybased(
        &self,
        account: &str,
        app: &str,
        fields: &[(&str, Value)],
    ) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let payload = fields_arg(fields)?;
        // SAFETY: valid C strings for the duration of the call.
        call(|| unsafe {
            sys::refold_connect(self.ptr(), account.as_ptr(), app.as_ptr(), payload.as_ptr())
        })
    }

    /// Connects `app`'s OAuth 2.0 auth for `account` interactively: opens
    /// the authorization page through the URL opener (the system browser
    /// unless [`set_url_opener`](Self::set_url_opener) replaced it), waits
    /// for the redirect to a loopback listener, and saves the tokens. Blocks
    /// until then or the interactive timeout ([`Error::Timeout`]).
    pub fn connect_oauth(&self, account: &str, app: &str) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        // SAFETY: valid C strings; a NULL payload selects OAuth.
        call(|| unsafe {
            sys::refold_connect(self.ptr(), account.as_ptr(), app.as_ptr(), ptr::null())
        })
    }

    /// Saves a connection made elsewhere (another system's tokens or keys)
    /// for `account` and `app`, without the user, as refold.h
    /// `refold_import_connection` describes. `credentials` are the members
    /// of its JSON object: `auth_type` ("oauth2" or "keybased"),
    /// `access_token`, `refresh_token`, `token_type`, `expires_at` (RFC
    /// 3339, or null for never), `refresh_token_expires_at`, `scopes`,
    /// `metadata` and `connection`; or `fields` for a key-based app. It is
    /// checked as a connect is, then kept fresh like any connection. Errors
    /// name the member that is wrong, never its value; on error nothing is
    /// stored.
    pub fn import_connection(
        &self,
        account: &str,
        app: &str,
        credentials: &[(&str, Value)],
    ) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let payload = fields_arg(credentials)?;
        // SAFETY: valid C strings for the duration of the call.
        call(|| unsafe {
            sys::refold_import_connection(
                self.ptr(),
                account.as_ptr(),
                app.as_ptr(),
                payload.as_ptr(),
            )
        })
    }

    /// [`connect_oauth`](Self::connect_oauth) with the options
    /// [`oauth_begin`](Self::oauth_begin) takes: scopes, extra parameters,
    /// connection inputs (an app that requires inputs is connected this
    /// way) and the customer's own client. A `redirect_uri` is
    /// [`Error::Invalid`]: the flow redirects to its own listener. Inputs
    /// are checked before a browser opens; errors name the input, never its
    /// value.
    pub fn connect_oauth_with(
        &self,
        account: &str,
        app: &str,
        options: Option<&OAuthOptions>,
    ) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let options = options.map(options_arg).transpose()?;
        // SAFETY: valid C strings (or NULL options) for the duration of the call.
        call(|| unsafe {
            sys::refold_connect_oauth(
                self.ptr(),
                account.as_ptr(),
                app.as_ptr(),
                opt_ptr(&options),
            )
        })
    }

    /// Removes every connection of `app` for `account` and wipes its
    /// secrets. Disconnecting what is not connected succeeds.
    pub fn disconnect(&self, account: &str, app: &str) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        // SAFETY: valid C strings for the duration of the call.
        call(|| unsafe { sys::refold_disconnect(self.ptr(), account.as_ptr(), app.as_ptr()) })
    }

    /// Removes every connection of `account` and wipes their secrets.
    pub fn delete_account(&self, account: &str) -> Result<()> {
        let account = c_arg(account, "account")?;
        // SAFETY: a valid C string for the duration of the call.
        call(|| unsafe { sys::refold_delete_account(self.ptr(), account.as_ptr()) })
    }

    /// Runs a call that returns a string through a `char **`.
    fn text_call(&self, f: impl FnOnce(*mut *mut c_char) -> c_int) -> Result<Owned> {
        let mut out = ptr::null_mut();
        call(|| f(&mut out))?;
        Ok(Owned(out))
    }

    /// `account`'s credentials for `app`. [`Error::NotFound`] when not
    /// connected, [`Error::ReauthRequired`] when its user must connect again.
    pub fn credentials(&self, account: &str, app: &str) -> Result<Credentials> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        // SAFETY: valid C strings and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_get_credentials(self.ptr(), account.as_ptr(), app.as_ptr(), out)
        })?;
        Credentials::parse(text.text()?)
    }

    /// The catalog with `account`'s connection state (`None`: no account).
    pub fn list_apps(&self, account: Option<&str>) -> Result<Vec<App>> {
        let account = account.map(|a| c_arg(a, "account")).transpose()?;
        // SAFETY: NULL or a valid C string, and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_list_apps(self.ptr(), opt_ptr(&account), out)
        })?;
        App::parse_list(text.text()?)
    }

    /// `account`'s connections (`None`: every account's). No secrets.
    pub fn list_connections(&self, account: Option<&str>) -> Result<Vec<Connection>> {
        let account = account.map(|a| c_arg(a, "account")).transpose()?;
        // SAFETY: NULL or a valid C string, and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_list_connections(self.ptr(), opt_ptr(&account), out)
        })?;
        Connection::parse_list(text.text()?)
    }

    /// One page of the connections `query` selects, in (account, app, auth
    /// type) order. Pass the page's `next_cursor` back as `query.cursor`
    /// (with the same account, app and status) for the next page, until it
    /// is `None`. Pages are by key: connections added or removed between
    /// pages never make another one repeat or go missing.
    /// `Error::Invalid` names the query's key that is wrong (a limit
    /// outside 1 to 1000, an unknown status, a cursor of another query or
    /// store).
    pub fn list_connections_page(&self, query: &ConnectionQuery) -> Result<ConnectionPage> {
        let query = c_arg(&query.to_json(), "query")?;
        // SAFETY: a valid C string and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_list_connections_page(self.ptr(), query.as_ptr(), out)
        })?;
        ConnectionPage::parse(text.text()?)
    }

    /// Copies every connection of this client's store into `to`'s, as
    /// refold.h `refold_copy_connections` describes: how a SQLite store
    /// moves into PostgreSQL. Each record is opened with this client's keys
    /// and sealed again with `to`'s (the stores may have different master
    /// keys), with its non-secret config, expiry and refresh schedule and
    /// status (one that needs re-auth still does). In `to` each is a new
    /// connection, with `connection.created` (and `connection.expired`)
    /// events in `to`'s handler and event log; one that `to` already has is
    /// replaced. Pending OAuth flows and the event log are not copied. Each
    /// connection is its own transaction: on an error the copy stops,
    /// naming the connection, and what it copied stays; copying again
    /// copies everything again. Stop the writers of this store first for
    /// an exact move. Blocks for as long as the copy takes; both clients
    /// are borrowed, so neither is dropped meanwhile. [`Error::Invalid`]
    /// when `to` is this client or a client of the same store;
    /// [`Error::Crypto`] for a record this client cannot open;
    /// [`Error::Store`].
    pub fn copy_connections_to(&self, to: &Client) -> Result<CopyReport> {
        // SAFETY: two valid handles, borrowed for the call, and an
        // out-pointer.
        let text = self
            .text_call(|out| unsafe { sys::refold_copy_connections(self.ptr(), to.ptr(), out) })?;
        CopyReport::parse(text.text()?)
    }

    /// Up to `max` (1 to 10000) events of the durable event log after
    /// `consumer`'s cursor, oldest first: every event a handler gets, kept
    /// in the store with the change it reports, whichever client or process
    /// made it. A consumer (a name of your choosing, kept in the store)
    /// reads, handles, then acknowledges with
    /// [`ack_events`](Self::ack_events); what it has not acknowledged it
    /// reads again, from any client of the store, so no event is lost when
    /// a process dies between a change and its handler. A consumer never
    /// seen before starts at the oldest event kept. Reading changes
    /// nothing. Empty `events` mean the consumer is up to date; `missed`,
    /// that events it had not acknowledged outlived the `event_retention`
    /// and were removed. [`Error::Invalid`] names the argument that is
    /// wrong (consumer, max).
    pub fn read_events(&self, consumer: &str, max: usize) -> Result<EventPage> {
        let consumer = c_arg(consumer, "consumer")?;
        // SAFETY: a valid C string and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_read_events(self.ptr(), consumer.as_ptr(), max, out)
        })?;
        EventPage::parse(text.text()?)
    }

    /// Acknowledges `consumer`'s events up to and including `seq` (the
    /// `seq` of the last event it handled):
    /// [`read_events`](Self::read_events) then returns what comes after. A
    /// cursor never moves back: acknowledging an older seq changes nothing.
    /// Durable when it returns. [`Error::Invalid`] for a bad consumer, or a
    /// seq below 1 or past the last event written.
    pub fn ack_events(&self, consumer: &str, seq: i64) -> Result<()> {
        let consumer = c_arg(consumer, "consumer")?;
        // SAFETY: a valid C string for the duration of the call.
        call(|| unsafe { sys::refold_ack_events(self.ptr(), consumer.as_ptr(), seq) })
    }

    /// Starts connecting `app` for `account`, for a host that owns its
    /// redirect URI: returns the authorization URL to send the user to (it
    /// holds no secret).
    pub fn oauth_begin(
        &self,
        account: &str,
        app: &str,
        options: Option<&OAuthOptions>,
    ) -> Result<String> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let options = options.map(options_arg).transpose()?;
        // SAFETY: valid C strings (or NULL options) and an out-pointer.
        let url = self.text_call(|out| unsafe {
            sys::refold_oauth_begin(
                self.ptr(),
                account.as_ptr(),
                app.as_ptr(),
                opt_ptr(&options),
                out,
            )
        })?;
        url.text().map(str::to_owned)
    }

    /// Finishes a flow with the full callback URL the browser reached.
    /// [`Error::State`] for an unknown, reused or expired state;
    /// [`Error::Cancelled`] when the user denied access.
    pub fn oauth_complete(&self, callback_url: &str) -> Result<OAuthResult> {
        let url = c_arg(callback_url, "callback URL")?;
        // SAFETY: a valid C string and an out-pointer.
        let text = self.text_call(|out| unsafe {
            sys::refold_oauth_complete(self.ptr(), url.as_ptr(), out)
        })?;
        OAuthResult::parse(text.text()?)
    }

    /// Registers `handler` for every event of this client, replacing the
    /// previous one. It runs on the thread whose call caused the event,
    /// after the change is committed, and may call the client again (through
    /// an `Arc` or a `Weak`); events of different threads may arrive at the
    /// same time. A panic in it never unwinds into C: it comes out of the
    /// `Client` method that caused the event, after that call returns.
    pub fn set_event_handler<F>(&self, handler: F) -> Result<()>
    where
        F: Fn(&Event) + Send + Sync + 'static,
    {
        let boxed: Box<Box<EventFn>> = Box::new(Box::new(handler));
        let payload = Box::into_raw(boxed) as *mut c_void;
        // SAFETY: the library owns payload from now on and releases it with
        // free_event_handler; the trampolines match the C typedefs.
        let r = call(|| unsafe {
            sys::refold_set_event_handler(
                self.ptr(),
                Some(callbacks::event_trampoline),
                payload,
                Some(callbacks::free_event_handler),
            )
        });
        if r.is_err() {
            // SAFETY: a failed registration did not take the payload.
            drop(unsafe { Box::from_raw(payload as *mut Box<EventFn>) });
        }
        r
    }

    /// Removes the event handler (it is dropped once no call to it is in
    /// flight).
    pub fn clear_event_handler(&self) -> Result<()> {
        // SAFETY: NULL removes the registration.
        call(|| unsafe { sys::refold_set_event_handler(self.ptr(), None, ptr::null_mut(), None) })
    }

    /// Replaces how [`connect_oauth`](Self::connect_oauth) opens the
    /// authorization URL. The opener runs on the thread calling
    /// `connect_oauth`, before the library waits for the browser's
    /// redirect, so it must hand the URL off (to a browser, another thread)
    /// and return. An `Err` (or a panic, which is resumed afterwards)
    /// cancels the flow with [`Error::Cancelled`], which then carries the
    /// error's text.
    pub fn set_url_opener<F>(&self, opener: F) -> Result<()>
    where
        F: Fn(&str) -> std::io::Result<()> + Send + Sync + 'static,
    {
        let boxed: Box<Box<OpenerFn>> = Box::new(Box::new(opener));
        let payload = Box::into_raw(boxed) as *mut c_void;
        // SAFETY: as for set_event_handler.
        let r = call(|| unsafe {
            sys::refold_set_url_opener(
                self.ptr(),
                Some(callbacks::opener_trampoline),
                payload,
                Some(callbacks::free_opener),
            )
        });
        if r.is_err() {
            // SAFETY: a failed registration did not take the payload.
            drop(unsafe { Box::from_raw(payload as *mut Box<OpenerFn>) });
        }
        r
    }

    /// Restores the default URL opener (the system browser).
    pub fn reset_url_opener(&self) -> Result<()> {
        // SAFETY: NULL restores the default.
        call(|| unsafe { sys::refold_set_url_opener(self.ptr(), None, ptr::null_mut(), None) })
    }

    /// Marks `account`'s connection to `app` as needing re-authentication,
    /// for a host that learned from the provider (a webhook) that access
    /// ended. `reason` is a short word such as `"uninstalled"`, `"revoked"`
    /// or `"deleted"` (`None`: `"revoked"`). Emits `connection.expired` for
    /// each connection it changes; reads then fail with
    /// [`Error::ReauthRequired`] until the user connects again.
    pub fn mark_reauth(&self, account: &str, app: &str, reason: Option<&str>) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let reason = reason.map(|r| c_arg(r, "reason")).transpose()?;
        // SAFETY: valid C strings (or a NULL reason) for the duration of the call.
        call(|| unsafe {
            sys::refold_mark_reauth(self.ptr(), account.as_ptr(), app.as_ptr(), opt_ptr(&reason))
        })
    }

    /// Tells the client that an API call made with `account`'s current
    /// credentials for `app` got HTTP 401. `Ok` when the OAuth token could
    /// be refreshed: read the credentials again and retry.
    /// [`Error::ReauthRequired`] (and a `connection.expired` event) when the
    /// user must connect again.
    ///
    /// Which token got the 401 is told by the calling thread (the one that
    /// read the credentials). Async code, whose tasks move between threads,
    /// uses [`Client::report_unauthorized_token`] instead.
    pub fn report_unauthorized(&self, account: &str, app: &str) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        // SAFETY: valid C strings for the duration of the call.
        call(|| unsafe {
            sys::refold_report_unauthorized(self.ptr(), account.as_ptr(), app.as_ptr())
        })
    }

    /// Like [`Client::report_unauthorized`], naming the access token the
    /// rejected request carried (the bare token, not the `Bearer ...`
    /// header), so it works from any thread or task. If that token was
    /// already replaced, nothing happens and `Ok` is returned: read the
    /// credentials again and retry. For a key-based connection the token is
    /// not compared: the report is told by thread. An empty token is
    /// [`Error::Invalid`].
    pub fn report_unauthorized_token(
        &self,
        account: &str,
        app: &str,
        access_token: &str,
    ) -> Result<()> {
        let (account, app) = (c_arg(account, "account")?, c_arg(app, "app")?);
        let token = c_arg(access_token, "access_token")?;
        // SAFETY: valid C strings for the duration of the call.
        call(|| unsafe {
            sys::refold_report_unauthorized_token(
                self.ptr(),
                account.as_ptr(),
                app.as_ptr(),
                token.as_ptr(),
            )
        })
    }

    /// Replaces the clock the client uses for token expiry, refresh
    /// scheduling and timestamps (for tests and simulations). It may run on
    /// any thread, including the background refresher's; it must be fast
    /// and must not call the client. A panic in it falls back to the system
    /// clock for that reading.
    pub fn set_clock<F>(&self, clock: F) -> Result<()>
    where
        F: Fn() -> std::time::SystemTime + Send + Sync + 'static,
    {
        let boxed: Box<Box<ClockFn>> = Box::new(Box::new(clock));
        let payload = Box::into_raw(boxed) as *mut c_void;
        // SAFETY: as for set_event_handler.
        let r = call(|| unsafe {
            sys::refold_set_clock(
                self.ptr(),
                Some(callbacks::clock_trampoline),
                payload,
                Some(callbacks::free_clock),
            )
        });
        if r.is_err() {
            // SAFETY: a failed registration did not take the payload.
            drop(unsafe { Box::from_raw(payload as *mut Box<ClockFn>) });
        }
        r
    }

    /// Restores the system clock.
    pub fn reset_clock(&self) -> Result<()> {
        // SAFETY: NULL restores the system clock.
        call(|| unsafe { sys::refold_set_clock(self.ptr(), None, ptr::null_mut(), None) })
    }

    /// Replaces the master key with `new_key` (32 bytes, base64 or hex);
    /// the store then opens only with the new key.
    pub fn rotate_master_key(&self, new_key: &str) -> Result<()> {
        let key = c_arg(new_key, "key")?;
        // SAFETY: a valid C string for the duration of the call.
        call(|| unsafe { sys::refold_rotate_master_key(self.ptr(), key.as_ptr()) })
    }

    /// Replaces the store's data key: a new key becomes current for every
    /// write, every record is re-encrypted under it in short batches (reads
    /// and refreshes go on meanwhile, in every process), then the older
    /// keys are deleted. Finishes a rotation that stopped part-way instead
    /// of starting another. Blocks until done: run it on a thread of its
    /// own; `data_key_status` shows its progress.
    pub fn rotate_data_key(&self) -> Result<()> {
        // SAFETY: a valid handle.
        call(|| unsafe { sys::refold_rotate_data_key(self.ptr()) })
    }

    /// The store's data keys and how many records each seals (never key
    /// material).
    pub fn data_key_status(&self) -> Result<DataKeyStatus> {
        // SAFETY: an out-pointer.
        let text = self.text_call(|out| unsafe { sys::refold_data_key_status(self.ptr(), out) })?;
        DataKeyStatus::parse(text.text()?)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let scope = CallScope::enter();
        // SAFETY: the handle is valid and no other call can be running: Drop
        // has the only reference.
        unsafe { sys::refold_client_free(self.ptr()) };
        // A panic while dropping a handler was caught; Drop must not panic.
        scope.discard();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_written_once_into_a_buffer_of_their_size() {
        let fields = [
            ("auth_token", Value::from("s3cr\"et\n\u{0}\u{e9}")),
            ("region", Value::from("eu")),
        ];
        let arg = fields_arg(&fields).unwrap();
        // One allocation of exactly the text and its NUL: nothing was
        // reallocated, so no unwiped partial copy was left behind.
        assert_eq!(arg.0.capacity(), arg.0.len());
        let (nul, text) = arg.0.split_last().unwrap();
        assert_eq!(*nul, 0);
        assert!(
            !text.contains(&0),
            "a NUL inside would cut the payload short"
        );
        let parsed = crate::json::parse(std::str::from_utf8(text).unwrap()).unwrap();
        assert_eq!(
            parsed.get("auth_token").and_then(Value::as_str),
            Some("s3cr\"et\n\u{0}\u{e9}")
        );
        assert_eq!(parsed.get("region").and_then(Value::as_str), Some("eu"));
    }

    #[test]
    fn c_arguments_refuse_nul_and_are_wiped() {
        assert!(
            matches!(c_arg("a\0b", "account"), Err(Error::Invalid(m)) if m.contains("account"))
        );
        let mut arg = c_arg("token-value", "access_token").unwrap();
        assert_eq!(&arg.0, b"token-value\0");
        wipe(&mut arg.0);
        assert!(arg.0.iter().all(|b| *b == 0));
    }
}
