//! The binding against the real library and the sandbox provider.
mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

use common::{
    follow, random_key, Sandbox, CLIENT_ID, CLIENT_SECRET, GOOD_KEY, OWN_CLIENT_ID,
    OWN_CLIENT_SECRET, TWILIO_SID,
};
use refold::json::Value;
use refold::{Client, ConnectionQuery, Credentials, Error, Event, OAuthClient, OAuthOptions};

/// Records the events a handler receives.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Recorder {
    fn install(&self, client: &Client) {
        let list = self.0.clone();
        client
            .set_event_handler(move |e| list.lock().unwrap().push(e.clone()))
            .unwrap();
    }
    fn kinds(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind.clone())
            .collect()
    }
    fn all(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn version_and_errors() {
    assert_send_sync::<Client>();
    assert_eq!(refold::version().split('.').count(), 3);
    let err = Client::open(r#"{"no_such_key": 1}"#).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert_eq!(err.code(), -2);
    assert!(err.message().contains("no_such_key"));
    assert!(err.to_string().starts_with("refold: "));
    assert_eq!(
        Error::from_code(-4, "why".into()),
        Error::ReauthRequired("why".into())
    );
    assert!(Error::from_code(-4, String::new()).is_reauth_required());
    assert_eq!(Error::from_code(-99, "x".into()).code(), -99);
    assert_ne!(refold::strerror(-4), refold::strerror(-99));
    let err = Client::open("{\"store\": \"a\0b\"}").unwrap_err();
    assert!(matches!(err, Error::Invalid(ref m) if m.contains("NUL")));
}

#[test]
fn keybased_bad_and_good_payloads() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let events = Recorder::default();
    events.install(&client);

    let short = "sk_sandbox_short";
    let rejected = "sk_live_0123456789abcdefghijklmnop";
    // (account, app, fields, expected code, what the message names)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, Value)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        ("acct", "sandbox-keys", vec![], -2, "api_key"),
        (
            "acct",
            "sandbox-keys",
            vec![("api_key", GOOD_KEY.into()), ("extra", 1i64.into())],
            -2,
            "extra",
        ),
        (
            "acct",
            "sandbox-keys",
            vec![("api_key", short.into())],
            -2,
            "api_key",
        ),
        (
            "acct",
            "sandbox-keys",
            vec![("api_key", rejected.into())],
            -5,
            "",
        ),
        (
            "acct",
            "no-such-app",
            vec![("api_key", GOOD_KEY.into())],
            -3,
            "no-such-app",
        ),
        (
            "",
            "sandbox-keys",
            vec![("api_key", GOOD_KEY.into())],
            -2,
            "account",
        ),
    ];
    for (account, app, fields, code, names) in &cases {
        let err = client.connect_keybased(account, app, fields).unwrap_err();
        assert_eq!(err.code(), *code, "{app} {err}");
        assert!(err.message().contains(names), "{err}");
        let text = err.to_string();
        assert!(!text.contains(short) && !text.contains(rejected) && !text.contains(GOOD_KEY));
    }
    assert!(events.kinds().is_empty());

    client
        .connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())])
        .unwrap();
    let creds = client.credentials("acct", "sandbox-keys").unwrap();
    assert_eq!(creds.auth_type(), "keybased");
    assert!(creds.field("api_key").and_then(Value::as_str) == Some(GOOD_KEY));
    assert!(!format!("{creds:?}").contains(GOOD_KEY));

    let conns = client.list_connections(Some("acct")).unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        (conns[0].app.as_str(), conns[0].status.as_str()),
        ("sandbox-keys", "active")
    );
    assert_eq!(conns[0].reason, None);
    assert!(conns[0].created_at.ends_with('Z'));

    let apps = client.list_apps(Some("acct")).unwrap();
    let app = apps.iter().find(|a| a.slug == "sandbox-keys").unwrap();
    assert!(app.connected && !app.reauth_required);
    assert_eq!(app.connected_accounts.len(), 1);
    assert_eq!(app.connected_accounts[0].status, "active");
    let field = &app.keybased_fields[0];
    assert_eq!(
        (field.name.as_str(), field.kind.as_str(), field.secret),
        ("api_key", "text", true)
    );
    assert_eq!(field.min_length, Some(24));
    let oauth_app = apps.iter().find(|a| a.slug == "sandbox").unwrap();
    assert!(!oauth_app.connected && oauth_app.keybased_fields.is_empty());
    assert!(client.list_apps(None).unwrap().iter().all(|a| !a.connected));
    let hubspot = apps.iter().find(|a| a.slug == "hubspot").unwrap();
    assert_eq!(hubspot.category, "crm");
    assert!(hubspot.docs_url.starts_with("https://"));
    assert!(hubspot.connection_fields.is_empty());
    let zendesk = apps.iter().find(|a| a.slug == "zendesk").unwrap();
    assert_eq!(zendesk.connection_fields[0].name, "subdomain");
    // Okta's key-based domain is a host input within Okta's domains.
    let okta = apps.iter().find(|a| a.slug == "okta").unwrap();
    assert_eq!(okta.keybased_fields[0].name, "domain");
    assert_eq!(
        okta.keybased_fields[0].host_suffixes,
        ["okta.com", "oktapreview.com", "okta-emea.com"]
    );
    assert!(zendesk.connection_fields[0].host_suffixes.is_empty());

    client.disconnect("acct", "sandbox-keys").unwrap();
    assert!(matches!(
        client.credentials("acct", "sandbox-keys"),
        Err(Error::NotFound(_))
    ));
    let all = events.all();
    assert_eq!(events.kinds(), [Event::CREATED, Event::DELETED]);
    assert_eq!(all[1].reason.as_deref(), Some("disconnected"));
    assert_eq!(
        (all[0].account.as_str(), all[0].app.as_str()),
        ("acct", "sandbox-keys")
    );
}

