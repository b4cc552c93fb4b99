//! Whether the user must be asked before a client gets what it requested, by the client's consent type.

use std::collections::BTreeSet;

use crate::error::OAuthError;
use crate::model::{Authorization, AuthorizationKind, AuthorizationStatus, ConsentType};
use crate::protocol::authorize::Prompt;
use crate::protocol::scope::ScopeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentDecision {
    /// A remembered consent covers the request: tie the new tokens to it.
    UseExisting(String),
    /// No question to ask, but no consent to reuse: record a new permanent one.
    GrantNew,
    /// Show the consent page.
    Ask,
    /// Refuse, with this error sent to the client.
    Refuse(OAuthError),
}

/// `existing` are the user's authorizations for this client (any status and kind: only valid, permanent ones
/// that cover every requested scope count).
pub fn decide(
    consent_type: ConsentType,
    prompt: &BTreeSet<Prompt>,
    requested: &ScopeSet,
    existing: &[Authorization],
) -> ConsentDecision {
    let covering = existing.iter().find(|authorization| {
        authorization.status == AuthorizationStatus::Valid
            && authorization.kind == AuthorizationKind::Permanent
            && requested.iter().all(|scope| authorization.scopes.iter().any(|granted| granted == scope))
    });
    let no_prompt = prompt.contains(&Prompt::None);
    // OIDC Core §3.1.2.1, prompt=none: "An error is returned if an End-User is not already authenticated or the
    // Client does not have pre-configured consent for the requested Claims".
    let consent_required =
        || OAuthError::consent_required("the user has not consented to this request and prompt=none forbids asking");
    match consent_type {
        ConsentType::Implicit => match covering {
            Some(authorization) => ConsentDecision::UseExisting(authorization.id.clone()),
            None => ConsentDecision::GrantNew,
        },
        ConsentType::External => match covering {
            Some(authorization) => ConsentDecision::UseExisting(authorization.id.clone()),
            None => ConsentDecision::Refuse(OAuthError::access_denied(
                "this client only accepts consents granted beforehand by an administrator, and none covers the requested scopes",
            )),
        },
        ConsentType::Explicit => match covering {
            // OIDC Core §3.1.2.1, prompt=consent: "The Authorization Server SHOULD prompt the End-User for consent
            // before returning information to the Client."
            _ if prompt.contains(&Prompt::Consent) => ConsentDecision::Ask,
            Some(authorization) => ConsentDecision::UseExisting(authorization.id.clone()),
            None if no_prompt => ConsentDecision::Refuse(consent_required()),
            None => ConsentDecision::Ask,
        },
        ConsentType::Systematic if no_prompt => ConsentDecision::Refuse(consent_required()),
        ConsentType::Systematic => ConsentDecision::Ask,
    }
}

/// The kind of authorization a consent given on the page creates: remembered for `explicit` clients, for this
/// flow only for `systematic` ones (they ask every time).
pub fn kind_after_consent(consent_type: ConsentType) -> AuthorizationKind {
    match consent_type {
        ConsentType::Systematic => AuthorizationKind::AdHoc,
        _ => AuthorizationKind::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use time::macros::datetime;

    fn authorization(scopes: &[&str], status: AuthorizationStatus, kind: AuthorizationKind) -> Authorization {
        Authorization {
            id: "a1".into(),
            subject: "u".into(),
            client_id: "c".into(),
            status,
            kind,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn prompts(values: &[Prompt]) -> BTreeSet<Prompt> {
        values.iter().copied().collect()
    }

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    #[test]
    fn explicit_without_remembered_consent_asks() {
        assert_eq!(decide(ConsentType::Explicit, &prompts(&[]), &scopes("openid email"), &[]), ConsentDecision::Ask);
    }

    #[test]
    fn explicit_with_covering_permanent_consent_reuses_it() {
        let existing =
            [authorization(&["openid", "email", "profile"], AuthorizationStatus::Valid, AuthorizationKind::Permanent)];
        assert_eq!(
            decide(ConsentType::Explicit, &prompts(&[]), &scopes("email openid"), &existing),
            ConsentDecision::UseExisting("a1".into())
        );
    }

    #[test]
    fn explicit_consent_for_fewer_scopes_or_revoked_or_ad_hoc_does_not_count() {
        for existing in [
            authorization(&["openid"], AuthorizationStatus::Valid, AuthorizationKind::Permanent),
            authorization(&["openid", "email"], AuthorizationStatus::Revoked, AuthorizationKind::Permanent),
            authorization(&["openid", "email"], AuthorizationStatus::Valid, AuthorizationKind::AdHoc),
        ] {
            assert_eq!(
                decide(ConsentType::Explicit, &prompts(&[]), &scopes("openid email"), &[existing]),
                ConsentDecision::Ask
            );
        }
    }

    #[test]
    fn oidc_core_3_1_2_1_prompt_consent_asks_even_when_remembered() {
        let existing = [authorization(&["openid"], AuthorizationStatus::Valid, AuthorizationKind::Permanent)];
        assert_eq!(
            decide(ConsentType::Explicit, &prompts(&[Prompt::Consent]), &scopes("openid"), &existing),
            ConsentDecision::Ask
        );
    }

    #[test]
    fn oidc_core_3_1_2_1_prompt_none_without_consent_is_consent_required() {
        for consent_type in [ConsentType::Explicit, ConsentType::Systematic] {
            match decide(consent_type, &prompts(&[Prompt::None]), &scopes("openid"), &[]) {
                ConsentDecision::Refuse(error) => assert_eq!(error.code, ErrorCode::ConsentRequired),
                other => panic!("{consent_type:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn implicit_never_asks() {
        assert_eq!(decide(ConsentType::Implicit, &prompts(&[]), &scopes("openid"), &[]), ConsentDecision::GrantNew);
        assert_eq!(
            decide(ConsentType::Implicit, &prompts(&[Prompt::None]), &scopes("openid"), &[]),
            ConsentDecision::GrantNew
        );
    }

    #[test]
    fn external_only_accepts_pre_approved_consent() {
        match decide(ConsentType::External, &prompts(&[]), &scopes("openid"), &[]) {
            ConsentDecision::Refuse(error) => {
                assert_eq!(error.code, ErrorCode::AccessDenied);
                assert!(error.description.contains("administrator"));
            }
            other => panic!("{other:?}"),
        }
        let existing = [authorization(&["openid"], AuthorizationStatus::Valid, AuthorizationKind::Permanent)];
        assert_eq!(
            decide(ConsentType::External, &prompts(&[]), &scopes("openid"), &existing),
            ConsentDecision::UseExisting("a1".into())
        );
    }

    #[test]
    fn systematic_always_asks_and_is_not_remembered() {
        let existing = [authorization(&["openid"], AuthorizationStatus::Valid, AuthorizationKind::Permanent)];
        assert_eq!(decide(ConsentType::Systematic, &prompts(&[]), &scopes("openid"), &existing), ConsentDecision::Ask);
        assert_eq!(kind_after_consent(ConsentType::Systematic), AuthorizationKind::AdHoc);
        assert_eq!(kind_after_consent(ConsentType::Explicit), AuthorizationKind::Permanent);
    }
}
