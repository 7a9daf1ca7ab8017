//! Rust binding of refold, an embeddable app-connection manager: OAuth 2.0
//! and key-based credentials, stored encrypted, read back on demand.
//!
//! A thin, safe layer over the C library (`include/refold.h`, declared in
//! [`sys`]): every function of the header is a method of [`Client`],
//! failures are [`Error`] values (with an [`Error::ReauthRequired`]
//! variant), and handlers are closures. No dependencies; the build script
//! finds the library (see README.md).
//!
//! ```no_run
//! use refold::{Client, Error};
//!
//! let client = Client::open(r#"{"store": "/var/lib/myapp/refold.db"}"#)?;
//! client.set_event_handler(|e| println!("{} {}/{}", e.kind, e.account, e.app))?;
//! client.connect_keybased("customer-42", "openai", &[("api_key", "sk-...".into())])?;
//! match client.credentials("customer-42", "github") {
//!     Ok(creds) => println!("{creds:?}"), // shows no secret
//!     Err(Error::ReauthRequired(_)) => println!("ask the customer to reconnect"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), refold::Error>(())
//! ```

mod callbacks;
mod client;
mod error;
pub mod json;
pub mod sys;
mod types;

pub use client::Client;
pub use error::{strerror, Error, Result};
pub use types::{
    App, ConnectedAccount, Connection, ConnectionPage, ConnectionQuery, CopyReport, Credentials,
    DataKey, DataKeyStatus, Event, EventPage, InputField, LoggedEvent, OAuthClient, OAuthOptions,
    OAuthResult, UserToken,
};

/// The version of the loaded library, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    // SAFETY: static, NUL-terminated ASCII text.
    unsafe { std::ffi::CStr::from_ptr(sys::refold_version()) }
        .to_str()
        .unwrap_or("")
}
