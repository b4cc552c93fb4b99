use async_trait::async_trait;
use portcullis_core::model::{Client, NewClient};
use portcullis_core::secret::new_id;
use portcullis_core::store::{ClientStore, StoreResult};
use time::OffsetDateTime;

use super::SqlStore;
use crate::backend::{Backend, Statement};
use crate::rows::{ClientRow, client_columns, stored_time, to_db_time, to_json};

#[async_trait]
impl<B: Backend> ClientStore for SqlStore<B> {
    async fn create_client(&self, client: NewClient, now: OffsetDateTime) -> StoreResult<Client> {
        let client = Client {
            id: new_id(),
            client_id: client.client_id,
            secret_digest: client.secret_digest,
            client_type: client.client_type,
            consent_type: client.consent_type,
            display_name: client.display_name,
            redirect_uris: client.redirect_uris,
            post_logout_redirect_uris: client.post_logout_redirect_uris,
            cors_origins: client.cors_origins,
            permissions: client.permissions,
            pkce_exempt: client.pkce_exempt,
            access_token_format: client.access_token_format,
            created_at: stored_time(now),
        };
        let statement = Statement::new(concat!(
            "INSERT INTO applications (",
            client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(client.id.as_str())
        .bind(client.client_id.as_str())
        .bind(client.secret_digest.clone())
        .bind(client.client_type.as_str())
        .bind(client.consent_type.as_str())
        .bind(client.display_name.as_str())
        .bind(to_json(&client.redirect_uris, "redirect URIs")?)
        .bind(to_json(&client.post_logout_redirect_uris, "post-logout redirect URIs")?)
        .bind(to_json(&client.cors_origins, "CORS origins")?)
        .bind(to_json(&client.permissions, "permissions")?)
        .bind(client.pkce_exempt)
        .bind(client.access_token_format.map(|f| f.as_str().to_owned()))
        .bind(to_db_time(client.created_at));
        self.backend.execute(statement).await.map_err(|error| {
            error.into_store(|_| format!("client id '{}'", client.client_id), || "the client".to_owned())
        })?;
        Ok(client)
    }

    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let statement =
            Statement::new(concat!("SELECT ", client_columns!(), " FROM applications WHERE client_id = $1"))
                .bind(client_id);
        self.backend.fetch_optional::<ClientRow>(statement).await?.map(Client::try_from).transpose()
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        let statement = Statement::new(concat!("SELECT ", client_columns!(), " FROM applications ORDER BY client_id"));
        let rows = self.backend.fetch_all::<ClientRow>(statement).await?;
        crate::rows::convert_all(rows)
    }

    async fn remove_client(&self, client_id: &str) -> StoreResult<bool> {
        // The foreign keys cascade too; deleting explicitly keeps this right even on a SQLite connection
        // opened by hand without `foreign_keys=ON`.
        let changed = self
            .backend
            .execute_in_transaction(vec![
                Statement::new("DELETE FROM tokens WHERE client_id = $1").bind(client_id),
                Statement::new("DELETE FROM authorizations WHERE client_id = $1").bind(client_id),
                Statement::new("DELETE FROM applications WHERE client_id = $1").bind(client_id),
            ])
            .await?;
        Ok(changed.last().is_some_and(|&removed| removed > 0))
    }
}
