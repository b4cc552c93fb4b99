//! Portcullis JOSE: every JWS, JWE and JWK operation of the provider, on top of `josekit`.
//!
//! It generates keys (RS256 for ID tokens, ES256 for JWT access tokens, RSA-OAEP for encrypted access tokens)
//! named by their RFC 7638 thumbprint, holds them in a [`Keyring`] that picks the current key per algorithm and
//! publishes the JWKS, signs and verifies compact JWS with the checks of RFC 8725, encrypts and decrypts
//! compact JWE, and seals private keys at rest with a [`MasterKey`]. No other crate touches `josekit`. It must
//! not depend on HTTP, a database or the system clock: every instant is a parameter, and claims such as `exp`
//! are checked by the caller.
//!
//! ```
//! use portcullis_jose::{KeyAlg, Keyring, SigningAlg, generate_key};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-11-01 12:00 UTC);
//! // The server stores this record; `Some(&master_key)` would seal the private JWK first.
//! let stored = generate_key(KeyAlg::Es256)?.into_stored(None, now, now)?;
//! let keyring = Keyring::new(&[stored], None, now)?;
//!
//! let mut claims = serde_json::Map::new();
//! claims.insert("sub".into(), "alice".into());
//! let token = keyring.sign(SigningAlg::Es256, &claims, Some("at+jwt"))?;
//! let (header, verified) = keyring.verify(&token, &[SigningAlg::Es256])?;
//! assert_eq!((header.typ.as_deref(), verified), (Some("at+jwt"), claims));
//! # Ok::<(), portcullis_jose::JoseError>(())
//! ```

mod compact;
mod error;
mod jwe;
mod jws;
mod keyring;
mod keys;
mod seal;
mod thumbprint;

#[cfg(test)]
mod testing;

pub use error::JoseError;
pub use jwe::Decrypter;
pub use jws::{JwksVerifier, VerifiedHeader};
pub use keyring::Keyring;
pub use keys::{CONTENT_ENCRYPTION, GeneratedKey, KeyAlg, PrivateJwk, SigningAlg, generate_key};
pub use seal::{MasterKey, generate_master_key, seal, unseal};
pub use thumbprint::jwk_thumbprint;