/// Sets an opener that hands the URL to a "browser" thread and returns at
/// once; the receiver gets the status of the loopback listener's page.
fn browser_opener(client: &Client) -> mpsc::Receiver<u16> {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .set_url_opener(move |url| {
            let url = url.to_owned();
            let tx = tx.lock().unwrap().clone();
            thread::spawn(move || tx.send(follow(&url)).unwrap());
            Ok(())
        })
        .unwrap();
    rx
}

#[test]
fn oauth_through_the_url_opener() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let events = Recorder::default();
    events.install(&client);
    let rx = browser_opener(&client);
    client.connect_oauth("acct", "sandbox").unwrap();
    assert_eq!(rx.recv().unwrap(), 200, "the loopback listener's page");

    let creds = client.credentials("acct", "sandbox").unwrap();
    match &creds {
        Credentials::OAuth2 {
            token_type,
            expires_at,
            scopes,
            ..
        } => {
            assert_eq!(token_type, "Bearer");
            assert!(expires_at.as_deref().is_some_and(|t| t.ends_with('Z')));
            assert_eq!(scopes, &["profile", "read"]);
        }
        other => panic!("not OAuth credentials: {other:?}"),
    }
    assert!(!format!("{creds:?}").contains(creds.access_token().unwrap()));
    assert_eq!(sandbox.api_me(creds.access_token().unwrap()), 200);
    assert_eq!(events.kinds(), [Event::CREATED]);
    assert_eq!(events.all()[0].auth_type, "oauth2");

    // An opener's error cancels the flow and its text comes along.
    client
        .set_url_opener(|_| Err(std::io::Error::other("no browser here")))
        .unwrap();
    match client.connect_oauth("other", "sandbox") {
        Err(Error::Cancelled(m)) => assert!(m.contains("no browser here"), "{m}"),
        other => panic!("{other:?}"),
    }
    client.reset_url_opener().unwrap();

    // With options: the scopes asked for; a redirect URI is refused.
    let rx = browser_opener(&client);
    let redirect = OAuthOptions {
        redirect_uri: Some("http://127.0.0.1:9/cb".into()),
        ..Default::default()
    };
    assert!(matches!(
        client.connect_oauth_with("third", "sandbox", Some(&redirect)),
        Err(Error::Invalid(_))
    ));
    let read_only = OAuthOptions {
        scopes: Some(vec!["read".into()]),
        ..Default::default()
    };
    client
        .connect_oauth_with("third", "sandbox", Some(&read_only))
        .unwrap();
    assert_eq!(rx.recv().unwrap(), 200);
    let third = client.credentials("third", "sandbox").unwrap();
    match &third {
        Credentials::OAuth2 { scopes, .. } => assert_eq!(scopes, &["read"]),
        Credentials::KeyBased { .. } => panic!("not OAuth credentials"),
    }
}

/// A client-credentials app (oauth2_cc) is connected with the customer's
/// client id and secret, with no user: its credentials are `OAuth2` with
/// `client_credentials` set, name the client and never hold the secret.
#[test]
fn client_credentials() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let events = Recorder::default();
    events.install(&client);
    client
        .connect_keybased(
            "acct",
            "sandbox-cc",
            &[
                ("client_id", CLIENT_ID.into()),
                ("client_secret", CLIENT_SECRET.into()),
            ],
        )
        .unwrap();

    let creds = client.credentials("acct", "sandbox-cc").unwrap();
    assert_eq!(creds.auth_type(), "oauth2_cc");
    match &creds {
        Credentials::OAuth2 {
            token_type,
            expires_at,
            scopes,
            client_id,
            client_credentials,
            user,
            ..
        } => {
            assert!(*client_credentials);
            assert_eq!(token_type, "Bearer");
            assert!(expires_at.as_deref().is_some_and(|t| t.ends_with('Z')));
            assert_eq!(scopes, &["read"]);
            assert_eq!(client_id.as_deref(), Some(CLIENT_ID));
            assert!(user.is_none());
        }
        other => panic!("not OAuth credentials: {other:?}"),
    }
    let token = creds.access_token().unwrap();
    let printed = format!("{creds:?} {creds:#?}");
    assert!(!printed.contains(token) && !printed.contains(CLIENT_SECRET));
    assert!(printed.contains("client_credentials: true"));
    assert_eq!(sandbox.api_me(token), 200);
    assert_eq!(events.kinds(), [Event::CREATED]);
    assert_eq!(events.all()[0].auth_type, "oauth2_cc");

    client.disconnect("acct", "sandbox-cc").unwrap();
    assert_eq!(sandbox.api_me(token), 401, "disconnect revokes the token");
}

