//! `grant_type=authorization_code` (RFC 6749 §4.1.3): the code's row with its user and consent, then core's
//! rules.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::{Refusal, authorization_code};
use portcullis_core::protocol::params::Params;
use portcullis_core::secret;

use super::Decided;
use crate::error::store_error;
use crate::state::AppState;

pub(super) async fn decide(state: &AppState, client: &Client, params: &Params) -> Result<Decided, Refusal> {
    let code = params.require("code")?;
    let presented = state.store.find_presented(&secret::digest(code)).await.map_err(store_error)?;
    let request = authorization_code::Request {
        redirect_uri: params.get("redirect_uri"),
        code_verifier: params.get("code_verifier"),
    };
    let issue = authorization_code::decide(client, presented.as_ref(), request, state.clock.now())?;
    Ok(Decided { issue, user: presented.and_then(|presented| presented.user) })
}
