//! The device authorization grant's two rows (RFC 8628): written together, decided together, and polled.

use async_trait::async_trait;
use portcullis_core::model::{NewToken, Token, TokenType};
use portcullis_core::protocol::device::{DEFAULT_INTERVAL, PollOutcome};
use portcullis_core::protocol::payload::{DeviceCodePayload, Payload};
use portcullis_core::store::{DeviceApproval, DeviceConsent, DeviceStore, StoreError, StoreResult};
use time::OffsetDateTime;

use super::SqlStore;
use super::tokens::insert_tokens;
use crate::backend::{Backend, Statement};
use crate::rows::{TokenRow, authorization_columns, to_db_time, to_json, token_columns};

/// How many times a poll retries when another poll of the same device code changed it first. Each lost race
/// means another poll was recorded at that very moment, so this one is too fast either way; the bound only
/// keeps a flood of parallel polls from spinning (see [`SqlStore::record_device_poll`]).
const MAX_POLL_ATTEMPTS: usize = 100;

/// The user code is used up by either answer: only while it is valid and unexpired.
fn use_user_code(user_code_id: &str, now: OffsetDateTime) -> Statement {
    Statement::new(
        "UPDATE tokens SET status = 'redeemed', redeemed_at = $2 \
         WHERE id = $1 AND token_type = 'user_code' AND status = 'valid' AND expires_at > $2",
    )
    .bind(user_code_id)
    .bind(to_db_time(now))
}

#[async_trait]
impl<B: Backend> DeviceStore for SqlStore<B> {
    async fn create_device_codes(&self, device_code: NewToken, user_code: NewToken) -> StoreResult<()> {
        if device_code.token_type != TokenType::DeviceCode || user_code.token_type != TokenType::UserCode {
            return Err(StoreError::Other(format!(
                "create_device_codes takes a device code and a user code, not {} and {}",
                device_code.token_type.as_str(),
                user_code.token_type.as_str()
            )));
        }
        // One statement: both rows or neither.
        let rows = [device_code, user_code];
        self.backend().execute(insert_tokens(&rows)).await.map_err(|error| {
            error.into_store(
                // The device code is 256 random bits: of the two digests, only the user code's can collide.
                |_| format!("user code of device code '{}'", rows[0].id),
                || format!("client '{}'", rows[0].client_id),
            )
        })?;
        Ok(())
    }

    /// Read, apply the rule, then write back only if nothing changed in between (`payload = $old`, still
    /// `inactive`): one conditional statement, so two polls never both count from the same last poll, and a
    /// poll never overwrites the user's decision. A lost race reads the row again and retries.
    async fn record_device_poll(&self, id: &str, now: OffsetDateTime) -> StoreResult<PollOutcome> {
        let mut last_interval = None;
        for _ in 0..MAX_POLL_ATTEMPTS {
            let statement = Statement::new(concat!(
                "SELECT ",
                token_columns!(),
                " FROM tokens WHERE id = $1 AND token_type = 'device_code' AND status = 'inactive'"
            ))
            .bind(id);
            let Some(row) = self.backend().fetch_optional::<TokenRow>(statement).await? else {
                return Ok(PollOutcome::NotPending);
            };
            let token = Token::try_from(row)?;
            let mut payload = DeviceCodePayload::read(&token).map_err(|error| StoreError::Other(error.to_string()))?;
            let old = token.payload.unwrap_or_default();
            let outcome = payload.poll(now);
            last_interval = Some(payload.interval);
            let new = payload.write().map_err(|error| StoreError::Other(error.to_string()))?;
            let statement =
                Statement::new("UPDATE tokens SET payload = $3 WHERE id = $1 AND status = 'inactive' AND payload = $2")
                    .bind(id)
                    .bind(old)
                    .bind(new);
            if self.backend().execute(statement).await? > 0 {
                return Ok(outcome);
            }
        }
        // Every attempt lost to another poll of the same code at the same moment: too fast by any measure.
        Ok(PollOutcome::SlowDown { interval: last_interval.unwrap_or(DEFAULT_INTERVAL) })
    }

    async fn approve_device_code(&self, approval: DeviceApproval) -> StoreResult<bool> {
        let now = to_db_time(approval.now);
        let mut statements = Vec::with_capacity(3);
        if let DeviceConsent::New(authorization) = &approval.consent {
            statements.push(
                Statement::new(concat!(
                    "INSERT INTO authorizations (",
                    authorization_columns!(),
                    ") VALUES ($1, $2, $3, 'valid', $4, $5, $6)"
                ))
                .bind(authorization.id.as_str())
                .bind(authorization.subject.as_str())
                .bind(authorization.client_id.as_str())
                .bind(authorization.kind.as_str())
                .bind(to_json(&authorization.scopes, "authorization scopes")?)
                .bind(to_db_time(authorization.created_at)),
            );
        }
        statements.push(
            Statement::new(
                "UPDATE tokens SET status = 'valid', subject = $2, authorization_id = $3, payload = $4 \
                 WHERE id = $1 AND token_type = 'device_code' AND status = 'inactive' AND expires_at > $5",
            )
            .bind(approval.device_code_id.as_str())
            .bind(approval.consent.subject())
            .bind(approval.consent.authorization_id())
            .bind(approval.payload.as_str())
            .bind(now),
        );
        statements.push(use_user_code(&approval.user_code_id, approval.now));
        self.backend().execute_all_or_nothing(statements).await.map_err(|error| {
            error.into_store(
                |_| format!("authorization '{}'", approval.consent.authorization_id()),
                || format!("authorization '{}' or its client", approval.consent.authorization_id()),
            )
        })
    }

    async fn deny_device_code(
        &self,
        device_code_id: &str,
        user_code_id: &str,
        subject: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let statements = vec![
            Statement::new(
                "UPDATE tokens SET status = 'revoked', subject = $2 \
                 WHERE id = $1 AND token_type = 'device_code' AND status = 'inactive' AND expires_at > $3",
            )
            .bind(device_code_id)
            .bind(subject)
            .bind(to_db_time(now)),
            use_user_code(user_code_id, now),
        ];
        Ok(self.backend().execute_all_or_nothing(statements).await?)
    }
}
