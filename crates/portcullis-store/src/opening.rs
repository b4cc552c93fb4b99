//! What both backends use to open a database and migrate it: how to hold connections, the URL as errors may
//! name it, and what a failed migration says.

use std::time::Duration;

use portcullis_core::store::StoreError;
use sqlx::migrate::MigrateError;

use crate::backend::DbError;

/// How to hold connections. The defaults suit one provider instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// How long to wait for a connection, to open one or for one to come free, before answering
    /// [`StoreError::Unavailable`]. 5 s: longer than any healthy database needs even under load, and short
    /// enough that a request fails while its user is still there, and that startup says at once that the
    /// database is down.
    pub acquire_timeout: Duration,
    /// Most connections open at once. `None`: 8 for a SQLite file (more only queue on its one write lock),
    /// 10 for PostgreSQL (leaves room for several instances within its default of 100). An in-memory SQLite
    /// database always uses exactly one.
    pub max_connections: Option<u32>,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self { acquire_timeout: Duration::from_secs(5), max_connections: None }
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
