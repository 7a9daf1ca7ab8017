//! The one place where a refold return code becomes an [`Error`].
use std::ffi::{c_int, CStr};
use std::fmt;

use crate::sys;

/// A failed refold call: which kind of failure, with the library's detail
/// message (it names what was wrong, never a secret value).
///
/// ```no_run
/// # fn f(client: &refold::Client) {
/// match client.credentials("customer-42", "github") {
///     Ok(creds) => { /* use creds.access_token() */ }
///     Err(refold::Error::ReauthRequired(why)) => { /* ask the customer to reconnect */ }
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `REFOLD_ERROR`: an unexpected internal failure.
    Internal(String),
    /// `REFOLD_EINVALID`: a bad argument, config, payload or catalog entry.
    Invalid(String),
    /// `REFOLD_ENOTFOUND`: an unknown app, or no such connection.
    NotFound(String),
    /// `REFOLD_EREAUTH`: the connection needs its user to re-authenticate.
    ReauthRequired(String),
    /// `REFOLD_EAUTH`: the provider rejected the credentials.
    Auth(String),
    /// `REFOLD_ENETWORK`: the provider could not be reached.
    Network(String),
    /// `REFOLD_EPROVIDER`: the provider answered with an error.
    Provider(String),
    /// `REFOLD_ESTATE`: an unknown, reused or expired OAuth state.
    State(String),
    /// `REFOLD_ESTORE`: the store could not be read or written.
    Store(String),
    /// `REFOLD_ECRYPTO`: a wrong master key, or data that failed authentication.
    Crypto(String),
    /// `REFOLD_ETIMEOUT`: an operation ran out of time.
    Timeout(String),
    /// `REFOLD_ECANCELLED`: an operation was cancelled (the user denied
    /// access, or the URL opener failed).
    Cancelled(String),
    /// A code this version of the crate does not know.
    Other { code: i32, message: String },
}

/// `Result` with refold's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error of a call that returned `code`, with its detail message.
    pub fn from_code(code: i32, message: String) -> Error {
        match code {
            sys::REFOLD_ERROR => Error::Internal(message),
            sys::REFOLD_EINVALID => Error::Invalid(message),
            sys::REFOLD_ENOTFOUND => Error::NotFound(message),
            sys::REFOLD_EREAUTH => Error::ReauthRequired(message),
            sys::REFOLD_EAUTH => Error::Auth(message),
            sys::REFOLD_ENETWORK => Error::Network(message),
            sys::REFOLD_EPROVIDER => Error::Provider(message),
            sys::REFOLD_ESTATE => Error::State(message),
            sys::REFOLD_ESTORE => Error::Store(message),
            sys::REFOLD_ECRYPTO => Error::Crypto(message),
            sys::REFOLD_ETIMEOUT => Error::Timeout(message),
            sys::REFOLD_ECANCELLED => Error::Cancelled(message),
            code => Error::Other { code, message },
        }
    }

    /// The error of the call that just returned `code` on this thread: its
    /// message is `refold_last_error()`, read before any other refold call.
    pub(crate) fn last(code: c_int) -> Error {
        // SAFETY: refold_last_error never returns NULL; the text stays valid
        // until the next refold call on this thread, and is copied now.
        let message = unsafe { CStr::from_ptr(sys::refold_last_error()) }
            .to_string_lossy()
            .into_owned();
        Error::from_code(code, message)
    }

    /// The `REFOLD_E*` code.
    pub fn code(&self) -> i32 {
        match self {
            Error::Internal(_) => sys::REFOLD_ERROR,
            Error::Invalid(_) => sys::REFOLD_EINVALID,
            Error::NotFound(_) => sys::REFOLD_ENOTFOUND,
            Error::ReauthRequired(_) => sys::REFOLD_EREAUTH,
            Error::Auth(_) => sys::REFOLD_EAUTH,
            Error::Network(_) => sys::REFOLD_ENETWORK,
            Error::Provider(_) => sys::REFOLD_EPROVIDER,
            Error::State(_) => sys::REFOLD_ESTATE,
            Error::Store(_) => sys::REFOLD_ESTORE,
            Error::Crypto(_) => sys::REFOLD_ECRYPTO,
            Error::Timeout(_) => sys::REFOLD_ETIMEOUT,
            Error::Cancelled(_) => sys::REFOLD_ECANCELLED,
            Error::Other { code, .. } => *code,
        }
    }

    /// The library's detail message.
    pub fn message(&self) -> &str {
        match self {
            Error::Internal(m)
            | Error::Invalid(m)
            | Error::NotFound(m)
            | Error::ReauthRequired(m)
            | Error::Auth(m)
            | Error::Network(m)
            | Error::Provider(m)
            | Error::State(m)
            | Error::Store(m)
            | Error::Crypto(m)
            | Error::Timeout(m)
            | Error::Cancelled(m) => m,
            Error::Other { message, .. } => message,
        }
    }

    /// Whether the user must connect again (`Error::ReauthRequired`).
    pub fn is_reauth_required(&self) -> bool {
        matches!(self, Error::ReauthRequired(_))
    }
}

/// The library's static text for a code ("unknown error code" otherwise).
pub fn strerror(code: i32) -> &'static str {
    // SAFETY: refold_strerror returns static, NUL-terminated ASCII text.
    unsafe { CStr::from_ptr(sys::refold_strerror(code)) }
        .to_str()
        .unwrap_or("unknown error code")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = strerror(self.code());
        if self.message().is_empty() {
            write!(f, "refold: {text}")
        } else {
            write!(f, "refold: {text}: {}", self.message())
        }
    }
}

impl std::error::Error for Error {}
