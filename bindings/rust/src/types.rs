//! Typed results: what the library returns as JSON, read into structs.
use std::fmt;

use crate::error::{Error, Result};
use crate::json::{self, wipe_string, Value};

/// Reads JSON the library returned; a shape it never returns is an
/// internal error.
fn bad(what: &str) -> Error {
    Error::Internal(format!("unexpected JSON from the library: {what}"))
}

fn parse_json(text: &str) -> Result<Value> {
    json::parse(text).map_err(|e| bad(&e.to_string()))
}

fn string(v: &Value, name: &str) -> Result<String> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| bad(name))
}

fn opt_string(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn boolean(v: &Value, name: &str) -> bool {
    v.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn strings(v: &Value, name: &str) -> Vec<String> {
    v.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// An object of strings as (name, value) pairs; absent or null: none.
fn string_pairs(v: &Value, name: &str) -> Result<Vec<(String, String)>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(members)) => members
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(|| bad(name))?.to_owned())))
            .collect(),
        Some(_) => Err(bad(name)),
    }
}

fn array<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.get(name).and_then(Value::as_array).unwrap_or(&[])
}

fn list<T>(text: &str, item: impl Fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    parse_json(text)?
        .as_array()
        .ok_or_else(|| bad("an array"))?
        .iter()
        .map(item)
        .collect()
}

/// The credentials of one connection. The refresh token never leaves the
/// library, nor does a customer's client secret. `Debug` shows no secret
/// value, and the secrets are overwritten in memory when the value is
/// dropped.
// A value is read per call and not kept in bulk, so the OAuth variant's size
// costs nothing worth a box that every match on `user` would have to see through.
#[allow(clippy::large_enum_variant)]
pub enum Credentials {
    /// A key-based connection: the app's fields by name.
    KeyBased { fields: Vec<(String, Value)> },
    /// An OAuth 2.0 connection: one a user authorized, or one of a
    /// client-credentials app (see `client_credentials`).
    OAuth2 {
        access_token: String,
        token_type: String,
        /// RFC 3339 UTC, or `None` when the provider gave no expiry.
        expires_at: Option<String>,
        scopes: Vec<String>,
        /// The customer's own client the connection was made with
        /// ([`OAuthOptions::client`], or the `client_id` a
        /// client-credentials app was connected with); `None` for the
        /// host's registration.
        client_id: Option<String>,
        /// True for an app of the client-credentials grant (auth type
        /// `"oauth2_cc"`, docs/catalog.md): the token comes from the
        /// customer's client id and secret, with no user behind it.
        /// [`Credentials::auth_type`] names it too. Such a connection is
        /// `OAuth2` all the same: code that reads `OAuth2` tokens reads its
        /// token as any other.
        client_credentials: bool,
        /// A second token of the same grant (Slack's user token), when the
        /// app keeps one.
        user: Option<UserToken>,
        /// The connection inputs it was made with (the app's
        /// `connection_fields`, such as a tenant's subdomain), by name; empty
        /// when the app has none.
        connection: Vec<(String, String)>,
        /// Values kept from the provider's answers (the app's
        /// `token_response_metadata`, `callback_metadata` and
        /// `after_connect`, such as Salesforce's `instance_url`), by name;
        /// empty when the app keeps none.
        metadata: Vec<(String, String)>,
        /// Where to call the provider's API for this connection (the app's
        /// `api_base_url`, filled in); `None` when the app declares none.
        api_base_url: Option<String>,
    },
}

/// The second token an OAuth grant may carry beside the connection's own
/// (Slack's user token beside its bot token). `Debug` shows no token, and
/// the token is overwritten in memory when the value is dropped.
pub struct UserToken {
    pub access_token: String,
    pub token_type: String,
    /// RFC 3339 UTC, or `None` when the provider gave no expiry.
    pub expires_at: Option<String>,
    pub scopes: Vec<String>,
    /// The user the token acts for, when the provider names them.
    pub id: Option<String>,
}

impl Credentials {
    pub(crate) fn parse(text: &str) -> Result<Credentials> {
        let mut v = parse_json(text)?;
        let creds = Credentials::from_value(&v);
        // Wiped whether or not it read: a refused shape may still hold tokens.
        v.wipe();
        creds
    }

