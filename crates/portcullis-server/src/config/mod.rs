//! Configuration: [`Config`] is what the defaults, the file, the environment and the flags say, in their own
//! terms (seconds); [`Config::validate`] checks it once and turns it into the [`Settings`] the provider runs
//! with, where every lifetime is a duration.

mod raw;
mod settings;

pub use portcullis_core::model::AccessTokenFormat;
pub use raw::{
    Config, ConfigError, DatabaseSettings, LogFormat, Overrides, PruningSettings, SecuritySettings, TokenSettings,
};
pub use settings::{Issuer, Pruning, Security, Settings, Tokens, redact_url};
