//! What the token endpoint's grants and the device code grant share: the user and the consent behind a grant
//! must still be good when tokens are issued, and their failures read the same at both.

use portcullis_core::OAuthError;
use time::OffsetDateTime;

use crate::error::store_error;
use crate::state::AppState;
use crate::tokens::IssueError;

pub(crate) async fn active_user(
    state: &AppState,
    subject: Option<&str>,
) -> Result<portcullis_core::model::User, OAuthError> {
    let gone = || OAuthError::invalid_grant("the user of this grant no longer exists or may not sign in");
    let user = state.store.find_user(subject.ok_or_else(gone)?).await.map_err(store_error)?.ok_or_else(gone)?;
    if user.disabled || user.is_locked_out(state.clock.now()) {
        return Err(gone());
    }
    Ok(user)
}

pub(crate) async fn live_authorization(state: &AppState, id: Option<&str>) -> Result<String, OAuthError> {
    let revoked = || OAuthError::invalid_grant("the user's consent for this client was revoked; sign in again");
    let authorization =
        state.store.find_authorization(id.ok_or_else(revoked)?).await.map_err(store_error)?.ok_or_else(revoked)?;
    if authorization.status != portcullis_core::model::AuthorizationStatus::Valid {
        return Err(revoked());
    }
    Ok(authorization.id)
}

pub(crate) fn issue_error(error: IssueError) -> OAuthError {
    match error {
        IssueError::Store(error) => store_error(error),
        other => OAuthError::server_error("the provider could not issue the tokens").with_detail(other.to_string()),
    }
}

pub(crate) fn iso(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_else(|| "-".into())
}
