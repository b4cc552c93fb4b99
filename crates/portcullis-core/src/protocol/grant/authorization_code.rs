//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).

use time::{Duration, OffsetDateTime};

use super::live_authorization;
use super::{
    Condition, Consent, Family, Holder, Issue, LostRace, Refusal, Revoke, active_user, iso, new_refresh_token,
};
use crate::error::OAuthError;
use crate::model::{Client, Presented, PresentedChange, Token, TokenStatus, TokenType};
use crate::protocol::payload::{CodePayload, Payload};
use crate::protocol::pkce;

/// How long after its redemption a code presented again is taken for a duplicate of the same request — requests
/// racing for one code, or a retry sent before the first answer arrived — rather than a replay. A duplicate is
/// refused without revoking anything, so the winner of a race keeps working tokens (checklist C6); a code
/// presented later is a replay, which ends the sign-in it started (C1). Within the window, a thief holding the
/// code still needs the PKCE verifier, which every client sends unless explicitly exempted.
pub const DUPLICATE_WINDOW: Duration = Duration::seconds(2);

/// The token request's parameters for this grant (besides `code`, which found the row).
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// Decides a code redemption. `presented` is what the store found for the code's digest (`None`: unknown).
pub fn decide(
    client: &Client,
    presented: Option<&Presented>,
    request: Request<'_>,
    now: OffsetDateTime,
) -> Result<Issue, Refusal> {
    let code =
        super::presented(presented.map(|p| &p.token), TokenType::AuthorizationCode, client, "request a new one")?;
    match code.status {
        TokenStatus::Valid => {}
        TokenStatus::Redeemed if code.redeemed_at.is_some_and(|at| now < at.saturating_add(DUPLICATE_WINDOW)) => {
            return Err(duplicate());
        }
        _ => return Err(replayed(code)),
    }
    // RFC 6749 §4.1.2: the code "MUST expire shortly after it is issued" (checklist C5).
    if code.is_expired(now) {
        return Err(OAuthError::invalid_grant(format!(
            "the authorization code expired at {}; request a new one",
            iso(code.expires_at)
        ))
        .into());
    }
    let payload = CodePayload::read(code)?;
    // RFC 6749 §4.1.3: redirect_uri is "REQUIRED, if the "redirect_uri" parameter was included in the
    // authorization request", "and their values MUST be identical" (checklist C4).
    match request.redirect_uri {
        Some(sent) if sent != payload.redirect_uri => {
            return Err(OAuthError::invalid_grant(format!(
                "redirect_uri {sent:?} differs from {:?}, the one of the authorization request",
                payload.redirect_uri
            ))
            .into());
        }
        None if payload.redirect_uri_in_request => {
            return Err(OAuthError::invalid_request(format!(
                "redirect_uri is required: the authorization request sent {:?}",
                payload.redirect_uri
            ))
            .into());
        }
        _ => {}
    }
    // Checklists P3, P4, P5.
    pkce::verify_token_request(payload.code_challenge.as_ref(), request.code_verifier)?;
    let facts = presented.map(|p| (p.user.as_ref(), p.authorization.as_ref())).unwrap_or_default();
    active_user(facts.0, now)?;
    let authorization = live_authorization(facts.1)?;
    Ok(Issue {
        holder: Holder::User,
        refresh_token: new_refresh_token(&payload.scope, client),
        family: Family::Start,
        id_token: payload.scope.contains("openid"),
        scopes: payload.scope,
        consent: Consent::Existing(authorization.to_owned()),
        condition: Some(Condition {
            token_id: code.id.clone(),
            change: PresentedChange::Redeem,
            // Whoever loses a race for the same code is refused, and the winner keeps its tokens (checklists
            // C2, C6).
            otherwise: LostRace::Refuse(duplicate()),
        }),
        nonce: payload.nonce,
        auth_time: Some(payload.auth_time),
        sid: payload.sid,
        previous_refresh_token: None,
    })
}

/// RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server MUST deny the
/// request and SHOULD revoke (when possible) all tokens previously issued based on that authorization code."
/// (checklist C1). What is revoked is the family the code started: that sign-in, not the user's others (V5).
fn replayed(code: &Token) -> Refusal {
    Refusal {
        error: OAuthError::invalid_grant(
            "the authorization code was already used; the tokens issued with it are revoked",
        ),
        revoke: Revoke::replay_of(code),
    }
}

