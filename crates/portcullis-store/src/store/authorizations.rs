use async_trait::async_trait;
use portcullis_core::model::{Authorization, AuthorizationStatus, NewAuthorization};
use portcullis_core::store::{AuthorizationStore, StoreResult};

use super::SqlStore;
use crate::backend::{Backend, Statement};
use crate::rows::{AuthorizationRow, authorization_columns, convert_all, stored_time, to_db_time, to_json};

/// The `INSERT` of a new, valid authorization (also written with the tokens of a grant).
pub(super) fn insert_authorization(authorization: &NewAuthorization) -> StoreResult<Statement> {
    Ok(Statement::new(concat!(
        "INSERT INTO authorizations (",
        authorization_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(authorization.id.as_str())
    .bind(authorization.subject.as_str())
    .bind(authorization.client_id.as_str())
    .bind(AuthorizationStatus::Valid.as_str())
    .bind(authorization.kind.as_str())
    .bind(to_json(&authorization.scopes, "authorization scopes")?)
    .bind(to_db_time(authorization.created_at)))
}

#[async_trait]
impl<B: Backend> AuthorizationStore for SqlStore<B> {
    async fn create_authorization(&self, new: NewAuthorization) -> StoreResult<Authorization> {
        self.backend().execute(insert_authorization(&new)?).await.map_err(|error| {
            error.into_store(|_| format!("authorization '{}'", new.id), || format!("client '{}'", new.client_id))
        })?;
        Ok(Authorization {
            id: new.id,
            subject: new.subject,
            client_id: new.client_id,
            status: AuthorizationStatus::Valid,
            kind: new.kind,
            scopes: new.scopes,
            created_at: stored_time(new.created_at),
        })
    }

    async fn find_authorization(&self, id: &str) -> StoreResult<Option<Authorization>> {
        let statement =
            Statement::new(concat!("SELECT ", authorization_columns!(), " FROM authorizations WHERE id = $1")).bind(id);
        self.backend().fetch_optional::<AuthorizationRow>(statement).await?.map(Authorization::try_from).transpose()
    }

    async fn find_permanent_authorizations(&self, subject: &str, client_id: &str) -> StoreResult<Vec<Authorization>> {
        // `id` breaks ties between authorizations created in the same second, so the order is stable.
        let statement = Statement::new(concat!(
            "SELECT ",
            authorization_columns!(),
            " FROM authorizations \
             WHERE subject = $1 AND client_id = $2 AND status = 'valid' AND kind = 'permanent' \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(subject)
        .bind(client_id);
        convert_all(self.backend().fetch_all::<AuthorizationRow>(statement).await?)
    }

    async fn revoke_authorization(&self, id: &str) -> StoreResult<bool> {
        let changed = self
            .backend()
            .execute_in_transaction(vec![
                Statement::new("UPDATE authorizations SET status = 'revoked' WHERE id = $1 AND status = 'valid'")
                    .bind(id),
                Statement::new(
                    "UPDATE tokens SET status = 'revoked' \
                     WHERE authorization_id = $1 AND status <> 'revoked'",
                )
                .bind(id),
            ])
            .await?;
        Ok(changed.first().is_some_and(|&revoked| revoked > 0))
    }

    async fn revoke_authorizations_of_subject(&self, subject: &str) -> StoreResult<u64> {
        // Tokens first: the second statement changes the status this one selects on.
        let changed = self
            .backend()
            .execute_in_transaction(vec![
                Statement::new(
                    "UPDATE tokens SET status = 'revoked' WHERE status <> 'revoked' AND authorization_id IN \
                     (SELECT id FROM authorizations WHERE subject = $1 AND status = 'valid')",
                )
                .bind(subject),
                Statement::new("UPDATE authorizations SET status = 'revoked' WHERE subject = $1 AND status = 'valid'")
                    .bind(subject),
            ])
            .await?;
        Ok(changed.get(1).copied().unwrap_or(0))
    }
}
