//! The provider killed with SIGKILL in the middle of a mixed write load, again and again, on one database: no
//! acknowledged write may be lost and the database must stay sound.
//!
//! Each round starts the real `portcullis serve` on the database the earlier rounds used, checks through the
//! HTTP API (introspection, RFC 7662 §2.2) that every write the previous round saw acknowledged with a 200 is
//! there, then runs workers that sign in (password grant), rotate refresh tokens (RFC 6749 §6, RFC 9700
//! §4.14.2), revoke refresh tokens, which ends their family, and revoke single access tokens (RFC 7009 §2.1), and
//! kills the process at a random moment. A write is *acknowledged* when its 200 reached the client; a request in
//! flight at the kill may or may not have happened, and only what it could not have changed is checked for it.
//! After each kill: SQLite's `PRAGMA integrity_check` and foreign-key check, or PostgreSQL's `amcheck` on every
//! index of the schema; and at most one live refresh token per family on both.
//!
//! `PORTCULLIS_FAULT_KILLS` sets the kills per database (default 30), `PORTCULLIS_FAULT_SEED` replays a run's
//! random choices (the seed is printed). The long run is one command in the README.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::collections::HashSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_testkit::{TestDatabase, both_databases};
use serde_json::Value;
use sqlx::{Connection, PgConnection, SqliteConnection};

const CLIENT: (&str, &str) = ("consoleclient", "consoleClientSecret");
const WORKERS: usize = 6;

/// A small deterministic generator (xorshift64*): the run's choices come from one printed seed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A write whose answer had not arrived when the provider died: it may or may not have happened.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    Rotate,
    RevokeFamily,
    RevokeAccess(usize),
}

/// One sign-in as the client saw it: the tokens each acknowledged grant returned, in order, and what it revoked.
#[derive(Debug, Default)]
struct Chain {
    refresh: Vec<String>,
    access: Vec<String>,
    family_revoked: bool,
    access_revoked: HashSet<usize>,
    pending: Option<Pending>,
}

/// What must hold of one token, judged from the acknowledged writes only.
#[derive(Debug)]
struct Expectation {
    token: String,
    hint: &'static str,
    active: bool,
    why: &'static str,
}

impl Chain {
    fn expectations(&self) -> Vec<Expectation> {
        let mut out = Vec::new();
        if self.pending == Some(Pending::RevokeFamily) {
            // A family revocation in flight may have ended everything or nothing. Earlier rotations stand.
            for token in &self.refresh[..self.refresh.len() - 1] {
                out.push(Expectation { token: token.clone(), hint: "refresh_token", active: false, why: "rotated" });
            }
            return out;
        }
        let last = self.refresh.len() - 1;
        for (index, token) in self.refresh.iter().enumerate() {
            let (active, why) = if self.family_revoked {
                (false, "its family was revoked")
            } else if index < last {
                (false, "rotated")
            } else if self.pending == Some(Pending::Rotate) {
                continue; // Spent or not, depending on whether the rotation in flight committed.
            } else {
                (true, "the family's live refresh token")
            };
            out.push(Expectation { token: token.clone(), hint: "refresh_token", active, why });
        }
        for (index, token) in self.access.iter().enumerate() {
            let (active, why) = if self.family_revoked {
                (false, "its family was revoked")
            } else if self.access_revoked.contains(&index) {
                (false, "revoked")
            } else if self.pending == Some(Pending::RevokeAccess(index)) {
                continue;
            } else {
                (true, "issued and never revoked")
            };
            out.push(Expectation { token: token.clone(), hint: "access_token", active, why });
        }
        out
    }
}

type Ledger = Arc<Mutex<Vec<Chain>>>;

/// `portcullis serve --demo` on the test's database, as its own process.
struct Provider {
    child: Child,
    base: String,
}

