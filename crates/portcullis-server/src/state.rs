//! What every request handler shares: settings, the store, the clock, and the published documents.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use portcullis_core::Clock;
use portcullis_core::model::Scope;
use portcullis_core::protocol::device::UserCodeKey;
use portcullis_core::store::{Store, StoreError};
use portcullis_jose::{JoseError, Keyring, MasterKey};

use crate::config::Settings;
use crate::keys::{self, KeyError};
use crate::metadata::{self, DiscoveryInput, GRANT_TYPES};
use crate::password_checks::PasswordChecks;

/// Documents derived from the keys and scopes, rebuilt when those change and read lock-free by every request.
pub struct Published {
    /// Shared, so that a reload of the keys alone can replace it and keep everything else.
    pub keyring: Arc<Keyring>,
    pub discovery: Vec<u8>,
    pub jwks: Vec<u8>,
    /// Every scope the provider defines, for validation and the consent page.
    pub scopes: Vec<Scope>,
    pub scope_names: HashSet<String>,
    /// Browser origins registered on any client: the only ones CORS lets read the token and userinfo answers.
    pub cors_origins: HashSet<String>,
}

impl Published {
    pub fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.iter().find(|scope| scope.name == name)
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub master_key: Option<MasterKey>,
    /// What user codes are digested under; fixed for the life of the process ([`keys::user_code_key`]).
    pub user_code_key: UserCodeKey,
    /// Where password checks run: a bounded number at once, a bounded queue in front (`[security]`).
    pub password_checks: PasswordChecks,
    published: ArcSwap<Published>,
    /// When the last reload of the keys for an unknown `kid` began. Locked while one runs, so that concurrent
    /// callers wait for it and share it.
    key_reload: tokio::sync::Mutex<Option<Instant>>,
}

/// The least time between two reloads of the keys for an unknown `kid` (rule K2): a key another instance
/// created is found at once, while tokens with made-up `kid`s cost the database at most one read per this time
/// and instance.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Ensures the provider's keys exist, then loads everything the endpoints publish.
    pub async fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        master_key: Option<MasterKey>,
    ) -> Result<Self, KeyError> {
        keys::ensure_keys(store.as_ref(), clock.as_ref(), master_key.as_ref()).await?;
        let user_code_key = keys::user_code_key(store.as_ref(), clock.as_ref(), master_key.as_ref()).await?;
        let published = build(&settings, store.as_ref(), clock.as_ref(), master_key.as_ref()).await?;
        let password_checks = settings.security.password_checks();
        Ok(Self(Arc::new(Inner {
            settings,
            store,
            clock,
            master_key,
            user_code_key,
            password_checks,
            published: ArcSwap::from_pointee(published),
            key_reload: tokio::sync::Mutex::new(None),
        })))
    }

    pub fn published(&self) -> arc_swap::Guard<Arc<Published>> {
        self.published.load()
    }

    /// Reloads keys and scopes from the store, so that a key rotated or a scope added by another instance or
    /// by the command line is published without a restart.
    pub async fn refresh(&self) -> Result<(), KeyError> {
        let published =
            build(&self.settings, self.store.as_ref(), self.clock.as_ref(), self.master_key.as_ref()).await?;
        self.published.store(Arc::new(published));
        Ok(())
    }

    /// Runs `use_keys` (verify, decrypt) with the published keys. When it fails because the token names a key
    /// this instance has not loaded, which another instance may have created or rotated in since the last
    /// reload, the keys are reloaded once and `use_keys` runs again (rule K2, OIDC Core §10.1.1). Reloads
    /// are at most one per [`KEY_RELOAD_INTERVAL`], and callers that arrive while one runs wait for it rather
    /// than start their own. Fails only when the reload cannot read the store.
    pub async fn with_keys<T>(
        &self,
        use_keys: impl Fn(&Keyring) -> Result<T, JoseError>,
    ) -> Result<Result<T, JoseError>, StoreError> {
        let looked_at = Instant::now();
        match use_keys(&self.published().keyring) {
            Err(JoseError::UnknownKey(_)) => {}
            done => return Ok(done),
        }
        self.reload_keys(looked_at).await?;
        Ok(use_keys(&self.published().keyring))
    }

    /// Reloads the keys, unless a reload began after `looked_at` (its keys are the newest there are) or the
    /// last one began less than [`KEY_RELOAD_INTERVAL`] ago.
    async fn reload_keys(&self, looked_at: Instant) -> Result<(), StoreError> {
        let mut last = self.key_reload.lock().await;
        if let Some(began) = *last
            && (began >= looked_at || began.elapsed() < KEY_RELOAD_INTERVAL)
        {
            return Ok(());
        }
        *last = Some(Instant::now());
        let keyring = match keys::load_keyring(self.store.as_ref(), self.clock.as_ref(), self.master_key.as_ref()).await
        {
            Ok(keyring) => Arc::new(keyring),
            Err(KeyError::Store(error)) => return Err(error),
            Err(error) => {
                // A key in the store this instance cannot use: keep serving with the keys it has.
                tracing::error!(%error, "could not reload the keys for an unknown kid; serving the previous ones");
                return Ok(());
            }
        };
        tracing::info!("reloaded the keys: a token named a key this instance had not loaded");
        let jwks = keyring.jwks_json().to_vec();
        // Only the keys change: what a concurrent full refresh published meanwhile is kept.
        self.published.rcu(|current| Published {
            keyring: keyring.clone(),
            jwks: jwks.clone(),
            discovery: current.discovery.clone(),
            scopes: current.scopes.clone(),
            scope_names: current.scope_names.clone(),
            cors_origins: current.cors_origins.clone(),
        });
        Ok(())
    }
}

async fn build(
    settings: &Settings,
    store: &dyn Store,
    clock: &dyn Clock,
    master_key: Option<&MasterKey>,
) -> Result<Published, KeyError> {
    let keyring = Arc::new(keys::load_keyring(store, clock, master_key).await?);
    let mut scopes = store.list_scopes().await?;
    scopes.sort_by(|a, b| a.name.cmp(&b.name));
    let scope_names: HashSet<String> = scopes.iter().map(|scope| scope.name.clone()).collect();
    let cors_origins = store.list_clients().await?.into_iter().flat_map(|client| client.cors_origins).collect();
    let input = DiscoveryInput {
        issuer: settings.issuer.as_str(),
        scopes: scopes.iter().map(|scope| scope.name.clone()).collect(),
        signing_algs: vec!["RS256".to_string()],
        grant_types: GRANT_TYPES.to_vec(),
    };
    let discovery = metadata::render(&input);
    let jwks = keyring.jwks_json().to_vec();
    Ok(Published { keyring, discovery, jwks, scopes, scope_names, cors_origins })
}
