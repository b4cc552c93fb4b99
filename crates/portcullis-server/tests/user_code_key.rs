//! User codes are stored as an HMAC under a server key, not as a plain SHA-256 (RFC 8628 §5.1: a user code has
//! about 34.6 bits, too few for a plain digest to hide it), and that key is the same on every instance: derived
//! from the master key when one is set, otherwise generated once and kept in the database. On SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::model::{Token, TokenType};
use portcullis_core::protocol::device::{UserCode, UserCodeKey};
use portcullis_core::protocol::payload::{DeviceCodePayload, Payload};
use portcullis_core::secret;
use portcullis_server::config::Config;
use portcullis_server::metadata::DEVICE_AUTHORIZATION_PATH;
use portcullis_testkit::{Reply, TestDatabase, TestProvider, both_databases, http};
use reqwest::StatusCode;

/// Asks for codes as the demo's public device client; returns the device code and the user code.
async fn device_codes(provider: &TestProvider) -> (String, UserCode) {
    let form = [("client_id", "device"), ("scope", "openid")];
    let reply =
        Reply::read(http().post(provider.url(DEVICE_AUTHORIZATION_PATH)).form(&form).send().await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let answer = reply.json();
    let user_code = UserCode::parse(answer["user_code"].as_str().unwrap()).unwrap();
    (answer["device_code"].as_str().unwrap().to_owned(), user_code)
}

async fn row_by_digest(provider: &TestProvider, digest: &str) -> Option<Token> {
    provider.state.store.find_token_by_digest(digest).await.unwrap()
}

/// What the database holds of a user code is its HMAC under the provider's key: not the plain SHA-256 of the
/// code (no row is found by it), and not the HMAC under any other key.
async fn rfc8628_5_1_user_codes_are_stored_as_a_keyed_digest(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (device_code, user_code) = device_codes(&provider).await;
    let device_row = row_by_digest(&provider, &secret::digest(&device_code)).await.unwrap();
    let payload = DeviceCodePayload::read(&device_row).unwrap();

    let plain = secret::digest(user_code.normalized());
    assert_ne!(payload.user_code_digest, plain, "the device code's payload holds a plain SHA-256");
    assert_eq!(row_by_digest(&provider, &plain).await, None, "a row is found by the plain SHA-256");

    let keyed = user_code.digest(&provider.state.user_code_key);
    assert_eq!(payload.user_code_digest, keyed);
    let user_row = row_by_digest(&provider, &keyed).await.unwrap();
    assert_eq!((user_row.token_type, user_row.reference_digest.as_deref()), (TokenType::UserCode, Some(&*keyed)));
    let other_key = UserCodeKey::new([0; UserCodeKey::BYTES]);
    assert_ne!(user_code.digest(&other_key), keyed, "another key gives another digest");
}
both_databases!(keyed_digest, rfc8628_5_1_user_codes_are_stored_as_a_keyed_digest);

/// Without a master key, the first instance generates the key and stores it; every later instance on the same
/// database (a restart, or another instance behind the same load balancer) reads the same key, so a code issued
/// by one is found by the other.
async fn without_a_master_key_the_key_is_generated_once_and_shared_through_the_database(db: TestDatabase) {
    let first = TestProvider::builder(&db).seed_demo().start().await;
    let (_, user_code) = device_codes(&first).await;
    let second = TestProvider::builder(&db).start().await;
    assert_eq!(second.state.user_code_key, first.state.user_code_key);
    let found = row_by_digest(&second, &user_code.digest(&second.state.user_code_key)).await;
    assert_eq!(found.map(|row| row.token_type), Some(TokenType::UserCode));
    let stored = db.store().keep_secret("user_code_key", "unused candidate", first.state.clock.now()).await;
    assert_eq!(stored.unwrap(), first.state.user_code_key.encode(), "the key is the stored one");
}
both_databases!(stored_key, without_a_master_key_the_key_is_generated_once_and_shared_through_the_database);

/// With a master key, the key is derived from it: the same on every instance that has the master key, never
/// written to the database (a copy of the database alone cannot recover live codes).
async fn with_a_master_key_the_key_is_derived_from_it_and_never_stored(db: TestDatabase) {
    let master = portcullis_jose::generate_master_key().unwrap();
    let with_master = |master: String| move |config: Config| Config { master_key: Some(master), ..config };
    let first = TestProvider::builder(&db).seed_demo().configure(with_master(master.clone())).start().await;
    let (_, user_code) = device_codes(&first).await;
    let second = TestProvider::builder(&db).configure(with_master(master)).start().await;
    assert_eq!(second.state.user_code_key, first.state.user_code_key);
    let found = row_by_digest(&second, &user_code.digest(&second.state.user_code_key)).await;
    assert_eq!(found.map(|row| row.token_type), Some(TokenType::UserCode));

    let candidate = UserCodeKey::generate().unwrap().encode();
    let stored = db.store().keep_secret("user_code_key", &candidate, first.state.clock.now()).await;
    assert_eq!(stored.unwrap(), candidate, "nothing was stored before");
}
both_databases!(derived_key, with_a_master_key_the_key_is_derived_from_it_and_never_stored);
