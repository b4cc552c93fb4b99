//! The device authorization grant at the token endpoint, `urn:ietf:params:oauth:grant-type:device_code`
//! (RFC 8628 §3.4–3.5): polls answered by the user's decision, the interval enforced while it is pending.

use time::OffsetDateTime;

use super::live_authorization;
use super::{Condition, Consent, Family, Holder, Issue, LostRace, Refusal, active_user, iso, new_refresh_token};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{Client, Presented, PresentedChange, TokenStatus, TokenType};
use crate::protocol::device::PollOutcome;
use crate::protocol::payload::{DeviceCodePayload, Payload};

/// What to do with a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The user has not answered: record the poll (the store applies the interval rule atomically) and
    /// answer with [`pending`].
    Poll { device_code_id: String },
    /// The user approved: issue.
    Issue(Box<Issue>),
}

/// Decides a poll. `presented` is what the store found for the device code's digest (`None`: unknown).
///
/// The interval is enforced while the request is pending only: `slow_down` is "a variant of
/// authorization_pending" (RFC 8628 §3.5), so the poll that follows the user's answer gets it whatever its
/// timing, and polls racing for an approved code are settled by spending it, not by the clock.
pub fn decide(client: &Client, presented: Option<&Presented>, now: OffsetDateTime) -> Result<Step, Refusal> {
    let code = device_code(client, presented)?;
    if code.status == TokenStatus::Inactive && !code.is_expired(now) {
        return Ok(Step::Poll { device_code_id: code.id.clone() });
    }
    answered(client, presented, now).map(|issue| Step::Issue(Box::new(issue)))
}

/// Decides a poll from the row as it is, without recording a poll: after [`PollOutcome::NotPending`] (the
/// user answered between the read and the poll) the server reads the row again and asks this.
pub fn answered(client: &Client, presented: Option<&Presented>, now: OffsetDateTime) -> Result<Issue, Refusal> {
    let code = device_code(client, presented)?;
    match code.status {
        // RFC 8628 §3.4 defers to RFC 6749 §5.2: invalid_grant when the grant "is invalid, expired, revoked
        // [...]". Not treated as a theft that revokes the tokens, unlike a replayed authorization code: the
        // device code only ever travels between the device and this endpoint, so a second poll is the device
        // retrying after a lost answer, and revoking would take the tokens from the very device it is.
        TokenStatus::Redeemed => Err(already_used()),
        // RFC 8628 §3.5 access_denied: "The authorization request was denied."
        TokenStatus::Revoked => Err(OAuthError::access_denied(match code.authorization_id {
            None => "the user denied the device authorization request; start a new one if the user wants to try again",
            Some(_) => "the user's consent for this device was revoked before the device collected its tokens",
        })
        .into()),
        // RFC 8628 §3.5 expired_token: "The "device_code" has expired, and the device authorization session
        // has concluded."
        _ if code.is_expired(now) => Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            format!(
                "the device code expired at {}; start again with a new device authorization request",
                iso(code.expires_at)
            ),
        )
        .into()),
        // Only reachable if an answer was undone between two reads; the request is pending again.
        TokenStatus::Inactive => {
            Err(OAuthError::new(ErrorCode::AuthorizationPending, "the user has not answered yet; poll again later")
                .into())
        }
        TokenStatus::Valid => {
            let payload = DeviceCodePayload::read(code)?;
            let scopes = payload.scope;
            let facts = presented.map(|p| (p.user.as_ref(), p.authorization.as_ref())).unwrap_or_default();
            active_user(facts.0, now)?;
            let authorization = live_authorization(facts.1)?;
            Ok(Issue {
                holder: Holder::User,
                refresh_token: new_refresh_token(&scopes, client),
                family: Family::Start,
                id_token: scopes.contains("openid"),
                scopes,
                consent: Consent::Existing(authorization.to_owned()),
                // Of concurrent polls of an approved code, exactly one gets the tokens (checklist C2 for
                // device codes); the others are told it was used, without revoking anything.
                condition: Some(Condition {
                    token_id: code.id.clone(),
                    change: PresentedChange::Redeem,
                    otherwise: LostRace::Refuse(already_used()),
                }),
                // No authorization request, so no nonce to echo.
                nonce: None,
                auth_time: payload.auth_time,
                // The device is not part of the browser session the user approved from: signing out of that
                // browser must not sign the device out, so its tokens name no session.
                sid: None,
                previous_refresh_token: None,
            })
        }
    }
}

