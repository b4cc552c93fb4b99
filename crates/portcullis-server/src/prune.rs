//! Deleting what can no longer be used: expired, redeemed and revoked tokens, revoked or orphaned ad-hoc
//! consents, and expired sessions, once they are older than the configured threshold.

use portcullis_core::Clock;
use portcullis_core::store::{PruneReport, Store, StoreError};

use crate::config::Pruning;
use crate::state::AppState;

/// One pass; what the store deleted.
pub async fn run_once(store: &dyn Store, clock: &dyn Clock, settings: &Pruning) -> Result<PruneReport, StoreError> {
    store.prune(clock.now() - settings.threshold, settings.batch_size).await
}

/// Forgets the sealed successor values whose reuse leeway is over: what answers a second tab again is kept no
/// longer than it can be used.
pub async fn forget_successors(state: &AppState) -> Result<u64, StoreError> {
    state.store.forget_successor_values(state.clock.now() - state.settings.tokens.refresh_token_reuse_leeway).await
}

/// Runs [`forget_successors`] once per reuse leeway until the task is dropped, so a sealed value outlives its
/// leeway by at most one more. Nothing to do when there is no leeway: no value is ever answered again.
pub async fn forget_successors_forever(state: AppState) {
    let leeway = state.settings.tokens.refresh_token_reuse_leeway;
    if leeway <= time::Duration::ZERO {
        return;
    }
    let mut ticks = tokio::time::interval(leeway.unsigned_abs());
    loop {
        ticks.tick().await;
        if let Err(error) = forget_successors(&state).await {
            tracing::warn!(%error, "forgetting sealed refresh token successors failed; it will be tried again");
        }
    }
}

/// Runs [`run_once`] every `pruning.interval` seconds until the task is dropped. Several instances may run it
/// at once: the deletions are idempotent and batched.
pub async fn run_forever(state: AppState) {
    let Some(interval) = state.settings.pruning.interval else { return };
    let mut ticks = tokio::time::interval(interval.unsigned_abs());
    loop {
        ticks.tick().await;
        match run_once(state.store.as_ref(), state.clock.as_ref(), &state.settings.pruning).await {
            Ok(report) => tracing::info!(tokens = report.tokens, authorizations = report.authorizations, "pruned"),
            Err(error) => tracing::warn!(%error, "pruning failed; it will be tried again"),
        }
    }
}
