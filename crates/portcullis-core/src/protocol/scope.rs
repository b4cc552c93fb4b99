//! The `scope` parameter (RFC 6749 §3.3): parsing, and the checks every grant applies to it.
//!
//! Failures are `invalid_scope`: RFC 6749 §5.2 defines it as "The requested scope is invalid, unknown,
//! malformed, or exceeds the scope granted by the resource owner."

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::error::OAuthError;
use crate::model::Client;
use crate::protocol::quoted;

/// Most scope tokens one request may carry. The provider knows a handful; thousands in one request are an
/// attack on whatever stores or displays them (checklist X1).
pub const MAX_SCOPE_TOKENS: usize = 64;

/// A set of syntactically valid scope tokens, without duplicates. RFC 6749 §3.3: "If the value contains
/// multiple space-delimited strings, their order does not matter".
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Parses a `scope` value. Runs of spaces are tolerated (a trailing `+` in a form is a common client bug
    /// and carries no meaning); any other character outside the scope-token grammar is `invalid_scope`.
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
        Self::from_tokens(value.split(' ').filter(|token| !token.is_empty()))
    }

    /// Builds a set from individual tokens (for example scopes read back from storage), checking each.
    pub fn from_tokens<I, S>(tokens: I) -> Result<Self, OAuthError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for token in tokens {
            let token = token.as_ref();
            check_token(token)?;
            set.insert(token.to_owned());
            if set.len() > MAX_SCOPE_TOKENS {
                return Err(OAuthError::invalid_scope(format!("more than {MAX_SCOPE_TOKENS} scopes were requested")));
            }
        }
        Ok(Self(set))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// The tokens, in a stable (sorted) order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// `invalid_scope` naming every scope the provider does not know.
    pub fn check_known(&self, known: &HashSet<String>) -> Result<(), OAuthError> {
        let unknown = self.missing_from(|scope| known.contains(scope));
        if unknown.is_empty() {
            return Ok(());
        }
        Err(OAuthError::invalid_scope(format!("unknown scope{}: {}", plural(unknown.len()), unknown.join(", "))))
    }

    /// `invalid_scope` naming every scope the client is not permitted, and the client.
    pub fn check_permitted(&self, client: &Client) -> Result<(), OAuthError> {
        let refused = self.missing_from(|scope| client.permissions.allows_scope(scope));
        if refused.is_empty() {
            return Ok(());
        }
        Err(OAuthError::invalid_scope(format!(
            "the client {} is not permitted the scope{} {}",
            quoted(&client.client_id),
            plural(refused.len()),
            refused.join(", ")
        )))
    }

    /// The refresh-token rule: a refresh may keep or narrow the granted scope, never widen it.
    pub fn check_within_granted(&self, granted: &ScopeSet) -> Result<(), OAuthError> {
        // RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted by the resource
        // owner, and if omitted is treated as equal to the scope originally granted by the resource owner."
        let extra = self.missing_from(|scope| granted.contains(scope));
        if extra.is_empty() {
            return Ok(());
        }
        Err(OAuthError::invalid_scope(format!(
            "the scope{} {} {} not granted originally; a refresh may only keep or narrow the scope",
            plural(extra.len()),
            extra.join(", "),
            if extra.len() == 1 { "was" } else { "were" }
        )))
    }

    /// Quoted names of the scopes `keep` refuses, sorted.
    fn missing_from(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        self.iter().filter(|scope| !keep(scope)).map(quoted).collect()
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`: printable ASCII except `"` and `\`.
fn check_token(token: &str) -> Result<(), OAuthError> {
    if token.is_empty() {
        return Err(OAuthError::invalid_scope("a scope token is empty"));
    }
    if let Some(bad) = token.chars().find(|c| !matches!(*c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')) {
        return Err(OAuthError::invalid_scope(format!(
            "the scope {} contains {} (U+{:04X}), which RFC 6749 §3.3 does not allow in a scope",
            quoted(token),
            quoted(&bad.to_string()),
            u32::from(bad)
        )));
    }
    Ok(())
}

/// The space-delimited form, sorted: what a token response's `scope` field and the stores hold.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, scope) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

/// Stored (in token payloads) as the space-delimited string; a stored value that no longer parses is refused
/// when read, so a damaged payload is caught where it is read.
impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|error| serde::de::Error::custom(error.description))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::{ClientType, ConsentType, Permissions};
    use time::macros::datetime;

    fn client_with_scopes(scopes: &[&str]) -> Client {
        Client {
            id: "1".into(),
            client_id: "angularclient".into(),
            secret_digest: None,
            client_type: ClientType::Public,
            consent_type: ConsentType::Explicit,
            display_name: "Angular".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            cors_origins: vec![],
            permissions: Permissions {
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                ..Permissions::default()
            },
            pkce_exempt: false,
            access_token_format: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn known(scopes: &[&str]) -> HashSet<String> {
        scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rfc6749_3_3_space_delimited_order_insensitive_deduplicated() {
        let a = ScopeSet::parse("openid profile email").unwrap();
        let b = ScopeSet::parse("email openid profile openid").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.to_string(), "email openid profile");
    }

    #[test]
    fn rfc6749_3_3_extra_spaces_are_tolerated() {
        let set = ScopeSet::parse(" openid  profile ").unwrap();
        assert_eq!(set.to_string(), "openid profile");
        assert!(ScopeSet::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn rfc6749_3_3_full_token_alphabet_is_accepted() {
        let set = ScopeSet::parse("urn:x:read!#$%&'()*+,-./;<=>?@[]^_`{|}~").unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn rfc6749_3_3_double_quote_is_invalid_scope() {
        let err = ScopeSet::parse("openid pro\"file").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("U+0022"), "{}", err.description);
        assert!(err.description.contains(r#""pro\"file""#), "{}", err.description);
    }

    #[test]
    fn rfc6749_3_3_backslash_is_invalid_scope() {
        let err = ScopeSet::parse("open\\id").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("U+005C"), "{}", err.description);
    }

    #[test]
    fn rfc6749_3_3_tab_and_non_ascii_are_invalid_scope() {
        let err = ScopeSet::parse("openid\tprofile").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("U+0009"), "{}", err.description);
        let err = ScopeSet::parse("profilé").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("U+00E9"), "{}", err.description);
    }

    #[test]
    fn checklist_x1_thousands_of_scopes_is_invalid_scope() {
        let many: Vec<String> = (0..1000).map(|i| format!("s{i}")).collect();
        let err = ScopeSet::parse(&many.join(" ")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("more than 64"), "{}", err.description);
        // Repeating one scope is not many scopes.
        assert_eq!(ScopeSet::parse(&"openid ".repeat(1000)).unwrap().len(), 1);
    }

    #[test]
    fn rfc6749_5_2_unknown_scope_is_invalid_scope_naming_it() {
        let set = ScopeSet::parse("openid admin").unwrap();
        let err = set.check_known(&known(&["openid", "profile"])).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert_eq!(err.description, "unknown scope: \"admin\"");
    }

    #[test]
    fn rfc6749_5_2_unknown_scopes_are_all_named() {
        let set = ScopeSet::parse("b openid a").unwrap();
        let err = set.check_known(&known(&["openid"])).unwrap_err();
        assert_eq!(err.description, "unknown scopes: \"a\", \"b\"");
    }

    #[test]
    fn rfc6749_5_2_known_scopes_pass() {
        let set = ScopeSet::parse("openid profile").unwrap();
        assert_eq!(set.check_known(&known(&["openid", "profile", "email"])), Ok(()));
    }

    #[test]
    fn rfc6749_5_2_unpermitted_scope_is_invalid_scope_naming_it_and_client() {
        let set = ScopeSet::parse("openid dataEventRecords").unwrap();
        let err = set.check_permitted(&client_with_scopes(&["openid"])).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("\"angularclient\""), "{}", err.description);
        assert!(err.description.contains("\"dataEventRecords\""), "{}", err.description);
        assert!(!err.description.contains("\"openid\""), "{}", err.description);
    }

    #[test]
    fn rfc6749_5_2_permitted_scopes_pass() {
        let set = ScopeSet::parse("openid profile").unwrap();
        assert_eq!(set.check_permitted(&client_with_scopes(&["openid", "profile"])), Ok(()));
    }

    #[test]
    fn rfc6749_6_refresh_wider_scope_is_invalid_scope() {
        let granted = ScopeSet::parse("openid profile").unwrap();
        let requested = ScopeSet::parse("openid profile email").unwrap();
        let err = requested.check_within_granted(&granted).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("\"email\""), "{}", err.description);
        assert!(!err.description.contains("\"profile\""), "{}", err.description);
    }

    #[test]
    fn rfc6749_6_refresh_same_or_narrower_scope_passes() {
        let granted = ScopeSet::parse("openid profile offline_access").unwrap();
        assert_eq!(granted.check_within_granted(&granted), Ok(()));
        let narrower = ScopeSet::parse("profile openid").unwrap();
        assert_eq!(narrower.check_within_granted(&granted), Ok(()));
        assert!(narrower.is_subset(&granted));
    }

    #[test]
    fn from_tokens_checks_each_token() {
        assert!(ScopeSet::from_tokens(["openid", "profile"]).is_ok());
        let err = ScopeSet::from_tokens(["openid", ""]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        let err = ScopeSet::from_tokens(["open id"]).unwrap_err();
        assert!(err.description.contains("U+0020"), "{}", err.description);
    }
}
