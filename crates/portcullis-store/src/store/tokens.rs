use async_trait::async_trait;
use portcullis_core::model::{NewToken, Presented, PresentedChange, Token, TokenStatus};
use portcullis_core::store::{GrantWrite, PruneReport, StoreResult, TokenStore};
use time::OffsetDateTime;

use super::authorizations::insert_authorization;
use super::{SqlStore, placeholders};
use crate::backend::{Backend, Statement};
use crate::rows::{
    PresentedRow, TokenRow, into_presented, presented_query, stored_time, stored_time_opt, to_db_time, to_db_time_opt,
    token_columns,
};

/// Tokens nobody can use any more: expired before the threshold, or redeemed or revoked before it. A
/// revocation time is not recorded, so a revoked token counts from its redemption or, failing that, its
/// creation: it is dead either way, and only its audit trail is at stake.
const PRUNE_TOKENS: &str = "DELETE FROM tokens WHERE id IN (\
     SELECT id FROM tokens \
     WHERE (expires_at IS NOT NULL AND expires_at < $1) \
        OR (status IN ('redeemed', 'revoked') AND COALESCE(redeemed_at, created_at) < $1) \
     LIMIT $2)";

/// Authorizations created before the threshold that are revoked, or ad-hoc with no token left. Deleting one
/// cascades to tokens still tied to it (only possible for a revoked one, whose tokens were revoked with it).
const PRUNE_AUTHORIZATIONS: &str = "DELETE FROM authorizations WHERE id IN (\
     SELECT a.id FROM authorizations a \
     WHERE a.created_at < $1 \
       AND (a.status = 'revoked' \
            OR (a.kind = 'ad-hoc' \
                AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.authorization_id = a.id))) \
     LIMIT $2)";

/// Sessions that expired before the threshold: `find_session` already ignores them.
const PRUNE_SESSIONS: &str = "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)";

/// Binds a token's fourteen columns, in [`token_columns!`] order, after the statement's existing parameters.
fn bind_token(statement: Statement, token: &NewToken) -> Statement {
    statement
        .bind(token.id.as_str())
        .bind(token.token_type.as_str())
        .bind(token.subject.clone())
        .bind(token.client_id.as_str())
        .bind(token.authorization_id.clone())
        .bind(token.reference_digest.clone())
        .bind(token.status.as_str())
        .bind(to_db_time(token.created_at))
        .bind(to_db_time_opt(token.expires_at))
        .bind(None::<i64>)
        .bind(token.payload.clone())
        .bind(token.family_id.clone())
        .bind(None::<String>)
        .bind(None::<String>)
}

/// One `INSERT` for all the tokens of a response: one statement, whatever their number.
pub(super) fn insert_tokens(tokens: &[NewToken]) -> Statement {
    const COLUMNS: usize = 14;
    let values: Vec<String> =
        (0..tokens.len()).map(|index| format!("({})", placeholders(index * COLUMNS, COLUMNS))).collect();
    let sql = format!(concat!("INSERT INTO tokens (", token_columns!(), ") VALUES {}"), values.join(", "));
    tokens.iter().fold(Statement::built(sql), bind_token)
}

impl<B: Backend> SqlStore<B> {
    /// Runs a `DELETE … LIMIT $2` until it deletes fewer than a batch: each statement holds its locks only
    /// for one batch, so sign-ins are not stalled behind a large clean-up.
    async fn delete_in_batches(&self, sql: &'static str, threshold: i64, batch_size: u32) -> StoreResult<u64> {
        // A batch of zero would delete nothing for ever.
        let batch = batch_size.max(1);
        let mut total = 0;
        loop {
            let statement = Statement::new(sql).bind(threshold).bind(i64::from(batch));
            let deleted = self.backend().execute(statement).await?;
            total += deleted;
            if deleted < u64::from(batch) {
                return Ok(total);
            }
        }
    }

