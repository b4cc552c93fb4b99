use std::sync::Arc;

use portcullis_core::model::{NewSession, NewToken};
use portcullis_core::store::Store;
use portcullis_store::test_support::TestDatabase;
use time::Duration;

use crate::fixtures::{T0, assert_conflict, assert_not_found, authorization, client, session, token, user};

const LOCKOUT: Duration = Duration::minutes(15);

pub async fn user_is_found_by_username_or_email_case_insensitively(database: &TestDatabase) {
    let store = database.store();
    let created = store.create_user(user("user-1", "Alice", Some("Alice@Example.com")), T0).await.unwrap();
    assert_eq!(created.normalized_username, "alice");
    assert_eq!(created.normalized_email.as_deref(), Some("alice@example.com"));
    assert_eq!(created.username, "Alice");
    assert_eq!(created.failed_count, 0);
    assert_eq!(created.lockout_end, None);
    assert!(!created.disabled);

    for login in ["alice", " ALICE ", "Alice", "alice@example.com", "ALICE@EXAMPLE.COM"] {
        let found = store.find_user_by_login(login).await.unwrap();
        assert_eq!(found.as_ref(), Some(&created), "login {login:?}");
    }
    assert_eq!(store.find_user_by_login("bob").await.unwrap(), None);
    assert_eq!(store.find_user("user-1").await.unwrap(), Some(created.clone()));
    assert_eq!(store.find_user("user-2").await.unwrap(), None);
    assert_eq!(store.list_users().await.unwrap(), vec![created]);
}

pub async fn duplicate_username_is_a_conflict_case_insensitively(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    let error = store.create_user(user("user-2", "ALICE ", None), T0).await.unwrap_err();
    assert_conflict(error, "user name 'ALICE '");
}

pub async fn duplicate_email_is_a_conflict_case_insensitively(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", Some("shared@example.com")), T0).await.unwrap();
    let error = store.create_user(user("user-2", "bob", Some("Shared@Example.COM")), T0).await.unwrap_err();
    assert_conflict(error, "email 'Shared@Example.COM'");
}

pub async fn duplicate_user_id_is_a_conflict(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    let error = store.create_user(user("user-1", "bob", None), T0).await.unwrap_err();
    assert_conflict(error, "user id 'user-1'");
}

pub async fn users_without_email_never_collide(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    store.create_user(user("user-2", "bob", None), T0).await.unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 2);
}

pub async fn a_user_name_wins_over_another_users_email(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "carol@example.com", None), T0).await.unwrap();
    store.create_user(user("user-2", "mallory", Some("carol@example.com")), T0).await.unwrap();
    let found = store.find_user_by_login("carol@example.com").await.unwrap().unwrap();
    assert_eq!(found.id, "user-1");
}

pub async fn roles_are_added_idempotently_and_removed(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    store.create_user(user("user-2", "bob", None), T0).await.unwrap();
    store.add_role("user-1", "admin").await.unwrap();
    store.add_role("user-1", "admin").await.unwrap();
    store.add_role("user-1", "auditor").await.unwrap();
    // A role that exists already is shared, not a conflict.
    store.add_role("user-2", "admin").await.unwrap();

    let alice = store.find_user("user-1").await.unwrap().unwrap();
    assert_eq!(alice.roles, ["admin", "auditor"]);
    let by_login = store.find_user_by_login("bob").await.unwrap().unwrap();
    assert_eq!(by_login.roles, ["admin"]);
    let listed: Vec<Vec<String>> = store.list_users().await.unwrap().into_iter().map(|user| user.roles).collect();
    assert_eq!(listed, [vec!["admin", "auditor"], vec!["admin"]]);

    assert!(store.remove_role("user-1", "admin").await.unwrap());
    assert!(!store.remove_role("user-1", "admin").await.unwrap());
    assert!(!store.remove_role("user-1", "never-existed").await.unwrap());
    assert_eq!(store.find_user("user-1").await.unwrap().unwrap().roles, ["auditor"]);
    assert_eq!(store.find_user("user-2").await.unwrap().unwrap().roles, ["admin"]);
}

pub async fn adding_a_role_to_an_unknown_user_is_not_found(database: &TestDatabase) {
    let error = database.store().add_role("nobody", "admin").await.unwrap_err();
    assert_not_found(error, "user 'nobody'");
}

pub async fn set_password_replaces_credentials_and_clears_lockout(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    let locked = store.record_failed_login("user-1", T0, 1, LOCKOUT).await.unwrap();
    assert!(locked.is_locked_out(T0));
    store.record_failed_login("user-1", T0, 5, LOCKOUT).await.unwrap();

    store.set_password("user-1", "$argon2id$new", "stamp-2").await.unwrap();

    let alice = store.find_user("user-1").await.unwrap().unwrap();
    assert_eq!(alice.password_hash, "$argon2id$new");
    assert_eq!(alice.security_stamp, "stamp-2");
    assert_eq!(alice.lockout_end, None);
    assert_eq!(alice.failed_count, 0);
}

