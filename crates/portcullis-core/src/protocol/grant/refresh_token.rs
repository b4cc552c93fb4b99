//! The refresh token grant (RFC 6749 §6) with rotation: every use returns a new refresh token and spends the
//! one presented (RFC 9700 §4.14.2), with a short leeway for apps open in several tabs.
//!
//! A family (one sign-in) has at most one live refresh token at any moment. Rotation spends the presented
//! token in the same transaction as it writes the successor, so of concurrent rotations exactly one wins; the
//! others decide again and find the token rotated. A token rotated within the leeway, whose successor is
//! still live, answers with that same successor (checklist F8): two tabs renewing together stay on one chain,
//! and neither is signed out at its next renewal. Any other use of a spent token is a replay that revokes the
//! family, and only it (F1, F2, V5).

use time::{Duration, OffsetDateTime};

use super::{
    Condition, Consent, Family, Holder, Issue, LostRace, RefreshToken, Refusal, Revoke, active_user, iso,
    live_authorization,
};
use crate::error::OAuthError;
use crate::model::{Client, Presented, PresentedChange, Token, TokenStatus, TokenType};
use crate::protocol::payload::{Payload, RefreshTokenPayload};
use crate::protocol::scope::ScopeSet;

/// The token request's parameters for this grant (besides `refresh_token`, which found the row).
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// A narrower scope than granted, or `None` for the granted one (RFC 6749 §6).
    pub scope: Option<&'a str>,
}

/// Decides a refresh. `presented` is what the store found for the token's digest (`None`: unknown);
/// `reuse_leeway` is how long a rotated token may still be presented (see the module documentation).
pub fn decide(
    client: &Client,
    presented: Option<&Presented>,
    request: Request<'_>,
    reuse_leeway: Duration,
    now: OffsetDateTime,
) -> Result<Issue, Refusal> {
    // Checklist F4: a refresh token is bound to its client.
    let token = super::presented(presented.map(|p| &p.token), TokenType::RefreshToken, client, "sign in again")?;
    if token.is_expired(now) {
        return Err(OAuthError::invalid_grant(format!(
            "the refresh token expired at {}; sign in again",
            iso(token.expires_at)
        ))
        .into());
    }
    let payload = RefreshTokenPayload::read(token)?;
    // RFC 6749 §6: the scope "MUST NOT include any scope not originally granted" (checklist F4).
    let scopes = match request.scope {
        Some(requested) => {
            let requested = ScopeSet::parse(requested)?;
            requested.check_within_granted(&payload.scope)?;
            requested
        }
        None => payload.scope,
    };
    // Who and what the token stands for is checked before it is spent: a refresh refused because the account
    // is locked leaves the token usable once the lock ends.
    let facts = presented.map(|p| (p.user.as_ref(), p.authorization.as_ref())).unwrap_or_default();
    let user = active_user(facts.0, now)?;
    // Checklist F5: credentials changed since the token was issued.
    if payload.security_stamp.as_deref().is_some_and(|stamp| stamp != user.security_stamp) {
        return Err(OAuthError::invalid_grant(
            "the user's credentials changed since this refresh token was issued; sign in again",
        )
        .into());
    }
    let authorization = live_authorization(facts.1)?.to_owned();
    let issue = |refresh_token, condition| Issue {
        holder: Holder::User,
        refresh_token,
        // A token from before families existed starts one at its first rotation.
        family: token.family_id.clone().map_or(Family::Start, Family::Continue),
        id_token: scopes.contains("openid"),
        scopes: scopes.clone(),
        consent: Consent::Existing(authorization.clone()),
        condition: Some(condition),
        nonce: None,
        // OIDC Core §12.2: the refreshed ID token keeps the original `auth_time` (checklist F6).
        auth_time: payload.auth_time,
        sid: payload.sid.clone(),
        previous_refresh_token: Some(token.id.clone()),
    };
    match token.status {
        // Another request may rotate it between this read and the write: then decide again, from the token as
        // the winner left it.
        TokenStatus::Valid => Ok(issue(
            RefreshToken::New,
            Condition { token_id: token.id.clone(), change: PresentedChange::Redeem, otherwise: LostRace::Reconsider },
        )),
        TokenStatus::Redeemed => {
            let within_leeway = token.redeemed_at.is_some_and(|at| now < at.saturating_add(reuse_leeway));
            match (within_leeway, &token.successor_id, &token.successor_value) {
                // The successor is answered again only while it is still the family's live token: if it was
                // rotated or revoked meanwhile, the presented token is no longer the immediate predecessor
                // of the live one, and its use is a replay (F2).
                (true, Some(successor_id), Some(sealed)) => Ok(issue(
                    RefreshToken::Again { sealed_successor: sealed.clone() },
                    Condition {
                        token_id: successor_id.clone(),
                        change: PresentedChange::StillValid,
                        otherwise: LostRace::Refuse(reused(token)),
                    },
                )),
                _ => Err(reused(token)),
            }
        }
        TokenStatus::Revoked | TokenStatus::Inactive => {
            Err(OAuthError::invalid_grant("the refresh token was revoked; sign in again").into())
        }
    }
}