    async fn update_status(&self, statement: Statement) -> StoreResult<bool> {
        Ok(self.backend().execute(statement).await? > 0)
    }
}

#[async_trait]
impl<B: Backend> TokenStore for SqlStore<B> {
    async fn create_token(&self, token: NewToken) -> StoreResult<Token> {
        let statement = bind_token(
            Statement::new(concat!(
                "INSERT INTO tokens (",
                token_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            )),
            &token,
        );
        self.backend().execute(statement).await.map_err(|error| {
            error.into_store(
                |error| {
                    if error.unique_on("reference_digest") {
                        // The digest itself is not worth logging; the token id is.
                        format!("reference digest of token '{}'", token.id)
                    } else {
                        format!("token '{}'", token.id)
                    }
                },
                || match &token.authorization_id {
                    Some(authorization) => {
                        format!("client '{}' or authorization '{authorization}'", token.client_id)
                    }
                    None => format!("client '{}'", token.client_id),
                },
            )
        })?;
        Ok(Token {
            id: token.id,
            token_type: token.token_type,
            subject: token.subject,
            client_id: token.client_id,
            authorization_id: token.authorization_id,
            reference_digest: token.reference_digest,
            status: token.status,
            created_at: stored_time(token.created_at),
            expires_at: stored_time_opt(token.expires_at),
            redeemed_at: None,
            payload: token.payload,
            family_id: token.family_id,
            successor_id: None,
            successor_value: None,
        })
    }

    async fn find_presented(&self, reference_digest: &str) -> StoreResult<Option<Presented>> {
        let statement = Statement::new(presented_query!("WHERE t.reference_digest = $1")).bind(reference_digest);
        into_presented(self.backend().fetch_all::<PresentedRow>(statement).await?)
    }

    async fn record_grant(&self, write: GrantWrite) -> StoreResult<bool> {
        let mut statements = Vec::with_capacity(3);
        // First, so that a lost race is found before anything else is written (and rolled back).
        match &write.presented {
            Some((id, PresentedChange::Redeem)) => statements.push(
                Statement::new(
                    "UPDATE tokens SET status = 'redeemed', redeemed_at = $2, \
                     family_id = COALESCE(family_id, $3), successor_id = $4, successor_value = $5 \
                     WHERE id = $1 AND status = 'valid'",
                )
                .bind(id.as_str())
                .bind(to_db_time(write.now))
                .bind(write.family_id.clone())
                .bind(write.successor.as_ref().map(|(id, _)| id.clone()))
                .bind(write.successor.as_ref().map(|(_, value)| value.clone())),
            ),
            // Changes nothing, but matches (and, on PostgreSQL, locks) the row only while it is still valid.
            Some((id, PresentedChange::StillValid)) => statements.push(
                Statement::new("UPDATE tokens SET status = status WHERE id = $1 AND status = 'valid'")
                    .bind(id.as_str()),
            ),
            None => {}
        }
        if let Some(authorization) = &write.authorization {
            statements.push(insert_authorization(authorization)?);
        }
        if !write.tokens.is_empty() {
            statements.push(insert_tokens(&write.tokens));
        }
        if statements.is_empty() {
            return Ok(true);
        }
        // Every statement must change a row: the guarded UPDATE matching nothing rolls the whole write back.
        self.backend().execute_all_or_nothing(statements).await.map_err(|error| {
            error.into_store(
                |_| "a token or authorization id or token digest of this response".to_owned(),
                || "the client or authorization the tokens refer to".to_owned(),
            )
        })
    }

    async fn find_token(&self, id: &str) -> StoreResult<Option<Token>> {
        let statement = Statement::new(concat!("SELECT ", token_columns!(), " FROM tokens WHERE id = $1")).bind(id);
        self.backend().fetch_optional::<TokenRow>(statement).await?.map(Token::try_from).transpose()
    }