pub async fn set_password_of_an_unknown_user_is_not_found(database: &TestDatabase) {
    let error = database.store().set_password("nobody", "$argon2id$new", "stamp-2").await.unwrap_err();
    assert_not_found(error, "user 'nobody'");
}

pub async fn failed_logins_lock_the_account_at_the_threshold(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    for expected in 1..3 {
        let alice = store.record_failed_login("user-1", T0, 3, LOCKOUT).await.unwrap();
        assert_eq!(alice.failed_count, expected);
        assert!(!alice.is_locked_out(T0));
    }
    let now = T0 + Duration::minutes(1);
    let alice = store.record_failed_login("user-1", now, 3, LOCKOUT).await.unwrap();
    assert_eq!(alice.lockout_end, Some(now + LOCKOUT));
    assert!(alice.is_locked_out(now + LOCKOUT - Duration::seconds(1)));
    assert!(!alice.is_locked_out(now + LOCKOUT));
    // The count restarts, so the next lock needs a full run of failures again.
    assert_eq!(alice.failed_count, 0);
    assert_eq!(store.find_user("user-1").await.unwrap(), Some(alice));

    let error = store.record_failed_login("nobody", T0, 3, LOCKOUT).await.unwrap_err();
    assert_not_found(error, "user 'nobody'");
}

pub async fn successful_login_clears_the_failure_count(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    store.record_failed_login("user-1", T0, 3, LOCKOUT).await.unwrap();
    store.record_successful_login("user-1").await.unwrap();
    assert_eq!(store.find_user("user-1").await.unwrap().unwrap().failed_count, 0);
    assert_not_found(store.record_successful_login("nobody").await.unwrap_err(), "user 'nobody'");
}

pub async fn concurrent_failed_logins_are_each_counted(database: &TestDatabase) {
    let store = database.store();
    store.create_user(user("user-1", "alice", None), T0).await.unwrap();
    let attempts = 20;
    let barrier = Arc::new(tokio::sync::Barrier::new(attempts));
    let tasks: Vec<_> = (0..attempts)
        .map(|_| {
            let store: Arc<dyn Store> = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_failed_login("user-1", T0, 100, LOCKOUT).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let alice = store.find_user("user-1").await.unwrap().unwrap();
    assert_eq!(alice.failed_count, 20);
}

pub async fn removing_a_user_removes_their_sessions_roles_authorizations_and_tokens(database: &TestDatabase) {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    for (id, name) in [("user-1", "alice"), ("user-2", "bob")] {
        store.create_user(user(id, name, None), T0).await.unwrap();
        store.add_role(id, "admin").await.unwrap();
        store.create_session(session(id, id)).await.unwrap();
        let authorization_id = format!("{id}-authorization");
        store.create_authorization(authorization(&authorization_id, id, "web")).await.unwrap();
        store
            .create_token(NewToken {
                subject: Some(id.to_owned()),
                authorization_id: Some(authorization_id),
                ..token(&format!("{id}-tied"), "web")
            })
            .await
            .unwrap();
        store
            .create_token(NewToken { subject: Some(id.to_owned()), ..token(&format!("{id}-loose"), "web") })
            .await
            .unwrap();
    }

    assert!(store.remove_user("user-1").await.unwrap());
    assert!(!store.remove_user("user-1").await.unwrap());

    assert_eq!(store.find_user("user-1").await.unwrap(), None);
    let alice_session: NewSession = session("user-1", "user-1");
    assert_eq!(store.find_session(&alice_session.id, T0).await.unwrap(), None);
    assert_eq!(store.find_authorization("user-1-authorization").await.unwrap(), None);
    assert_eq!(store.find_token("user-1-tied").await.unwrap(), None);
    assert_eq!(store.find_token("user-1-loose").await.unwrap(), None);

    let bob = store.find_user("user-2").await.unwrap().unwrap();
    assert_eq!(bob.roles, ["admin"]);
    let bob_session = session("user-2", "user-2");
    assert!(store.find_session(&bob_session.id, T0).await.unwrap().is_some());
    assert!(store.find_authorization("user-2-authorization").await.unwrap().is_some());
    assert!(store.find_token("user-2-tied").await.unwrap().is_some());
    assert!(store.find_token("user-2-loose").await.unwrap().is_some());
    // The client is not the user's to take along.
    assert!(store.find_client("web").await.unwrap().is_some());
}
