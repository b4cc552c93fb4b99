//! The refresh token grant (RFC 6749 §6) with rotation: every use returns a new refresh token and spends the
//! one presented (RFC 9700 §4.14.2), with a short leeway for apps open in several tabs.

use time::{Duration, OffsetDateTime};

use super::{Condition, Consent, Holder, Issue, LostRace, Refusal, Revoke, active_user, iso, live_authorization};
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

/// What the refresh grant does with a presented token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The token is valid: issue, spending it (the new refresh token replaces it).
    Rotate(Issue),
    /// The token was rotated moments ago, within the leeway: whether it may be used again depends on its
    /// successors. Load the authorization's tokens and ask [`Reuse::judge`].
    Reuse(Reuse),
}

/// A refresh token presented again within the reuse leeway (checklists F1, F2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuse {
    issue: Issue,
    presented_id: String,
    authorization_id: String,
}

impl Reuse {
    /// The authorization whose tokens [`Reuse::judge`] needs.
    pub fn authorization_id(&self) -> &str {
        &self.authorization_id
    }

    /// Two tabs refreshing at once present the same token: the second is let through while no successor of
    /// it was used or revoked (the successor may not even be written yet). Anything else is a replay, which
    /// RFC 9700 §4.14.2 answers by revoking every token of the authorization.
    pub fn judge(self, tokens_of_authorization: &[Token]) -> Result<Issue, Refusal> {
        let successor_used = tokens_of_authorization.iter().any(|token| {
            token.token_type == TokenType::RefreshToken
                && matches!(token.status, TokenStatus::Redeemed | TokenStatus::Revoked)
                && RefreshTokenPayload::read(token).ok().and_then(|payload| payload.previous).as_deref()
                    == Some(self.presented_id.as_str())
        });
        if successor_used { Err(reused(Some(&self.authorization_id))) } else { Ok(self.issue) }
    }
}

/// Decides a refresh. `presented` is what the store found for the token's digest (`None`: unknown);
/// `reuse_leeway` is how long a rotated token may still be presented (see [`Reuse`]).
pub fn decide(
    client: &Client,
    presented: Option<&Presented>,
    request: Request<'_>,
    reuse_leeway: Duration,
    now: OffsetDateTime,
) -> Result<Step, Refusal> {
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
    let issue = |condition| Issue {
        holder: Holder::User,
        refresh_token: true,
        id_token: scopes.contains("openid"),
        scopes: scopes.clone(),
        consent: Consent::Existing(authorization.clone()),
        condition,
        nonce: None,
        // OIDC Core §12.2: the refreshed ID token keeps the original `auth_time` (checklist F6).
        auth_time: payload.auth_time,
        sid: payload.sid.clone(),
        previous_refresh_token: Some(token.id.clone()),
    };
    match token.status {
        // Another request may rotate it between this read and the write: then the reuse rule decides.
        TokenStatus::Valid => Ok(Step::Rotate(issue(Some(Condition {
            token_id: token.id.clone(),
            change: PresentedChange::Redeem,
            otherwise: LostRace::Reconsider,
        })))),
        TokenStatus::Redeemed => {
            let within_leeway = token.redeemed_at.is_some_and(|at| now < at.saturating_add(reuse_leeway));
            match (within_leeway, &token.authorization_id) {
                // The token must still be `redeemed` when the tokens are written: a revocation of it (a replay
                // detected meanwhile) that commits first leaves nothing issued; one that commits after revokes
                // what was issued with the rest.
                (true, Some(authorization_id)) => Ok(Step::Reuse(Reuse {
                    issue: issue(Some(Condition {
                        token_id: token.id.clone(),
                        change: PresentedChange::StillRedeemed,
                        otherwise: LostRace::Reconsider,
                    })),
                    presented_id: token.id.clone(),
                    authorization_id: authorization_id.clone(),
                })),
                _ => Err(reused(token.authorization_id.as_deref())),
            }
        }
        TokenStatus::Revoked | TokenStatus::Inactive => {
            Err(OAuthError::invalid_grant("the refresh token was revoked; sign in again").into())
        }
    }
}