    fn from_value(v: &Value) -> Result<Credentials> {
        let client_credentials = match v.get("auth_type").and_then(Value::as_str) {
            Some("keybased") => {
                return match v.get("fields") {
                    Some(Value::Object(fields)) => Ok(Credentials::KeyBased {
                        fields: fields.clone(),
                    }),
                    _ => Err(bad("fields")),
                }
            }
            Some("oauth2") => false,
            Some("oauth2_cc") => true,
            _ => return Err(bad("auth_type")),
        };
        // What may fail is read before the access token, so that a failure
        // drops no unwiped copy of it (the user token wipes itself).
        let token_type = string(v, "token_type")?;
        let connection = string_pairs(v, "connection")?;
        let metadata = string_pairs(v, "metadata")?;
        let user = match v.get("user") {
            None | Some(Value::Null) => None,
            Some(u) => Some(UserToken::from_value(u)?),
        };
        Ok(Credentials::OAuth2 {
            access_token: string(v, "access_token")?,
            token_type,
            expires_at: opt_string(v, "expires_at"),
            scopes: strings(v, "scopes"),
            client_id: opt_string(v, "client_id"),
            client_credentials,
            user,
            connection,
            metadata,
            api_base_url: opt_string(v, "api_base_url"),
        })
    }

    /// `"keybased"`, `"oauth2"` or `"oauth2_cc"` (a client-credentials app).
    pub fn auth_type(&self) -> &'static str {
        match self {
            Credentials::KeyBased { .. } => "keybased",
            Credentials::OAuth2 {
                client_credentials: true,
                ..
            } => "oauth2_cc",
            Credentials::OAuth2 { .. } => "oauth2",
        }
    }

    /// A key-based field by name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Credentials::KeyBased { fields } => {
                fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
            }
            Credentials::OAuth2 { .. } => None,
        }
    }

    /// The OAuth access token.
    pub fn access_token(&self) -> Option<&str> {
        match self {
            Credentials::OAuth2 { access_token, .. } => Some(access_token),
            Credentials::KeyBased { .. } => None,
        }
    }

    /// The customer's own OAuth client the connection was made with;
    /// `None` for the host's registration or a key-based connection.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Credentials::OAuth2 { client_id, .. } => client_id.as_deref(),
            Credentials::KeyBased { .. } => None,
        }
    }

    /// The second token of an OAuth grant (Slack's user token), when the
    /// app keeps one.
    pub fn user(&self) -> Option<&UserToken> {
        match self {
            Credentials::OAuth2 { user, .. } => user.as_ref(),
            Credentials::KeyBased { .. } => None,
        }
    }

    /// The connection inputs an OAuth connection was made with, as
    /// (name, value) pairs; empty for an app without any.
    pub fn connection(&self) -> &[(String, String)] {
        match self {
            Credentials::OAuth2 { connection, .. } => connection,
            Credentials::KeyBased { .. } => &[],
        }
    }

    /// An OAuth connection's metadata (such as Salesforce's
    /// `instance_url`), as (name, value) pairs; empty for an app that keeps
    /// none.
    pub fn metadata(&self) -> &[(String, String)] {
        match self {
            Credentials::OAuth2 { metadata, .. } => metadata,
            Credentials::KeyBased { .. } => &[],
        }
    }

    /// Where to call the provider's API for an OAuth connection, when the
    /// app declares an `api_base_url`.
    pub fn api_base_url(&self) -> Option<&str> {
        match self {
            Credentials::OAuth2 { api_base_url, .. } => api_base_url.as_deref(),
            Credentials::KeyBased { .. } => None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::KeyBased { fields } => f
                .debug_struct("KeyBased")
                .field(
                    "fields",
                    &fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                )
                .finish_non_exhaustive(),
            Credentials::OAuth2 {
                token_type,
                expires_at,
                scopes,
                client_id,
                client_credentials,
                user,
                connection,
                metadata,
                api_base_url,
                ..
            } => f
                .debug_struct("OAuth2")
                .field("access_token", &"<redacted>")
                .field("token_type", token_type)
                .field("expires_at", expires_at)
                .field("scopes", scopes)
                .field("client_id", client_id)
                .field("client_credentials", client_credentials)
                // Not secret: shown as they are.
                .field("connection", connection)
                .field("metadata", metadata)
                .field("api_base_url", api_base_url)
                .field("user", user)
                .finish(),
        }
    }
}

impl Drop for Credentials {
    fn drop(&mut self) {
        match self {
            Credentials::KeyBased { fields } => fields.iter_mut().for_each(|(_, v)| v.wipe()),
            // The user token wipes its own.
            Credentials::OAuth2 { access_token, .. } => wipe_string(access_token),
        }
    }
}

impl UserToken {
    fn from_value(v: &Value) -> Result<UserToken> {
        if !matches!(v, Value::Object(_)) {
            return Err(bad("user"));
        }
        let token_type = string(v, "token_type")?;
        Ok(UserToken {
            access_token: string(v, "access_token")?,
            token_type,
            expires_at: opt_string(v, "expires_at"),
            scopes: strings(v, "scopes"),
            id: opt_string(v, "id"),
        })
    }
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserToken")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for UserToken {
    fn drop(&mut self) {
        wipe_string(&mut self.access_token);
    }
}

