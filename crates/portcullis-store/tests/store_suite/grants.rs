//! `find_presented` and `record_grant`: what the token endpoint reads and writes per grant.

use portcullis_core::model::{AuthorizationKind, NewAuthorization, NewToken, PresentedChange, TokenStatus, TokenType};
use portcullis_core::secret;
use portcullis_core::store::{GrantWrite, StoreError};
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, authorization, client, token, user};

/// A client `web`, a user `user-1` with two roles, a consent `consent-1`, and a code `code` tied to both.
async fn code_with_facts(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_user(user("user-1", "alice", Some("alice@example.com")), T0).await.unwrap();
    store.add_role("user-1", "reader").await.unwrap();
    store.add_role("user-1", "admin").await.unwrap();
    store.create_authorization(authorization("consent-1", "user-1", "web")).await.unwrap();
    let code = NewToken {
        token_type: TokenType::AuthorizationCode,
        authorization_id: Some("consent-1".into()),
        ..token("code", "web")
    };
    store.create_token(code).await.unwrap();
}

fn access_token(id: &str) -> NewToken {
    NewToken {
        token_type: TokenType::AccessToken,
        authorization_id: Some("consent-1".into()),
        reference_digest: None,
        created_at: T0 + Duration::seconds(5),
        ..token(id, "web")
    }
}

fn refresh_token(id: &str) -> NewToken {
    NewToken { authorization_id: Some("consent-1".into()), created_at: T0 + Duration::seconds(5), ..token(id, "web") }
}

fn redemption(tokens: Vec<NewToken>) -> GrantWrite {
    GrantWrite {
        presented: Some(("code".into(), PresentedChange::Redeem)),
        authorization: None,
        tokens,
        family_id: Some("family-1".into()),
        successor: None,
        now: T0 + Duration::seconds(5),
    }
}

pub async fn a_presented_token_is_found_with_its_user_roles_and_authorization(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let presented = store.find_presented(&secret::digest("code-value")).await.unwrap().unwrap();
    assert_eq!(presented.token, store.find_token("code").await.unwrap().unwrap());
    assert_eq!(presented.user, store.find_user("user-1").await.unwrap());
    assert_eq!(presented.user.unwrap().roles, ["admin", "reader"]);
    assert_eq!(presented.authorization, store.find_authorization("consent-1").await.unwrap());
    assert_eq!(store.find_presented(&secret::digest("unknown")).await.unwrap(), None);
}

pub async fn a_presented_token_without_user_or_authorization_has_none(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    // A user without roles, and a token whose subject names nobody.
    store.create_user(user("user-2", "bob", None), T0).await.unwrap();
    store.create_token(NewToken { subject: Some("user-2".into()), ..token("bobs", "web") }).await.unwrap();
    store.create_token(token("orphan", "web")).await.unwrap();
    let bobs = store.find_presented(&secret::digest("bobs-value")).await.unwrap().unwrap();
    assert_eq!(bobs.user.unwrap().roles, Vec::<String>::new());
    assert_eq!(bobs.authorization, None);
    let orphan = store.find_presented(&secret::digest("orphan-value")).await.unwrap().unwrap();
    assert_eq!((orphan.user, orphan.authorization), (None, None));
}

pub async fn recording_a_grant_spends_the_token_and_writes_every_row(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let written = store.record_grant(redemption(vec![access_token("at"), refresh_token("rt")])).await.unwrap();
    assert!(written);
    let code = store.find_token("code").await.unwrap().unwrap();
    assert_eq!(code.status, TokenStatus::Redeemed);
    assert_eq!(code.redeemed_at, Some(T0 + Duration::seconds(5)));
    let at = store.find_token("at").await.unwrap().unwrap();
    assert_eq!(
        (at.token_type, at.status, at.created_at),
        (TokenType::AccessToken, TokenStatus::Valid, T0 + Duration::seconds(5))
    );
    assert_eq!(store.find_token_by_digest(&secret::digest("rt-value")).await.unwrap().unwrap().id, "rt");
}

pub async fn a_spent_token_makes_the_grant_write_nothing(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    assert!(store.record_grant(redemption(vec![access_token("first")])).await.unwrap());
    assert!(!store.record_grant(redemption(vec![access_token("second"), refresh_token("rt")])).await.unwrap());
    assert_eq!(store.find_token("second").await.unwrap(), None);
    assert_eq!(store.find_token("rt").await.unwrap(), None);
}

/// A failure in the middle of writing a token response (here the third row collides with a stored token's
/// id) leaves no row of it behind, and the presented token unspent.
pub async fn a_failure_part_way_through_a_grant_leaves_nothing_behind(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    store.create_token(NewToken { authorization_id: None, ..token("taken", "web") }).await.unwrap();
    let colliding = NewToken { reference_digest: None, ..access_token("taken") };
    let error =
        store.record_grant(redemption(vec![access_token("at"), refresh_token("rt"), colliding])).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_token("at").await.unwrap(), None);
    assert_eq!(store.find_token("rt").await.unwrap(), None);
    assert_eq!(store.find_token("code").await.unwrap().unwrap().status, TokenStatus::Valid);
    // A token for a client that does not exist fails the same way, after an ad-hoc consent was written.
    let write = GrantWrite {
        presented: None,
        authorization: Some(NewAuthorization {
            kind: AuthorizationKind::AdHoc,
            ..authorization("ad-hoc", "web", "web")
        }),
        tokens: vec![NewToken {
            client_id: "nobody".into(),
            authorization_id: Some("ad-hoc".into()),
            ..access_token("x")
        }],
        family_id: None,
        successor: None,
        now: T0,
    };
    assert!(matches!(store.record_grant(write).await.unwrap_err(), StoreError::NotFound(_)));
    assert_eq!(store.find_authorization("ad-hoc").await.unwrap(), None);
}

