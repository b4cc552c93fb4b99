use async_trait::async_trait;
use portcullis_core::model::StoredKey;
use portcullis_core::store::{KeyStore, StoreError, StoreResult};
use time::OffsetDateTime;

use super::SqlStore;
use crate::backend::{Backend, Lock, Statement};
use crate::rows::{KeyRow, convert_all, key_columns, to_db_time, to_db_time_opt};

/// Binds a key's eight columns, in [`key_columns!`] order.
fn bind_key(statement: Statement, key: &StoredKey) -> Statement {
    statement
        .bind(key.kid.as_str())
        .bind(key.key_use.as_str())
        .bind(key.alg.as_str())
        .bind(key.private_jwk.as_str())
        .bind(key.public_jwk.as_str())
        .bind(to_db_time(key.created_at))
        .bind(to_db_time(key.not_before))
        .bind(to_db_time_opt(key.retired_at))
}

#[async_trait]
impl<B: Backend> KeyStore for SqlStore<B> {
    async fn insert_key(&self, key: StoredKey) -> StoreResult<()> {
        let statement = bind_key(
            Statement::new(concat!("INSERT INTO keys (", key_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")),
            &key,
        );
        self.backend()
            .execute(statement)
            .await
            .map_err(|error| error.into_store(|_| format!("key '{}'", key.kid), || "the key".to_owned()))?;
        Ok(())
    }

    async fn add_missing_keys(&self, candidates: Vec<StoredKey>) -> StoreResult<Vec<StoredKey>> {
        // Each insert is guarded by the absence of an active key of its algorithm, and the lock makes the
        // guard hold: the transactions of instances starting together run one after the other, and each sees
        // the keys the previous ones committed (rule K1).
        let statements = candidates
            .iter()
            .map(|key| {
                let insert = Statement::new(concat!(
                    "INSERT INTO keys (",
                    key_columns!(),
                    ") SELECT $1, $2, $3, $4, $5, $6, $7, $8",
                    " WHERE NOT EXISTS (SELECT 1 FROM keys WHERE alg = $3 AND retired_at IS NULL)"
                ));
                bind_key(insert, key)
            })
            .collect();
        self.backend()
            .execute_under_lock(Lock::KeyGeneration, statements)
            .await
            .map_err(|error| error.into_store(|_| "a candidate key's kid".to_owned(), || "the key".to_owned()))?;
        self.list_active_keys().await
    }

    async fn list_active_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let statement = Statement::new(concat!(
            "SELECT ",
            key_columns!(),
            " FROM keys WHERE retired_at IS NULL ORDER BY created_at, kid"
        ));
        convert_all(self.backend().fetch_all::<KeyRow>(statement).await?)
    }

    async fn retire_key(&self, kid: &str, at: OffsetDateTime) -> StoreResult<bool> {
        let statement = Statement::new("UPDATE keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL")
            .bind(kid)
            .bind(to_db_time(at));
        Ok(self.backend().execute(statement).await? > 0)
    }

    async fn keep_secret(&self, name: &str, candidate: &str, now: OffsetDateTime) -> StoreResult<String> {
        // Two statements, not one transaction: the insert is atomic on its own, and whichever caller's insert
        // came first, the select reads the row it left. Runs once per instance start.
        let insert = Statement::new(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(to_db_time(now));
        self.backend().execute(insert).await?;
        let select = Statement::new("SELECT value FROM server_secrets WHERE name = $1").bind(name);
        let row = self.backend().fetch_optional::<SecretRow>(select).await?;
        row.map(|row| row.value)
            .ok_or_else(|| StoreError::Other(format!("the server secret '{name}' vanished right after it was written")))
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    value: String,
}
