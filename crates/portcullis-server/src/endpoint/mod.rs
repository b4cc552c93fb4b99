//! One module per endpoint; each extracts, calls the rules, and maps the result.

pub mod discovery;
pub mod health;
pub mod jwks;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/.well-known/jwks";
pub const HEALTH_PATH: &str = "/healthz";
