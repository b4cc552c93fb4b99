//! Portcullis core: the protocol and domain logic of the provider.
//!
//! Wire-independent types (clients, users, scopes, authorizations, tokens, keys, sessions), the rules that
//! govern them, the OAuth error type and the storage traits the provider needs. It must not depend on an HTTP
//! framework, a database driver or the system clock: time always comes from a [`clock::Clock`], so every rule
//! can be tested with a fixed time.
//!
//! Comments and test names that cite a checklist id (`checklist C3`, `checklist_f5_…`) refer to the rows of
//! `docs/security.md`, where each rule meets its spec section and its tests.

pub mod clock;
pub mod error;
pub mod model;
pub mod password;
pub mod protocol;
pub mod secret;
pub mod store;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ErrorCode, OAuthError};
