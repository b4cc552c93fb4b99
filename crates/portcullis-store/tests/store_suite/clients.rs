use portcullis_core::model::{ClientType, ConsentType, NewClient};
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, assert_conflict, authorization, client, token};

pub async fn created_client_is_found_with_every_field(database: &TestDatabase) {
    let store = database.store();
    // Sub-second precision is dropped on write, and the returned client already says so.
    let created = store.create_client(client("web"), T0 + Duration::milliseconds(700)).await.unwrap();
    assert_eq!(created.created_at, T0);
    assert_eq!(created.client_id, "web");
    assert!(!created.id.is_empty());
    let public = NewClient {
        secret_digest: None,
        client_type: ClientType::Public,
        consent_type: ConsentType::Systematic,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        pkce_exempt: false,
        access_token_format: None,
        ..client("spa")
    };
    let public = store.create_client(public, T0).await.unwrap();

    assert_eq!(store.find_client("web").await.unwrap(), Some(created.clone()));
    assert_eq!(store.find_client("spa").await.unwrap(), Some(public.clone()));
    assert_eq!(store.list_clients().await.unwrap(), vec![public, created]);
}

pub async fn duplicate_client_id_is_a_conflict_naming_it(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    let error = store.create_client(client("web"), T0).await.unwrap_err();
    assert_conflict(error, "client id 'web'");
    assert_eq!(store.list_clients().await.unwrap().len(), 1);
}

pub async fn unknown_client_is_none(database: &TestDatabase) {
    assert_eq!(database.store().find_client("nobody").await.unwrap(), None);
}

pub async fn remove_client_reports_whether_it_existed(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    assert!(store.remove_client("web").await.unwrap());
    assert_eq!(store.find_client("web").await.unwrap(), None);
    assert!(!store.remove_client("web").await.unwrap());
}

pub async fn removing_a_client_removes_its_authorizations_and_tokens(database: &TestDatabase) {
    let store = database.store();
    for client_id in ["web", "other"] {
        store.create_client(client(client_id), T0).await.unwrap();
        let authorization_id = format!("{client_id}-authorization");
        store.create_authorization(authorization(&authorization_id, "user-1", client_id)).await.unwrap();
        store
            .create_token(portcullis_core::model::NewToken {
                authorization_id: Some(authorization_id),
                ..token(&format!("{client_id}-tied"), client_id)
            })
            .await
            .unwrap();
        // A token with no authorization (client credentials) goes too.
        store.create_token(token(&format!("{client_id}-loose"), client_id)).await.unwrap();
    }

    assert!(store.remove_client("web").await.unwrap());

    assert_eq!(store.find_authorization("web-authorization").await.unwrap(), None);
    assert_eq!(store.find_token("web-tied").await.unwrap(), None);
    assert_eq!(store.find_token("web-loose").await.unwrap(), None);
    assert!(store.find_client("other").await.unwrap().is_some());
    assert!(store.find_authorization("other-authorization").await.unwrap().is_some());
    assert!(store.find_token("other-tied").await.unwrap().is_some());
    assert!(store.find_token("other-loose").await.unwrap().is_some());
}
