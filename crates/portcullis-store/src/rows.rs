//! Rows as both databases return them, and their conversion to and from the domain model. The one place
//! that knows how times, enums and lists are represented in the tables.
//!
//! Times are UTC unix seconds in a 64-bit integer column in both databases: comparisons in SQL stay plain
//! integer comparisons and the two schemas stay identical. Sub-second precision is dropped on write, so every
//! store method returns times already truncated the same way, and what it returns equals what a later read
//! gives back.

use portcullis_core::model::{
    AccessTokenFormat, Authorization, AuthorizationKind, AuthorizationStatus, Client, ClientType, ConsentType, KeyUse,
    Permissions, Presented, Scope, Session, StoredKey, Token, TokenStatus, TokenType, User,
};
use portcullis_core::store::{StoreError, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

/// The stored form of a time.
pub fn to_db_time(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

pub fn to_db_time_opt(at: Option<OffsetDateTime>) -> Option<i64> {
    at.map(to_db_time)
}

pub fn from_db_time(seconds: i64, column: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|error| StoreError::Other(format!("{column} holds an impossible time: {error}")))
}

fn from_db_time_opt(seconds: Option<i64>, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    seconds.map(|s| from_db_time(s, column)).transpose()
}

/// A time as it reads back after being stored: whole seconds, UTC.
pub fn stored_time(at: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.unix_timestamp()).unwrap_or(at)
}

pub fn stored_time_opt(at: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    at.map(stored_time)
}

pub fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|error| StoreError::Other(format!("cannot encode {what} as JSON: {error}")))
}

fn from_json<T: DeserializeOwned>(text: &str, column: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|error| StoreError::Other(format!("{column} does not hold valid JSON: {error}")))
}