/// An app of the catalog with an account's connection state, in the shape
/// a connection UI needs.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    /// `crm`, `support`, ... (docs/catalog.md); empty when the app has none.
    pub category: String,
    /// The provider's API documentation; empty when not given.
    pub docs_url: String,
    pub tags: Vec<String>,
    /// `"oauth2"`, `"keybased"` or both.
    pub auth_types: Vec<String>,
    /// The fields key-based auth asks for (empty without it).
    pub keybased_fields: Vec<InputField>,
    /// The inputs an OAuth connection is made with (a tenant's subdomain),
    /// given to `oauth_begin`'s options as `"connection"`; empty for most apps.
    pub connection_fields: Vec<InputField>,
    pub connected: bool,
    pub reauth_required: bool,
    pub connected_accounts: Vec<ConnectedAccount>,
}

/// A field a key-based app asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct InputField {
    pub name: String,
    pub label: String,
    /// `"text"`, `"number"`, `"boolean"` or `"select"`.
    pub kind: String,
    pub required: bool,
    pub secret: bool,
    pub placeholder: String,
    pub help_text: String,
    pub pattern: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// (label, value) pairs of a select field.
    pub options: Vec<(String, String)>,
    /// A host input's domains: the value is a whole host name equal to one
    /// of them or ending in `.` and one; empty for other fields.
    pub host_suffixes: Vec<String>,
}

/// One connection of an app, in a listing of apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub auth_type: String,
    pub connected_at: String,
    /// `"active"` or `"expired"`.
    pub status: String,
    pub reason: Option<String>,
}

impl App {
    pub(crate) fn parse_list(text: &str) -> Result<Vec<App>> {
        list(text, |v| {
            let fields = v
                .get("auth_type_options")
                .map(|o| array(o, "keybased"))
                .unwrap_or(&[])
                .iter()
                .map(InputField::from_json)
                .collect::<Result<_>>()?;
            let inputs = array(v, "connection_fields")
                .iter()
                .map(InputField::from_json)
                .collect::<Result<_>>()?;
            Ok(App {
                slug: string(v, "slug")?,
                name: string(v, "name")?,
                description: opt_string(v, "description").unwrap_or_default(),
                icon: opt_string(v, "icon").unwrap_or_default(),
                category: opt_string(v, "category").unwrap_or_default(),
                docs_url: opt_string(v, "docs_url").unwrap_or_default(),
                tags: strings(v, "tags"),
                auth_types: strings(v, "auth_types"),
                keybased_fields: fields,
                connection_fields: inputs,
                connected: boolean(v, "connected"),
                reauth_required: boolean(v, "reauth_required"),
                connected_accounts: array(v, "connected_accounts")
                    .iter()
                    .map(|a| {
                        Ok(ConnectedAccount {
                            auth_type: string(a, "auth_type")?,
                            connected_at: string(a, "connected_at")?,
                            status: string(a, "status")?,
                            reason: opt_string(a, "reason"),
                        })
                    })
                    .collect::<Result<_>>()?,
            })
        })
    }
}

impl InputField {
    fn from_json(v: &Value) -> Result<InputField> {
        Ok(InputField {
            name: string(v, "name")?,
            label: opt_string(v, "label").unwrap_or_default(),
            kind: string(v, "type")?,
            required: boolean(v, "required"),
            secret: boolean(v, "secret"),
            placeholder: opt_string(v, "placeholder").unwrap_or_default(),
            help_text: opt_string(v, "help_text").unwrap_or_default(),
            pattern: opt_string(v, "pattern"),
            min_length: v.get("min_length").and_then(Value::as_u64),
            max_length: v.get("max_length").and_then(Value::as_u64),
            minimum: v.get("minimum").and_then(Value::as_f64),
            maximum: v.get("maximum").and_then(Value::as_f64),
            options: array(v, "options")
                .iter()
                .map(|o| Ok((string(o, "name")?, string(o, "value")?)))
                .collect::<Result<_>>()?,
            host_suffixes: strings(v, "host_suffixes"),
        })
    }
}

