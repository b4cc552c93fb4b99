//! Portcullis server: the HTTP endpoints of the OpenID Connect provider, its configuration, the demo data
//! and the `portcullis` command.
//!
//! Handlers extract, call the rules of `portcullis-core`, and map the result; storage comes from
//! `portcullis-store` and all JOSE work from `portcullis-jose`. `docs/architecture.md` follows one request
//! through them; checklist ids in comments (`checklist C3`) are the rows of `docs/security.md`.

pub mod admin;
pub mod app;
pub mod cli;
pub mod client_auth;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod endpoint;
pub mod error;
pub mod failure;
pub mod keys;
pub mod metadata;
pub mod pages;
pub mod password_checks;
pub mod prune;
pub mod serve;
pub mod session;
pub mod state;
pub mod tokens;
