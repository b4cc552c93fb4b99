//! Deleting what can no longer be used: expired, redeemed and revoked tokens, revoked or orphaned ad-hoc
//! consents, and expired sessions, once they are older than the configured threshold.

use std::time::Duration;

use portcullis_core::Clock;
use portcullis_core::store::{PruneReport, Store, StoreError};

use crate::config::PruningSettings;
use crate::state::AppState;

/// One pass; what the store deleted.
pub async fn run_once(
    store: &dyn Store,
    clock: &dyn Clock,
    settings: &PruningSettings,
) -> Result<PruneReport, StoreError> {
    let threshold = clock.now() - time::Duration::seconds(i64::try_from(settings.threshold).unwrap_or(i64::MAX));
    store.prune(threshold, settings.batch_size).await
}

/// Runs [`run_once`] every `pruning.interval` seconds until the task is dropped. Several instances may run it
/// at once: the deletions are idempotent and batched.
pub async fn run_forever(state: AppState) {
    let interval = state.settings.pruning.interval;
    if interval == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(interval));
    loop {
        ticks.tick().await;
        match run_once(state.store.as_ref(), state.clock.as_ref(), &state.settings.pruning).await {
            Ok(report) => tracing::info!(tokens = report.tokens, authorizations = report.authorizations, "pruned"),
            Err(error) => tracing::warn!(%error, "pruning failed; it will be tried again"),
        }
    }
}
