//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: the token's row with its user and consent, then
//! core's rules; the authorization's tokens are read only when a reuse within the leeway must be judged.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::Refusal;
use portcullis_core::protocol::grant::refresh_token::{self, Step};
use portcullis_core::protocol::params::Params;
use portcullis_core::secret;

use super::Decided;
use crate::error::store_error;
use crate::state::AppState;

pub(super) async fn decide(state: &AppState, client: &Client, params: &Params) -> Result<Decided, Refusal> {
    let presented_value = params.require("refresh_token")?;
    let presented = state.store.find_presented(&secret::digest(presented_value)).await.map_err(store_error)?;
    let request = refresh_token::Request { scope: params.get("scope") };
    let leeway = state.settings.tokens.refresh_token_reuse_leeway;
    let issue = match refresh_token::decide(client, presented.as_ref(), request, leeway, state.clock.now())? {
        Step::Rotate(issue) => issue,
        Step::Reuse(reuse) => {
            let tokens =
                state.store.list_tokens_of_authorization(reuse.authorization_id()).await.map_err(store_error)?;
            reuse.judge(&tokens)?
        }
    };
    Ok(Decided { issue, user: presented.and_then(|presented| presented.user) })
}
