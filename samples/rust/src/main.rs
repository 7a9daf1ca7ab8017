//! A tour of refold from Rust: open a client, list apps, connect a
//! key-based app and an OAuth app against the local sandbox, read a token,
//! handle a re-auth event, disconnect.
//!
//! ```sh
//! refold-devserver --port 8765 --auto-approve &     # the sandbox provider
//! REFOLD_BUILD_DIR=../../build/default LD_LIBRARY_PATH=../../build/default cargo run
//! ```
//!
//! With no arguments the built-in catalog's sandbox apps (port 8765) and a
//! temporary store are used; `cargo run -- CATALOG STORE` takes a catalog
//! file and a store path instead (ctest runs it so, against a sandbox on a
//! free port). Secrets are never printed.
use std::io::{Read, Write};
use std::net::TcpStream;

use refold::json::Value;
use refold::{Client, Error, Event};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let temp = std::env::temp_dir().join(format!("refold-sample-{}", std::process::id()));
    let mut config = vec![(
        "oauth_clients",
        // refold-devserver's default OAuth client.
        Value::object([(
            "sandbox",
            Value::object([
                ("client_id", "sandbox-client".into()),
                ("client_secret", "sandbox-secret".into()),
            ]),
        )]),
    )];
    if let [catalog, store] = args.as_slice() {
        config.push(("catalog", catalog.as_str().into()));
        config.push(("store", store.as_str().into()));
    } else {
        std::fs::create_dir_all(&temp)?; // a key file is created beside the store
        config.push((
            "store",
            temp.join("refold.db").to_string_lossy().into_owned().into(),
        ));
    }

    println!("refold {} from Rust", refold::version());
    let client = Client::open(&Value::object(config).to_string())?;
    let account = "customer-42";

    // Events arrive on the thread whose call caused them.
    client.set_event_handler(|e| {
        println!(
            "  event {}: {}/{} {}",
            e.kind,
            e.account,
            e.app,
            e.reason.as_deref().unwrap_or("")
        );
        if e.kind == Event::EXPIRED {
            println!("  -> ask {} to connect {} again", e.account, e.app);
        }
    })?;

    println!("1. Apps:");
    for app in client.list_apps(Some(account))? {
        println!("  {:<14} {:?}", app.slug, app.auth_types);
    }

    println!("2. A key the provider rejects, then a good one:");
    let err = client.connect_keybased(
        account,
        "sandbox-keys",
        &[("api_key", "sk_live_0123456789abcdefghij".into())],
    );
    println!("  rejected: {}", matches!(err, Err(Error::Auth(_))));
    client.connect_keybased(
        account,
        "sandbox-keys",
        &[("api_key", "sk_sandbox_0123456789abcdefghij".into())],
    )?;

    println!("3. OAuth: the opener plays the browser (the sandbox approves at once):");
    client.set_url_opener(|url| {
        let url = url.to_owned();
        std::thread::spawn(move || visit(&url)); // hand the URL off and return
        Ok(())
    })?;
    client.connect_oauth(account, "sandbox")?;

    println!("4. Reading the token:");
    let creds = client.credentials(account, "sandbox")?;
    println!("  {creds:?}"); // Debug shows no secret
    println!(
        "  access token of {} characters",
        creds.access_token().unwrap_or("").len()
    );

    println!("5. The provider revoked access (say, a webhook told us):");
    client.mark_reauth(account, "sandbox", Some("revoked"))?;
    let again = client.credentials(account, "sandbox");
    println!(
        "  reading again needs re-auth: {}",
        matches!(again, Err(Error::ReauthRequired(_)))
    );

    println!("6. Disconnecting:");
    client.disconnect(account, "sandbox")?;
    client.disconnect(account, "sandbox-keys")?;
    println!(
        "  connections left: {}",
        client.list_connections(Some(account))?.len()
    );
    drop(client);
    let _ = std::fs::remove_dir_all(&temp);
    Ok(())
}

/// Plays the user's browser with plain HTTP on loopback: GET the URL and
/// follow redirects (the sandbox's consent, then refold's own listener).
fn visit(url: &str) {
    let mut url = url.to_owned();
    for _ in 0..5 {
        let Some(rest) = url.strip_prefix("http://") else {
            return;
        };
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Ok(mut stream) = TcpStream::connect(host) else {
            return;
        };
        let _ = write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        );
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        match response.lines().find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        }) {
            Some(next) => url = next.trim().to_owned(),
            None => return,
        }
    }
}
