//! One module per endpoint; each extracts, calls the rules, and maps the result. [`error_page`] is what
//! several of them share.

pub mod authorize;
pub mod device;
pub mod discovery;
pub mod error_page;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod token;
pub mod userinfo;
