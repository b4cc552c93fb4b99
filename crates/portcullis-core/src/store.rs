//! What the provider asks of its storage, by intent. Implementations live in `portcullis-store` (SQLite and
//! PostgreSQL); the rules that decide *whether* to call these live in this crate.
//!
//! Every method that changes state is atomic: it either happens whole or not at all.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{
    Authorization, Client, NewAuthorization, NewClient, NewSession, NewToken, NewUser, Presented, PresentedChange,
    Scope, Session, StoredKey, Token, TokenStatus, User,
};
use crate::protocol::device::PollOutcome;

/// Storage failures. They never reach a client as such: the server answers `server_error` or
/// `temporarily_unavailable` and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken (client id, user name, email, scope name, role on user, …).
    #[error("{0} already exists")]
    Conflict(String),
    /// The row the change refers to does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database cannot be reached, refused the connection, or failed in a way a retry may cure (a lock
    /// or a statement that timed out, a shutdown, a failover, a conflict it rolled back).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else the database reported, or data it holds that does not parse.
    #[error("storage error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How many rows [`TokenStore::prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub tokens: u64,
    pub authorizations: u64,
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the client id is taken.
    async fn create_client(&self, client: NewClient, now: OffsetDateTime) -> StoreResult<Client>;
    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn list_clients(&self) -> StoreResult<Vec<Client>>;
    /// Removes the client with its authorizations and tokens. Returns whether it existed.
    async fn remove_client(&self, client_id: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the user name or email is taken (case-insensitively).
    async fn create_user(&self, user: NewUser, now: OffsetDateTime) -> StoreResult<User>;
    async fn find_user(&self, id: &str) -> StoreResult<Option<User>>;
    /// Finds a user by user name or email, case-insensitively.
    async fn find_user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Replaces the password hash and the security stamp, and clears any lockout.
    async fn set_password(&self, user_id: &str, password_hash: &str, security_stamp: &str) -> StoreResult<()>;
    /// Adds a role (created when new) to a user; adding a role the user has is not an error.
    async fn add_role(&self, user_id: &str, role: &str) -> StoreResult<()>;
    /// Returns whether the user had the role.
    async fn remove_role(&self, user_id: &str, role: &str) -> StoreResult<bool>;
    /// Removes the user with their sessions, authorizations and tokens. Returns whether they existed.
    async fn remove_user(&self, user_id: &str) -> StoreResult<bool>;
    /// Counts a failed sign-in; when the count reaches `max_failures` the account is locked until
    /// `now + lockout` and the count restarts. Returns the user's new state.
    async fn record_failed_login(
        &self,
        user_id: &str,
        now: OffsetDateTime,
        max_failures: i32,
        lockout: time::Duration,
    ) -> StoreResult<User>;
    /// Clears the failure count after a successful sign-in.
    async fn record_successful_login(&self, user_id: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait ScopeStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the name is taken.
    async fn create_scope(&self, scope: Scope) -> StoreResult<Scope>;
    /// The scopes with these names that exist, in no particular order.
    async fn find_scopes(&self, names: &[String]) -> StoreResult<Vec<Scope>>;
    async fn list_scopes(&self) -> StoreResult<Vec<Scope>>;
}

#[async_trait]
pub trait AuthorizationStore: Send + Sync {
    async fn create_authorization(&self, authorization: NewAuthorization) -> StoreResult<Authorization>;
    async fn find_authorization(&self, id: &str) -> StoreResult<Option<Authorization>>;
    /// Valid permanent authorizations of a user for a client, newest first.
    async fn find_permanent_authorizations(&self, subject: &str, client_id: &str) -> StoreResult<Vec<Authorization>>;
    /// Revokes the authorization and every token tied to it, in one transaction. Returns whether it was valid.
    async fn revoke_authorization(&self, id: &str) -> StoreResult<bool>;
    /// Revokes every authorization of a subject and their tokens, in one transaction (password change, sign out
    /// everywhere). Returns how many authorizations were valid.
    async fn revoke_authorizations_of_subject(&self, subject: &str) -> StoreResult<u64>;
}

/// The rows of one token response and the state change they depend on, written as one transaction: all of
/// it or none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantWrite {
    /// A presented token (code, refresh token, device code) and what happens to it (`redeemed_at` is
    /// [`GrantWrite::now`]). When it is not in the state the change expects (another request spent or revoked
    /// it), nothing is written.
    pub presented: Option<(String, PresentedChange)>,
    /// A consent created for this one grant (client credentials, password), which the tokens refer to.
    pub authorization: Option<NewAuthorization>,
    /// The tokens of the response (access token, refresh token, ID token).
    pub tokens: Vec<NewToken>,
    /// The family of the new tokens, also given to a redeemed presented token (a code starts the family its
    /// tokens belong to, so that a replay of it finds them).
    pub family_id: Option<String>,
    /// The new refresh token replacing a redeemed presented one: its id and its value encrypted by the
    /// provider, kept on the presented row for the reuse leeway.
    pub successor: Option<(String, String)>,
    pub now: OffsetDateTime,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: NewToken) -> StoreResult<Token>;
    /// Finds the token a client presents (by the digest of its value) with the user its subject names and the
    /// authorization it is tied to, in one read: what a grant needs to decide.
    async fn find_presented(&self, reference_digest: &str) -> StoreResult<Option<Presented>>;
    /// Writes a token response atomically (see [`GrantWrite`]). Returns `false`, having written nothing, when
    /// the presented token was no longer in the expected state. A failure part-way leaves nothing behind either.
    async fn record_grant(&self, write: GrantWrite) -> StoreResult<bool>;
    async fn find_token(&self, id: &str) -> StoreResult<Option<Token>>;
    /// Finds a token by the digest of the value handed out.
    async fn find_token_by_digest(&self, reference_digest: &str) -> StoreResult<Option<Token>>;
    /// Atomically moves a token from `valid` to `redeemed`. Returns `false` if it was not valid any more
    /// (already redeemed, revoked, or lost a race): the caller must treat that as a replay.
    async fn redeem_token(&self, id: &str, now: OffsetDateTime) -> StoreResult<bool>;
    /// Atomically moves a token from `from` to `to` (e.g. a device code from inactive to valid).
    /// Returns `false` if it was not in `from`.
    async fn transition_token(&self, id: &str, from: TokenStatus, to: TokenStatus) -> StoreResult<bool>;
    /// Revokes one token. Returns whether it was not already revoked.
    async fn revoke_token(&self, id: &str) -> StoreResult<bool>;
    /// Revokes every token of an authorization that is not already revoked; returns how many.
    async fn revoke_tokens_by_authorization(&self, authorization_id: &str) -> StoreResult<u64>;
    /// Revokes every token of a family (one sign-in and its refreshes) that is not already revoked; returns
    /// how many.
    async fn revoke_family(&self, family_id: &str) -> StoreResult<u64>;
    /// Forgets the sealed successor values of refresh tokens rotated before `before` (the reuse leeway is
    /// over for them); returns how many.
    async fn forget_successor_values(&self, before: OffsetDateTime) -> StoreResult<u64>;
    /// Every token of an authorization, oldest first (refresh-token rotation looks for a token's successor).
    async fn list_tokens_of_authorization(&self, authorization_id: &str) -> StoreResult<Vec<Token>>;
    /// Deletes, in batches of at most `batch_size` rows per statement, tokens that expired or stopped being
    /// valid (redeemed, revoked) before `threshold`, and authorizations that are revoked, or ad-hoc with no
    /// token left, and were created before `threshold`.
    async fn prune(&self, threshold: OffsetDateTime, batch_size: u32) -> StoreResult<PruneReport>;
}

