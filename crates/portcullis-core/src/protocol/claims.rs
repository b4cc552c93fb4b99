//! What tokens say about a user and whom they are for: the claims each scope releases (OIDC Core §5.4), the
//! `at_hash` that binds an ID token to its access token (§3.1.3.6), and the audiences of an access token.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{Scope, User};
use crate::protocol::scope::ScopeSet;

/// The claims about `user` that `scopes` release, for the ID token and the userinfo response.
///
/// OIDC Core §5.4 maps `profile`, `email` and `phone` to their claims; `roles` (ours) releases `role`. `sub` is
/// always present (§5.3.2: "The sub Claim MUST always be returned"). A claim without a value is left out rather
/// than sent as `null` (§5.3.2: "If a Claim is not returned, that Claim Name SHOULD be omitted"), and a
/// `*_verified` flag only accompanies the value it qualifies.
pub fn user_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), Value::from(user.id.as_str()));
    if scopes.contains("profile") {
        if let Some(name) = &user.name {
            claims.insert("name".to_owned(), Value::from(name.as_str()));
        }
        claims.insert("preferred_username".to_owned(), Value::from(user.username.as_str()));
    }
    if scopes.contains("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".to_owned(), Value::from(email.as_str()));
        claims.insert("email_verified".to_owned(), Value::from(user.email_confirmed));
    }
    if scopes.contains("phone")
        && let Some(phone) = &user.phone
    {
        claims.insert("phone_number".to_owned(), Value::from(phone.as_str()));
        claims.insert("phone_number_verified".to_owned(), Value::from(user.phone_confirmed));
    }
    if scopes.contains("roles")
        && let Some(roles) = role_claim(&user.roles)
    {
        claims.insert("role".to_owned(), roles);
    }
    claims
}

/// The `role` claim: always a JSON array, even for one role, so that resource servers and the SPA read one
/// shape (a string-or-array claim is a classic source of authorization bugs). Sorted and deduplicated so the
/// same user yields the same token whatever order the store returned. `None` when the user has no role.
pub fn role_claim(roles: &[String]) -> Option<Value> {
    let roles: BTreeSet<&str> = roles.iter().map(String::as_str).collect();
    if roles.is_empty() {
        return None;
    }
    Some(Value::Array(roles.into_iter().map(Value::from).collect()))
}

