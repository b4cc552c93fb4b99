//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4): the device code's row with its
//! user and consent; a poll of a pending code is recorded (the interval rule, atomically), an answered one is
//! decided by core.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::Refusal;
use portcullis_core::protocol::grant::device_code::{self, Step};
use portcullis_core::protocol::params::Params;
use portcullis_core::secret;

use super::Decided;
use crate::error::store_error;
use crate::state::AppState;

pub(super) async fn decide(state: &AppState, client: &Client, params: &Params) -> Result<Decided, Refusal> {
    // RFC 8628 §3.4: device_code is "REQUIRED. The device verification code, "device_code" from the device
    // authorization response".
    let digest = secret::digest(params.require("device_code")?);
    let now = state.clock.now();
    let mut presented = state.store.find_presented(&digest).await.map_err(store_error)?;
    let issue = match device_code::decide(client, presented.as_ref(), now)? {
        Step::Issue(issue) => *issue,
        Step::Poll { device_code_id } => {
            let outcome = state.store.record_device_poll(&device_code_id, now).await.map_err(store_error)?;
            if let Some(pending) = device_code::pending(outcome) {
                return Err(pending.into());
            }
            // The user answered between the read and the poll: decide from the row as it is now.
            presented = state.store.find_presented(&digest).await.map_err(store_error)?;
            device_code::answered(client, presented.as_ref(), now)?
        }
    };
    Ok(Decided { issue, user: presented.and_then(|presented| presented.user) })
}
