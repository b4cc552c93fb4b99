//! Administration of clients, users and scopes: the rules behind the `portcullis clients|users|scopes`
//! commands and the demo seeding, free of any command-line parsing.

use std::sync::Arc;

use portcullis_core::Clock;
use portcullis_core::model::{
    AccessTokenFormat, Client, ClientType, ConsentType, GrantType, NewClient, NewUser, Permissions, STANDARD_SCOPES,
    Scope, User,
};
use portcullis_core::password;
use portcullis_core::protocol::redirect_uri;
use portcullis_core::secret;
use portcullis_core::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request is wrong; the message says what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

/// How a confidential client gets its secret.
#[derive(Debug, Clone)]
pub enum SecretChoice {
    /// A fresh 256-bit secret, shown once to the administrator.
    Generate,
    /// A secret chosen by the administrator (the demo's well-known ones).
    Given(String),
}

/// Everything needed to register a client.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub client_id: String,
    pub client_type: ClientType,
    pub consent_type: ConsentType,
    pub display_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub cors_origins: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub introspection: bool,
    pub revocation: bool,
    pub pkce_exempt: bool,
    pub access_token_format: Option<AccessTokenFormat>,
    pub secret: SecretChoice,
}

/// Registers a client after checking it makes sense. Returns the client and, for a generated secret, the
/// secret in clear: the only time it exists outside the administrator's hands.
pub async fn add_client(
    store: &dyn Store,
    clock: &dyn Clock,
    spec: ClientSpec,
) -> Result<(Client, Option<String>), AdminError> {
    check_client_id(&spec.client_id)?;
    for uri in spec.redirect_uris.iter().chain(&spec.post_logout_redirect_uris) {
        redirect_uri::validate_registered_redirect_uri(uri, false)
            .map_err(|reason| invalid(format!("redirect URI {uri:?} is refused: {reason}")))?;
    }
    for origin in &spec.cors_origins {
        redirect_uri::validate_cors_origin(origin, false)
            .map_err(|reason| invalid(format!("CORS origin {origin:?} is refused: {reason}")))?;
    }
    let public = spec.client_type == ClientType::Public;
    if public {
        if matches!(spec.secret, SecretChoice::Given(_)) {
            return Err(invalid("a public client cannot have a secret: it could not keep it"));
        }
        // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
        if spec.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(invalid("the client_credentials grant needs a confidential client"));
        }
        if spec.pkce_exempt {
            return Err(invalid("only a confidential client may be exempted from PKCE"));
        }
        if spec.introspection {
            return Err(invalid("only a confidential client may introspect tokens"));
        }
    }
    if spec.grant_types.contains(&GrantType::AuthorizationCode) && spec.redirect_uris.is_empty() {
        return Err(invalid("the authorization_code grant needs at least one redirect URI"));
    }
    let known = store.find_scopes(&spec.scopes).await?;
    if let Some(unknown) = spec.scopes.iter().find(|name| !known.iter().any(|scope| &scope.name == *name)) {
        return Err(invalid(format!(
            "scope {unknown:?} does not exist; create it first with `portcullis scopes add {unknown}`"
        )));
    }
    let (secret_digest, shown) = match (&spec.secret, public) {
        (_, true) => (None, None),
        (SecretChoice::Given(value), false) => {
            if value.len() < 16 {
                return Err(invalid("a client secret must have at least 16 characters"));
            }
            (Some(secret::digest(value)), None)
        }
        (SecretChoice::Generate, false) => {
            let value = secret::generate().map_err(|error| invalid(format!("no randomness available: {error}")))?;
            (Some(secret::digest(&value)), Some(value))
        }
    };
    let new = NewClient {
        display_name: spec.display_name.clone().unwrap_or_else(|| spec.client_id.clone()),
        client_id: spec.client_id,
        secret_digest,
        client_type: spec.client_type,
        consent_type: spec.consent_type,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        cors_origins: spec.cors_origins,
        permissions: Permissions {
            grant_types: spec.grant_types,
            scopes: spec.scopes,
            introspection: spec.introspection,
            revocation: spec.revocation,
        },
        pkce_exempt: spec.pkce_exempt,
        access_token_format: spec.access_token_format,
    };
    let client = store.create_client(new, clock.now()).await.map_err(|error| match error {
        StoreError::Conflict(_) => invalid(format!(
            "a client with id {:?} already exists; choose another id or remove it first",
            error_subject(&error)
        )),
        other => other.into(),
    })?;
    Ok((client, shown))
}

fn error_subject(error: &StoreError) -> String {
    match error {
        StoreError::Conflict(what) | StoreError::NotFound(what) => what.clone(),
        other => other.to_string(),
    }
}

/// RFC 6749 §2.2 / Appendix A.1: a client id is a string of visible ASCII characters.
fn check_client_id(client_id: &str) -> Result<(), AdminError> {
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(invalid("a client id must have between 1 and 200 characters"));
    }
    if !client_id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(format!("client id {client_id:?} may only contain visible ASCII characters (no spaces)")));
    }
    Ok(())
}

