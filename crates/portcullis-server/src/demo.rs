//! The demo data of the design (clients, users, roles, scopes) and the guard that keeps its well-known
//! secrets out of production.

use portcullis_core::Clock;
use portcullis_core::model::{ClientType, ConsentType, GrantType, Scope};
use portcullis_core::password;
use portcullis_core::secret;
use portcullis_core::store::{Store, StoreError};

use crate::admin::{self, AdminError, ClientSpec, SecretChoice, UserSpec};

pub const SPA_ORIGIN: &str = "http://localhost:4200";
pub const API_RESOURCE: &str = "rs_dataEventRecordsApi";
pub const API_SECRET: &str = "dataEventRecordsSecret";
pub const CONSOLE_SECRET: &str = "consoleClientSecret";
pub const PASSWORD: &str = "Demo-Passw0rd!";
pub const USERS: [&str; 2] = ["alice", "bob"];

const ALL_SCOPES: [&str; 7] = ["openid", "profile", "email", "phone", "roles", "offline_access", "dataEventRecords"];

fn scopes(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn clients() -> Vec<ClientSpec> {
    let base = ClientSpec {
        client_id: String::new(),
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: None,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        grant_types: Vec::new(),
        scopes: Vec::new(),
        introspection: false,
        revocation: false,
        pkce_exempt: false,
        access_token_format: None,
        secret: SecretChoice::Generate,
    };
    vec![
        ClientSpec {
            client_id: "angularclient".into(),
            display_name: Some("Angular demo application".into()),
            redirect_uris: vec![format!("{SPA_ORIGIN}/callback")],
            post_logout_redirect_uris: vec![SPA_ORIGIN.into()],
            cors_origins: vec![SPA_ORIGIN.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: scopes(&ALL_SCOPES),
            ..base.clone()
        },
        ClientSpec {
            client_id: API_RESOURCE.into(),
            client_type: ClientType::Confidential,
            display_name: Some("dataEventRecords API".into()),
            introspection: true,
            revocation: true,
            secret: SecretChoice::Given(API_SECRET.into()),
            ..base.clone()
        },
        ClientSpec {
            client_id: "consoleclient".into(),
            client_type: ClientType::Confidential,
            display_name: Some("Console demo application".into()),
            grant_types: vec![GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken],
            scopes: scopes(&["openid", "profile", "email", "roles", "offline_access", "dataEventRecords"]),
            secret: SecretChoice::Given(CONSOLE_SECRET.into()),
            ..base.clone()
        },
        ClientSpec {
            client_id: "device".into(),
            display_name: Some("Device demo application".into()),
            grant_types: vec![GrantType::DeviceCode, GrantType::RefreshToken],
            scopes: scopes(&ALL_SCOPES),
            ..base
        },
    ]
}

fn users() -> Vec<UserSpec> {
    let user = |username: &str, name: &str, roles: &[&str]| UserSpec {
        username: username.into(),
        password: PASSWORD.into(),
        name: Some(name.into()),
        email: Some(format!("{username}@example.com")),
        email_confirmed: true,
        phone: None,
        phone_confirmed: false,
        roles: roles.iter().map(|role| role.to_string()).collect(),
    };
    vec![
        user("alice", "Alice Smith", &["dataEventRecords.admin", "dataEventRecords.user"]),
        user("bob", "Bob Jones", &["dataEventRecords.user"]),
    ]
}

/// Seeds the demo data. Only what is missing is created, so a restart keeps whatever was changed since.
pub async fn seed(store: &dyn Store, clock: &dyn Clock) -> Result<(), AdminError> {
    admin::ensure_standard_scopes(store).await?;
    if store.find_scopes(&["dataEventRecords".to_string()]).await?.is_empty() {
        let scope = Scope {
            name: "dataEventRecords".into(),
            display_name: "Read and change your data event records".into(),
            description: Some("Access to the dataEventRecords API".into()),
            resources: vec![API_RESOURCE.into()],
        };
        ignore_conflict(admin::add_scope(store, scope).await.map(drop))?;
    }
    for spec in clients() {
        if store.find_client(&spec.client_id).await?.is_none() {
            ignore_conflict(admin::add_client(store, clock, spec).await.map(drop))?;
        }
    }
    for spec in users() {
        if store.find_user_by_login(&spec.username).await?.is_none() {
            ignore_conflict(admin::add_user(store, clock, spec).await.map(drop))?;
        }
    }
    Ok(())
}

/// Two instances seeding one database at once both find the row missing; the loser's conflict is harmless.
fn ignore_conflict(result: Result<(), AdminError>) -> Result<(), AdminError> {
    match result {
        Err(AdminError::Store(StoreError::Conflict(_))) => Ok(()),
        Err(AdminError::Invalid(message)) if message.contains("already exists") => Ok(()),
        other => other,
    }
}

/// The demo's well-known credentials still present in the store, by name. Outside demo mode the provider
/// refuses to start while this is not empty: anyone who read the README could use them.
pub async fn well_known_secrets_in_use(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for (client_id, value) in [(API_RESOURCE, API_SECRET), ("consoleclient", CONSOLE_SECRET)] {
        if let Some(client) = store.find_client(client_id).await?
            && client.secret_digest.as_deref().is_some_and(|digest| secret::matches_digest(value, digest))
        {
            found.push(format!("client {client_id} has the demo secret"));
        }
    }
    for username in USERS {
        if let Some(user) = store.find_user_by_login(username).await? {
            let hash = user.password_hash.clone();
            let demo = tokio::task::spawn_blocking(move || password::verify(PASSWORD, &hash)).await.unwrap_or(false);
            if demo {
                found.push(format!("user {username} has the demo password"));
            }
        }
    }
    Ok(found)
}

/// The lines printed at start in demo mode.
pub fn banner(issuer: &str) -> String {
    format!(
        "Portcullis demo provider at {issuer}\n  discovery: {issuer}/.well-known/openid-configuration\n  \
         users: alice (admin) and bob (user), password {PASSWORD}\n  \
         clients: angularclient (SPA, {SPA_ORIGIN}), {API_RESOURCE} / {API_SECRET}, consoleclient / {CONSOLE_SECRET}, device\n  \
         demo secrets are public: never use demo mode in production"
    )
}
