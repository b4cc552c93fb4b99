//! `grant_type=client_credentials` (RFC 6749 §4.4): nothing to read beyond the authenticated client.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::{Refusal, client_credentials};
use portcullis_core::protocol::params::Params;

use super::Decided;
use crate::state::AppState;

pub(super) fn decide(state: &AppState, client: &Client, params: &Params) -> Result<Decided, Refusal> {
    let request = client_credentials::Request { scope: params.get("scope") };
    let issue = client_credentials::decide(client, request, &state.published().scope_names)?;
    Ok(Decided { issue, user: None })
}