/// An app that keeps instance_url from the token response (as Salesforce
/// does) gets it in the credentials' metadata after a connect, with the API
/// base built from it, and the connection input it was made with.
#[test]
fn connection_metadata_and_api_base() {
    let sandbox = Sandbox::start();
    sandbox.set_config(&Value::object([
        (
            "token_response_extra",
            Value::object([("instance_url", "https://na1.example".into())]),
        ),
        ("refresh_token_ttl", 86400.into()),
    ]));
    let client = sandbox.open();
    let rx = browser_opener(&client);
    let team = OAuthOptions {
        connection: vec![("team".into(), "acme".into())],
        ..Default::default()
    };
    client
        .connect_oauth_with("acct", "sandbox-meta", Some(&team))
        .unwrap();
    assert_eq!(rx.recv().unwrap(), 200);

    let creds = client.credentials("acct", "sandbox-meta").unwrap();
    let instance_url = ("instance_url".to_owned(), "https://na1.example".to_owned());
    assert_eq!(creds.metadata(), [instance_url]);
    assert_eq!(creds.api_base_url(), Some("https://na1.example/services"));
    assert_eq!(creds.connection(), [("team".to_owned(), "acme".to_owned())]);
    match &creds {
        Credentials::OAuth2 {
            metadata,
            api_base_url,
            ..
        } => {
            assert_eq!(metadata.len(), 1);
            assert_eq!(
                api_base_url.as_deref(),
                Some("https://na1.example/services")
            );
        }
        other => panic!("not OAuth credentials: {other:?}"),
    }
    assert_eq!(sandbox.api_me(creds.access_token().unwrap()), 200);

    // The sandbox app keeps none of them.
    connect_sandbox(&client, "acct");
    let plain = client.credentials("acct", "sandbox").unwrap();
    assert!(plain.metadata().is_empty() && plain.connection().is_empty());
    assert_eq!(plain.api_base_url(), None);

    // The listing shows the same, and when the refresh token lapses.
    let listed = client.list_connections(Some("acct")).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let meta = listed.iter().find(|c| c.app == "sandbox-meta").unwrap();
    assert_eq!(meta.metadata, creds.metadata());
    assert_eq!(meta.connection, creds.connection());
    assert_eq!(
        meta.api_base_url.as_deref(),
        Some("https://na1.example/services")
    );
    // A day's refresh token lapses after the hour's access token (both
    // RFC 3339 UTC, which sort as text).
    let lapse = meta.refresh_token_expires_at.as_deref().unwrap();
    assert!(lapse > meta.expires_at.as_deref().unwrap(), "{meta:?}");
    let listed_plain = listed.iter().find(|c| c.app == "sandbox").unwrap();
    assert!(listed_plain.metadata.is_empty() && listed_plain.connection.is_empty());
    assert_eq!(listed_plain.api_base_url, None);
}

#[test]
fn oauth_begin_and_complete() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let options = OAuthOptions {
        redirect_uri: Some("http://127.0.0.1:9/callback".into()),
        ..Default::default()
    };
    let url = client
        .oauth_begin("acct", "sandbox", Some(&options))
        .unwrap();
    assert!(url.starts_with(&format!("{}/oauth/authorize?", sandbox.base_url)));
    assert!(!url.contains(CLIENT_SECRET));
    let (status, location, _) = common::http_get(&url, None);
    assert_eq!(status, 302);
    let callback = location.unwrap();
    assert!(callback.starts_with("http://127.0.0.1:9/callback?"));
    let result = client.oauth_complete(&callback).unwrap();
    assert_eq!(
        (
            result.account.as_str(),
            result.app.as_str(),
            result.auth_type.as_str(),
            result.status.as_str()
        ),
        ("acct", "sandbox", "oauth2", "active")
    );
    assert!(matches!(
        client.oauth_complete(&callback),
        Err(Error::State(_))
    ));
    assert!(matches!(
        client.oauth_begin("acct", "sandbox-keys", None),
        Err(Error::Invalid(_))
    ));
}

