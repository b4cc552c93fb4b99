//! `grant_type=password` (RFC 6749 §4.3): the credentials are checked as on the sign-in page (same hashing,
//! same lockout), then core decides.

use portcullis_core::model::Client;
use portcullis_core::protocol::grant::password::{self, Credentials};
use portcullis_core::protocol::grant::{Refusal, requested_or_permitted};
use portcullis_core::protocol::params::Params;

use super::Decided;
use crate::endpoint::login::{SignIn, check_credentials};
use crate::pages::LoginProblem;
use crate::state::AppState;

pub(super) async fn decide(state: &AppState, client: &Client, params: &Params) -> Result<Decided, Refusal> {
    let username = params.require("username")?;
    let secret = params.require("password")?.to_owned();
    // Before the credentials: a request that cannot succeed must not count as a failed sign-in.
    let scopes = requested_or_permitted(params.get("scope"), client, &state.published().scope_names)?;
    let sign_in = check_credentials(state, username, secret).await?;
    let now = state.clock.now();
    let (issue, user) = match sign_in {
        SignIn::Accepted(user) => (password::decide(client, scopes, Credentials::Accepted(&user), now)?, Some(*user)),
        SignIn::Refused(LoginProblem::LockedOut) => {
            (password::decide(client, scopes, Credentials::LockedOut, now)?, None)
        }
        SignIn::Refused(_) => (password::decide(client, scopes, Credentials::Wrong, now)?, None),
    };
    Ok(Decided { issue, user })
}
