use time::OffsetDateTime;

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable, opaque identifier; the `sub` claim.
    pub id: String,
    pub username: String,
    pub normalized_username: String,
    /// Full name for the `name` claim.
    pub name: Option<String>,
    pub email: Option<String>,
    pub normalized_email: Option<String>,
    pub email_confirmed: bool,
    pub phone: Option<String>,
    pub phone_confirmed: bool,
    /// PHC string of an argon2id hash (see [`crate::password`]).
    pub password_hash: String,
    /// Changes whenever credentials change, so sessions and refresh tokens issued before can be refused.
    pub security_stamp: String,
    pub lockout_end: Option<OffsetDateTime>,
    pub failed_count: i32,
    pub disabled: bool,
    pub roles: Vec<String>,
    pub created_at: OffsetDateTime,
}

impl User {
    pub fn is_locked_out(&self, now: OffsetDateTime) -> bool {
        self.lockout_end.is_some_and(|end| end > now)
    }
}

/// What it takes to create a user; the store assigns `created_at` and normalises names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_confirmed: bool,
    pub phone: Option<String>,
    pub phone_confirmed: bool,
    pub password_hash: String,
    pub security_stamp: String,
}