/// A customer's own OAuth client in the options makes the connection
/// instead of the config's registration: the sandbox's grants are that
/// client's, the credentials name it, and its secret shows in no URL,
/// credentials or `Debug` output.
#[test]
fn oauth_with_the_customers_own_client() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let own = OAuthClient {
        client_id: OWN_CLIENT_ID.into(),
        client_secret: OWN_CLIENT_SECRET.into(),
    };
    let options = OAuthOptions {
        redirect_uri: Some("http://127.0.0.1:9/callback".into()),
        client: Some(own.clone()),
        ..Default::default()
    };
    assert!(!format!("{options:?}").contains(OWN_CLIENT_SECRET));

    let url = client
        .oauth_begin("acct", "sandbox", Some(&options))
        .unwrap();
    let query: Vec<&str> = url.split(['?', '&']).skip(1).collect();
    assert!(query.contains(&format!("client_id={OWN_CLIENT_ID}").as_str()));
    assert!(!url.contains(OWN_CLIENT_SECRET));
    let (status, location, _) = common::http_get(&url, None);
    assert_eq!(status, 302);
    client.oauth_complete(&location.unwrap()).unwrap();
    let creds = client.credentials("acct", "sandbox").unwrap();
    assert_eq!(creds.client_id(), Some(OWN_CLIENT_ID));
    assert!(!format!("{creds:?}").contains(OWN_CLIENT_SECRET));
    assert_ne!(creds.access_token(), Some(OWN_CLIENT_SECRET));
    assert_eq!(sandbox.api_me(creds.access_token().unwrap()), 200);
    // The code went to the sandbox as the customer's client: its grant.
    assert_eq!(sandbox.grants(), [(OWN_CLIENT_ID.to_owned(), false)]);

    // The interactive flow takes the client too.
    let rx = browser_opener(&client);
    let interactive = OAuthOptions {
        client: Some(own),
        ..Default::default()
    };
    client
        .connect_oauth_with("other", "sandbox", Some(&interactive))
        .unwrap();
    assert_eq!(rx.recv().unwrap(), 200);
    let other = client.credentials("other", "sandbox").unwrap();
    assert_eq!(other.client_id(), Some(OWN_CLIENT_ID));
    // A connection through the host's registration names no client.
    connect_sandbox(&client, "host");
    let host = client.credentials("host", "sandbox").unwrap();
    assert_eq!(host.client_id(), None);

    // A client without its secret is refused by name, before a browser opens.
    let no_secret = OAuthOptions {
        client: Some(OAuthClient {
            client_id: OWN_CLIENT_ID.into(),
            client_secret: String::new(),
        }),
        ..Default::default()
    };
    match client.connect_oauth_with("fourth", "sandbox", Some(&no_secret)) {
        Err(Error::Invalid(m)) => assert!(m.contains("client_secret"), "{m}"),
        other => panic!("a client without a secret: {other:?}"),
    }

    // Disconnecting revokes through the customer's client.
    client.disconnect("acct", "sandbox").unwrap();
    client.disconnect("other", "sandbox").unwrap();
    let mut grants = sandbox.grants();
    grants.sort();
    assert_eq!(
        grants,
        [
            (OWN_CLIENT_ID.to_owned(), true),
            (OWN_CLIENT_ID.to_owned(), true),
            (CLIENT_ID.to_owned(), false),
        ]
    );
}

#[test]
fn a_panicking_handler_never_unwinds_into_c() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    client
        .set_event_handler(|e| {
            if e.kind == Event::CREATED {
                panic!("handler boom");
            }
        })
        .unwrap();
    // The panic comes out of the call that caused the event, after its
    // change is committed.
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = client.connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())]);
    }))
    .unwrap_err();
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"handler boom"));
    assert!(client.credentials("acct", "sandbox-keys").is_ok());
    client.disconnect("acct", "sandbox-keys").unwrap();
    assert!(matches!(
        client.connect_keybased("acct", "no-such-app", &[]),
        Err(Error::NotFound(m)) if m.contains("no-such-app")
    ));

    // A panicking opener cancels the flow; its panic comes out of connect_oauth.
    client.set_url_opener(|_| panic!("opener boom")).unwrap();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = client.connect_oauth("acct", "sandbox");
    }))
    .unwrap_err();
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"opener boom"));
    assert!(client.list_connections(None).unwrap().is_empty());
}