/// One (account, app, auth type) connection. It holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub account: String,
    pub app: String,
    pub auth_type: String,
    /// `"active"` or `"reauth_required"`.
    pub status: String,
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
    /// The OAuth token's expiry, if any.
    pub expires_at: Option<String>,
    /// When a refresh is due, if any.
    pub next_refresh_at: Option<String>,
    pub refresh_failures: u64,
    /// When the refresh token lapses (RFC 3339 UTC), when the provider said
    /// so. After it the connection is `reauth_required` (reason `expired`).
    pub refresh_token_expires_at: Option<String>,
    /// The connection inputs it was made with, as in
    /// [`Credentials::connection`]; empty when the app has none.
    pub connection: Vec<(String, String)>,
    /// Values kept from the provider's answers, as in
    /// [`Credentials::metadata`]; empty when the app keeps none.
    pub metadata: Vec<(String, String)>,
    /// Where to call the provider's API for this connection, when the app
    /// declares it.
    pub api_base_url: Option<String>,
}

impl Connection {
    fn from_value(v: &Value) -> Result<Connection> {
        Ok(Connection {
            account: string(v, "account")?,
            app: string(v, "app")?,
            auth_type: string(v, "auth_type")?,
            status: string(v, "status")?,
            reason: opt_string(v, "reason"),
            created_at: string(v, "created_at")?,
            updated_at: string(v, "updated_at")?,
            expires_at: opt_string(v, "expires_at"),
            next_refresh_at: opt_string(v, "next_refresh_at"),
            refresh_failures: v
                .get("refresh_failures")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            refresh_token_expires_at: opt_string(v, "refresh_token_expires_at"),
            connection: string_pairs(v, "connection")?,
            metadata: string_pairs(v, "metadata")?,
            api_base_url: opt_string(v, "api_base_url"),
        })
    }

    pub(crate) fn parse_list(text: &str) -> Result<Vec<Connection>> {
        list(text, Connection::from_value)
    }
}

/// Which connections [`Client::list_connections_page`](crate::Client::list_connections_page)
/// lists; each `None` selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionQuery {
    /// One account's connections.
    pub account: Option<String>,
    /// Connections to one app (a slug).
    pub app: Option<String>,
    /// `"active"` or `"reauth_required"`.
    pub status: Option<String>,
    /// At most this many per page, 1 to 1000 (`None`: 100).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; `None`: the first page.
    pub cursor: Option<String>,
}

impl ConnectionQuery {
    pub(crate) fn to_json(&self) -> String {
        let mut members = Vec::new();
        for (name, value) in [
            ("account", &self.account),
            ("app", &self.app),
            ("status", &self.status),
        ] {
            if let Some(v) = value {
                members.push((name, Value::from(v.as_str())));
            }
        }
        if let Some(limit) = self.limit {
            members.push(("limit", Value::from(u64::from(limit))));
        }
        if let Some(cursor) = &self.cursor {
            members.push(("cursor", Value::from(cursor.as_str())));
        }
        Value::object(members).to_string()
    }
}

/// One page of [`Client::list_connections_page`](crate::Client::list_connections_page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPage {
    /// In (account, app, auth type) order.
    pub connections: Vec<Connection>,
    /// The cursor of the next page of the same query (opaque; good for
    /// any client of the same store); `None` on the last page.
    pub next_cursor: Option<String>,
}

impl ConnectionPage {
    pub(crate) fn parse(text: &str) -> Result<ConnectionPage> {
        let v = parse_json(text)?;
        Ok(ConnectionPage {
            connections: v
                .get("connections")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("connections"))?
                .iter()
                .map(Connection::from_value)
                .collect::<Result<_>>()?,
            next_cursor: opt_string(&v, "next_cursor"),
        })
    }
}

/// The store's data keys (see `Client::rotate_data_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyStatus {
    /// The key every write seals under.
    pub current_key: i64,
    /// True while a retiring key remains: a rotation is under way, or
    /// stopped part-way (`rotate_data_key` finishes it).
    pub rotating: bool,
    /// Records still under retiring keys.
    pub records_to_reseal: u64,
    /// Oldest first.
    pub keys: Vec<DataKey>,
}

/// One data key of the store, with the records it seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey {
    pub id: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// `"current"` or `"retiring"`.
    pub state: String,
    pub connections: u64,
    pub pending_flows: u64,
}

fn count(v: &Value, name: &str) -> Result<u64> {
    v.get(name).and_then(Value::as_u64).ok_or_else(|| bad(name))
}

fn id(v: &Value, name: &str) -> Result<i64> {
    v.get(name).and_then(Value::as_i64).ok_or_else(|| bad(name))
}

