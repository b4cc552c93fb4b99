//! Portcullis validation: what a resource server (an API) needs to accept or refuse the access tokens a
//! Portcullis provider — or any OpenID Connect provider with discovery — issues.
//!
//! A request goes through [`bearer::bearer_token`] (RFC 6750 §2.1: the `Authorization: Bearer` header), then
//! [`Validator::validate`], which either asks the provider (RFC 7662 introspection, with a bounded cache) or
//! checks a JWT access token locally (RFC 9068, keys from the provider's JWKS, optionally decrypting a JWE
//! first), then a [`Policy`] (required scopes and roles). Every refusal is a [`Rejection`] that answers as
//! RFC 6750 §3.1 says, with an `error_description` naming the check that failed; a provider that cannot be
//! reached is a 503, never a 401. [`RequireBearerLayer`] does all of it in front of axum routes.
//!
//! It talks to the provider only over HTTP, found from the issuer's discovery document. It must not depend on
//! the provider's server or storage crates, nor on a database; it reads the time only from the
//! [`portcullis_core::Clock`] it is given, so expiry and caching can be tested with a fixed clock.
//!
//! The README follows: how to protect an axum route, the two modes, the cache rule, every refusal.
#![doc = include_str!("../README.md")]

pub mod bearer;
mod fetch;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod introspection;
mod jwt;
mod layer;
mod policy;
mod provider;
mod rejection;
mod secret;
mod token;
mod validator;

pub use layer::{RequireBearer, RequireBearerLayer};
pub use policy::Policy;
pub use portcullis_core::{Clock, FixedClock, SystemClock};
pub use portcullis_jose::{Decrypter, JoseError, SigningAlg};
pub use rejection::Rejection;
pub use secret::ClientSecret;
pub use token::AccessToken;
pub use validator::{BuildError, Validator, ValidatorBuilder};
