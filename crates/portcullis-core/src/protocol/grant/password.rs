//! The resource owner password credentials grant (RFC 6749 §4.3), for the clients explicitly allowed it. It
//! shares the sign-in page's lockout, and answers alike for an unknown user and a wrong password
//! (checklist U1).

use time::OffsetDateTime;

use super::{Consent, Family, Holder, Issue, Refusal, new_refresh_token};
use crate::error::OAuthError;
use crate::model::{Client, User};
use crate::protocol::scope::ScopeSet;

/// What checking the user name and password found (the server checks them: it hashes and counts failures).
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    Accepted(&'a User),
    /// The account is locked after too many failures (this attempt included, or before it).
    LockedOut,
    /// Unknown user or wrong password: one answer for both.
    Wrong,
}

/// Decides a password grant. `scopes` were checked before the credentials (see
/// [`super::requested_or_permitted`]): a request that cannot succeed must not count as a failed sign-in.
pub fn decide(
    client: &Client,
    scopes: ScopeSet,
    credentials: Credentials<'_>,
    now: OffsetDateTime,
) -> Result<Issue, Refusal> {
    match credentials {
        Credentials::Accepted(_) => Ok(Issue {
            holder: Holder::User,
            refresh_token: new_refresh_token(&scopes, client),
            family: Family::Start,
            id_token: scopes.contains("openid"),
            scopes,
            consent: Consent::AdHoc,
            condition: None,
            nonce: None,
            // The user entered their credentials just now.
            auth_time: Some(now),
            sid: None,
            previous_refresh_token: None,
        }),
        Credentials::LockedOut => {
            Err(OAuthError::invalid_grant("the account is locked after too many failed sign-ins; try again later")
                .into())
        }
        Credentials::Wrong => Err(OAuthError::invalid_grant("the user name or the password is wrong").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::protocol::grant::testing::*;

    #[test]
    fn rfc6749_4_3_accepted_credentials_issue_for_the_user_now() {
        let alice = alice();
        let scopes = ScopeSet::parse("openid offline_access").unwrap();
        let issue = decide(&confidential(), scopes, Credentials::Accepted(&alice), NOW).unwrap();
        assert_eq!(issue.holder, Holder::User);
        assert_eq!(issue.consent, Consent::AdHoc);
        assert_eq!(issue.auth_time, Some(NOW));
        assert!(issue.refresh_token == crate::protocol::grant::RefreshToken::New && issue.id_token);
    }

    #[test]
    fn checklist_u1_unknown_user_and_wrong_password_get_one_answer() {
        let scopes = ScopeSet::parse("openid").unwrap();
        let refusal = decide(&confidential(), scopes.clone(), Credentials::Wrong, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.error.description, "the user name or the password is wrong");
        let refusal = decide(&confidential(), scopes, Credentials::LockedOut, NOW).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::InvalidGrant);
        assert_eq!(refusal.revoke, None);
    }
}
