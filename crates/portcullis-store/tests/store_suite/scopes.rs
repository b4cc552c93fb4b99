use portcullis_core::model::Scope;
use portcullis_store::test_support::TestDatabase;

use crate::fixtures::assert_conflict;

fn scope(name: &str, resources: &[&str]) -> Scope {
    Scope {
        name: name.to_owned(),
        display_name: format!("Access to {name}"),
        description: Some(format!("Lets the application use {name} for you")),
        resources: resources.iter().map(|r| (*r).to_owned()).collect(),
    }
}

pub async fn scopes_round_trip_and_find_returns_only_existing_ones(database: &TestDatabase) {
    let store = database.store();
    let api = store.create_scope(scope("api", &["https://api.example", "https://files.example"])).await.unwrap();
    let openid = store.create_scope(Scope { description: None, ..scope("openid", &[]) }).await.unwrap();

    let mut found = store.find_scopes(&["openid".to_owned(), "api".to_owned(), "missing".to_owned()]).await.unwrap();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, vec![api.clone(), openid.clone()]);
    assert_eq!(store.list_scopes().await.unwrap(), vec![api, openid]);
}

pub async fn duplicate_scope_name_is_a_conflict(database: &TestDatabase) {
    let store = database.store();
    store.create_scope(scope("api", &[])).await.unwrap();
    let error = store.create_scope(scope("api", &[])).await.unwrap_err();
    assert_conflict(error, "scope 'api'");
}

pub async fn finding_no_scope_names_finds_nothing(database: &TestDatabase) {
    let store = database.store();
    store.create_scope(scope("api", &[])).await.unwrap();
    assert_eq!(store.find_scopes(&[]).await.unwrap(), Vec::new());
}