/// The consent a device approval ties the device's tokens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceConsent {
    /// A remembered consent that already covers the request.
    Existing { authorization_id: String, subject: String },
    /// A consent given on the verification page, recorded with the approval.
    New(NewAuthorization),
}

impl DeviceConsent {
    pub fn authorization_id(&self) -> &str {
        match self {
            Self::Existing { authorization_id, .. } => authorization_id,
            Self::New(authorization) => &authorization.id,
        }
    }

    pub fn subject(&self) -> &str {
        match self {
            Self::Existing { subject, .. } => subject,
            Self::New(authorization) => &authorization.subject,
        }
    }
}

/// A user's approval of a device authorization request (RFC 8628 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    pub device_code_id: String,
    pub user_code_id: String,
    pub consent: DeviceConsent,
    /// The device code's payload from now on (what the grant needs from the approval, e.g. `auth_time`).
    pub payload: String,
    pub now: OffsetDateTime,
}

/// The device authorization grant (RFC 8628): a device code and its user code, written and decided together.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Records a device code (status `inactive`) and its user code (status `valid`) in one transaction: both or
    /// neither. Fails with [`StoreError::Conflict`] when the user code's digest is taken, so the caller can
    /// draw another code.
    async fn create_device_codes(&self, device_code: NewToken, user_code: NewToken) -> StoreResult<()>;
    /// Records a poll of a device code that is still `inactive`, atomically with respect to other polls and to
    /// the user's decision: the last poll time and the interval (which grows at every `slow_down`) are stored
    /// together, by the rule of [`crate::protocol::device::DeviceCodePayload::poll`].
    async fn record_device_poll(&self, id: &str, now: OffsetDateTime) -> StoreResult<PollOutcome>;
    /// In one transaction: records the consent when it is new, moves the device code from `inactive` to
    /// `valid` with the user as subject, the consent and the new payload, and marks the user code `redeemed`.
    /// Returns `false`, changing nothing, when the device code is no longer `inactive` or has expired at
    /// `now`, or the user code is no longer `valid` (another answer won).
    async fn approve_device_code(&self, approval: DeviceApproval) -> StoreResult<bool>;
    /// The user refused: in one transaction, moves the device code from `inactive` to `revoked` (no
    /// authorization, so the grant answers `access_denied`) with `subject` as who refused, and marks the user
    /// code `redeemed`. Returns `false`, changing nothing, under the same conditions as
    /// [`DeviceStore::approve_device_code`].
    async fn deny_device_code(
        &self,
        device_code_id: &str,
        user_code_id: &str,
        subject: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn insert_key(&self, key: StoredKey) -> StoreResult<()>;
    /// Stores each candidate whose algorithm has no active (not retired) key, and returns every active key,
    /// oldest first. Serialized across instances by a database lock held for the transaction, so that
    /// instances starting together on an empty database end with one key per algorithm: the first stores its
    /// candidates, the others find them there and store none of theirs.
    async fn add_missing_keys(&self, candidates: Vec<StoredKey>) -> StoreResult<Vec<StoredKey>>;
    /// Keys not retired, oldest first.
    async fn list_active_keys(&self) -> StoreResult<Vec<StoredKey>>;
    async fn retire_key(&self, kid: &str, at: OffsetDateTime) -> StoreResult<bool>;
    /// The server secret called `name`: the value already stored, or else `candidate`, stored now. Of callers
    /// racing on an empty database, the first write wins and every caller gets that value, so instances that
    /// start together share one secret.
    async fn keep_secret(&self, name: &str, candidate: &str, now: OffsetDateTime) -> StoreResult<String>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: NewSession) -> StoreResult<Session>;
    /// The session with this id, if it has not expired at `now`.
    async fn find_session(&self, id: &str, now: OffsetDateTime) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id: &str) -> StoreResult<bool>;
    /// Ends every session of a user (logout everywhere, password change).
    async fn delete_sessions_of(&self, subject: &str) -> StoreResult<u64>;
}

/// Everything the provider stores, behind one handle.
#[async_trait]
pub trait Store:
    ClientStore + UserStore + ScopeStore + AuthorizationStore + TokenStore + DeviceStore + KeyStore + SessionStore
{
    /// Checks the database answers (health checks).
    async fn ping(&self) -> StoreResult<()>;
}