pub async fn a_grant_without_a_spent_token_writes_its_ad_hoc_consent_with_the_tokens(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    let write = GrantWrite {
        presented: None,
        authorization: Some(NewAuthorization {
            kind: AuthorizationKind::AdHoc,
            ..authorization("consent-1", "web", "web")
        }),
        tokens: vec![NewToken { subject: Some("web".into()), ..access_token("at") }],
        family_id: None,
        successor: None,
        now: T0,
    };
    assert!(store.record_grant(write).await.unwrap());
    assert_eq!(store.find_authorization("consent-1").await.unwrap().unwrap().kind, AuthorizationKind::AdHoc);
    assert_eq!(store.find_token("at").await.unwrap().unwrap().authorization_id.as_deref(), Some("consent-1"));
}

pub async fn of_fifty_concurrent_grant_writes_spending_one_code_exactly_one_wins(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let attempts = (0..50).map(|attempt| {
        let store = store.clone();
        tokio::spawn(async move { store.record_grant(redemption(vec![access_token(&format!("at-{attempt}"))])).await })
    });
    let mut won = 0;
    for attempt in attempts {
        if attempt.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    let tokens = store.list_tokens_of_authorization("consent-1").await.unwrap();
    assert_eq!(tokens.iter().filter(|token| token.token_type == TokenType::AccessToken).count(), 1);
}

pub async fn an_answer_again_is_written_only_while_the_successor_stays_valid(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let again = |id: &str| GrantWrite {
        presented: Some(("code".into(), PresentedChange::StillValid)),
        authorization: None,
        tokens: vec![access_token(id)],
        family_id: Some("family-1".into()),
        successor: None,
        now: T0 + Duration::seconds(6),
    };
    assert!(store.record_grant(again("while-valid")).await.unwrap());
    let code = store.find_token("code").await.unwrap().unwrap();
    assert_eq!((code.status, code.redeemed_at), (TokenStatus::Valid, None), "the row is left as it was");
    store.revoke_token("code").await.unwrap();
    assert!(!store.record_grant(again("after-revocation")).await.unwrap());
    assert!(store.find_token("while-valid").await.unwrap().is_some());
    assert_eq!(store.find_token("after-revocation").await.unwrap(), None);
}

/// A rotation records the family and the sealed successor on the spent token; the sealed value is forgotten
/// once the leeway is over; a family is revoked whole, and nothing else with it.
pub async fn a_rotation_records_its_successor_and_a_family_is_revoked_alone(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let write = GrantWrite {
        successor: Some(("rt".into(), "sealed".into())),
        ..redemption(vec![NewToken { family_id: Some("family-1".into()), ..refresh_token("rt") }])
    };
    assert!(store.record_grant(write).await.unwrap());
    let spent = store.find_token("code").await.unwrap().unwrap();
    assert_eq!(spent.family_id.as_deref(), Some("family-1"));
    assert_eq!((spent.successor_id.as_deref(), spent.successor_value.as_deref()), (Some("rt"), Some("sealed")));
    let presented = store.find_presented(&secret::digest("code-value")).await.unwrap().unwrap();
    assert_eq!(presented.token, spent);

    assert_eq!(store.forget_successor_values(T0 + Duration::seconds(5)).await.unwrap(), 0, "not before");
    assert_eq!(store.forget_successor_values(T0 + Duration::seconds(6)).await.unwrap(), 1);
    let forgotten = store.find_token("code").await.unwrap().unwrap();
    assert_eq!((forgotten.successor_id.as_deref(), forgotten.successor_value), (Some("rt"), None));

    store.create_token(NewToken { family_id: Some("family-2".into()), ..access_token("other-sign-in") }).await.unwrap();
    assert_eq!(store.revoke_family("family-1").await.unwrap(), 2, "the code and its refresh token");
    assert_eq!(store.find_token("rt").await.unwrap().unwrap().status, TokenStatus::Revoked);
    assert_eq!(store.find_token("other-sign-in").await.unwrap().unwrap().status, TokenStatus::Valid);
}

/// The schema itself keeps a family to one live refresh token, whatever writes it.
pub async fn a_family_never_has_two_live_refresh_tokens(database: &TestDatabase) {
    code_with_facts(database).await;
    let store = database.store();
    let live = |id: &str| NewToken { family_id: Some("family-1".into()), ..refresh_token(id) };
    store.create_token(live("first")).await.unwrap();
    assert!(matches!(store.create_token(live("second")).await.unwrap_err(), StoreError::Conflict(_)));
    store.redeem_token("first", T0).await.unwrap();
    store.create_token(live("second")).await.unwrap();
}
