//! Protocol rules of OAuth 2.0 and OpenID Connect, free of HTTP and storage.
//!
//! Each module turns raw request values into proven-valid types or an [`crate::OAuthError`] that says what to
//! fix. Nothing here reads the clock or does I/O: the HTTP layer extracts the raw parameters, calls these rules
//! and maps the error to a response in one place.

pub mod authorize;
pub mod claims;
pub mod client_credentials;
pub mod consent;
pub mod device;
pub mod grant;
pub mod params;
pub mod payload;
pub mod pkce;
pub mod redirect_uri;
pub mod scope;

/// Longest piece of a client-supplied value repeated in an `error_description`: enough to recognise a redirect
/// URI or a scope, without letting a request of several kilobytes echo itself back (checklist X1).
const QUOTED_MAX_CHARS: usize = 256;

/// A client-supplied value as it appears in an error description: quoted, with control characters escaped so a
/// log line or page cannot be forged with them, and cut short when it is long.
pub(crate) fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTED_MAX_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_control_characters() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn checklist_x1_quoted_cuts_long_values() {
        let long = "x".repeat(10_000);
        let shown = quoted(&long);
        assert_eq!(shown.chars().count(), QUOTED_MAX_CHARS + 3);
        assert!(shown.ends_with('…'));
    }
}
