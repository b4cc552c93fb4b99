//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: the token's row with its user and consent, then
//! core's rules.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::Refusal;
use portcullis_core::protocol::grant::refresh_token;
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
    let issue = refresh_token::decide(client, presented.as_ref(), request, leeway, state.clock.now())?;
    Ok(Decided { issue, user: presented.and_then(|presented| presented.user) })
}
