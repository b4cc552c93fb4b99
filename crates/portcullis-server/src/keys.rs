//! The provider's keys: created on first start, kept in the store (sealed with the master key when one is
//! configured), and loaded into a [`Keyring`] that signs, encrypts and publishes the JWKS.

use portcullis_core::Clock;
use portcullis_core::store::Store;
use portcullis_jose::{KeyAlg, Keyring, MasterKey, generate_key};

/// Every kind of key the provider needs, and why.
pub const REQUIRED: [KeyAlg; 3] = [
    // ID tokens: RS256 is the one algorithm every OpenID Connect client must support (OIDC Core §15.1).
    KeyAlg::Rs256,
    // JWT access tokens: only the provider and resource servers read them; ES256 signs far faster than RSA.
    KeyAlg::Es256,
    // Access-token encryption (RSA-OAEP + A256CBC-HS512), the design's default format.
    KeyAlg::RsaOaep,
];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Store(#[from] portcullis_core::store::StoreError),
    #[error("provider keys: {0}")]
    Jose(#[from] portcullis_jose::JoseError),
    #[error(
        "the stored private key {kid} is sealed with a master key, but none is configured: set `master_key` \
         (PORTCULLIS_MASTER_KEY) to the key it was sealed with"
    )]
    MasterKeyMissing { kid: String },
    #[error("key generation stopped: {0}")]
    Task(String),
}

/// Generates and stores every required key that has no active key yet, once across every instance on the
/// database (rule K1 of docs/security.md).
///
/// The keys are generated before the store is asked, so no lock is held while RSA keys are made; the store
/// then keeps a candidate only if its algorithm still has no active key, under a lock that makes instances
/// starting together take turns. The instances that lose keep the winner's keys and drop their own.
pub async fn ensure_keys(store: &dyn Store, clock: &dyn Clock, master: Option<&MasterKey>) -> Result<(), KeyError> {
    let existing = store.list_active_keys().await?;
    let missing: Vec<KeyAlg> =
        REQUIRED.into_iter().filter(|alg| !existing.iter().any(|key| key.alg == alg.as_str())).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut candidates = Vec::with_capacity(missing.len());
    for alg in missing {
        // RSA generation takes a noticeable moment: keep it off the async workers.
        let generated = tokio::task::spawn_blocking(move || generate_key(alg))
            .await
            .map_err(|error| KeyError::Task(error.to_string()))??;
        let now = clock.now();
        candidates.push(generated.into_stored(master, now, now)?);
    }
    let offered: Vec<(String, String)> = candidates.iter().map(|key| (key.kid.clone(), key.alg.clone())).collect();
    let active = store.add_missing_keys(candidates).await?;
    for (kid, alg) in offered {
        if active.iter().any(|key| key.kid == kid) {
            tracing::info!(kid, alg, "generated a new provider key");
        } else {
            tracing::info!(alg, "another instance generated the provider's key first; using that one");
        }
    }
    Ok(())
}

/// Loads the active keys into a keyring, unsealing them with the master key.
pub async fn load_keyring(
    store: &dyn Store,
    clock: &dyn Clock,
    master: Option<&MasterKey>,
) -> Result<Keyring, KeyError> {
    let keys = store.list_active_keys().await?;
    Keyring::new(&keys, master, clock.now()).map_err(|error| match error {
        portcullis_jose::JoseError::MasterKeyRequired { kid } => KeyError::MasterKeyMissing { kid },
        other => other.into(),
    })
}