impl DataKeyStatus {
    pub(crate) fn parse(text: &str) -> Result<DataKeyStatus> {
        let v = parse_json(text)?;
        let keys = array(&v, "keys")
            .iter()
            .map(|k| {
                Ok(DataKey {
                    id: id(k, "id")?,
                    created_at: string(k, "created_at")?,
                    state: string(k, "state")?,
                    connections: count(k, "connections")?,
                    pending_flows: count(k, "pending_flows")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DataKeyStatus {
            current_key: id(&v, "current_key")?,
            rotating: boolean(&v, "rotating"),
            records_to_reseal: count(&v, "records_to_reseal")?,
            keys,
        })
    }
}

/// What [`Client::copy_connections_to`](crate::Client::copy_connections_to)
/// copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Connections copied.
    pub copied: i64,
    /// Of those, the ones that still need re-authentication.
    pub reauth_required: i64,
}

impl CopyReport {
    pub(crate) fn parse(text: &str) -> Result<CopyReport> {
        let v = parse_json(text)?;
        Ok(CopyReport {
            copied: id(&v, "copied")?,
            reauth_required: id(&v, "reauth_required")?,
        })
    }
}

/// What happened to a connection, as the event handler receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `"connection.created"`, `"connection.deleted"`, `"connection.expired"`, ...
    pub kind: String,
    pub account: String,
    pub app: String,
    pub auth_type: String,
    /// RFC 3339 UTC.
    pub at: String,
    pub reason: Option<String>,
    /// `connection.refresh_failed`: when the refresh is retried (RFC 3339).
    pub retry_at: Option<String>,
    /// `connection.deleted` of an OAuth connection whose app can revoke
    /// tokens: whether the provider confirmed revoking them.
    pub revoked: Option<bool>,
}

impl Event {
    pub const CREATED: &'static str = "connection.created";
    pub const REAUTHENTICATED: &'static str = "connection.reauthenticated";
    pub const REFRESHED: &'static str = "connection.refreshed";
    pub const REFRESH_FAILED: &'static str = "connection.refresh_failed";
    /// The user must connect again; `reason` says why.
    pub const EXPIRED: &'static str = "connection.expired";
    pub const DELETED: &'static str = "connection.deleted";

    pub(crate) fn parse(text: &str) -> Result<Event> {
        Event::from_value(&parse_json(text)?)
    }

    fn from_value(v: &Value) -> Result<Event> {
        Ok(Event {
            kind: string(v, "type")?,
            account: string(v, "account")?,
            app: string(v, "app")?,
            auth_type: string(v, "auth_type")?,
            at: string(v, "at")?,
            reason: opt_string(v, "reason"),
            retry_at: opt_string(v, "retry_at"),
            revoked: v.get("revoked").and_then(Value::as_bool),
        })
    }
}

/// An [`Event`] as the durable event log keeps it
/// ([`Client::read_events`](crate::Client::read_events)), with its position
/// in the log. Its `revoked` is always `None`: that is known only after the
/// commit that writes the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// The event's position in the log; pass the last one handled to
    /// [`Client::ack_events`](crate::Client::ack_events).
    pub seq: i64,
    pub event: Event,
}

/// What [`Client::read_events`](crate::Client::read_events) returns: the
/// consumer's next events, in the order their changes committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// Empty when the consumer is up to date.
    pub events: Vec<LoggedEvent>,
    /// True when events the consumer had not acknowledged were removed
    /// (they outlived the store's `event_retention`) before it read them.
    pub missed: bool,
}

impl EventPage {
    pub(crate) fn parse(text: &str) -> Result<EventPage> {
        let v = parse_json(text)?;
        Ok(EventPage {
            events: v
                .get("events")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("events"))?
                .iter()
                .map(|e| {
                    Ok(LoggedEvent {
                        seq: id(e, "seq")?,
                        event: Event::from_value(e)?,
                    })
                })
                .collect::<Result<_>>()?,
            missed: boolean(&v, "missed"),
        })
    }
}

/// What [`Client::oauth_complete`](crate::Client::oauth_complete) connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthResult {
    pub account: String,
    pub app: String,
    pub auth_type: String,
    pub status: String,
}

impl OAuthResult {
    pub(crate) fn parse(text: &str) -> Result<OAuthResult> {
        let v = parse_json(text)?;
        Ok(OAuthResult {
            account: string(&v, "account")?,
            app: string(&v, "app")?,
            auth_type: string(&v, "auth_type")?,
            status: string(&v, "status")?,
        })
    }
}

/// Options of [`Client::oauth_begin`](crate::Client::oauth_begin) and
/// [`Client::connect_oauth_with`](crate::Client::connect_oauth_with); the
/// defaults keep the registration's. `Debug` shows no client secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthOptions {
    /// `oauth_begin` only: the interactive flow redirects to its own listener.
    pub redirect_uri: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// Extra authorize parameters the app allows.
    pub params: Vec<(String, String)>,
    /// The app's connection inputs (its `connection_fields`), such as a
    /// tenant's subdomain, as text (numbers and booleans too).
    pub connection: Vec<(String, String)>,
    /// The customer's own OAuth client for this one connection; `None`: the
    /// host's registration in the config's `oauth_clients`.
    pub client: Option<OAuthClient>,
}

