//! The `portcullis` command as an operator runs it: a real process, a data directory of its own.
//! Errors must be one clear line on standard error and a non-zero exit, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        command.arg("--data-dir").arg(self.dir.path()).args(args);
        // The tests' own environment must not change what the command reads.
        for (key, _) in std::env::vars() {
            if key.starts_with("PORTCULLIS_") {
                command.env_remove(key);
            }
        }
        command.env("PORTCULLIS_LOG_LEVEL", "warn");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit non-zero with exactly one `error:` line mentioning `needle`, and no panic.
fn assert_fails_with(output: &Output, needle: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected a failure, got success; stdout: {}", stdout(output));
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|line| line.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].contains(needle), "expected {needle:?} in {:?}", lines[0]);
}

#[test]
fn confidential_client_gets_a_secret_printed_once_and_a_duplicate_id_is_refused() {
    let ws = Workspace::new();
    let added = ws.run(&["clients", "add", "billing", "--type", "confidential", "--introspection"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let out = stdout(&added);
    let secret = out.lines().find_map(|line| line.strip_prefix("client_secret: ")).unwrap();
    assert_eq!(secret.len(), 43, "256-bit base64url secret expected: {secret}");

    let shown = ws.run(&["clients", "show", "billing"]);
    assert!(shown.status.success());
    assert!(!stdout(&shown).contains(secret), "the secret must never be shown again");
    assert!(stdout(&shown).contains("introspection: true"));

    let again = ws.run(&["clients", "add", "billing", "--type", "confidential"]);
    assert_fails_with(&again, "already exists");
}

#[test]
fn client_with_bad_redirect_uri_or_unknown_scope_is_refused() {
    let ws = Workspace::new();
    let bad_uri = ws.run(&[
        "clients",
        "add",
        "spa",
        "--type",
        "public",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        "not a url",
    ]);
    assert_fails_with(&bad_uri, "not a url");
    let fragment = ws.run(&[
        "clients",
        "add",
        "spa",
        "--type",
        "public",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        "https://app.example.com/cb#frag",
    ]);
    assert_fails_with(&fragment, "https://app.example.com/cb#frag");
    let scope = ws.run(&[
        "clients",
        "add",
        "spa",
        "--type",
        "public",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--scope",
        "nonexistent",
    ]);
    assert_fails_with(&scope, "nonexistent");
    let listed = ws.run(&["clients", "list"]);
    assert_eq!(stdout(&listed), "", "nothing half-written may remain");
}

#[test]
fn users_are_created_from_stdin_and_unknown_users_are_named_in_the_error() {
    let ws = Workspace::new();
    let added = ws.run_with_stdin(
        &["users", "add", "carol", "--email", "carol@example.com", "--role", "ops"],
        "S3cure-enough!\n",
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = stdout(&ws.run(&["users", "list"]));
    assert!(listed.contains("carol\tcarol@example.com\tops"), "{listed}");
    assert!(!listed.contains("S3cure"), "{listed}");

    assert_fails_with(&ws.run(&["users", "add-role", "dave", "ops"]), "dave");
    assert_fails_with(&ws.run_with_stdin(&["users", "set-password", "dave"], "Another-Passw0rd\n"), "dave");
    assert_fails_with(&ws.run_with_stdin(&["users", "add", "Carol"], "S3cure-enough!\n"), "already exists");
    assert_fails_with(&ws.run_with_stdin(&["users", "add", "erin"], "short\n"), "at least 8");
}

#[test]
fn a_database_that_is_down_is_a_clear_error() {
    let ws = Workspace::new();
    let started = Instant::now();
    let output = ws.run(&["--database-url", "postgres://postgres@127.0.0.1:1/test", "clients", "list"]);
    assert_fails_with(&output, "127.0.0.1:1");
    assert!(!stderr(&output).contains("password"), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn bad_configuration_names_the_key() {
    let ws = Workspace::new();
    let output = ws.command(&["serve"]).env("PORTCULLIS_LISTEN", "everywhere").output().unwrap();
    assert_fails_with(&output, "`listen`");
    let config = ws.dir.path().join("portcullis.toml");
    std::fs::write(&config, "issuer = \"http://id.example.com\"\n").unwrap();
    let output = ws.run(&["--config", config.to_str().unwrap(), "serve"]);
    assert_fails_with(&output, "`issuer`");
    let output = ws.run(&["--config", "/nonexistent.toml", "migrate"]);
    assert_fails_with(&output, "/nonexistent.toml");
}

#[test]
fn demo_credentials_are_refused_outside_demo_mode() {
    let ws = Workspace::new();
    let seeded = ws.run(&["seed", "--demo"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let output = ws.run(&["serve", "--listen", &format!("127.0.0.1:{}", free_port())]);
    assert_fails_with(&output, "demo");
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The README's command, on a fresh data directory: discovery and JWKS are served, with the demo data in place.
#[tokio::test]
async fn serve_demo_serves_discovery_and_jwks() {
    let ws = Workspace::new();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let child = ws
        .command(&["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--issuer", &issuer])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let doc = loop {
        match client.get(format!("{issuer}/.well-known/openid-configuration")).send().await {
            Ok(response) if response.status() == 200 => break response.json::<serde_json::Value>().await.unwrap(),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => panic!("the provider did not answer within 60 s"),
        }
    };
    assert_eq!(doc["issuer"], issuer.as_str());
    let scopes = doc["scopes_supported"].to_string();
    assert!(scopes.contains("dataEventRecords"), "{scopes}");
    let jwks: serde_json::Value =
        client.get(format!("{issuer}/.well-known/jwks")).send().await.unwrap().json().await.unwrap();
    assert!(!jwks["keys"].as_array().unwrap().is_empty());

    // The demo users and clients exist with exactly the documented names.
    let listed = stdout(&ws.run(&["clients", "list"]));
    for client_id in ["angularclient", "rs_dataEventRecordsApi", "consoleclient", "device"] {
        assert!(listed.contains(client_id), "{client_id} missing: {listed}");
    }
    let users = stdout(&ws.run(&["users", "list"]));
    assert!(users.contains("alice\talice@example.com\tdataEventRecords.admin,dataEventRecords.user"), "{users}");
    assert!(users.contains("bob\tbob@example.com\tdataEventRecords.user"), "{users}");
}

#[test]
fn port_in_use_is_named() {
    let ws = Workspace::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = ws.run(&["serve", "--demo", "--listen", &address]);
    assert_fails_with(&output, &address);
}

/// `portcullis prune` runs the clean-up once and reports what it deleted: a token dead for longer than the
/// threshold goes, a live one stays.
#[tokio::test]
async fn prune_deletes_dead_tokens_and_reports_counts() {
    use portcullis_core::model::{NewToken, TokenStatus, TokenType};
    let ws = Workspace::new();
    assert!(ws.run(&["seed", "--demo"]).status.success());
    let url = format!("sqlite://{}", ws.dir.path().join("portcullis.db").display());
    let database = portcullis_store::Database::open(&url).await.unwrap();
    let now = portcullis_core::Clock::now(&portcullis_core::SystemClock);
    let token = |id: &str, expires_at: time::OffsetDateTime| NewToken {
        id: id.into(),
        token_type: TokenType::AccessToken,
        subject: None,
        client_id: "consoleclient".into(),
        authorization_id: None,
        reference_digest: None,
        status: TokenStatus::Valid,
        created_at: expires_at - time::Duration::hours(1),
        expires_at: Some(expires_at),
        payload: None,
        family_id: None,
    };
    let store = database.store();
    store.create_token(token("dead", now - time::Duration::days(30))).await.unwrap();
    store.create_token(token("live", now + time::Duration::hours(1))).await.unwrap();
    database.close().await;

    let output = ws.run(&["prune"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "pruned 1 tokens and 0 authorizations");
    let database = portcullis_store::Database::open(&url).await.unwrap();
    assert!(database.store().find_token("dead").await.unwrap().is_none());
    assert!(database.store().find_token("live").await.unwrap().is_some());
    database.close().await;
}
