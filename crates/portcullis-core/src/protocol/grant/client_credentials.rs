//! The client credentials grant (RFC 6749 §4.4): the client acts for itself.

use std::collections::HashSet;

use super::{Consent, Family, Holder, Issue, RefreshToken, Refusal, requested_or_permitted};
use crate::error::OAuthError;
use crate::model::Client;

/// The token request's parameters for this grant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub scope: Option<&'a str>,
}

/// Decides a client credentials request. `known_scopes` are the scopes the provider defines.
pub fn decide(client: &Client, request: Request<'_>, known_scopes: &HashSet<String>) -> Result<Issue, Refusal> {
    // §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is public; the client_credentials grant needs a confidential client",
            client.client_id
        ))
        .into());
    }
    let scopes = requested_or_permitted(request.scope, client, known_scopes)?;
    Ok(Issue {
        holder: Holder::Client,
        scopes,
        // A consent for this one grant, tied to the tokens so revoking either revokes both; pruned with them.
        consent: Consent::AdHoc,
        condition: None,
        // §4.4.3: "A refresh token SHOULD NOT be included"; and no ID token, since there is no end-user
        // (checklist T8).
        refresh_token: RefreshToken::None,
        family: Family::Start,
        id_token: false,
        nonce: None,
        auth_time: None,
        sid: None,
        previous_refresh_token: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::protocol::grant::testing::*;

    fn known() -> HashSet<String> {
        ["openid", "profile", "email", "roles", "offline_access", "dataEventRecords"].map(str::to_owned).into()
    }

    #[test]
    fn checklist_t8_client_credentials_issue_neither_refresh_nor_id_token_even_for_openid_offline_access() {
        let issue = decide(&confidential(), Request { scope: Some("openid offline_access") }, &known()).unwrap();
        assert_eq!(issue.holder, Holder::Client);
        assert_eq!(issue.consent, Consent::AdHoc);
        assert!(issue.refresh_token.is_none() && !issue.id_token);
        assert_eq!(issue.condition, None);
    }

    #[test]
    fn rfc6749_3_3_no_scope_means_every_permitted_scope() {
        let issue = decide(&confidential(), Request::default(), &known()).unwrap();
        assert_eq!(issue.scopes.len(), 6);
    }

    #[test]
    fn rfc6749_4_4_a_public_client_is_unauthorized_client() {
        let refusal = decide(&spa(), Request::default(), &known()).unwrap_err();
        assert_eq!(refusal.error.code, ErrorCode::UnauthorizedClient);
    }

    #[test]
    fn rfc6749_5_2_unknown_or_unpermitted_scopes_are_invalid_scope() {
        for scope in ["openid nosuchscope", "phone"] {
            let refusal = decide(&confidential(), Request { scope: Some(scope) }, &known()).unwrap_err();
            assert_eq!(refusal.error.code, ErrorCode::InvalidScope, "{scope}");
        }
        let mut with_phone = known();
        with_phone.insert("phone".into());
        let refusal = decide(&confidential(), Request { scope: Some("phone") }, &with_phone).unwrap_err();
        assert!(refusal.error.description.contains("not permitted"), "{}", refusal.error.description);
    }
}