/// RFC 9700 §4.14.2: a rotated refresh token used again means two parties hold it; the authorization server
/// "cannot determine which party submitted the refresh token" and revokes the active one (checklist F1):
/// the whole family, which holds it.
fn reused(token: &Token) -> Refusal {
    Refusal {
        error: OAuthError::invalid_grant(
            "the refresh token was already used; every token of this sign-in is revoked, sign in again",
        ),
        revoke: Revoke::replay_of(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::protocol::grant::testing::*;

    const LEEWAY: Duration = Duration::seconds(30);

    fn rotate(facts: &Presented, scope: Option<&str>, now: OffsetDateTime) -> Result<Issue, Refusal> {
        decide(&confidential(), Some(facts), Request { scope }, LEEWAY, now)
    }

    /// The token rotated at `at` into `refresh-2`, whose value the provider sealed.
    fn rotated_at(at: OffsetDateTime) -> Presented {
        let mut facts = refresh_facts();
        facts.token.status = TokenStatus::Redeemed;
        facts.token.redeemed_at = Some(at);
        facts.token.successor_id = Some("refresh-2".into());
        facts.token.successor_value = Some("sealed-refresh-2".into());
        facts
    }

    fn family_revoked() -> Option<Revoke> {
        Some(Revoke::Family("family-1".into()))
    }

    #[test]
    fn rfc6749_6_a_valid_token_rotates_within_its_family_keeping_scope_auth_time_and_session() {
        let issue = rotate(&refresh_facts(), None, NOW).unwrap();
        assert_eq!(issue.scopes.to_string(), "offline_access openid profile");
        assert_eq!(issue.refresh_token, RefreshToken::New);
        assert!(issue.id_token);
        assert_eq!(issue.family, Family::Continue("family-1".into()));
        assert_eq!(issue.nonce, None);
        assert_eq!(issue.auth_time, Some(NOW - Duration::hours(1)));
        assert_eq!(issue.sid.as_deref(), Some("sid-1"));
        assert_eq!(issue.previous_refresh_token.as_deref(), Some("refresh-1"));
        assert_eq!(
            issue.condition,
            Some(Condition {
                token_id: "refresh-1".into(),
                change: PresentedChange::Redeem,
                otherwise: LostRace::Reconsider
            })
        );
        // A token from before families existed starts one.
        let mut legacy = refresh_facts();
        legacy.token.family_id = None;
        assert_eq!(rotate(&legacy, None, NOW).unwrap().family, Family::Start);
    }

    #[test]
    fn rfc6749_6_scope_may_narrow_but_not_widen() {
        assert_eq!(rotate(&refresh_facts(), Some("openid"), NOW).unwrap().scopes.to_string(), "openid");
        let issue = rotate(&refresh_facts(), Some("offline_access"), NOW).unwrap();
        assert!(!issue.id_token, "no openid, no ID token");
        let refusal = rotate(&refresh_facts(), Some("openid email"), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidScope);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn checklist_f4_another_clients_refresh_token_is_invalid_grant() {
        let refusal = decide(&spa(), Some(&refresh_facts()), Request::default(), LEEWAY, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn an_expired_refresh_token_is_invalid_grant() {
        let facts = refresh_facts();
        let expires = facts.token.expires_at.unwrap();
        assert!(rotate(&facts, None, expires - Duration::seconds(1)).is_ok());
        let refusal = rotate(&facts, None, expires).unwrap_err();
        assert!(refusal.error.description.contains("expired"), "{}", refusal.error.description);
    }

    #[test]
    fn checklist_f5_changed_credentials_disabled_user_or_revoked_consent_is_invalid_grant() {
        let mut stamp = refresh_facts();
        stamp.user.as_mut().unwrap().security_stamp = "stamp-2".into();
        let mut disabled = refresh_facts();
        disabled.user.as_mut().unwrap().disabled = true;
        let mut revoked = refresh_facts();
        revoked.authorization.as_mut().unwrap().status = crate::model::AuthorizationStatus::Revoked;
        let mut revoked_token = refresh_facts();
        revoked_token.token.status = TokenStatus::Revoked;
        for facts in [stamp, disabled, revoked, revoked_token] {
            let refusal = rotate(&facts, None, NOW).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
            assert_eq!(refusal.revoke, None, "{}", refusal.error.description);
        }
    }

    #[test]
    fn checklist_f1_reuse_after_the_leeway_revokes_the_family_only() {
        // The leeway is exclusive: exactly 30 s after the rotation is already too late.
        let refusal = rotate(&rotated_at(NOW - LEEWAY), None, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, family_revoked());
        // A token from before families existed revokes its authorization's tokens, as it always did.
        let mut legacy = rotated_at(NOW - LEEWAY);
        legacy.token.family_id = None;
        let refusal = rotate(&legacy, None, NOW).unwrap_err();
        assert_eq!(refusal.revoke, Some(Revoke::TokensOfAuthorization("consent-1".into())));
    }

    #[test]
    fn checklist_f8_reuse_within_the_leeway_answers_the_same_successor_while_it_is_live() {
        let issue = rotate(&rotated_at(NOW - LEEWAY + Duration::seconds(1)), None, NOW).unwrap();
        assert_eq!(issue.refresh_token, RefreshToken::Again { sealed_successor: "sealed-refresh-2".into() });
        assert_eq!(issue.family, Family::Continue("family-1".into()));
        let condition = issue.condition.unwrap();
        // Written only while the successor is still the family's live token; otherwise the reuse is a replay
        // of a token that is no longer the immediate predecessor (F2), and the family is revoked.
        assert_eq!((condition.token_id.as_str(), condition.change), ("refresh-2", PresentedChange::StillValid));
        let LostRace::Refuse(refusal) = condition.otherwise else { panic!("a rotated successor must refuse") };
        assert_eq!(refusal.revoke, family_revoked());
    }

    #[test]
    fn checklist_f2_a_spent_token_without_a_sealed_successor_is_a_replay() {
        // Rotated before families existed, or the sealed value already forgotten after the leeway.
        let mut facts = rotated_at(NOW - Duration::seconds(1));
        facts.token.successor_value = None;
        assert_eq!(rotate(&facts, None, NOW).unwrap_err().revoke, family_revoked());
    }

    #[test]
    fn a_zero_leeway_makes_every_reuse_a_replay() {
        let facts = rotated_at(NOW);
        let refusal = decide(&confidential(), Some(&facts), Request::default(), Duration::ZERO, NOW).unwrap_err();
        assert_eq!(refusal.revoke, family_revoked());
    }

    #[test]
    fn a_code_presented_as_a_refresh_token_is_unknown() {
        let mut facts = code_facts();
        facts.token.client_id = "consoleclient".into();
        let refusal = rotate(&facts, None, NOW).unwrap_err();
        assert!(refusal.error.description.contains("unknown"), "{}", refusal.error.description);
    }
}
