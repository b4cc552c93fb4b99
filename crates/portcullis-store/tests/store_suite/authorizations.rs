use portcullis_core::model::{AuthorizationKind, AuthorizationStatus, NewAuthorization, NewToken, TokenStatus};
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, assert_not_found, authorization, client, token};

pub async fn permanent_authorizations_are_the_valid_permanent_ones_newest_first(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_client(client("other"), T0).await.unwrap();
    let older = store.create_authorization(authorization("older", "user-1", "web")).await.unwrap();
    let newer = store
        .create_authorization(NewAuthorization {
            created_at: T0 + Duration::days(1),
            scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
            ..authorization("newer", "user-1", "web")
        })
        .await
        .unwrap();
    assert_eq!(newer.status, AuthorizationStatus::Valid);
    let excluded = [
        NewAuthorization { kind: AuthorizationKind::AdHoc, ..authorization("ad-hoc", "user-1", "web") },
        authorization("revoked", "user-1", "web"),
        authorization("other-client", "user-1", "other"),
        authorization("other-user", "user-2", "web"),
    ];
    for new in excluded {
        store.create_authorization(new).await.unwrap();
    }
    assert!(store.revoke_authorization("revoked").await.unwrap());

    let found = store.find_permanent_authorizations("user-1", "web").await.unwrap();
    assert_eq!(found, vec![newer, older.clone()]);
    assert_eq!(store.find_authorization("older").await.unwrap(), Some(older));
}

pub async fn revoking_an_authorization_revokes_its_tokens(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_authorization(authorization("consent", "user-1", "web")).await.unwrap();
    store.create_authorization(authorization("unrelated", "user-1", "web")).await.unwrap();
    let tied = |id: &str, authorization_id: &str| NewToken {
        authorization_id: Some(authorization_id.to_owned()),
        ..token(id, "web")
    };
    store.create_token(tied("valid", "consent")).await.unwrap();
    store.create_token(tied("redeemed", "consent")).await.unwrap();
    store.create_token(NewToken { status: TokenStatus::Inactive, ..tied("inactive", "consent") }).await.unwrap();
    store.create_token(tied("elsewhere", "unrelated")).await.unwrap();
    store.create_token(token("loose", "web")).await.unwrap();
    assert!(store.redeem_token("redeemed", T0).await.unwrap());

    assert!(store.revoke_authorization("consent").await.unwrap());

    let consent = store.find_authorization("consent").await.unwrap().unwrap();
    assert_eq!(consent.status, AuthorizationStatus::Revoked);
    for id in ["valid", "redeemed", "inactive"] {
        let token = store.find_token(id).await.unwrap().unwrap();
        assert_eq!(token.status, TokenStatus::Revoked, "token {id}");
    }
    for id in ["elsewhere", "loose"] {
        let token = store.find_token(id).await.unwrap().unwrap();
        assert_eq!(token.status, TokenStatus::Valid, "token {id}");
    }
    // Revoking again reports it was no longer valid.
    assert!(!store.revoke_authorization("consent").await.unwrap());
}

pub async fn authorization_for_an_unknown_client_is_not_found(database: &TestDatabase) {
    let error = database.store().create_authorization(authorization("consent", "user-1", "nobody")).await.unwrap_err();
    assert_not_found(error, "client 'nobody'");
}

pub async fn unknown_authorization_is_none_and_not_revocable(database: &TestDatabase) {
    let store = database.store();
    assert_eq!(store.find_authorization("nothing").await.unwrap(), None);
    assert!(!store.revoke_authorization("nothing").await.unwrap());
}

pub async fn revoking_a_subjects_authorizations_revokes_their_tokens_only(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_authorization(authorization("alice-1", "alice", "web")).await.unwrap();
    store.create_authorization(authorization("alice-2", "alice", "web")).await.unwrap();
    store.create_authorization(authorization("bob-1", "bob", "web")).await.unwrap();
    let tied = |id: &str, authorization_id: &str| NewToken {
        authorization_id: Some(authorization_id.to_owned()),
        ..token(id, "web")
    };
    store.create_token(tied("a1", "alice-1")).await.unwrap();
    store.create_token(tied("a2", "alice-2")).await.unwrap();
    store.create_token(tied("b1", "bob-1")).await.unwrap();

    assert_eq!(store.revoke_authorizations_of_subject("alice").await.unwrap(), 2);

    for id in ["alice-1", "alice-2"] {
        assert_eq!(store.find_authorization(id).await.unwrap().unwrap().status, AuthorizationStatus::Revoked);
    }
    assert_eq!(store.find_authorization("bob-1").await.unwrap().unwrap().status, AuthorizationStatus::Valid);
    for id in ["a1", "a2"] {
        assert_eq!(store.find_token(id).await.unwrap().unwrap().status, TokenStatus::Revoked, "{id}");
    }
    assert_eq!(store.find_token("b1").await.unwrap().unwrap().status, TokenStatus::Valid);
    assert_eq!(store.revoke_authorizations_of_subject("alice").await.unwrap(), 0);
}

pub async fn tokens_of_an_authorization_are_listed_oldest_first(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_authorization(authorization("consent", "alice", "web")).await.unwrap();
    store.create_authorization(authorization("other", "alice", "web")).await.unwrap();
    let tied = |id: &str, authorization_id: &str, at: time::OffsetDateTime| NewToken {
        authorization_id: Some(authorization_id.to_owned()),
        created_at: at,
        ..token(id, "web")
    };
    store.create_token(tied("second", "consent", T0 + time::Duration::seconds(5))).await.unwrap();
    store.create_token(tied("first", "consent", T0)).await.unwrap();
    store.create_token(tied("elsewhere", "other", T0)).await.unwrap();
    let ids: Vec<String> =
        store.list_tokens_of_authorization("consent").await.unwrap().into_iter().map(|token| token.id).collect();
    assert_eq!(ids, ["first", "second"]);
    assert!(store.list_tokens_of_authorization("nothing").await.unwrap().is_empty());
}
