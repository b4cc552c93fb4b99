//! What both backends use to open a database and migrate it: how to hold connections, the URL as errors may
//! name it, and what a failed migration says.

use std::time::Duration;

use portcullis_core::store::StoreError;
use sqlx::migrate::MigrateError;

use crate::backend::DbError;

/// How to hold connections, and how long to wait for the database. The defaults suit one provider instance.
///
/// Together the two waits bound how long a request can hang on a database that is down, unreachable or
/// locked: with the defaults, a request that cannot be served fails with [`StoreError::Unavailable`] (503
/// with `Retry-After` at the provider) within about 2 s, never after a network timeout of minutes (rule H3
/// of docs/security.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// How long to wait for a connection, to open one (this is also the connect timeout) or for one to come
    /// free, before answering [`StoreError::Unavailable`]. 1 s: a healthy pool hands out a connection at
    /// once, and opening one takes milliseconds on a local network; when no connection is to be had within a
    /// second the database is down, unreachable or swamped, and answering at once (shedding the load) serves
    /// everyone better than queueing requests behind it.
    pub acquire_timeout: Duration,
    /// How long one statement may run or wait for a lock. PostgreSQL: the session's `statement_timeout`.
    /// SQLite: the busy timeout, how long a write waits for another connection's write to finish. Once a call
    /// has its connection, the backends also give up on its statements after this (and a quarter second's
    /// grace) on their own clock, for a network that carries nothing and so never brings even an error. 1 s:
    /// every statement
    /// of the provider is a lookup by key or a small write that takes milliseconds; one that waits for a
    /// second is stuck behind a lock or an overloaded server. Migrations are not bound by it (they run on a
    /// connection of their own and may take minutes).
    pub statement_timeout: Duration,
    /// Most connections open at once. `None`: 8 for a SQLite file (more only queue on its one write lock),
    /// 10 for PostgreSQL (leaves room for several instances within its default of 100). An in-memory SQLite
    /// database always uses exactly one.
    pub max_connections: Option<u32>,
}

impl DatabaseOptions {
    /// The defaults of [`DatabaseOptions::acquire_timeout`] and [`DatabaseOptions::statement_timeout`].
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(1);
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            max_connections: None,
        }
    }
}

/// The URL without a password (in the user info or a `password=` parameter), to name a database in errors.
pub(crate) fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "the PostgreSQL database (its URL does not parse)".to_owned();
    };
    let _ = parsed.set_password(None);
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| !key.eq_ignore_ascii_case("password"))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// A migration failure: connection problems stay `Unavailable`, the rest say which migration failed.
pub(crate) fn migrate_error(error: MigrateError, classify: impl FnOnce(sqlx::Error) -> DbError) -> StoreError {
    match error {
        MigrateError::Execute(error) => match classify(error) {
            DbError::Unavailable(message) => StoreError::Unavailable(message),
            other => StoreError::Other(format!("migrating the schema failed: {}", other.into_message())),
        },
        other => StoreError::Other(format!("migrating the schema failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_appear_in_a_named_database() {
        assert_eq!(
            redact_url("postgres://portcullis:hunter2@db.internal:5432/portcullis"),
            "postgres://portcullis@db.internal:5432/portcullis"
        );
        let redacted = redact_url("postgresql://db/portcullis?password=hunter2&sslmode=require");
        assert!(!redacted.contains("hunter2"), "{redacted}");
        assert!(redacted.contains("sslmode=require"), "{redacted}");
    }

    #[test]
    fn an_unparseable_url_is_not_echoed() {
        assert!(!redact_url("postgres://user:pa ss@[bad").contains("pa ss"));
    }
}