    async fn find_token_by_digest(&self, reference_digest: &str) -> StoreResult<Option<Token>> {
        let statement =
            Statement::new(concat!("SELECT ", token_columns!(), " FROM tokens WHERE reference_digest = $1"))
                .bind(reference_digest);
        self.backend().fetch_optional::<TokenRow>(statement).await?.map(Token::try_from).transpose()
    }

    async fn redeem_token(&self, id: &str, now: OffsetDateTime) -> StoreResult<bool> {
        // The status check and the change are one statement: of concurrent redemptions exactly one matches.
        self.update_status(
            Statement::new(
                "UPDATE tokens SET status = 'redeemed', redeemed_at = $2 \
                 WHERE id = $1 AND status = 'valid'",
            )
            .bind(id)
            .bind(to_db_time(now)),
        )
        .await
    }

    async fn transition_token(&self, id: &str, from: TokenStatus, to: TokenStatus) -> StoreResult<bool> {
        self.update_status(
            Statement::new("UPDATE tokens SET status = $3 WHERE id = $1 AND status = $2")
                .bind(id)
                .bind(from.as_str())
                .bind(to.as_str()),
        )
        .await
    }

    async fn revoke_token(&self, id: &str) -> StoreResult<bool> {
        self.update_status(
            Statement::new("UPDATE tokens SET status = 'revoked' WHERE id = $1 AND status <> 'revoked'").bind(id),
        )
        .await
    }

    async fn revoke_family(&self, family_id: &str) -> StoreResult<u64> {
        let statement =
            Statement::new("UPDATE tokens SET status = 'revoked' WHERE family_id = $1 AND status <> 'revoked'")
                .bind(family_id);
        Ok(self.backend().execute(statement).await?)
    }

    async fn forget_successor_values(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let statement = Statement::new(
            "UPDATE tokens SET successor_value = NULL WHERE successor_value IS NOT NULL AND redeemed_at < $1",
        )
        .bind(to_db_time(before));
        Ok(self.backend().execute(statement).await?)
    }

    async fn revoke_tokens_by_authorization(&self, authorization_id: &str) -> StoreResult<u64> {
        let statement = Statement::new(
            "UPDATE tokens SET status = 'revoked' \
             WHERE authorization_id = $1 AND status <> 'revoked'",
        )
        .bind(authorization_id);
        Ok(self.backend().execute(statement).await?)
    }

    /// Deletes, each in batches of `batch_size` rows per statement (at least one):
    /// 1. tokens that expired before `threshold`, and redeemed or revoked tokens whose redemption (or, when
    ///    there was none, creation) is before `threshold`;
    /// 2. then authorizations created before `threshold` that are revoked, or ad-hoc with no token left
    ///    (which step 1 may just have made so); deleting a revoked one also deletes any token still tied to it,
    ///    which the report does not count;
    /// 3. sessions that expired before `threshold` (not counted in the report, which has no field for them).
    ///
    /// Valid and inactive tokens that have not expired, valid permanent authorizations and ad-hoc ones that
    /// still have a token are never deleted, whatever their age.
    async fn list_tokens_of_authorization(&self, authorization_id: &str) -> StoreResult<Vec<Token>> {
        let statement = Statement::new(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE authorization_id = $1 ORDER BY created_at, id"
        ))
        .bind(authorization_id);
        self.backend().fetch_all::<TokenRow>(statement).await?.into_iter().map(Token::try_from).collect()
    }

    async fn prune(&self, threshold: OffsetDateTime, batch_size: u32) -> StoreResult<PruneReport> {
        let threshold = to_db_time(threshold);
        let tokens = self.delete_in_batches(PRUNE_TOKENS, threshold, batch_size).await?;
        let authorizations = self.delete_in_batches(PRUNE_AUTHORIZATIONS, threshold, batch_size).await?;
        self.delete_in_batches(PRUNE_SESSIONS, threshold, batch_size).await?;
        Ok(PruneReport { tokens, authorizations })
    }
}
