//! What a route requires of a valid token: scopes the client was granted, roles the user holds.

use crate::{AccessToken, Rejection};

/// Requirements checked after the token itself is valid; a failure is a 403 `insufficient_scope`
/// (RFC 6750 §3.1: "The request requires higher privileges than provided by the access token").
///
/// Every listed scope and every listed role is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    scopes: Vec<String>,
    roles: Vec<String>,
}

impl Policy {
    /// A policy that only requires a valid token.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Scopes first: a token without the API's scope was not meant for this API's data at all, which is the
    /// more useful thing to say.
    pub fn check(&self, token: &AccessToken) -> Result<(), Rejection> {
        let missing: Vec<&str> =
            self.scopes.iter().filter(|scope| !token.has_scope(scope)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(Rejection::InsufficientScope {
                description: format!(
                    "the token lacks the scope{} {} (it has: {})",
                    plural(missing.len()),
                    missing.join(" "),
                    listed(&token.scopes)
                ),
                // RFC 6750 §3: the scope attribute lists "the required scope of the access token for accessing
                // the requested resource": all of them, so a client can request them in one go.
                scope: Some(self.scopes.join(" ")),
            });
        }
        let missing: Vec<&str> = self.roles.iter().filter(|role| !token.has_role(role)).map(String::as_str).collect();
        if !missing.is_empty() {
            // No `scope` attribute: asking for more scopes would not help; the user needs the role.
            return Err(Rejection::InsufficientScope {
                description: format!(
                    "the token's user lacks the role{} {} (roles: {})",
                    plural(missing.len()),
                    missing.join(" "),
                    listed(&token.roles)
                ),
                scope: None,
            });
        }
        Ok(())
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn listed(values: &[String]) -> String {
    if values.is_empty() { "none".to_owned() } else { crate::rejection::clip(&values.join(" ")) }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    fn token(scopes: &[&str], roles: &[&str]) -> AccessToken {
        AccessToken {
            issuer: None,
            subject: Some("bob".into()),
            client_id: None,
            username: None,
            audiences: vec!["api".into()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            expires_at: None,
            issued_at: None,
            auth_time: None,
            token_id: None,
            claims: Map::new(),
        }
    }

    #[test]
    fn rfc6750_3_1_a_missing_scope_is_insufficient_scope_naming_it() {
        let policy = Policy::new().scope("dataEventRecords").role("user");
        let rejection = policy.check(&token(&["openid"], &["user"])).unwrap_err();
        assert_eq!(
            rejection,
            Rejection::InsufficientScope {
                description: "the token lacks the scope dataEventRecords (it has: openid)".into(),
                scope: Some("dataEventRecords".into()),
            }
        );
    }

    #[test]
    fn a_missing_role_is_insufficient_scope_without_a_scope_attribute() {
        let policy = Policy::new().scope("dataEventRecords").role("admin");
        let rejection = policy.check(&token(&["dataEventRecords"], &["user"])).unwrap_err();
        assert_eq!(
            rejection,
            Rejection::InsufficientScope {
                description: "the token's user lacks the role admin (roles: user)".into(),
                scope: None
            }
        );
        assert!(policy.check(&token(&["dataEventRecords"], &[])).unwrap_err().description().contains("roles: none"));
    }

    #[test]
    fn everything_required_and_present_passes() {
        let policy = Policy::new().scope("a").scope("b").role("x");
        assert_eq!(policy.check(&token(&["b", "a", "c"], &["x", "y"])), Ok(()));
        assert_eq!(Policy::new().check(&token(&[], &[])), Ok(()));
    }
}