/// OIDC Core §3.1.3.6 for an RS256 ID token: "the base64url encoding of the left-most half of the hash of the
/// octets of the ASCII representation of the access_token value, where the hash algorithm used is the hash
/// algorithm used in the alg Header Parameter of the ID Token's JOSE Header" — SHA-256 for RS256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The audiences of an access token: the resources of the granted scopes, sorted and without duplicates
/// (design.md: "Audiences come from the requested scopes' resources"). Scopes in `scopes` that were not
/// granted contribute nothing, so the caller may pass every scope it looked up.
pub fn audiences(scopes: &[Scope], granted: &ScopeSet) -> Vec<String> {
    let audiences: BTreeSet<&str> = scopes
        .iter()
        .filter(|scope| granted.contains(&scope.name))
        .flat_map(|scope| scope.resources.iter().map(String::as_str))
        .collect();
    audiences.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn alice() -> User {
        User {
            id: "0b6c1c1e-alice".into(),
            username: "alice".into(),
            normalized_username: "alice".into(),
            name: Some("Alice Liddell".into()),
            email: Some("alice@example.com".into()),
            normalized_email: Some("alice@example.com".into()),
            email_confirmed: true,
            phone: Some("+33 1 23 45 67 89".into()),
            phone_confirmed: false,
            password_hash: "$argon2id$…".into(),
            security_stamp: "stamp".into(),
            lockout_end: None,
            failed_count: 0,
            disabled: false,
            roles: vec!["dataEventRecords.user".into(), "dataEventRecords.admin".into()],
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    fn scope(name: &str, resources: &[&str]) -> Scope {
        Scope {
            name: name.into(),
            display_name: name.into(),
            description: None,
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    /// Sorted: the map keeps insertion order when another crate in the build enables serde_json's
    /// `preserve_order`.
    fn names(claims: &Map<String, Value>) -> Vec<&str> {
        let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn oidc_core_5_3_2_sub_is_always_returned_and_nothing_else_without_claim_scopes() {
        let claims = user_claims(&alice(), &scopes("openid offline_access dataEventRecords"));
        assert_eq!(Value::Object(claims), serde_json::json!({ "sub": "0b6c1c1e-alice" }));
    }

    #[test]
    fn oidc_core_5_4_profile_releases_name_and_preferred_username() {
        let claims = user_claims(&alice(), &scopes("openid profile"));
        assert_eq!(
            Value::Object(claims),
            serde_json::json!({ "sub": "0b6c1c1e-alice", "name": "Alice Liddell", "preferred_username": "alice" })
        );
    }

    #[test]
    fn oidc_core_5_3_2_profile_without_a_name_omits_the_name_claim() {
        let user = User { name: None, ..alice() };
        let claims = user_claims(&user, &scopes("profile"));
        assert_eq!(names(&claims), ["preferred_username", "sub"]);
    }

    #[test]
    fn oidc_core_5_4_email_releases_email_and_email_verified() {
        let claims = user_claims(&alice(), &scopes("openid email"));
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(names(&claims), ["email", "email_verified", "sub"]);
    }

    #[test]
    fn oidc_core_5_4_no_email_claims_without_the_email_scope() {
        let claims = user_claims(&alice(), &scopes("openid profile phone roles"));
        assert!(!claims.contains_key("email"));
        assert!(!claims.contains_key("email_verified"));
    }

    #[test]
    fn oidc_core_5_3_2_email_scope_for_a_user_without_email_releases_nothing() {
        let user = User { email: None, normalized_email: None, ..alice() };
        assert_eq!(names(&user_claims(&user, &scopes("email"))), ["sub"]);
    }

    #[test]
    fn oidc_core_5_4_phone_releases_phone_number_and_its_verification() {
        let claims = user_claims(&alice(), &scopes("phone"));
        assert_eq!(claims["phone_number"], "+33 1 23 45 67 89");
        assert_eq!(claims["phone_number_verified"], false);
        let user = User { phone: None, ..alice() };
        assert_eq!(names(&user_claims(&user, &scopes("phone"))), ["sub"]);
    }

    #[test]
    fn roles_scope_releases_role_as_a_sorted_array() {
        let claims = user_claims(&alice(), &scopes("roles"));
        assert_eq!(claims["role"], serde_json::json!(["dataEventRecords.admin", "dataEventRecords.user"]));
    }

    #[test]
    fn roles_scope_with_one_role_is_still_an_array() {
        let user = User { roles: vec!["dataEventRecords.user".into()], ..alice() };
        let claims = user_claims(&user, &scopes("roles"));
        assert_eq!(claims["role"], serde_json::json!(["dataEventRecords.user"]));
    }

    #[test]
    fn roles_scope_for_a_user_without_roles_omits_role() {
        let user = User { roles: vec![], ..alice() };
        assert_eq!(names(&user_claims(&user, &scopes("roles"))), ["sub"]);
    }

    #[test]
    fn no_role_claim_without_the_roles_scope() {
        assert!(!user_claims(&alice(), &scopes("openid profile email phone")).contains_key("role"));
    }

    #[test]
    fn role_claim_deduplicates() {
        let roles = vec!["b".to_owned(), "a".to_owned(), "b".to_owned()];
        assert_eq!(role_claim(&roles), Some(serde_json::json!(["a", "b"])));
        assert_eq!(role_claim(&[]), None);
    }

    #[test]
    fn oidc_core_3_1_3_6_at_hash_matches_the_spec_example() {
        // OIDC Core 1.0 Appendix A.3 (RS256): this access token's at_hash is 77QmUPtjPfzWtF2AnpK9RQ.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
        // Computed independently: python3 hashlib.sha256(...).digest()[:16], base64url without padding.
        assert_eq!(at_hash("1940a308-d492-3660-a9f8-46723cc582e9"), "JrZY9MtYVEIIJUx-DDBmww");
    }

    #[test]
    fn oidc_core_3_1_3_6_at_hash_is_half_a_sha256_unpadded() {
        // 16 bytes → 22 base64url characters, no padding.
        let hash = at_hash("anything");
        assert_eq!(hash.len(), 22);
        assert!(!hash.contains('='));
        assert_ne!(at_hash("anything"), at_hash("anythinG"));
    }

    #[test]
    fn audiences_are_the_granted_scopes_resources_sorted_and_deduplicated() {
        let known = [
            scope("openid", &[]),
            scope("dataEventRecords", &["rs_dataEventRecordsApi"]),
            scope("reports", &["rs_reports", "rs_dataEventRecordsApi"]),
            scope("billing", &["rs_billing"]),
        ];
        let granted = scopes("openid dataEventRecords reports");
        assert_eq!(audiences(&known, &granted), ["rs_dataEventRecordsApi", "rs_reports"]);
    }

    #[test]
    fn audiences_are_empty_when_no_granted_scope_has_a_resource() {
        let known = [scope("openid", &[]), scope("billing", &["rs_billing"])];
        assert!(audiences(&known, &scopes("openid profile")).is_empty());
    }
}