#[test]
fn calls_from_many_threads() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let created = Arc::new(AtomicUsize::new(0));
    let counter = created.clone();
    client
        .set_event_handler(move |e| {
            if e.kind == Event::CREATED {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    const WORKERS: usize = 8;
    thread::scope(|s| {
        for w in 0..WORKERS {
            let client = &client;
            s.spawn(move || {
                let account = format!("acct-{w}");
                client
                    .connect_keybased(&account, "sandbox-keys", &[("api_key", GOOD_KEY.into())])
                    .unwrap();
                for i in 0..25 {
                    // Each thread's error detail is its own failure's.
                    let app = format!("missing-{w}-{i}");
                    match client.connect_keybased(&account, &app, &[]) {
                        Err(Error::NotFound(m)) => assert!(m.contains(&app), "{m}"),
                        other => panic!("{other:?}"),
                    }
                    let creds = client.credentials(&account, "sandbox-keys").unwrap();
                    assert!(creds.field("api_key").and_then(Value::as_str) == Some(GOOD_KEY));
                    client.list_connections(Some(&account)).unwrap();
                }
            });
        }
    });
    assert_eq!(created.load(Ordering::SeqCst), WORKERS);
    assert_eq!(client.list_connections(None).unwrap().len(), WORKERS);
}

#[test]
fn the_library_owns_the_handler_until_it_is_replaced_or_dropped() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let token = Arc::new(AtomicUsize::new(0));
    {
        let token = token.clone();
        client
            .set_event_handler(move |_| {
                token.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    assert_eq!(
        Arc::strong_count(&token),
        2,
        "the closure lives in the library"
    );
    client
        .connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())])
        .unwrap();
    assert_eq!(token.load(Ordering::SeqCst), 1);

    // Replacing the handler drops the old closure; so does dropping the client.
    client.set_event_handler(|_| {}).unwrap();
    assert_eq!(Arc::strong_count(&token), 1);
    let opener_token = token.clone();
    client
        .set_url_opener(move |_| {
            opener_token.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert_eq!(Arc::strong_count(&token), 2);
    drop(client);
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn a_handler_may_call_the_client() {
    let sandbox = Sandbox::start();
    let client = Arc::new(sandbox.open());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (weak, log) = (Arc::downgrade(&client), seen.clone());
    client
        .set_event_handler(move |e| {
            let client = weak.upgrade().unwrap();
            let n = client.list_connections(Some(&e.account)).unwrap().len();
            // A failing call inside the handler does not disturb the outer call.
            let _ = client.disconnect(&e.account, "no-such-app");
            log.lock().unwrap().push(format!("{}:{n}", e.kind));
        })
        .unwrap();
    client
        .connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())])
        .unwrap();
    client.delete_account("acct").unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        ["connection.created:1", "connection.deleted:0"]
    );
}

#[test]
fn rotate_data_key() {
    let sandbox = Sandbox::start();
    let client = Client::open(&sandbox.config_with_key("datakey.db", &random_key())).unwrap();
    for acct in ["a1", "a2", "a3"] {
        client
            .connect_keybased(acct, "sandbox-keys", &[("api_key", GOOD_KEY.into())])
            .unwrap();
    }
    let before = client.data_key_status().unwrap();
    assert!(!before.rotating);
    assert_eq!(before.keys.len(), 1);
    assert_eq!(before.keys[0].connections, 3);
    assert_eq!(before.keys[0].state, "current");
    client.rotate_data_key().unwrap();
    let after = client.data_key_status().unwrap();
    assert_ne!(after.current_key, before.current_key);
    assert!(!after.rotating);
    assert_eq!(after.records_to_reseal, 0);
    assert_eq!(after.keys.len(), 1);
    assert_eq!(after.keys[0].id, after.current_key);
    assert_eq!(after.keys[0].connections, 3);
    for acct in ["a1", "a2", "a3"] {
        let creds = client.credentials(acct, "sandbox-keys").unwrap();
        assert!(creds.field("api_key").and_then(Value::as_str) == Some(GOOD_KEY));
    }
}

#[test]
fn rotate_master_key() {
    let sandbox = Sandbox::start();
    let old_key = random_key();
    let client = Client::open(&sandbox.config_with_key("rotate.db", &old_key)).unwrap();
    client
        .connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())])
        .unwrap();
    assert!(matches!(
        client.rotate_master_key("not a key"),
        Err(Error::Invalid(_))
    ));
    let new_key = random_key();
    client.rotate_master_key(&new_key).unwrap();
    drop(client);
    assert!(matches!(
        Client::open(&sandbox.config_with_key("rotate.db", &old_key)),
        Err(Error::Crypto(_))
    ));
    let client = Client::open(&sandbox.config_with_key("rotate.db", &new_key)).unwrap();
    assert!(client.credentials("acct", "sandbox-keys").is_ok());
}

/// Connects "sandbox" for `account` through an opener that plays the browser.
fn connect_sandbox(client: &Client, account: &str) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .set_url_opener(move |url| {
            let (url, tx) = (url.to_owned(), tx.lock().unwrap().clone());
            thread::spawn(move || tx.send(follow(&url)).unwrap());
            Ok(())
        })
        .unwrap();
    client.connect_oauth(account, "sandbox").unwrap();
    assert_eq!(rx.recv().unwrap(), 200);
}

