//! What every request handler shares: settings, the store, the clock, and the published documents.

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwap;
use portcullis_core::Clock;
use portcullis_core::model::Scope;
use portcullis_core::protocol::device::UserCodeKey;
use portcullis_core::store::Store;
use portcullis_jose::{Keyring, MasterKey};

use crate::config::Settings;
use crate::keys::{self, KeyError};
use crate::metadata::{self, DiscoveryInput, GRANT_TYPES};

/// Documents derived from the keys and scopes, rebuilt when those change and read lock-free by every request.
pub struct Published {
    pub keyring: Keyring,
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
    published: ArcSwap<Published>,
}

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
        let published = ArcSwap::from_pointee(published);
        Ok(Self(Arc::new(Inner { settings, store, clock, master_key, user_code_key, published })))
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
}

async fn build(
    settings: &Settings,
    store: &dyn Store,
    clock: &dyn Clock,
    master_key: Option<&MasterKey>,
) -> Result<Published, KeyError> {
    let keyring = keys::load_keyring(store, clock, master_key).await?;
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
