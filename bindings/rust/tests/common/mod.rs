//! Test support: the sandbox provider (refold-devserver) on a free port, a
//! fresh store, and a minimal HTTP client that plays the user's browser.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use refold::json::{self, Value};
use refold::Client;

pub const CLIENT_ID: &str = "rust-test-client";
pub const CLIENT_SECRET: &str = "rust-test-secret-3c4d5e6f";
/// A second client the sandbox knows and the config does not: a customer's
/// own, given in `OAuthOptions::client`.
pub const OWN_CLIENT_ID: &str = "rust-customer-client";
pub const OWN_CLIENT_SECRET: &str = "rust-customer-secret-4d5e6f7a";
/// A key the sandbox accepts (sk_sandbox_ and at least 24 characters).
pub const GOOD_KEY: &str = "sk_sandbox_0123456789abcdefghij";
/// An account SID the built-in twilio app accepts (AC and 32 hex digits).
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789ABCDEF";

pub struct Sandbox {
    child: Child,
    pub base_url: String,
    pub dir: PathBuf,
}

impl Sandbox {
    /// Starts $REFOLD_DEVSERVER (or $REFOLD_BUILD_DIR's) with --auto-approve.
    pub fn start() -> Sandbox {
        let path = std::env::var("REFOLD_DEVSERVER")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| {
                let build = std::env::var("REFOLD_BUILD_DIR")
                    .expect("set REFOLD_BUILD_DIR to find refold-devserver");
                format!("{build}/src/devserver/refold-devserver")
            });
        let mut child = Command::new(path)
            .args([
                "--port",
                "0",
                "--auto-approve",
                "--client",
                &format!("{CLIENT_ID}:{CLIENT_SECRET}"),
                "--client",
                &format!("{OWN_CLIENT_ID}:{OWN_CLIENT_SECRET}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start refold-devserver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let hello = json::parse(&line).expect("the sandbox did not announce its address");
        let base_url = hello
            .get("base_url")
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        Sandbox {
            child,
            base_url,
            dir: temp_dir(),
        }
    }

    /// The catalog of the sandbox's apps: "sandbox" (OAuth 2.0),
    /// "sandbox-keys" (key-based, verified at /keys/verify), "sandbox-cc"
    /// (client credentials, connected with a client the sandbox knows) and
    /// "sandbox-meta" (OAuth 2.0 with a connection input, keeping
    /// instance_url from the token response for its api_base_url, as
    /// Salesforce does; the sandbox sends it once told to with `set_config`).
    pub fn apps(&self) -> Value {
        let b = &self.base_url;
        Value::array([
            Value::object([
                ("slug", "sandbox".into()),
                ("name", "Sandbox".into()),
                ("auth_types", vec!["oauth2"].into()),
                (
                    "oauth2",
                    Value::object([
                        (
                            "authorization_endpoint",
                            format!("{b}/oauth/authorize").into(),
                        ),
                        ("token_endpoint", format!("{b}/oauth/token").into()),
                        ("revocation_endpoint", format!("{b}/oauth/revoke").into()),
                        ("scopes", vec!["profile", "read"].into()),
                        ("issuer", b.as_str().into()),
                        (
                            "authorization_response_iss_parameter_supported",
                            true.into(),
                        ),
                    ]),
                ),
            ]),
            Value::object([
                ("slug", "sandbox-keys".into()),
                ("name", "Sandbox keys".into()),
                ("auth_types", vec!["keybased"].into()),
                (
                    "keybased",
                    Value::object([
                        (
                            "fields",
                            Value::array([Value::object([
                                ("name", "api_key".into()),
                                ("label", "API key".into()),
                                ("type", "text".into()),
                                ("secret", true.into()),
                                ("min_length", 24i64.into()),
                            ])]),
                        ),
                        (
                            "verify",
                            Value::object([
                                ("url", format!("{b}/keys/verify").into()),
                                (
                                    "headers",
                                    Value::object([("Authorization", "Bearer {api_key}".into())]),
                                ),
                            ]),
                        ),
                    ]),
                ),
            ]),
            Value::object([
                ("slug", "sandbox-cc".into()),
                ("name", "Sandbox machine to machine".into()),
                ("auth_types", vec!["oauth2_cc"].into()),
                (
                    "oauth2_cc",
                    Value::object([
                        ("token_endpoint", format!("{b}/oauth/token").into()),
                        ("revocation_endpoint", format!("{b}/oauth/revoke").into()),
                        ("scopes", vec!["read"].into()),
                    ]),
                ),
            ]),
            Value::object([
                ("slug", "sandbox-meta".into()),
                ("name", "Sandbox with metadata".into()),
                ("auth_types", vec!["oauth2"].into()),
                (
                    "connection_fields",
                    Value::array([Value::object([
                        ("name", "team".into()),
                        ("label", "Team".into()),
                        ("type", "text".into()),
                    ])]),
                ),
                (
                    "oauth2",
                    Value::object([
                        (
                            "authorization_endpoint",
                            format!("{b}/oauth/authorize").into(),
                        ),
                        ("token_endpoint", format!("{b}/oauth/token").into()),
                        ("revocation_endpoint", format!("{b}/oauth/revoke").into()),
                        ("scopes", vec!["read"].into()),
                        ("token_response_metadata", vec!["instance_url"].into()),
                    ]),
                ),
                ("api_base_url", "{metadata.instance_url}/services".into()),
            ]),
        ])
    }

    /// A configuration with a fresh store and the given master key.
    pub fn config_with_key(&self, store: &str, key: &str) -> String {
        Value::object([
            ("store", self.dir.join(store).to_str().unwrap().into()),
            ("master_key", key.into()),
            ("catalog", self.apps()),
            (
                "oauth_clients",
                Value::object(["sandbox", "sandbox-meta"].map(|app| {
                    (
                        app,
                        Value::object([
                            ("client_id", CLIENT_ID.into()),
                            ("client_secret", CLIENT_SECRET.into()),
                        ]),
                    )
                })),
            ),
            (
                "oauth",
                Value::object([("interactive_timeout_ms", 20000i64.into())]),
            ),
        ])
        .to_string()
    }

    pub fn open(&self) -> Client {
        Client::open(&self.config_with_key("refold.db", &random_key())).expect("open")
    }

    /// GET /api/me with a token: its status.
    pub fn api_me(&self, token: &str) -> u16 {
        http_get(&format!("{}/api/me", self.base_url), Some(token)).0
    }

    /// Changes how the sandbox answers from now on (POST /admin/config,
    /// docs/devserver.md), such as `{"token_response_extra": {...}}`.
    pub fn set_config(&self, config: &Value) {
        let (status, body) = http_post_json(
            &format!("{}/admin/config", self.base_url),
            &config.to_string(),
        );
        assert_eq!(status, 200, "POST /admin/config: {body}");
    }

    /// The sandbox's grants (GET /admin/grants), as (client_id, revoked).
    pub fn grants(&self) -> Vec<(String, bool)> {
        let (status, _, body) = http_get(&format!("{}/admin/grants", self.base_url), None);
        assert_eq!(status, 200, "GET /admin/grants");
        let grants = json::parse(&body).expect("the grants are JSON");
        grants
            .get("grants")
            .and_then(Value::as_array)
            .expect("a grants array")
            .iter()
            .map(|g| {
                (
                    g.get("client_id")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_owned(),
                    g.get("revoked").and_then(Value::as_bool).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "refold-rust-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A master key: 32 bytes from the OS's random source, as hex.
pub fn random_key() -> String {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A plain-HTTP GET to a loopback URL: (status, Location header, body).
pub fn http_get(url: &str, bearer: Option<&str>) -> (u16, Option<String>, String) {
    http_request("GET", url, bearer, None)
}

/// A plain-HTTP POST of a JSON body to a loopback URL: (status, body).
pub fn http_post_json(url: &str, body: &str) -> (u16, String) {
    let (status, _, body) = http_request("POST", url, None, Some(body));
    (status, body)
}

fn http_request(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (u16, Option<String>, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let content = body
        .map(|b| {
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            )
        })
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}{content}Connection: close\r\n\r\n{}",
        body.unwrap_or("")
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned());
    (status, location, body.to_owned())
}

/// Plays the browser: follows the authorization URL (the sandbox approves
/// and redirects to refold's loopback listener) and returns the status of
/// the listener's page.
pub fn follow(url: &str) -> u16 {
    let (status, location, _) = http_get(url, None);
    assert_eq!(status, 302, "the sandbox did not redirect");
    http_get(&location.expect("a Location header"), None).0
}
