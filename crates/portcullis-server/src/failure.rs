//! The one error of the `portcullis` command and of `serve`: whatever went wrong, as a line for the operator.

/// A command that could not do its work: one line for the operator, and a non-zero exit.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! failure_from {
    ($($error:ty),*) => {
        $(impl From<$error> for Failure {
            fn from(error: $error) -> Self {
                Self(error.to_string())
            }
        })*
    };
}

failure_from!(
    crate::config::ConfigError,
    portcullis_core::store::StoreError,
    crate::admin::AdminError,
    crate::keys::KeyError,
    portcullis_jose::JoseError
);
