use portcullis_core::model::{KeyUse, StoredKey};
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, assert_conflict, assert_not_found, key, session, user};

pub async fn active_keys_are_listed_oldest_first_until_retired(database: &TestDatabase) {
    let store = database.store();
    let newer = StoredKey {
        key_use: KeyUse::Encryption,
        alg: "RSA-OAEP-256".to_owned(),
        ..key("newer", T0 + Duration::days(1))
    };
    let older = key("older", T0);
    store.insert_key(newer.clone()).await.unwrap();
    store.insert_key(older.clone()).await.unwrap();
    assert_eq!(store.list_active_keys().await.unwrap(), vec![older.clone(), newer.clone()]);

    assert!(store.retire_key("older", T0 + Duration::days(2)).await.unwrap());
    assert!(!store.retire_key("older", T0 + Duration::days(3)).await.unwrap());
    assert!(!store.retire_key("unknown", T0).await.unwrap());
    assert_eq!(store.list_active_keys().await.unwrap(), vec![newer]);
}

fn candidate(kid: &str, alg: &str) -> StoredKey {
    let key_use = if alg == "RSA-OAEP" { KeyUse::Encryption } else { KeyUse::Signing };
    StoredKey { key_use, alg: alg.to_owned(), ..key(kid, T0) }
}

fn kids(keys: &[StoredKey]) -> Vec<&str> {
    keys.iter().map(|key| key.kid.as_str()).collect()
}

/// Rule K1: a candidate is stored only while its algorithm has no active key; a retired one does not count.
pub async fn missing_keys_are_added_once_per_algorithm(database: &TestDatabase) {
    let store = database.store();
    let active = store.add_missing_keys(vec![candidate("rs-1", "RS256"), candidate("es-1", "ES256")]).await.unwrap();
    assert_eq!(kids(&active), ["es-1", "rs-1"]);
    let active =
        store.add_missing_keys(vec![candidate("rs-2", "RS256"), candidate("enc-1", "RSA-OAEP")]).await.unwrap();
    assert_eq!(kids(&active), ["enc-1", "es-1", "rs-1"]);
    assert_eq!(store.list_active_keys().await.unwrap(), active);
    store.retire_key("rs-1", T0).await.unwrap();
    let active = store.add_missing_keys(vec![candidate("rs-3", "RS256")]).await.unwrap();
    assert_eq!(kids(&active), ["enc-1", "es-1", "rs-3"]);
    assert_eq!(store.add_missing_keys(Vec::new()).await.unwrap(), active);
}

/// Rule K1: instances that each open the database and add their own keys at the same moment end with one
/// key per algorithm, the same set for all of them.
pub async fn instances_adding_keys_at_once_end_with_one_key_per_algorithm(database: &TestDatabase) {
    let mut instances = tokio::task::JoinSet::new();
    for instance in 0..6 {
        let url = database.url().to_owned();
        instances.spawn(async move {
            let opened = portcullis_store::Database::open(&url).await.unwrap();
            let candidates = ["RS256", "ES256", "RSA-OAEP"]
                .into_iter()
                .map(|alg| candidate(&format!("{alg}-of-instance-{instance}"), alg))
                .collect();
            let active = opened.store().add_missing_keys(candidates).await.unwrap();
            opened.close().await;
            active
        });
    }
    let everyone: Vec<Vec<StoredKey>> = instances.join_all().await;
    let stored = database.store().list_active_keys().await.unwrap();
    let mut algs: Vec<&str> = stored.iter().map(|key| key.alg.as_str()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256", "RSA-OAEP"], "{:?}", kids(&stored));
    for active in everyone {
        assert_eq!(active, stored);
    }
}

pub async fn duplicate_kid_is_a_conflict(database: &TestDatabase) {
    let store = database.store();
    store.insert_key(key("kid-1", T0)).await.unwrap();
    let error = store.insert_key(key("kid-1", T0)).await.unwrap_err();
    assert_conflict(error, "key 'kid-1'");
}

pub async fn session_is_found_until_it_expires(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    let created = store.create_session(session("cookie", "user-1")).await.unwrap();
    assert_eq!(created, session("cookie", "user-1"));
    let expires_at = created.expires_at;

    assert_eq!(store.find_session(&created.id, T0).await.unwrap(), Some(created.clone()));
    assert!(store.find_session(&created.id, expires_at - Duration::seconds(1)).await.unwrap().is_some());
    assert_eq!(store.find_session(&created.id, expires_at).await.unwrap(), None);
    assert_eq!(store.find_session("unknown", T0).await.unwrap(), None);
}

pub async fn sessions_are_deleted_one_or_all_of_a_user(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    store.create_user(user("user-2", "bob", None), T0).await.unwrap();
    let laptop = store.create_session(session("laptop", "user-1")).await.unwrap();
    let phone = store.create_session(session("phone", "user-1")).await.unwrap();
    let tablet = store.create_session(session("tablet", "user-1")).await.unwrap();
    let bobs = store.create_session(session("bob", "user-2")).await.unwrap();

    assert!(store.delete_session(&laptop.id).await.unwrap());
    assert!(!store.delete_session(&laptop.id).await.unwrap());
    assert_eq!(store.delete_sessions_of("user-1").await.unwrap(), 2);
    assert_eq!(store.delete_sessions_of("user-1").await.unwrap(), 0);

    for gone in [&phone, &tablet] {
        assert_eq!(store.find_session(&gone.id, T0).await.unwrap(), None);
    }
    assert_eq!(store.find_session(&bobs.id, T0).await.unwrap(), Some(bobs));
}

pub async fn session_for_an_unknown_user_is_not_found(database: &TestDatabase) {
    let error = database.store().create_session(session("cookie", "nobody")).await.unwrap_err();
    assert_not_found(error, "user 'nobody'");
}

pub async fn ping_answers(database: &TestDatabase) {
    database.store().ping().await.unwrap();
}

pub async fn a_server_secret_is_written_once_and_then_only_read(database: &TestDatabase) {
    let store = database.store();
    assert_eq!(store.keep_secret("user_code_key", "first", T0).await.unwrap(), "first");
    assert_eq!(store.keep_secret("user_code_key", "second", T0 + Duration::days(1)).await.unwrap(), "first");
    assert_eq!(store.keep_secret("another", "third", T0).await.unwrap(), "third", "one row per name");
}

/// Instances starting together on an empty database must end up with one secret, not one each.
pub async fn of_concurrent_first_writes_of_a_secret_one_wins_for_every_caller(database: &TestDatabase) {
    let store = database.store();
    let contenders = 20;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|n| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.keep_secret("user_code_key", &format!("candidate-{n}"), T0).await.unwrap()
            })
        })
        .collect();
    let mut kept = Vec::new();
    for task in tasks {
        kept.push(task.await.unwrap());
    }
    assert!(kept.iter().all(|value| *value == kept[0]), "{kept:?}");
    assert_eq!(store.keep_secret("user_code_key", "late", T0).await.unwrap(), kept[0]);
}