/// A code presented again within [`DUPLICATE_WINDOW`] of its redemption, or losing the race for it.
fn duplicate() -> Refusal {
    OAuthError::invalid_grant("the authorization code was already used; request a new one").into()
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::ErrorCode;
    use crate::protocol::grant::RefreshToken;
    use crate::protocol::grant::testing::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn request() -> Request<'static> {
        Request { redirect_uri: Some(REDIRECT_URI), code_verifier: Some(VERIFIER) }
    }

    #[test]
    fn rfc6749_4_1_3_a_valid_code_issues_for_the_user_and_spends_the_code() {
        let facts = code_facts();
        let issue = decide(&spa(), Some(&facts), request(), NOW).unwrap();
        assert_eq!(issue.holder, Holder::User);
        assert_eq!(issue.scopes.to_string(), "offline_access openid profile");
        assert_eq!(issue.consent, Consent::Existing("consent-1".into()));
        assert!(issue.refresh_token == RefreshToken::New && issue.id_token);
        assert_eq!(issue.family, Family::Start);
        assert_eq!(issue.nonce.as_deref(), Some("nonce-1"));
        assert_eq!(issue.sid.as_deref(), Some("sid-1"));
        let condition = issue.condition.unwrap();
        assert_eq!(condition.token_id, "code-1");
        // Losing the race for the code is refused without revoking: the winner keeps its tokens (C2, C6).
        let LostRace::Refuse(refusal) = condition.otherwise else { panic!("a lost race must refuse") };
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, None);
    }

    fn redeemed(at: OffsetDateTime) -> Presented {
        let mut facts = code_facts();
        facts.token.status = TokenStatus::Redeemed;
        facts.token.redeemed_at = Some(at);
        facts
    }

    #[test]
    fn checklist_c1_a_code_used_again_after_the_duplicate_window_revokes_its_family() {
        let facts = redeemed(NOW - DUPLICATE_WINDOW);
        let refusal = decide(&spa(), Some(&facts), request(), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert!(refusal.error.description.contains("already used"), "{}", refusal.error.description);
        assert_eq!(refusal.revoke, Some(Revoke::Family("family-1".into())));
        // A code from before families existed revokes its authorization's tokens, as it always did.
        let mut legacy = redeemed(NOW - DUPLICATE_WINDOW);
        legacy.token.family_id = None;
        let refusal = decide(&spa(), Some(&legacy), request(), NOW).unwrap_err();
        assert_eq!(refusal.revoke, Some(Revoke::TokensOfAuthorization("consent-1".into())));
    }

    #[test]
    fn checklist_c6_a_code_used_again_within_the_duplicate_window_is_refused_without_revoking() {
        let facts = redeemed(NOW - DUPLICATE_WINDOW + Duration::seconds(1));
        let refusal = decide(&spa(), Some(&facts), request(), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert!(refusal.error.description.contains("already used"), "{}", refusal.error.description);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn checklist_c3_another_clients_code_is_invalid_grant_without_revoking() {
        let facts = code_facts();
        let refusal = decide(&confidential(), Some(&facts), request(), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert!(refusal.error.description.contains("another client"), "{}", refusal.error.description);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn an_unknown_code_or_a_refresh_token_sent_as_a_code_is_invalid_grant() {
        let refusal = decide(&spa(), None, request(), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        let mut facts = refresh_facts();
        facts.token.client_id = "angularclient".into();
        let refusal = decide(&spa(), Some(&facts), request(), NOW).unwrap_err();
        assert!(refusal.error.description.contains("unknown"), "{}", refusal.error.description);
    }

    #[test]
    fn checklist_c5_expiry_is_exclusive_of_the_last_second() {
        let facts = code_facts();
        let expires = facts.token.expires_at.unwrap();
        assert!(decide(&spa(), Some(&facts), request(), expires - Duration::seconds(1)).is_ok());
        let refusal = decide(&spa(), Some(&facts), request(), expires).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert!(refusal.error.description.contains("expired"), "{}", refusal.error.description);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn checklist_c4_a_different_redirect_uri_is_invalid_grant() {
        let facts = code_facts();
        for sent in ["http://localhost:4200/callback/", "http://localhost:4200/Callback", "http://evil.example/cb"] {
            let request = Request { redirect_uri: Some(sent), ..request() };
            let refusal = decide(&spa(), Some(&facts), request, NOW).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidGrant, "{sent}");
        }
    }

    #[test]
    fn rfc6749_4_1_3_redirect_uri_is_required_when_the_request_sent_one_and_optional_otherwise() {
        let facts = code_facts();
        let refusal = decide(&spa(), Some(&facts), Request { redirect_uri: None, ..request() }, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidRequest);
        let mut facts = code_facts();
        facts.token.payload = Some(code_payload(false));
        assert!(decide(&spa(), Some(&facts), Request { redirect_uri: None, ..request() }, NOW).is_ok());
    }

    #[test]
    fn checklists_p3_p4_a_wrong_or_missing_verifier_is_invalid_grant() {
        let facts = code_facts();
        let wrong = "x".repeat(43);
        for verifier in [Some(wrong.as_str()), None] {
            let refusal =
                decide(&spa(), Some(&facts), Request { code_verifier: verifier, ..request() }, NOW).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidGrant, "{verifier:?}");
        }
    }

    #[test]
    fn checklist_f5_a_disabled_or_locked_user_or_a_revoked_consent_is_invalid_grant() {
        let mut disabled = code_facts();
        disabled.user.as_mut().unwrap().disabled = true;
        let mut locked = code_facts();
        locked.user.as_mut().unwrap().lockout_end = Some(NOW + Duration::minutes(5));
        let mut gone = code_facts();
        gone.user = None;
        let mut revoked = code_facts();
        revoked.authorization.as_mut().unwrap().status = crate::model::AuthorizationStatus::Revoked;
        for facts in [disabled, locked, gone, revoked] {
            let refusal = decide(&spa(), Some(&facts), request(), NOW).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
            assert_eq!(refusal.revoke, None);
        }
        // A lockout that has ended no longer stands in the way.
        let mut unlocked = code_facts();
        unlocked.user.as_mut().unwrap().lockout_end = Some(NOW);
        assert!(decide(&spa(), Some(&unlocked), request(), NOW).is_ok());
    }

    #[test]
    fn oidc_core_11_no_refresh_token_without_offline_access_or_without_the_refresh_grant() {
        let mut facts = code_facts();
        facts.token.payload = Some(code_payload_with_scope("openid profile"));
        let issue = decide(&spa(), Some(&facts), request(), NOW).unwrap();
        assert!(issue.refresh_token.is_none() && issue.id_token);
        let mut client = spa();
        client.permissions.grant_types.retain(|grant| *grant != crate::model::GrantType::RefreshToken);
        let issue = decide(&client, Some(&code_facts()), request(), NOW).unwrap();
        assert!(issue.refresh_token.is_none());
    }

    #[test]
    fn a_damaged_payload_is_server_error() {
        let mut facts = code_facts();
        facts.token.payload = Some("{}".into());
        let refusal = decide(&spa(), Some(&facts), request(), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::ServerError);
    }
}
