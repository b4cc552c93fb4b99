use async_trait::async_trait;
use portcullis_core::model::{NewSession, Session};
use portcullis_core::store::{SessionStore, StoreResult};
use time::OffsetDateTime;

use super::SqlStore;
use crate::backend::{Backend, Statement};
use crate::rows::{SessionRow, session_columns, stored_time, to_db_time, to_json};

#[async_trait]
impl<B: Backend> SessionStore for SqlStore<B> {
    async fn create_session(&self, session: NewSession) -> StoreResult<Session> {
        let session = Session {
            auth_time: stored_time(session.auth_time),
            created_at: stored_time(session.created_at),
            expires_at: stored_time(session.expires_at),
            ..session
        };
        let statement =
            Statement::new(concat!("INSERT INTO sessions (", session_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(session.id.as_str())
                .bind(session.subject.as_str())
                .bind(to_db_time(session.auth_time))
                .bind(to_json(&session.amr, "authentication methods")?)
                .bind(to_db_time(session.created_at))
                .bind(to_db_time(session.expires_at));
        self.backend().execute(statement).await.map_err(|error| {
            // The id is the digest of a live cookie: not named in errors that end up in logs.
            error.into_store(|_| "session with this id".to_owned(), || format!("user '{}'", session.subject))
        })?;
        Ok(session)
    }

    async fn find_session(&self, id: &str, now: OffsetDateTime) -> StoreResult<Option<Session>> {
        let statement =
            Statement::new(concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = $1 AND expires_at > $2"))
                .bind(id)
                .bind(to_db_time(now));
        self.backend().fetch_optional::<SessionRow>(statement).await?.map(Session::try_from).transpose()
    }

    async fn delete_session(&self, id: &str) -> StoreResult<bool> {
        let statement = Statement::new("DELETE FROM sessions WHERE id = $1").bind(id);
        Ok(self.backend().execute(statement).await? > 0)
    }

    async fn delete_sessions_of(&self, subject: &str) -> StoreResult<u64> {
        let statement = Statement::new("DELETE FROM sessions WHERE subject = $1").bind(subject);
        Ok(self.backend().execute(statement).await?)
    }
}