impl Provider {
    async fn start(db: &TestDatabase, data_dir: &std::path::Path, port: u16) -> Self {
        let base = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        for (key, _) in std::env::vars() {
            if key.starts_with("PORTCULLIS_") {
                command.env_remove(key);
            }
        }
        let child = command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", db.url(), "serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--issuer", &base])
            .env("PORTCULLIS_LOG_LEVEL", "error")
            // Pruning would delete what the checks look for.
            .env("PORTCULLIS_PRUNING__INTERVAL", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut provider = Self { child, base };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", provider.base)).send().await
                && response.status() == 200
            {
                return provider;
            }
            if let Some(status) = provider.child.try_wait().unwrap() {
                panic!("the provider exited with {status} before it served");
            }
            assert!(Instant::now() < deadline, "the provider did not become ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, no chance to finish a transaction.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts a form with the client's Basic credentials. `None` when no full answer came back: the request may or
/// may not have been carried out.
async fn post(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Option<(u16, Value)> {
    let response = http.post(url).basic_auth(CLIENT.0, Some(CLIENT.1)).form(form).send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.bytes().await.ok()?;
    Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// One worker's load until the provider dies: sign in, rotate a few times, then revoke the family, revoke the
/// latest access token, or leave the sign-in alive, and start again.
async fn work(base: String, ledger: Ledger, seed: u64, unclear: Arc<Mutex<Vec<String>>>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let token_url = format!("{base}/connect/token");
    let revoke_url = format!("{base}/connect/revoke");
    let mut dice = Dice(seed | 1);
    loop {
        let signed_in = post(
            &http,
            &token_url,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "Demo-Passw0rd!"),
                ("scope", "openid offline_access dataEventRecords"),
            ],
        )
        .await;
        let tokens = match signed_in {
            Some((200, tokens)) => tokens,
            Some((status, body)) => return unclear.lock().unwrap().push(format!("sign-in: {status} {body}")),
            None => return, // Nothing was acknowledged, so nothing is owed.
        };
        let chain_index = {
            let mut chains = ledger.lock().unwrap();
            chains.push(Chain {
                refresh: vec![tokens["refresh_token"].as_str().unwrap().to_owned()],
                access: vec![tokens["access_token"].as_str().unwrap().to_owned()],
                ..Chain::default()
            });
            chains.len() - 1
        };
        let set_pending = |pending: Option<Pending>| ledger.lock().unwrap()[chain_index].pending = pending;
        for _ in 0..=dice.below(4) {
            let presented = ledger.lock().unwrap()[chain_index].refresh.last().unwrap().clone();
            set_pending(Some(Pending::Rotate));
            match post(&http, &token_url, &[("grant_type", "refresh_token"), ("refresh_token", &presented)]).await {
                Some((200, tokens)) => {
                    let mut chains = ledger.lock().unwrap();
                    let chain = &mut chains[chain_index];
                    chain.refresh.push(tokens["refresh_token"].as_str().unwrap().to_owned());
                    chain.access.push(tokens["access_token"].as_str().unwrap().to_owned());
                    chain.pending = None;
                }
                Some((status, body)) => return unclear.lock().unwrap().push(format!("rotation: {status} {body}")),
                None => return,
            }
        }
        let ending = dice.below(10);
        if ending < 4 {
            let refresh = ledger.lock().unwrap()[chain_index].refresh.last().unwrap().clone();
            set_pending(Some(Pending::RevokeFamily));
            match post(&http, &revoke_url, &[("token", &refresh), ("token_type_hint", "refresh_token")]).await {
                Some((200, _)) => {
                    let mut chains = ledger.lock().unwrap();
                    chains[chain_index].family_revoked = true;
                    chains[chain_index].pending = None;
                }
                Some((status, body)) => return unclear.lock().unwrap().push(format!("revocation: {status} {body}")),
                None => return,
            }
        } else if ending < 6 {
            let (index, access) = {
                let chains = ledger.lock().unwrap();
                let access = &chains[chain_index].access;
                (access.len() - 1, access.last().unwrap().clone())
            };
            set_pending(Some(Pending::RevokeAccess(index)));
            match post(&http, &revoke_url, &[("token", &access), ("token_type_hint", "access_token")]).await {
                Some((200, _)) => {
                    let mut chains = ledger.lock().unwrap();
                    chains[chain_index].access_revoked.insert(index);
                    chains[chain_index].pending = None;
                }
                Some((status, body)) => return unclear.lock().unwrap().push(format!("revocation: {status} {body}")),
                None => return,
            }
        }
    }
}

/// Every expectation of `chains` checked through introspection; returns the ones that do not hold.
async fn lost_writes(base: &str, chains: &[Chain]) -> Vec<String> {
    let http = reqwest::Client::new();
    let url = format!("{base}/connect/introspect");
    let expectations: Vec<Expectation> = chains.iter().flat_map(Chain::expectations).collect();
    let mut lost = Vec::new();
    for batch in expectations.chunks(16) {
        let answers = futures_join(batch.iter().map(|expected| {
            let (http, url, token, hint) = (http.clone(), url.clone(), expected.token.clone(), expected.hint);
            async move { post(&http, &url, &[("token", &token), ("token_type_hint", hint)]).await }
        }))
        .await;
        for (expected, answer) in batch.iter().zip(answers) {
            let (status, body) = answer.expect("the restarted provider answers introspection");
            assert_eq!(status, 200, "introspection failed: {body}");
            if body["active"].as_bool() != Some(expected.active) {
                lost.push(format!(
                    "{} {}… should be {} ({}), introspection says {body}",
                    expected.hint,
                    &expected.token[..12.min(expected.token.len())],
                    if expected.active { "active" } else { "inactive" },
                    expected.why
                ));
            }
        }
    }
    lost
}

/// Runs futures side by side on the test's runtime, in order of their results.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// The database itself after a kill, with the provider dead: sound storage and the family invariant.
async fn check_database(db: &TestDatabase) {
    let live_twice = "SELECT family_id FROM tokens WHERE token_type = 'refresh_token' AND status = 'valid' \
                      AND family_id IS NOT NULL GROUP BY family_id HAVING COUNT(*) > 1";
    if db.url().starts_with("sqlite:") {
        let mut connection = SqliteConnection::connect(db.url()).await.unwrap();
        let integrity: Vec<(String,)> =
            sqlx::query_as("PRAGMA integrity_check").fetch_all(&mut connection).await.unwrap();
        assert_eq!(integrity, vec![("ok".to_owned(),)], "PRAGMA integrity_check after a kill");
        let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut connection).await.unwrap();
        assert!(dangling.is_empty(), "{} rows break a foreign key after a kill", dangling.len());
        let twice = sqlx::query(live_twice).fetch_all(&mut connection).await.unwrap();
        assert!(twice.is_empty(), "{} families with two live refresh tokens", twice.len());
        connection.close().await.unwrap();
    } else {
        let mut connection = PgConnection::connect(db.url()).await.unwrap();
        sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck").execute(&mut connection).await.unwrap();
        // bt_index_check raises an error on the first inconsistency it finds in an index.
        sqlx::query(
            "SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE am.amname = 'btree' AND n.nspname = current_schema() AND c.relpersistence != 't'",
        )
        .fetch_all(&mut connection)
        .await
        .unwrap();
        let twice = sqlx::query(live_twice).fetch_all(&mut connection).await.unwrap();
        assert!(twice.is_empty(), "{} families with two live refresh tokens", twice.len());
        connection.close().await.unwrap();
    }
}

async fn kills_lose_no_acknowledged_write(db: TestDatabase) {
    let kills: usize = std::env::var("PORTCULLIS_FAULT_KILLS").map_or(30, |value| value.parse().unwrap());
    let seed: u64 = std::env::var("PORTCULLIS_FAULT_SEED").map_or_else(
        |_| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
        |value| value.parse().unwrap(),
    );
    eprintln!("kill test on {}: {kills} kills, PORTCULLIS_FAULT_SEED={seed}", db.url().split(':').next().unwrap());
    let mut dice = Dice(seed | 1);
    let data_dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut previous: Vec<Chain> = Vec::new();
    let mut every_chain: Vec<Chain> = Vec::new();
    let (mut acknowledged, mut in_flight_at_kill, mut unclear_total) = (0usize, 0usize, 0usize);
    for round in 0..kills {
        let provider = Provider::start(&db, data_dir.path(), port).await;
        let lost = lost_writes(&provider.base, &previous).await;
        assert!(lost.is_empty(), "round {round}: {} acknowledged writes lost:\n{}", lost.len(), lost.join("\n"));
        every_chain.append(&mut previous);

        let ledger: Ledger = Arc::default();
        let unclear: Arc<Mutex<Vec<String>>> = Arc::default();
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| tokio::spawn(work(provider.base.clone(), ledger.clone(), dice.next(), unclear.clone())))
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + dice.below(1000))).await;
        provider.kill();
        for worker in workers {
            worker.await.unwrap();
        }
        check_database(&db).await;

        previous = std::mem::take(&mut *ledger.lock().unwrap());
        // Answers other than 200 are not acknowledgements; they must stay rare (a busy database under load).
        let unclear = std::mem::take(&mut *unclear.lock().unwrap());
        assert!(unclear.iter().all(|answer| answer.contains(" 503 ")), "unexpected answers: {unclear:?}");
        unclear_total += unclear.len();
        acknowledged +=
            previous.iter().map(|chain| chain.refresh.len() + usize::from(chain.family_revoked)).sum::<usize>();
        in_flight_at_kill += previous.iter().filter(|chain| chain.pending.is_some()).count();
    }
    // The last round's writes, and every earlier round's once more: a later kill must not undo them either.
    let provider = Provider::start(&db, data_dir.path(), port).await;
    every_chain.append(&mut previous);
    let lost = lost_writes(&provider.base, &every_chain).await;
    assert!(lost.is_empty(), "after the last kill: {} acknowledged writes lost:\n{}", lost.len(), lost.join("\n"));
    eprintln!(
        "{kills} kills: {} sign-ins, {acknowledged} acknowledged writes, {in_flight_at_kill} writes in flight at a \
         kill, {unclear_total} answered 503, 0 lost",
        every_chain.len()
    );
    // A kill that never met a request in flight would prove nothing.
    assert!(in_flight_at_kill >= kills / 2, "only {in_flight_at_kill} writes were in flight at {kills} kills");
    drop(provider);
}

both_databases!(kill_minus_nine_during_writes, kills_lose_no_acknowledged_write);