/// The answer to a recorded poll of a pending code (RFC 8628 §3.5), or `None` when the code was no longer
/// pending: then read it again and ask [`answered`].
pub fn pending(outcome: PollOutcome) -> Option<OAuthError> {
    match outcome {
        // "The authorization request is still pending as the end user hasn't yet completed the
        // user-interaction steps".
        PollOutcome::Pending { interval } => Some(OAuthError::new(
            ErrorCode::AuthorizationPending,
            format!("the user has not answered yet; poll again in {interval} seconds"),
        )),
        // "the interval MUST be increased by 5 seconds for this and all subsequent requests."
        PollOutcome::SlowDown { interval } => Some(OAuthError::new(
            ErrorCode::SlowDown,
            format!(
                "polled faster than the interval; wait at least {interval} seconds between requests from now on \
                 (RFC 8628 section 3.5)"
            ),
        )),
        PollOutcome::NotPending => None,
    }
}

/// The presented device code, issued to this client (checklist D1).
fn device_code<'p>(client: &Client, presented: Option<&'p Presented>) -> Result<&'p crate::model::Token, Refusal> {
    Ok(super::presented(
        presented.map(|p| &p.token),
        TokenType::DeviceCode,
        client,
        "start again with a new device authorization request",
    )?)
}

fn already_used() -> Refusal {
    OAuthError::invalid_grant(
        "the device code was already used to obtain tokens; it is single-use, start a new device authorization \
         request for more",
    )
    .into()
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::protocol::grant::testing::*;

    fn pending_facts() -> Presented {
        let mut facts = device_facts();
        facts.token.status = TokenStatus::Inactive;
        facts.user = None;
        facts.authorization = None;
        facts
    }

    #[test]
    fn rfc8628_3_5_a_pending_code_is_polled() {
        assert_eq!(
            decide(&device_client(), Some(&pending_facts()), NOW).unwrap(),
            Step::Poll { device_code_id: "device-1".into() }
        );
        let error = pending(PollOutcome::Pending { interval: 5 }).unwrap();
        assert_eq!(error.code, ErrorCode::AuthorizationPending);
        let error = pending(PollOutcome::SlowDown { interval: 10 }).unwrap();
        assert_eq!(error.code, ErrorCode::SlowDown);
        assert!(error.description.contains("10 seconds"), "{}", error.description);
        assert_eq!(pending(PollOutcome::NotPending), None);
    }

    #[test]
    fn rfc8628_3_5_an_approved_code_issues_once_without_a_session() {
        let Step::Issue(issue) = decide(&device_client(), Some(&device_facts()), NOW).unwrap() else { panic!() };
        assert_eq!(issue.scopes.to_string(), "offline_access openid");
        assert!(issue.refresh_token == crate::protocol::grant::RefreshToken::New && issue.id_token);
        assert_eq!(issue.family, Family::Start);
        assert_eq!(issue.sid, None);
        assert_eq!(issue.auth_time, Some(NOW - Duration::seconds(5)));
        let condition = issue.condition.unwrap();
        let LostRace::Refuse(refusal) = condition.otherwise else { panic!() };
        assert_eq!(refusal.revoke, None, "a device retrying is not a thief");
    }

    #[test]
    fn rfc8628_3_5_denied_expired_and_used_codes() {
        let mut denied = pending_facts();
        denied.token.status = TokenStatus::Revoked;
        assert_eq!(decide(&device_client(), Some(&denied), NOW).unwrap_err().error.code, ErrorCode::AccessDenied);
        let expired_at = pending_facts().token.expires_at.unwrap();
        let refusal = decide(&device_client(), Some(&pending_facts()), expired_at).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::ExpiredToken);
        let mut used = device_facts();
        used.token.status = TokenStatus::Redeemed;
        let refusal = decide(&device_client(), Some(&used), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, None);
    }

    #[test]
    fn checklist_d1_another_clients_device_code_is_invalid_grant() {
        let refusal = decide(&spa(), Some(&device_facts()), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert!(refusal.error.description.contains("another client"), "{}", refusal.error.description);
    }

    #[test]
    fn an_answer_undone_between_two_reads_is_pending_again() {
        let refusal = answered(&device_client(), Some(&pending_facts()), NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::AuthorizationPending);
    }

    #[test]
    fn checklist_f5_a_disabled_user_gets_no_tokens_for_an_approved_code() {
        let mut facts = device_facts();
        facts.user.as_mut().unwrap().disabled = true;
        assert_eq!(decide(&device_client(), Some(&facts), NOW).unwrap_err().error.code, ErrorCode::InvalidGrant);
    }
}