/// A customer's own OAuth client (their own Slack app, their Salesforce
/// connected app), given for one connection in [`OAuthOptions::client`].
/// It authorizes, exchanges the code and from then on refreshes and
/// revokes that connection instead of the host's registration, whose
/// redirect URI and scopes still serve as defaults. The library seals the
/// secret with the connection and never returns it: the credentials show
/// only the `client_id` ([`Credentials::client_id`]).
///
/// `Debug` shows no secret, and the secret is overwritten in memory when
/// the value is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl Drop for OAuthClient {
    fn drop(&mut self) {
        wipe_string(&mut self.client_secret);
    }
}

impl OAuthOptions {
    /// The members of the options' JSON object. They may hold a client
    /// secret: the caller wipes them once written.
    pub(crate) fn members(&self) -> Vec<(&'static str, Value)> {
        let mut members = Vec::new();
        if let Some(uri) = &self.redirect_uri {
            members.push(("redirect_uri", Value::from(uri.as_str())));
        }
        if let Some(scopes) = &self.scopes {
            members.push((
                "scopes",
                Value::array(scopes.iter().map(|s| Value::from(s.as_str()))),
            ));
        }
        for (key, pairs) in [("params", &self.params), ("connection", &self.connection)] {
            if !pairs.is_empty() {
                members.push((
                    key,
                    Value::object(
                        pairs
                            .iter()
                            .map(|(k, v)| (k.as_str(), Value::from(v.as_str()))),
                    ),
                ));
            }
        }
        if let Some(client) = &self.client {
            members.push((
                "client",
                Value::object([
                    ("client_id", Value::from(client.client_id.as_str())),
                    ("client_secret", Value::from(client.client_secret.as_str())),
                ]),
            ));
        }
        members
    }

