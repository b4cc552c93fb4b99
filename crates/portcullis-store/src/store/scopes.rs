use async_trait::async_trait;
use portcullis_core::model::Scope;
use portcullis_core::store::{ScopeStore, StoreResult};

use super::{SqlStore, placeholders};
use crate::backend::{Backend, Statement};
use crate::rows::{ScopeRow, convert_all, scope_columns, to_json};

#[async_trait]
impl<B: Backend> ScopeStore for SqlStore<B> {
    async fn create_scope(&self, scope: Scope) -> StoreResult<Scope> {
        let statement = Statement::new(concat!("INSERT INTO scopes (", scope_columns!(), ") VALUES ($1, $2, $3, $4)"))
            .bind(scope.name.as_str())
            .bind(scope.display_name.as_str())
            .bind(scope.description.clone())
            .bind(to_json(&scope.resources, "scope resources")?);
        self.backend()
            .execute(statement)
            .await
            .map_err(|error| error.into_store(|_| format!("scope '{}'", scope.name), || "the scope".to_owned()))?;
        Ok(scope)
    }

    async fn find_scopes(&self, names: &[String]) -> StoreResult<Vec<Scope>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {} FROM scopes WHERE name IN ({})", scope_columns!(), placeholders(0, names.len()));
        let statement = names.iter().fold(Statement::built(sql), |statement, name| statement.bind(name.as_str()));
        convert_all(self.backend().fetch_all::<ScopeRow>(statement).await?)
    }

    async fn list_scopes(&self) -> StoreResult<Vec<Scope>> {
        let statement = Statement::new(concat!("SELECT ", scope_columns!(), " FROM scopes ORDER BY name"));
        convert_all(self.backend().fetch_all::<ScopeRow>(statement).await?)
    }
}
