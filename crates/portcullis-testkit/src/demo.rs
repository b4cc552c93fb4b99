//! The demo data (`portcullis_server::demo`): seeding it, the names and secrets tests sign in and call with,
//! and a client shaped like the demo SPA.

use portcullis_core::SystemClock;
use portcullis_core::model::{ClientType, ConsentType, GrantType};
use portcullis_core::store::Store;
use portcullis_server::admin::{ClientSpec, SecretChoice};
use portcullis_store::test_support::TestDatabase;

/// The demo SPA: a public client using the code flow with PKCE.
pub const SPA: &str = "angularclient";
pub const SPA_REDIRECT: &str = "http://localhost:4200/callback";
pub const SPA_ORIGIN: &str = "http://localhost:4200";
/// What the SPA asks for unless a test says otherwise: every token, and an API scope.
pub const SPA_SCOPE: &str = "openid profile email offline_access dataEventRecords";
/// The password of every demo user (`alice`, `bob`).
pub const PASSWORD: &str = "Demo-Passw0rd!";
/// The demo console client (confidential: client credentials and password grants), id and secret.
pub const CONSOLE: (&str, &str) = ("consoleclient", "consoleClientSecret");
/// The demo API's resource name, which is also its client id for introspection.
pub const API: &str = "rs_dataEventRecordsApi";
pub const API_SECRET: &str = "dataEventRecordsSecret";

/// Seeds the demo clients, users and scopes into `db`. Do it before the provider starts, so it publishes them
/// ([`crate::TestProviderBuilder::seed_demo`] does); call this directly to add data of your own after the demo's.
pub async fn seed_demo(db: &TestDatabase) {
    seed_store(db.store().as_ref()).await;
}

/// Seeds the demo data into `store`, timestamped by the system clock whatever clock the provider will use.
pub(crate) async fn seed_store(store: &dyn Store) {
    portcullis_server::demo::seed(store, &SystemClock).await.unwrap();
}

/// A client like the demo SPA (public, explicit consent, code + refresh grants, the demo's scopes) with
/// another id and these redirect URIs; change what a test needs with struct update syntax, and register it
/// with [`crate::TestProvider::add_client`].
pub fn spa_like(client_id: &str, redirect_uris: &[&str]) -> ClientSpec {
    ClientSpec {
        client_id: client_id.to_owned(),
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: None,
        redirect_uris: redirect_uris.iter().map(|uri| uri.to_string()).collect(),
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: SPA_SCOPE.split(' ').map(str::to_owned).collect(),
        introspection: false,
        revocation: false,
        pkce_exempt: false,
        access_token_format: None,
        secret: SecretChoice::Generate,
    }
}
