//! The [`Store`] implementation, written once over the [`Backend`] seam: the SQL here runs unchanged on
//! SQLite and PostgreSQL.

mod authorizations;
mod clients;
mod devices;
mod keys;
mod scopes;
mod sessions;
mod tokens;
mod users;

use async_trait::async_trait;
use portcullis_core::store::{Store, StoreResult};

use crate::backend::{Backend, Statement};

/// A store on one database. Use it through [`crate::SqliteStore`], [`crate::PostgresStore`] or, most often,
/// `Arc<dyn Store>` from [`crate::Database::store`].
#[derive(Debug, Clone)]
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn new(backend: B) -> Self {
        Self { backend }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> StoreResult<()> {
        self.backend.execute(Statement::new("SELECT 1")).await?;
        Ok(())
    }
}

/// `$1, $2, …, $n` starting after `offset` parameters, for `IN (…)` lists.
fn placeholders(offset: usize, count: usize) -> String {
    (offset + 1..=offset + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_numbered_after_the_offset() {
        assert_eq!(placeholders(0, 3), "$1, $2, $3");
        assert_eq!(placeholders(2, 1), "$3");
        assert_eq!(placeholders(0, 0), "");
    }
}