/// RFC 9700 §4.14.2: a rotated refresh token used again means two parties hold it; the authorization server
/// "cannot determine which party submitted the refresh token" and revokes the active one (checklist F1).
fn reused(authorization_id: Option<&str>) -> Refusal {
    Refusal {
        error: OAuthError::invalid_grant(
            "the refresh token was already used; every token of this sign-in is revoked, sign in again",
        ),
        revoke: authorization_id.map(|id| Revoke::TokensOfAuthorization(id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::protocol::grant::testing::*;

    const LEEWAY: Duration = Duration::seconds(30);

    fn rotate(facts: &Presented, scope: Option<&str>, now: OffsetDateTime) -> Result<Step, Refusal> {
        decide(&confidential(), Some(facts), Request { scope }, LEEWAY, now)
    }

    fn redeemed_at(at: OffsetDateTime) -> Presented {
        let mut facts = refresh_facts();
        facts.token.status = TokenStatus::Redeemed;
        facts.token.redeemed_at = Some(at);
        facts
    }

    #[test]
    fn rfc6749_6_a_valid_token_rotates_keeping_scope_auth_time_and_session() {
        let Step::Rotate(issue) = rotate(&refresh_facts(), None, NOW).unwrap() else { panic!("must rotate") };
        assert_eq!(issue.scopes.to_string(), "offline_access openid profile");
        assert!(issue.refresh_token && issue.id_token);
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
    }

    #[test]
    fn rfc6749_6_scope_may_narrow_but_not_widen() {
        let Step::Rotate(issue) = rotate(&refresh_facts(), Some("openid"), NOW).unwrap() else { panic!() };
        assert_eq!(issue.scopes.to_string(), "openid");
        let Step::Rotate(issue) = rotate(&refresh_facts(), Some("offline_access"), NOW).unwrap() else { panic!() };
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
    fn checklist_f1_reuse_after_the_leeway_revokes_the_authorization() {
        // The leeway is exclusive: exactly 30 s after the rotation is already too late.
        let refusal = rotate(&redeemed_at(NOW - LEEWAY), None, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, Some(Revoke::TokensOfAuthorization("consent-1".into())));
    }

    #[test]
    fn checklist_f2_reuse_within_the_leeway_is_judged_by_the_successors() {
        let facts = redeemed_at(NOW - LEEWAY + Duration::seconds(1));
        let Step::Reuse(reuse) = rotate(&facts, None, NOW).unwrap() else { panic!("within the leeway") };
        assert_eq!(reuse.authorization_id(), "consent-1");
        // The successor not written yet, or written and unused: the second tab gets tokens, provided the token
        // is not revoked before they are written.
        let issue = reuse.clone().judge(&[]).unwrap();
        assert_eq!(issue.condition.unwrap().change, PresentedChange::StillRedeemed);
        assert_eq!(issue.previous_refresh_token.as_deref(), Some("refresh-1"));
        assert!(reuse.clone().judge(&[successor("refresh-2", "refresh-1", TokenStatus::Valid)]).is_ok());
        // A successor of another token does not count.
        assert!(reuse.clone().judge(&[successor("refresh-9", "refresh-8", TokenStatus::Redeemed)]).is_ok());
        // The successor already used or revoked: only the immediate predecessor is covered, and only while its
        // successor is fresh.
        for status in [TokenStatus::Redeemed, TokenStatus::Revoked] {
            let refusal = reuse.clone().judge(&[successor("refresh-2", "refresh-1", status)]).unwrap_err();
            assert_eq!(refusal.revoke, Some(Revoke::TokensOfAuthorization("consent-1".into())));
        }
    }

    #[test]
    fn a_zero_leeway_makes_every_reuse_a_replay() {
        let facts = redeemed_at(NOW);
        let refusal = decide(&confidential(), Some(&facts), Request::default(), Duration::ZERO, NOW).unwrap_err();
        assert!(refusal.revoke.is_some());
    }

    #[test]
    fn a_code_presented_as_a_refresh_token_is_unknown() {
        let mut facts = code_facts();
        facts.token.client_id = "consoleclient".into();
        let refusal = rotate(&facts, None, NOW).unwrap_err();
        assert!(refusal.error.description.contains("unknown"), "{}", refusal.error.description);
    }
}