/// Everything needed to create a user.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub username: String,
    pub password: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_confirmed: bool,
    pub phone: Option<String>,
    pub phone_confirmed: bool,
    pub roles: Vec<String>,
}

pub async fn add_user(store: &dyn Store, clock: &dyn Clock, spec: UserSpec) -> Result<User, AdminError> {
    let username = spec.username.trim().to_string();
    if username.is_empty() || username.chars().count() > 256 || username.chars().any(char::is_whitespace) {
        return Err(invalid("a user name must have 1 to 256 characters and no spaces"));
    }
    if let Some(email) = &spec.email {
        check_email(email)?;
    }
    password::check_strength(&spec.password).map_err(invalid)?;
    let password_hash = hash_password(spec.password).await?;
    let new = NewUser {
        id: secret::new_id(),
        username,
        name: spec.name,
        email: spec.email,
        email_confirmed: spec.email_confirmed,
        phone: spec.phone,
        phone_confirmed: spec.phone_confirmed,
        password_hash,
        security_stamp: secret::new_id(),
    };
    let user = store.create_user(new, clock.now()).await.map_err(|error| match error {
        StoreError::Conflict(what) => invalid(format!("{what} already exists; choose another")),
        other => other.into(),
    })?;
    for role in &spec.roles {
        check_role(role)?;
        store.add_role(&user.id, role).await?;
    }
    store.find_user(&user.id).await?.ok_or_else(|| AdminError::NotFound(format!("user {:?}", user.username)))
}

/// Finds a user by user name, email or id, for commands that name one.
pub async fn find_user(store: &dyn Store, who: &str) -> Result<User, AdminError> {
    if let Some(user) = store.find_user_by_login(who).await? {
        return Ok(user);
    }
    store
        .find_user(who)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user is named {who:?} (by user name, email or id)")))
}

/// Sets a new password and ends everything the old one opened: sessions, consents and their tokens
/// (checklist F5: a refresh token must not outlive a password change).
pub async fn set_password(store: &dyn Store, who: &str, new_password: String) -> Result<User, AdminError> {
    let user = find_user(store, who).await?;
    password::check_strength(&new_password).map_err(invalid)?;
    let hash = hash_password(new_password).await?;
    store.set_password(&user.id, &hash, &secret::new_id()).await?;
    store.delete_sessions_of(&user.id).await?;
    store.revoke_authorizations_of_subject(&user.id).await?;
    Ok(user)
}

pub async fn add_role(store: &dyn Store, who: &str, role: &str) -> Result<User, AdminError> {
    check_role(role)?;
    let user = find_user(store, who).await?;
    store.add_role(&user.id, role).await?;
    Ok(user)
}

pub async fn remove_user(store: &dyn Store, who: &str) -> Result<User, AdminError> {
    let user = find_user(store, who).await?;
    store.remove_user(&user.id).await?;
    Ok(user)
}

/// Argon2 takes tens of milliseconds of CPU: off the async workers.
async fn hash_password(password: String) -> Result<String, AdminError> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|error| invalid(format!("password hashing stopped: {error}")))?
        .map_err(|error| invalid(error.to_string()))
}

fn check_email(email: &str) -> Result<(), AdminError> {
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid { Ok(()) } else { Err(invalid(format!("{email:?} is not an email address"))) }
}

fn check_role(role: &str) -> Result<(), AdminError> {
    if role.is_empty() || role.len() > 200 || role.chars().any(char::is_whitespace) {
        return Err(invalid(format!("role {role:?} must have 1 to 200 characters and no spaces")));
    }
    Ok(())
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
pub fn check_scope_name(name: &str) -> Result<(), AdminError> {
    let valid =
        !name.is_empty() && name.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "scope name {name:?} may only contain visible ASCII characters other than space, '\"' and '\\'"
        )))
    }
}

pub async fn add_scope(store: &dyn Store, scope: Scope) -> Result<Scope, AdminError> {
    check_scope_name(&scope.name)?;
    for resource in &scope.resources {
        if resource.is_empty() || resource.chars().any(char::is_whitespace) {
            return Err(invalid(format!("resource {resource:?} must be a non-empty name without spaces")));
        }
    }
    store.create_scope(scope).await.map_err(|error| match error {
        StoreError::Conflict(what) => invalid(format!("{what} already exists")),
        other => other.into(),
    })
}

/// Creates the scopes OpenID Connect defines when they are missing; every provider needs them.
pub async fn ensure_standard_scopes(store: &dyn Store) -> Result<(), AdminError> {
    let names: Vec<String> = STANDARD_SCOPES.iter().map(|(name, _)| name.to_string()).collect();
    let existing = store.find_scopes(&names).await?;
    for (name, display_name) in STANDARD_SCOPES {
        if existing.iter().any(|scope| scope.name == name) {
            continue;
        }
        match store
            .create_scope(Scope {
                name: name.into(),
                display_name: display_name.into(),
                description: None,
                resources: Vec::new(),
            })
            .await
        {
            // Another instance created it at the same moment: fine.
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// A shared store handle for the command line and the server.
pub type SharedStore = Arc<dyn Store>;