#[test]
fn a_reauth_event_reaches_the_handler() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let events = Recorder::default();
    events.install(&client);
    connect_sandbox(&client, "acct");

    // The provider told the host (a webhook) that the app was uninstalled.
    client
        .mark_reauth("acct", "sandbox", Some("uninstalled"))
        .unwrap();
    let expired = events
        .all()
        .into_iter()
        .find(|e| e.kind == Event::EXPIRED)
        .expect("connection.expired");
    assert_eq!(
        (expired.account.as_str(), expired.app.as_str()),
        ("acct", "sandbox")
    );
    assert_eq!(expired.reason.as_deref(), Some("uninstalled"));
    match client.credentials("acct", "sandbox") {
        Err(e @ Error::ReauthRequired(_)) => assert!(e.is_reauth_required()),
        other => panic!("{other:?}"),
    }
    let conn = &client.list_connections(Some("acct")).unwrap()[0];
    assert_eq!(
        (conn.status.as_str(), conn.reason.as_deref()),
        ("reauth_required", Some("uninstalled"))
    );
    let apps = client.list_apps(Some("acct")).unwrap();
    let app = apps.iter().find(|a| a.slug == "sandbox").unwrap();
    assert!(app.reauth_required);
    assert_eq!(app.connected_accounts[0].status, "expired");

    client.mark_reauth("acct", "sandbox", None).unwrap(); // already marked: nothing changes
    assert!(matches!(
        client.mark_reauth("acct", "sandbox", Some("not a word!")),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        client.mark_reauth("nobody", "sandbox", None),
        Err(Error::NotFound(_))
    ));

    connect_sandbox(&client, "acct");
    assert!(client.credentials("acct", "sandbox").is_ok());
    assert_eq!(
        events.kinds(),
        [Event::CREATED, Event::EXPIRED, Event::REAUTHENTICATED]
    );

    client.disconnect("acct", "sandbox").unwrap();
    let deleted = events.all().pop().unwrap();
    assert_eq!(
        (deleted.kind.as_str(), deleted.revoked),
        (Event::DELETED, Some(true))
    );
}

#[test]
fn report_unauthorized() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let events = Recorder::default();
    events.install(&client);
    connect_sandbox(&client, "acct");
    let before = client.credentials("acct", "sandbox").unwrap();
    client.report_unauthorized("acct", "sandbox").unwrap();
    let after = client.credentials("acct", "sandbox").unwrap();
    assert!(after.access_token() != before.access_token());
    assert_eq!(sandbox.api_me(after.access_token().unwrap()), 200);

    client
        .connect_keybased("acct", "sandbox-keys", &[("api_key", GOOD_KEY.into())])
        .unwrap();
    assert!(matches!(
        client.report_unauthorized("acct", "sandbox-keys"),
        Err(Error::ReauthRequired(_))
    ));
    assert_eq!(
        events.kinds(),
        [
            Event::CREATED,
            Event::REFRESHED,
            Event::CREATED,
            Event::EXPIRED
        ]
    );
}

#[test]
fn report_unauthorized_token() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    connect_sandbox(&client, "acct");
    let first = client.credentials("acct", "sandbox").unwrap();
    let first_token = first.access_token().unwrap().to_string();
    client
        .report_unauthorized_token("acct", "sandbox", &first_token)
        .unwrap();
    let second = client.credentials("acct", "sandbox").unwrap();
    let second_token = second.access_token().unwrap().to_string();
    assert!(second_token != first_token, "the token was not refreshed");
    // Late reports about the first token, from other threads: no effect.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                client
                    .report_unauthorized_token("acct", "sandbox", &first_token)
                    .unwrap()
            });
        }
    });
    let now = client.credentials("acct", "sandbox").unwrap();
    assert!(now.access_token() == Some(second_token.as_str()));
    // A 401 on the token of that forced refresh is final.
    assert!(matches!(
        client.report_unauthorized_token("acct", "sandbox", &second_token),
        Err(Error::ReauthRequired(_))
    ));
    assert!(matches!(
        client.report_unauthorized_token("acct", "sandbox", ""),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_replaced_clock() {
    use std::time::{Duration, SystemTime};
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    connect_sandbox(&client, "acct");
    let first = client.credentials("acct", "sandbox").unwrap();
    let readings = Arc::new(AtomicUsize::new(0));
    let counter = readings.clone();
    let later = SystemTime::now() + Duration::from_secs(2 * 3600); // past the one-hour tokens
    client
        .set_clock(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            later
        })
        .unwrap();
    let second = client.credentials("acct", "sandbox").unwrap();
    assert!(readings.load(Ordering::SeqCst) > 0);
    assert!(
        second.access_token() != first.access_token(),
        "no refresh at the replaced time"
    );

    // A panicking clock: the system clock for that reading, then the panic
    // comes out of the call.
    client.set_clock(|| panic!("clock boom")).unwrap();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = client.credentials("acct", "sandbox");
    }))
    .unwrap_err();
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"clock boom"));
    client.reset_clock().unwrap();
    assert!(client.credentials("acct", "sandbox").is_ok());
}

