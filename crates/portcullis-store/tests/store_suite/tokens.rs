use std::sync::Arc;

use portcullis_core::model::{AuthorizationKind, NewAuthorization, NewSession, NewToken, TokenStatus, TokenType};
use portcullis_core::secret;
use portcullis_core::store::{PruneReport, Store};
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, assert_conflict, assert_not_found, authorization, client, session, token, user};

pub async fn token_is_found_by_id_and_by_digest(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    let created = store
        .create_token(NewToken { created_at: T0 + Duration::milliseconds(250), ..token("refresh", "web") })
        .await
        .unwrap();
    assert_eq!(created.created_at, T0);
    assert_eq!(created.redeemed_at, None);
    assert_eq!(created.status, TokenStatus::Valid);
    // A JWT access token is looked up by id only: no digest, no expiry-less surprises.
    let jwt = store
        .create_token(NewToken {
            token_type: TokenType::AccessToken,
            reference_digest: None,
            subject: None,
            payload: None,
            expires_at: None,
            ..token("jwt", "web")
        })
        .await
        .unwrap();

    assert_eq!(store.find_token("refresh").await.unwrap(), Some(created.clone()));
    assert_eq!(store.find_token("jwt").await.unwrap(), Some(jwt));
    let digest = secret::digest("refresh-value");
    assert_eq!(store.find_token_by_digest(&digest).await.unwrap(), Some(created));
    assert_eq!(store.find_token_by_digest(&secret::digest("unknown")).await.unwrap(), None);
    assert_eq!(store.find_token("unknown").await.unwrap(), None);
}

pub async fn duplicate_reference_digest_is_a_conflict(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_token(token("first", "web")).await.unwrap();
    let error = store
        .create_token(NewToken { reference_digest: Some(secret::digest("first-value")), ..token("second", "web") })
        .await
        .unwrap_err();
    assert_conflict(error, "reference digest of token 'second'");
    let error = store.create_token(token("first", "web")).await.unwrap_err();
    assert_conflict(error, "token 'first'");
}

pub async fn token_for_an_unknown_client_is_not_found(database: &TestDatabase) {
    let error = database.store().create_token(token("refresh", "nobody")).await.unwrap_err();
    assert_not_found(error, "client 'nobody'");
}

pub async fn token_is_redeemed_only_once(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_token(NewToken { token_type: TokenType::AuthorizationCode, ..token("code", "web") }).await.unwrap();
    let at = T0 + Duration::seconds(30);
    assert!(store.redeem_token("code", at).await.unwrap());
    assert!(!store.redeem_token("code", at).await.unwrap());
    let code = store.find_token("code").await.unwrap().unwrap();
    assert_eq!(code.status, TokenStatus::Redeemed);
    assert_eq!(code.redeemed_at, Some(at));

    store.create_token(token("revoked", "web")).await.unwrap();
    assert!(store.revoke_token("revoked").await.unwrap());
    assert!(!store.redeem_token("revoked", at).await.unwrap());
    assert!(!store.redeem_token("unknown", at).await.unwrap());
}

