//! Applying a grant's decision: mint what it calls for, then write the tokens, the consent made for the grant
//! and the change of the presented token in one store call (`record_grant`, one transaction). Either all of
//! it is stored and the response goes out, or nothing is and nothing does.

use portcullis_core::model::{AuthorizationKind, Client, NewAuthorization, TokenType, User};
use portcullis_core::protocol::grant::{Consent, Family, Holder, Issue, LostRace, RefreshToken};
use portcullis_core::secret;
use portcullis_core::store::GrantWrite;

use super::issue::{mint, whole_seconds};
use super::{Grant, IssueError, Subject, TokenResponse};
use crate::state::AppState;

/// A grant's positive decision, with the user it is about when there is one (the user's claims go into the
/// tokens).
pub struct Decided {
    pub issue: Issue,
    pub user: Option<User>,
}

/// What became of a decision.
pub enum Written {
    /// Stored; the response may go out.
    Issued(TokenResponse),
    /// Nothing was stored: another request changed the presented token first. The decision says what next.
    Lost(LostRace),
}

/// Mints and records the tokens `decided` calls for (see the module documentation).
pub async fn issue(state: &AppState, client: &Client, decided: Decided) -> Result<Written, IssueError> {
    let now = whole_seconds(state.clock.now());
    let Decided { issue, user } = decided;
    let subject = match (issue.holder, user.as_ref()) {
        (Holder::User, Some(user)) => Subject::User(user),
        (Holder::Client, _) => Subject::Client,
        // Core decides for a user only once it has checked the user the facts named.
        (Holder::User, None) => return Err(IssueError::Inconsistent("a decision for a user came without the user")),
    };
    let (authorization_id, ad_hoc) = match &issue.consent {
        Consent::Existing(id) => (id.clone(), None),
        // A consent for this one grant, tied to the tokens so revoking either revokes both; pruned with them.
        Consent::AdHoc => {
            let authorization = NewAuthorization {
                id: secret::new_id(),
                subject: match subject {
                    Subject::User(user) => user.id.clone(),
                    Subject::Client => client.client_id.clone(),
                },
                client_id: client.client_id.clone(),
                kind: AuthorizationKind::AdHoc,
                scopes: issue.scopes.iter().map(str::to_owned).collect(),
                created_at: now,
            };
            (authorization.id.clone(), Some(authorization))
        }
    };
    let family_id = match &issue.family {
        Family::Start => secret::new_id(),
        Family::Continue(id) => id.clone(),
    };
    let Issue { scopes, refresh_token, id_token, nonce, auth_time, sid, previous_refresh_token, condition, .. } = issue;
    let grant = Grant {
        client,
        subject,
        authorization_id,
        family_id: family_id.clone(),
        scopes,
        nonce,
        auth_time,
        sid,
        issue_refresh_token: refresh_token == RefreshToken::New,
        issue_id_token: id_token,
        previous_refresh_token_id: previous_refresh_token.clone(),
    };
    let (mut response, tokens) = mint(state, &grant, now)?;
    // With no leeway, nothing is ever answered again, so nothing is kept.
    let keep_successor = state.settings.tokens.refresh_token_reuse_leeway > time::Duration::ZERO;
    let successor = match (&refresh_token, &previous_refresh_token, &response.refresh_token) {
        // A rotation: the spent token keeps its successor, sealed, for a second tab within the leeway.
        (RefreshToken::New, Some(_), Some(value)) if keep_successor => {
            let id = tokens
                .iter()
                .find(|row| row.token_type == TokenType::RefreshToken)
                .map(|row| row.id.clone())
                .ok_or(IssueError::Inconsistent("a minted refresh token has no row"))?;
            Some((id, state.published().keyring.encrypt(value, None)?))
        }
        _ => None,
    };
    if let RefreshToken::Again { sealed_successor } = &refresh_token {
        response.refresh_token = Some(state.published().keyring.decrypt(sealed_successor)?);
    }
    let presented = condition.as_ref().map(|condition| (condition.token_id.clone(), condition.change.clone()));
    let write = GrantWrite { presented, authorization: ad_hoc, tokens, family_id: Some(family_id), successor, now };
    if state.store.record_grant(write).await? {
        return Ok(Written::Issued(response));
    }
    match condition {
        Some(condition) => Ok(Written::Lost(condition.otherwise)),
        // Only a condition on the presented token can make the write refuse.
        None => Err(IssueError::Inconsistent("the store refused a write that depended on nothing")),
    }
}