#[test]
fn events_from_the_background_refresher() {
    use std::sync::atomic::AtomicU64;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
    let sandbox = Sandbox::start();
    let config = sandbox.config_with_key("background.db", &random_key());
    let client = Client::open(&config.replacen('{', r#"{"background_refresh":true,"#, 1)).unwrap();
    connect_sandbox(&client, "acct");
    let first = client.credentials("acct", "sandbox").unwrap();

    // The clock reads a time the test sets: two minutes before the
    // sandbox's one-hour token expires, so the refresher finds it due.
    let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let due = ms(SystemTime::now() + Duration::from_secs(3600 - 120));
    let now = Arc::new(AtomicU64::new(due));
    let clock_now = now.clone();
    client
        .set_clock(move || UNIX_EPOCH + Duration::from_millis(clock_now.load(Ordering::SeqCst)))
        .unwrap();

    // The library's own thread runs the handler; a panic there has no call
    // to come out of, so it is reported by the hook and dropped.
    let test_thread = thread::current().id();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    client
        .set_event_handler(move |e| {
            if e.kind != Event::REFRESHED {
                return;
            }
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("a handler bug on the refresher's thread");
            }
            tx.lock().unwrap().send(thread::current().id()).unwrap();
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "no refresh event from the background refresher"
    );
    let second = client.credentials("acct", "sandbox").unwrap();
    assert!(second.access_token() != first.access_token());

    // The new token was issued at the clock's time: move to just before its expiry.
    now.store(due + (3600 - 120) * 1000, Ordering::SeqCst);
    let thread_id = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("a second refresh event");
    assert_ne!(thread_id, test_thread);
}

#[test]
fn list_connections_page() {
    let sandbox = Sandbox::start();
    let client = Client::open(&sandbox.config_with_key("paging.db", &random_key())).unwrap();
    for acct in ["e", "c", "a", "d", "b"] {
        client
            .connect_keybased(acct, "sandbox-keys", &[("api_key", GOOD_KEY.into())])
            .unwrap();
    }
    for acct in ["b", "d"] {
        client
            .mark_reauth(acct, "sandbox-keys", Some("revoked"))
            .unwrap();
    }

    // Pages of two: each connection once, in order.
    let mut query = ConnectionQuery {
        limit: Some(2),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = client.list_connections_page(&query).unwrap();
        pages += 1;
        assert!(page.connections.len() <= 2 && pages <= 3);
        seen.extend(page.connections.into_iter().map(|c| c.account));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    let reauth = client
        .list_connections_page(&ConnectionQuery {
            status: Some("reauth_required".into()),
            app: Some("sandbox-keys".into()),
            ..Default::default()
        })
        .unwrap();
    let accounts: Vec<_> = reauth
        .connections
        .iter()
        .map(|c| c.account.as_str())
        .collect();
    assert_eq!(accounts, ["b", "d"]);
    assert_eq!(reauth.connections[0].reason.as_deref(), Some("revoked"));
    assert_eq!(reauth.next_cursor, None);
    let all = client
        .list_connections_page(&ConnectionQuery::default())
        .unwrap();
    assert_eq!(all.connections.len(), 5);

    let first = client
        .list_connections_page(&ConnectionQuery {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    let mut tampered = cursor.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let q = ConnectionQuery::default;
    let bad = [
        (
            "limit",
            ConnectionQuery {
                limit: Some(1001),
                ..q()
            },
        ),
        (
            "status",
            ConnectionQuery {
                status: Some("expired".into()),
                ..q()
            },
        ),
        (
            "app",
            ConnectionQuery {
                app: Some("Not A Slug".into()),
                ..q()
            },
        ),
        (
            "cursor",
            ConnectionQuery {
                cursor: String::from_utf8(tampered).ok(),
                ..q()
            },
        ),
        // A cursor of another query.
        (
            "cursor",
            ConnectionQuery {
                cursor: Some(cursor),
                status: Some("active".into()),
                ..q()
            },
        ),
    ];
    for (key, bad_query) in bad {
        match client.list_connections_page(&bad_query) {
            Err(Error::Invalid(m)) => assert!(m.contains(&format!("'{key}'")), "{key}: {m}"),
            other => panic!("{key}: {:?}", other.map(|p| p.connections.len())),
        }
    }
}

#[test]
fn import_connection() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let recorder = Recorder::default();
    recorder.install(&client);
    let access = "imported-access-token-1234";
    let refresh = "imported-refresh-token-5678";
    let s = |v: &str| Value::String(v.into());

    // A bad import names the member, never a value, and stores nothing.
    let err = client
        .import_connection("acct", "sandbox", &[("refresh_token", s(refresh))])
        .unwrap_err();
    assert!(
        matches!(err, Error::Invalid(ref m) if m.contains("access_token") && !m.contains(refresh))
    );
    let err = client
        .import_connection(
            "acct",
            "sandbox",
            &[("access_token", s(access)), ("expires_at", s("soon"))],
        )
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(ref m) if m.contains("expires_at")));
    assert!(matches!(
        client.credentials("acct", "sandbox"),
        Err(Error::NotFound(_))
    ));

    client
        .import_connection(
            "acct",
            "sandbox",
            &[
                ("auth_type", s("oauth2")),
                ("access_token", s(access)),
                ("refresh_token", s(refresh)),
                ("expires_at", s("2999-01-01T00:00:00+01:00")),
                ("scopes", s("read write")),
            ],
        )
        .unwrap();
    let creds = client.credentials("acct", "sandbox").unwrap();
    match &creds {
        Credentials::OAuth2 {
            access_token,
            expires_at,
            scopes,
            ..
        } => {
            assert!(
                access_token == access,
                "the imported access token is read back"
            );
            assert_eq!(expires_at.as_deref(), Some("2998-12-31T23:00:00.000Z"));
            assert_eq!(scopes, &["read", "write"]);
        }
        Credentials::KeyBased { .. } => panic!("imported as key-based"),
    }
    assert_eq!(recorder.kinds(), vec!["connection.created".to_string()]);
}

#[test]
fn read_and_ack_events() {
    let sandbox = Sandbox::start();
    let client = sandbox.open();
    let fields = [
        ("sid", Value::from(TWILIO_SID)),
        ("auth_token", "twilio-auth-token-0123456789abcdef".into()),
    ];
    for _ in 0..2 {
        client.connect_keybased("acct", "twilio", &fields).unwrap();
    }

    let page = client.read_events("relay", 100).unwrap();
    assert!(!page.missed);
    let kinds: Vec<&str> = page.events.iter().map(|e| e.event.kind.as_str()).collect();
    assert_eq!(kinds, [Event::CREATED, Event::REAUTHENTICATED]);
    let (first, second) = (&page.events[0], &page.events[1]);
    assert!(first.seq >= 1 && second.seq > first.seq, "{page:?}");
    let e = &first.event;
    assert_eq!(
        (e.account.as_str(), e.app.as_str(), e.auth_type.as_str()),
        ("acct", "twilio", "keybased")
    );
    assert!(
        e.at.ends_with('Z') && e.reason.is_none() && e.retry_at.is_none() && e.revoked.is_none()
    );
    // Reading changes nothing; at most `max` events.
    let again = client.read_events("relay", 1).unwrap();
    assert_eq!(again.events.len(), 1);
    assert_eq!(again.events[0].seq, first.seq);

    client.ack_events("relay", first.seq).unwrap();
    let page = client.read_events("relay", 100).unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].seq, second.seq);
    assert_eq!(page.events[0].event.kind, Event::REAUTHENTICATED);
    // Another consumer has its own cursor.
    assert_eq!(client.read_events("audit", 100).unwrap().events.len(), 2);

    assert!(matches!(
        client.ack_events("relay", 0),
        Err(Error::Invalid(_))
    ));
    assert!(
        matches!(client.read_events("", 100), Err(Error::Invalid(m)) if m.contains("consumer"))
    );
    assert!(matches!(client.read_events("relay", 0), Err(Error::Invalid(m)) if m.contains("max")));
    assert!(matches!(
        client.read_events("re\0lay", 100),
        Err(Error::Invalid(m)) if m.contains("NUL")
    ));
}

