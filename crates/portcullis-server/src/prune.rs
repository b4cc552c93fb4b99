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