    /// The options as the JSON text `refold_oauth_begin` reads. The calls
    /// write [`members`](Self::members) straight into their C argument
    /// instead, so that no copy of a client secret is left unwiped.
    #[cfg(test)]
    pub(crate) fn to_json(&self) -> String {
        Value::object(self.members()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_credentials_of_both_kinds() {
        let k = Credentials::parse(r#"{"auth_type":"keybased","fields":{"api_key":"k1","n":5}}"#)
            .unwrap();
        assert_eq!(k.auth_type(), "keybased");
        assert_eq!(k.field("api_key").and_then(Value::as_str), Some("k1"));
        assert_eq!(k.field("n").and_then(Value::as_i64), Some(5));
        assert_eq!(k.access_token(), None);
        let o = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_x","token_type":"Bearer","expires_at":null,"scopes":["a","b"]}"#,
        )
        .unwrap();
        assert_eq!(o.access_token(), Some("at_x"));
        match &o {
            Credentials::OAuth2 {
                expires_at, scopes, ..
            } => {
                assert_eq!(*expires_at, None);
                assert_eq!(scopes, &["a", "b"]);
            }
            _ => panic!("not oauth2"),
        }
        assert!(!format!("{o:?} {k:?}").contains("at_x"));
        assert!(!format!("{k:?}").contains("k1"));
        assert!(Credentials::parse(r#"{"auth_type":"other"}"#).is_err());
        assert!(Credentials::parse("[").is_err());
    }

    #[test]
    fn reads_client_credentials() {
        let cc = Credentials::parse(
            r#"{"auth_type":"oauth2_cc","access_token":"at_cc","token_type":"Bearer","expires_at":"2030-01-01T00:00:00.000Z","scopes":["read"],"client_id":"own"}"#,
        )
        .unwrap();
        assert_eq!(cc.auth_type(), "oauth2_cc");
        assert_eq!(cc.access_token(), Some("at_cc"));
        assert_eq!(cc.client_id(), Some("own"));
        match &cc {
            Credentials::OAuth2 {
                client_credentials,
                expires_at,
                scopes,
                ..
            } => {
                assert!(*client_credentials);
                assert_eq!(expires_at.as_deref(), Some("2030-01-01T00:00:00.000Z"));
                assert_eq!(scopes, &["read"]);
            }
            Credentials::KeyBased { .. } => panic!("not OAuth"),
        }
        let text = format!("{cc:?}");
        assert!(!text.contains("at_cc"), "{text}");
        assert!(text.contains("client_credentials: true"), "{text}");
        let user = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_x","token_type":"Bearer","expires_at":null,"scopes":[]}"#,
        )
        .unwrap();
        assert_eq!(user.auth_type(), "oauth2");
        assert!(matches!(
            user,
            Credentials::OAuth2 {
                client_credentials: false,
                ..
            }
        ));
    }

    #[test]
    fn reads_connection_inputs_metadata_and_the_api_base() {
        let plain = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_plain","token_type":"Bearer","expires_at":null,"scopes":["read"]}"#,
        )
        .unwrap();
        assert!(plain.connection().is_empty() && plain.metadata().is_empty());
        assert_eq!(plain.api_base_url(), None);

        let all = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_sf","token_type":"Bearer","expires_at":null,"scopes":["api"],"connection":{"subdomain":"acme"},"metadata":{"instance_url":"https://na1.example","realmId":"9130"},"api_base_url":"https://na1.example/services"}"#,
        )
        .unwrap();
        let pairs = |p: &[(String, String)]| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(all.connection()), ["subdomain=acme"]);
        assert_eq!(
            pairs(all.metadata()),
            ["instance_url=https://na1.example", "realmId=9130"]
        );
        assert_eq!(all.api_base_url(), Some("https://na1.example/services"));
        match &all {
            Credentials::OAuth2 {
                connection,
                metadata,
                api_base_url,
                ..
            } => {
                assert_eq!(connection.len(), 1);
                assert_eq!(metadata.len(), 2);
                assert_eq!(
                    api_base_url.as_deref(),
                    Some("https://na1.example/services")
                );
            }
            Credentials::KeyBased { .. } => panic!("not OAuth"),
        }
        let text = format!("{all:?}");
        assert!(!text.contains("at_sf"), "{text}");
        assert!(
            text.contains("https://na1.example/services")
                && text.contains("9130")
                && text.contains("acme"),
            "{text}"
        );

        let cc = Credentials::parse(
            r#"{"auth_type":"oauth2_cc","access_token":"a","token_type":"Bearer","expires_at":null,"scopes":[],"metadata":{"tenant":"t1"},"api_base_url":"https://t1.example","connection":null}"#,
        )
        .unwrap();
        assert_eq!(pairs(cc.metadata()), ["tenant=t1"]);
        assert_eq!(cc.api_base_url(), Some("https://t1.example"));
        assert!(cc.connection().is_empty());

        let keys =
            Credentials::parse(r#"{"auth_type":"keybased","fields":{"api_key":"k"}}"#).unwrap();
        assert!(keys.metadata().is_empty() && keys.connection().is_empty());
        assert_eq!(keys.api_base_url(), None);

        for bad in [
            r#""metadata":"x""#,
            r#""metadata":{"hub_id":42}"#,
            r#""connection":["acme"]"#,
        ] {
            let text = format!(
                r#"{{"auth_type":"oauth2","access_token":"a","token_type":"Bearer","expires_at":null,"scopes":[],{bad}}}"#
            );
            assert!(Credentials::parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_a_second_user_token() {
        let bot_only = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"xoxb-bot","token_type":"Bearer","expires_at":null,"scopes":["chat:write"]}"#,
        )
        .unwrap();
        assert!(bot_only.user().is_none());
        assert!(matches!(bot_only, Credentials::OAuth2 { user: None, .. }));

        let both = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"xoxb-bot","token_type":"Bearer","expires_at":"2030-01-02T03:04:05.000Z","scopes":["chat:write"],"user":{"access_token":"xoxp-user","token_type":"Bearer","expires_at":"2030-01-02T04:04:05.000Z","scopes":["search:read","users:read"],"id":"U024BE7LH"}}"#,
        )
        .unwrap();
        assert_eq!(both.access_token(), Some("xoxb-bot"));
        let user = both.user().expect("the user token");
        assert_eq!(user.access_token, "xoxp-user");
        assert_eq!(user.token_type, "Bearer");
        assert_eq!(user.expires_at.as_deref(), Some("2030-01-02T04:04:05.000Z"));
        assert_eq!(user.scopes, ["search:read", "users:read"]);
        assert_eq!(user.id.as_deref(), Some("U024BE7LH"));
        for text in [
            format!("{both:?}"),
            format!("{both:#?}"),
            format!("{user:?}"),
        ] {
            assert!(
                !text.contains("xoxb-bot") && !text.contains("xoxp-user"),
                "{text}"
            );
            assert!(text.contains("U024BE7LH"), "{text}");
        }

        // Without an expiry or an id, and a null member for no user token.
        let bare = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"a","token_type":"Bearer","expires_at":null,"scopes":[],"user":{"access_token":"b","token_type":"Bearer","expires_at":null,"scopes":[]}}"#,
        )
        .unwrap();
        let user = bare.user().expect("the user token");
        assert_eq!(
            (user.expires_at.as_deref(), user.id.as_deref()),
            (None, None)
        );
        let null = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"a","token_type":"Bearer","expires_at":null,"scopes":[],"user":null}"#,
        )
        .unwrap();
        assert!(null.user().is_none());
        for bad in [
            r#""user":"b""#,
            r#""user":{"token_type":"Bearer"}"#,
            r#""user":{"access_token":"b"}"#,
        ] {
            let text = format!(
                r#"{{"auth_type":"oauth2","access_token":"a","token_type":"Bearer","expires_at":null,"scopes":[],{bad}}}"#
            );
            assert!(Credentials::parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_connection_queries_and_reads_pages() {
        assert_eq!(ConnectionQuery::default().to_json(), "{}");
        let q = ConnectionQuery {
            account: Some("acme".into()),
            status: Some("reauth_required".into()),
            limit: Some(40),
            cursor: Some("AQ".into()),
            ..Default::default()
        };
        assert_eq!(
            q.to_json(),
            r#"{"account":"acme","status":"reauth_required","limit":40,"cursor":"AQ"}"#
        );
        let page = ConnectionPage::parse(r#"{"connections":[],"next_cursor":null}"#).unwrap();
        assert!(page.connections.is_empty());
        assert_eq!(page.next_cursor, None);
        assert!(ConnectionPage::parse(r#"{"next_cursor":"x"}"#).is_err());
    }

    #[test]
    fn reads_event_pages() {
        let page = EventPage::parse(
            r#"{"events":[{"seq":7,"type":"connection.refresh_failed","account":"a","app":"x","auth_type":"oauth2","at":"2030-01-01T00:00:00.000Z","reason":"server_error","retry_at":"2030-01-01T00:01:00.000Z"}],"missed":true}"#,
        )
        .unwrap();
        assert!(page.missed);
        assert_eq!(page.events.len(), 1);
        let e = &page.events[0];
        assert_eq!(e.seq, 7);
        assert_eq!(e.event.kind, Event::REFRESH_FAILED);
        assert_eq!(e.event.reason.as_deref(), Some("server_error"));
        assert_eq!(
            e.event.retry_at.as_deref(),
            Some("2030-01-01T00:01:00.000Z")
        );
        assert_eq!(e.event.revoked, None);
        let empty = EventPage::parse(r#"{"events":[],"missed":false}"#).unwrap();
        assert!(empty.events.is_empty() && !empty.missed);
        assert!(EventPage::parse(r#"{"missed":false}"#).is_err());
        assert!(EventPage::parse(
            r#"{"events":[{"type":"connection.created","account":"a","app":"x","auth_type":"keybased","at":"t"}]}"#
        )
        .is_err());
    }

    #[test]
    fn reads_copy_reports() {
        assert_eq!(
            CopyReport::parse(r#"{"copied":3,"reauth_required":1}"#).unwrap(),
            CopyReport {
                copied: 3,
                reauth_required: 1
            }
        );
        assert!(CopyReport::parse(r#"{"copied":3}"#).is_err());
        assert!(CopyReport::parse("[").is_err());
    }

    #[test]
    fn writes_oauth_options() {
        assert_eq!(OAuthOptions::default().to_json(), "{}");
        let o = OAuthOptions {
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            scopes: Some(vec!["read".into()]),
            params: vec![("prompt".into(), "consent".into())],
            connection: vec![("subdomain".into(), "acme".into())],
            client: Some(OAuthClient {
                client_id: "own".into(),
                client_secret: "s\"3".into(),
            }),
        };
        assert_eq!(
            o.to_json(),
            r#"{"redirect_uri":"http://127.0.0.1:9/cb","scopes":["read"],"params":{"prompt":"consent"},"connection":{"subdomain":"acme"},"client":{"client_id":"own","client_secret":"s\"3"}}"#
        );
    }

    #[test]
    fn debug_shows_no_client_secret() {
        let secret = "own-client-secret-0c1d2e";
        let o = OAuthOptions {
            client: Some(OAuthClient {
                client_id: "own-client".into(),
                client_secret: secret.into(),
            }),
            ..Default::default()
        };
        for text in [
            format!("{o:?}"),
            format!("{o:#?}"),
            format!("{:?}", o.client),
        ] {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("own-client"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn reads_the_client_of_oauth_credentials() {
        let own = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_x","token_type":"Bearer","expires_at":null,"scopes":[],"client_id":"own"}"#,
        )
        .unwrap();
        assert_eq!(own.client_id(), Some("own"));
        assert!(format!("{own:?}").contains("own"));
        let host = Credentials::parse(
            r#"{"auth_type":"oauth2","access_token":"at_x","token_type":"Bearer","expires_at":null,"scopes":[]}"#,
        )
        .unwrap();
        assert_eq!(host.client_id(), None);
    }
}