fn parse_enum<T>(value: &str, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
    parse(value).ok_or_else(|| StoreError::Other(format!("{column} holds unknown value '{value}'")))
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClientRow {
    id: String,
    client_id: String,
    secret_digest: Option<String>,
    client_type: String,
    consent_type: String,
    display_name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    cors_origins: String,
    permissions: String,
    pkce_exempt: bool,
    access_token_format: Option<String>,
    created_at: i64,
}

/// The columns of [`ClientRow`], in a macro so statements can be assembled with `concat!`.
macro_rules! client_columns {
    () => {
        "id, client_id, secret_digest, client_type, consent_type, display_name, redirect_uris, \
         post_logout_redirect_uris, cors_origins, permissions, pkce_exempt, access_token_format, created_at"
    };
}
pub(crate) use client_columns;

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> StoreResult<Self> {
        let permissions: Permissions = from_json(&row.permissions, "applications.permissions")?;
        Ok(Client {
            client_type: parse_enum(&row.client_type, "applications.client_type", ClientType::parse)?,
            consent_type: parse_enum(&row.consent_type, "applications.consent_type", ConsentType::parse)?,
            redirect_uris: from_json(&row.redirect_uris, "applications.redirect_uris")?,
            post_logout_redirect_uris: from_json(
                &row.post_logout_redirect_uris,
                "applications.post_logout_redirect_uris",
            )?,
            cors_origins: from_json(&row.cors_origins, "applications.cors_origins")?,
            access_token_format: row
                .access_token_format
                .as_deref()
                .map(|format| parse_enum(format, "applications.access_token_format", AccessTokenFormat::parse))
                .transpose()?,
            created_at: from_db_time(row.created_at, "applications.created_at")?,
            id: row.id,
            client_id: row.client_id,
            secret_digest: row.secret_digest,
            display_name: row.display_name,
            permissions,
            pkce_exempt: row.pkce_exempt,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    username: String,
    normalized_username: String,
    name: Option<String>,
    email: Option<String>,
    normalized_email: Option<String>,
    email_confirmed: bool,
    phone: Option<String>,
    phone_confirmed: bool,
    password_hash: String,
    security_stamp: String,
    lockout_end: Option<i64>,
    failed_count: i64,
    disabled: bool,
    created_at: i64,
}

macro_rules! user_columns {
    () => {
        "id, username, normalized_username, name, email, normalized_email, email_confirmed, phone, \
         phone_confirmed, password_hash, security_stamp, lockout_end, failed_count, disabled, created_at"
    };
}
pub(crate) use user_columns;

impl UserRow {
    pub fn into_user(self, roles: Vec<String>) -> StoreResult<User> {
        Ok(User {
            failed_count: i32::try_from(self.failed_count).map_err(|_| {
                StoreError::Other(format!("users.failed_count of '{}' is out of range: {}", self.id, self.failed_count))
            })?,
            lockout_end: from_db_time_opt(self.lockout_end, "users.lockout_end")?,
            created_at: from_db_time(self.created_at, "users.created_at")?,
            id: self.id,
            username: self.username,
            normalized_username: self.normalized_username,
            name: self.name,
            email: self.email,
            normalized_email: self.normalized_email,
            email_confirmed: self.email_confirmed,
            phone: self.phone,
            phone_confirmed: self.phone_confirmed,
            password_hash: self.password_hash,
            security_stamp: self.security_stamp,
            disabled: self.disabled,
            roles,
        })
    }
}

/// One role of one user.
#[derive(Debug, sqlx::FromRow)]
pub struct UserRoleRow {
    pub user_id: String,
    pub name: String,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ScopeRow {
    name: String,
    display_name: String,
    description: Option<String>,
    resources: String,
}

macro_rules! scope_columns {
    () => {
        "name, display_name, description, resources"
    };
}
pub(crate) use scope_columns;

impl TryFrom<ScopeRow> for Scope {
    type Error = StoreError;

    fn try_from(row: ScopeRow) -> StoreResult<Self> {
        Ok(Scope {
            resources: from_json(&row.resources, "scopes.resources")?,
            name: row.name,
            display_name: row.display_name,
            description: row.description,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuthorizationRow {
    id: String,
    subject: String,
    client_id: String,
    status: String,
    kind: String,
    scopes: String,
    created_at: i64,
}

macro_rules! authorization_columns {
    () => {
        "id, subject, client_id, status, kind, scopes, created_at"
    };
}
pub(crate) use authorization_columns;

impl TryFrom<AuthorizationRow> for Authorization {
    type Error = StoreError;

    fn try_from(row: AuthorizationRow) -> StoreResult<Self> {
        Ok(Authorization {
            status: parse_enum(&row.status, "authorizations.status", AuthorizationStatus::parse)?,
            kind: parse_enum(&row.kind, "authorizations.kind", AuthorizationKind::parse)?,
            scopes: from_json(&row.scopes, "authorizations.scopes")?,
            created_at: from_db_time(row.created_at, "authorizations.created_at")?,
            id: row.id,
            subject: row.subject,
            client_id: row.client_id,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct TokenRow {
    id: String,
    token_type: String,
    subject: Option<String>,
    client_id: String,
    authorization_id: Option<String>,
    reference_digest: Option<String>,
    status: String,
    created_at: i64,
    expires_at: Option<i64>,
    redeemed_at: Option<i64>,
    payload: Option<String>,
    family_id: Option<String>,
    successor_id: Option<String>,
    successor_value: Option<String>,
}

macro_rules! token_columns {
    () => {
        "id, token_type, subject, client_id, authorization_id, reference_digest, status, created_at, \
         expires_at, redeemed_at, payload, family_id, successor_id, successor_value"
    };
}
pub(crate) use token_columns;

impl TryFrom<TokenRow> for Token {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> StoreResult<Self> {
        Ok(Token {
            token_type: parse_enum(&row.token_type, "tokens.token_type", TokenType::parse)?,
            status: parse_enum(&row.status, "tokens.status", TokenStatus::parse)?,
            created_at: from_db_time(row.created_at, "tokens.created_at")?,
            expires_at: from_db_time_opt(row.expires_at, "tokens.expires_at")?,
            redeemed_at: from_db_time_opt(row.redeemed_at, "tokens.redeemed_at")?,
            id: row.id,
            subject: row.subject,
            client_id: row.client_id,
            authorization_id: row.authorization_id,
            reference_digest: row.reference_digest,
            payload: row.payload,
            family_id: row.family_id,
            successor_id: row.successor_id,
            successor_value: row.successor_value,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct KeyRow {
    kid: String,
    key_use: String,
    alg: String,
    private_jwk: String,
    public_jwk: String,
    created_at: i64,
    not_before: i64,
    retired_at: Option<i64>,
}

macro_rules! key_columns {
    () => {
        "kid, key_use, alg, private_jwk, public_jwk, created_at, not_before, retired_at"
    };
}
pub(crate) use key_columns;

impl TryFrom<KeyRow> for StoredKey {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> StoreResult<Self> {
        Ok(StoredKey {
            key_use: parse_enum(&row.key_use, "keys.key_use", KeyUse::parse)?,
            created_at: from_db_time(row.created_at, "keys.created_at")?,
            not_before: from_db_time(row.not_before, "keys.not_before")?,
            retired_at: from_db_time_opt(row.retired_at, "keys.retired_at")?,
            kid: row.kid,
            alg: row.alg,
            private_jwk: row.private_jwk,
            public_jwk: row.public_jwk,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    id: String,
    subject: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    expires_at: i64,
}

macro_rules! session_columns {
    () => {
        "id, subject, auth_time, amr, created_at, expires_at"
    };
}
pub(crate) use session_columns;

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> StoreResult<Self> {
        Ok(Session {
            auth_time: from_db_time(row.auth_time, "sessions.auth_time")?,
            amr: from_json(&row.amr, "sessions.amr")?,
            created_at: from_db_time(row.created_at, "sessions.created_at")?,
            expires_at: from_db_time(row.expires_at, "sessions.expires_at")?,
            id: row.id,
            subject: row.subject,
        })
    }
}

/// One row of `find_presented`'s join: the token, its user's columns (`user_…`), one of the user's roles, and
/// its authorization's columns (`authz_…`). The user and authorization columns are null when there is none;
/// a user with several roles gives one row per role.
#[derive(Debug, sqlx::FromRow)]
pub struct PresentedRow {
    #[sqlx(flatten)]
    token: TokenRow,
    user_id: Option<String>,
    user_username: Option<String>,
    user_normalized_username: Option<String>,
    user_name: Option<String>,
    user_email: Option<String>,
    user_normalized_email: Option<String>,
    user_email_confirmed: Option<bool>,
    user_phone: Option<String>,
    user_phone_confirmed: Option<bool>,
    user_password_hash: Option<String>,
    user_security_stamp: Option<String>,
    user_lockout_end: Option<i64>,
    user_failed_count: Option<i64>,
    user_disabled: Option<bool>,
    user_created_at: Option<i64>,
    role_name: Option<String>,
    authz_id: Option<String>,
    authz_subject: Option<String>,
    authz_client_id: Option<String>,
    authz_status: Option<String>,
    authz_kind: Option<String>,
    authz_scopes: Option<String>,
    authz_created_at: Option<i64>,
}

/// The join behind `find_presented`, without its `WHERE`: roles sorted so a user's roles read in one order.
macro_rules! presented_query {
    ($where:literal) => {
        concat!(
            "SELECT t.id, t.token_type, t.subject, t.client_id, t.authorization_id, t.reference_digest, t.status, \
             t.created_at, t.expires_at, t.redeemed_at, t.payload, t.family_id, t.successor_id, t.successor_value, \
             u.id AS user_id, u.username AS user_username, u.normalized_username AS user_normalized_username, \
             u.name AS user_name, u.email AS user_email, u.normalized_email AS user_normalized_email, \
             u.email_confirmed AS user_email_confirmed, u.phone AS user_phone, \
             u.phone_confirmed AS user_phone_confirmed, u.password_hash AS user_password_hash, \
             u.security_stamp AS user_security_stamp, u.lockout_end AS user_lockout_end, \
             u.failed_count AS user_failed_count, u.disabled AS user_disabled, u.created_at AS user_created_at, \
             r.name AS role_name, \
             a.id AS authz_id, a.subject AS authz_subject, a.client_id AS authz_client_id, \
             a.status AS authz_status, a.kind AS authz_kind, a.scopes AS authz_scopes, \
             a.created_at AS authz_created_at \
             FROM tokens t \
             LEFT JOIN users u ON u.id = t.subject \
             LEFT JOIN user_roles ur ON ur.user_id = u.id \
             LEFT JOIN roles r ON r.id = ur.role_id \
             LEFT JOIN authorizations a ON a.id = t.authorization_id ",
            $where,
            " ORDER BY r.name"
        )
    };
}
pub(crate) use presented_query;

/// A column the schema declares `NOT NULL`, read through a left join: null only if the joined row is absent,
/// which the caller has ruled out.
fn joined<T>(value: Option<T>, column: &str) -> StoreResult<T> {
    value.ok_or_else(|| StoreError::Other(format!("{column} is null in a joined row that exists")))
}

/// Folds the rows of one presented token (one per role of its user) into the token, user and authorization.
pub fn into_presented(rows: Vec<PresentedRow>) -> StoreResult<Option<Presented>> {
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else { return Ok(None) };
    let roles: Vec<String> =
        std::iter::once(first.role_name.clone()).chain(rows.map(|row| row.role_name)).flatten().collect();
    let user = match first.user_id {
        None => None,
        Some(id) => Some(
            UserRow {
                id,
                username: joined(first.user_username, "users.username")?,
                normalized_username: joined(first.user_normalized_username, "users.normalized_username")?,
                name: first.user_name,
                email: first.user_email,
                normalized_email: first.user_normalized_email,
                email_confirmed: joined(first.user_email_confirmed, "users.email_confirmed")?,
                phone: first.user_phone,
                phone_confirmed: joined(first.user_phone_confirmed, "users.phone_confirmed")?,
                password_hash: joined(first.user_password_hash, "users.password_hash")?,
                security_stamp: joined(first.user_security_stamp, "users.security_stamp")?,
                lockout_end: first.user_lockout_end,
                failed_count: joined(first.user_failed_count, "users.failed_count")?,
                disabled: joined(first.user_disabled, "users.disabled")?,
                created_at: joined(first.user_created_at, "users.created_at")?,
            }
            .into_user(roles)?,
        ),
    };
    let authorization = match first.authz_id {
        None => None,
        Some(id) => Some(Authorization::try_from(AuthorizationRow {
            id,
            subject: joined(first.authz_subject, "authorizations.subject")?,
            client_id: joined(first.authz_client_id, "authorizations.client_id")?,
            status: joined(first.authz_status, "authorizations.status")?,
            kind: joined(first.authz_kind, "authorizations.kind")?,
            scopes: joined(first.authz_scopes, "authorizations.scopes")?,
            created_at: joined(first.authz_created_at, "authorizations.created_at")?,
        })?),
    };
    Ok(Some(Presented { token: Token::try_from(first.token)?, user, authorization }))
}

/// Converts every row, failing on the first that does not parse.
pub fn convert_all<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