pub async fn of_fifty_concurrent_redemptions_exactly_one_wins(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_token(NewToken { token_type: TokenType::AuthorizationCode, ..token("code", "web") }).await.unwrap();
    let contenders = 50;
    let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|_| {
            let store: Arc<dyn Store> = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.redeem_token("code", T0).await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

pub async fn transition_moves_a_token_only_from_the_expected_status(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store
        .create_token(NewToken {
            token_type: TokenType::DeviceCode,
            status: TokenStatus::Inactive,
            ..token("device", "web")
        })
        .await
        .unwrap();
    let moved = store.transition_token("device", TokenStatus::Valid, TokenStatus::Redeemed).await.unwrap();
    assert!(!moved);
    assert!(store.transition_token("device", TokenStatus::Inactive, TokenStatus::Valid).await.unwrap());
    assert!(!store.transition_token("device", TokenStatus::Inactive, TokenStatus::Valid).await.unwrap());
    let device = store.find_token("device").await.unwrap().unwrap();
    assert_eq!(device.status, TokenStatus::Valid);
    assert!(!store.transition_token("unknown", TokenStatus::Inactive, TokenStatus::Valid).await.unwrap());
}

pub async fn revoke_token_reports_whether_it_was_still_unrevoked(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_token(token("refresh", "web")).await.unwrap();
    assert!(store.revoke_token("refresh").await.unwrap());
    assert!(!store.revoke_token("refresh").await.unwrap());
    assert!(!store.revoke_token("unknown").await.unwrap());
    let refresh = store.find_token("refresh").await.unwrap().unwrap();
    assert_eq!(refresh.status, TokenStatus::Revoked);
}

pub async fn revoke_by_authorization_counts_the_tokens_it_revoked(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_authorization(authorization("consent", "user-1", "web")).await.unwrap();
    for id in ["a", "b", "c"] {
        store
            .create_token(NewToken { authorization_id: Some("consent".to_owned()), ..token(id, "web") })
            .await
            .unwrap();
    }
    store.create_token(token("loose", "web")).await.unwrap();
    assert!(store.revoke_token("a").await.unwrap());

    assert_eq!(store.revoke_tokens_by_authorization("consent").await.unwrap(), 2);
    assert_eq!(store.revoke_tokens_by_authorization("consent").await.unwrap(), 0);
    assert_eq!(store.revoke_tokens_by_authorization("unknown").await.unwrap(), 0);
    let loose = store.find_token("loose").await.unwrap().unwrap();
    assert_eq!(loose.status, TokenStatus::Valid);
}

pub async fn prune_removes_exactly_the_dead_tokens_authorizations_and_sessions(database: &TestDatabase) {
    let store = database.store();
    let threshold = T0 + Duration::days(10);
    let after = threshold + Duration::hours(1);
    store.create_client(client("web"), T0).await.unwrap();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();

    let ad_hoc = |id: &str, created_at| NewAuthorization {
        kind: AuthorizationKind::AdHoc,
        created_at,
        ..authorization(id, "user-1", "web")
    };
    for new in [
        authorization("permanent-old", "user-1", "web"),
        authorization("revoked-old", "user-1", "web"),
        NewAuthorization { created_at: after, ..authorization("revoked-new", "user-1", "web") },
        ad_hoc("ad-hoc-empty-old", T0),
        ad_hoc("ad-hoc-live-old", T0),
        ad_hoc("ad-hoc-emptied-old", T0),
        ad_hoc("ad-hoc-empty-new", after),
    ] {
        store.create_authorization(new).await.unwrap();
    }

    let tied = |id: &str, authorization_id: &str| NewToken {
        authorization_id: Some(authorization_id.to_owned()),
        ..token(id, "web")
    };
    for new in [
        NewToken { expires_at: Some(T0 + Duration::hours(1)), ..tied("expired", "ad-hoc-emptied-old") },
        NewToken { expires_at: Some(threshold + Duration::days(1)), ..tied("live", "ad-hoc-live-old") },
        NewToken {
            // Expiring exactly at the threshold is not expiring before it.
            expires_at: Some(threshold),
            ..tied("expires-at-threshold", "permanent-old")
        },
        NewToken { expires_at: None, ..tied("valid-forever", "permanent-old") },
        tied("redeemed-old", "permanent-old"),
        tied("redeemed-recently", "permanent-old"),
        NewToken { expires_at: None, ..tied("revoked-old", "permanent-old") },
        NewToken { created_at: after, ..tied("revoked-new", "permanent-old") },
        NewToken {
            token_type: TokenType::DeviceCode,
            status: TokenStatus::Inactive,
            expires_at: Some(threshold + Duration::minutes(10)),
            ..token("device-pending", "web")
        },
        tied("under-revoked-old", "revoked-old"),
    ] {
        store.create_token(new).await.unwrap();
    }
    assert!(store.redeem_token("redeemed-old", T0 + Duration::hours(1)).await.unwrap());
    assert!(store.redeem_token("redeemed-recently", after).await.unwrap());
    assert!(store.revoke_token("revoked-old").await.unwrap());
    assert!(store.revoke_token("revoked-new").await.unwrap());
    assert!(store.revoke_authorization("revoked-old").await.unwrap());
    assert!(store.revoke_authorization("revoked-new").await.unwrap());

    let expired_session = session("expired-session", "user-1");
    let live_session = NewSession { expires_at: threshold + Duration::days(1), ..session("live-session", "user-1") };
    store.create_session(expired_session.clone()).await.unwrap();
    store.create_session(live_session.clone()).await.unwrap();

    // Batches of two make every delete run more than once.
    let report = store.prune(threshold, 2).await.unwrap();

    assert_eq!(report, PruneReport { tokens: 4, authorizations: 3 });
    for gone in ["expired", "redeemed-old", "revoked-old", "under-revoked-old"] {
        assert_eq!(store.find_token(gone).await.unwrap(), None, "token {gone}");
    }
    for kept in ["live", "expires-at-threshold", "valid-forever", "redeemed-recently", "revoked-new", "device-pending"]
    {
        assert!(store.find_token(kept).await.unwrap().is_some(), "token {kept}");
    }
    for gone in ["revoked-old", "ad-hoc-empty-old", "ad-hoc-emptied-old"] {
        assert_eq!(store.find_authorization(gone).await.unwrap(), None, "authorization {gone}");
    }
    for kept in ["permanent-old", "revoked-new", "ad-hoc-live-old", "ad-hoc-empty-new"] {
        assert!(store.find_authorization(kept).await.unwrap().is_some(), "authorization {kept}");
    }
    assert!(!store.delete_session(&expired_session.id).await.unwrap());
    assert!(store.find_session(&live_session.id, T0).await.unwrap().is_some());

    // Nothing left to prune: a second run removes nothing.
    assert_eq!(store.prune(threshold, 2).await.unwrap(), PruneReport::default());
}

pub async fn prune_with_a_zero_batch_size_still_finishes(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_token(NewToken { expires_at: Some(T0), ..token("expired", "web") }).await.unwrap();
    let report = store.prune(T0 + Duration::days(1), 0).await.unwrap();
    assert_eq!(report.tokens, 1);
}