#[test]
fn copy_connections_to_another_store() {
    let sandbox = Sandbox::start();
    let from_key = random_key();
    let from = Client::open(&sandbox.config_with_key("from.db", &from_key)).unwrap();
    let token = "twilio-auth-token-0123456789abcdef";
    for account in ["acct-1", "acct-2"] {
        let fields = [
            ("sid", Value::from(TWILIO_SID)),
            ("auth_token", format!("{token}-{account}").as_str().into()),
        ];
        from.connect_keybased(account, "twilio", &fields).unwrap();
    }
    // Another store under another master key.
    let to = Client::open(&sandbox.config_with_key("to.db", &random_key())).unwrap();
    let recorder = Recorder::default();
    recorder.install(&to);

    let report = from.copy_connections_to(&to).unwrap();
    assert_eq!(
        (report.copied, report.reauth_required),
        (2, 0),
        "{report:?}"
    );
    let creds = to.credentials("acct-2", "twilio").unwrap();
    assert_eq!(creds.auth_type(), "keybased");
    assert_eq!(creds.field("sid").and_then(Value::as_str), Some(TWILIO_SID));
    let expected = format!("{token}-acct-2");
    assert!(
        creds.field("auth_token").and_then(Value::as_str) == Some(expected.as_str()),
        "the copy holds the same auth_token"
    );
    assert_eq!(to.list_connections(None).unwrap().len(), 2);
    assert_eq!(recorder.kinds(), [Event::CREATED, Event::CREATED]);

    // Not onto the same client, nor another client of the same store.
    assert!(matches!(
        from.copy_connections_to(&from),
        Err(Error::Invalid(_))
    ));
    let same = Client::open(&sandbox.config_with_key("from.db", &from_key)).unwrap();
    assert!(matches!(
        from.copy_connections_to(&same),
        Err(Error::Invalid(_))
    ));
}
