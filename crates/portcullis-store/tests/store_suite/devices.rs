use std::sync::Arc;

use portcullis_core::model::{AuthorizationKind, AuthorizationStatus, NewToken, TokenStatus, TokenType};
use portcullis_core::protocol::device::{DeviceCodePayload, PollOutcome, UserCode, UserCodeKey, UserCodePayload};
use portcullis_core::secret;
use portcullis_core::store::{DeviceApproval, DeviceConsent, PruneReport, Store};
use portcullis_store::test_support::TestDatabase;
use time::{Duration, OffsetDateTime};

use crate::fixtures::{T0, assert_conflict, authorization, client};

const LIFETIME: Duration = Duration::minutes(10);

fn code(typed: &str) -> UserCode {
    UserCode::parse(typed).unwrap()
}

/// The key user codes are digested under: the store only keeps and compares the digests.
const KEY: UserCodeKey = UserCodeKey::new([7; UserCodeKey::BYTES]);

/// The two rows of a device authorization for client `web`: `<id>` (device code) and `<id>-user` (user code).
fn device_codes(id: &str, user_code: &UserCode) -> (NewToken, NewToken) {
    let payload = DeviceCodePayload::new(
        portcullis_core::protocol::scope::ScopeSet::parse("openid profile").unwrap(),
        user_code,
        &KEY,
    );
    let device = NewToken {
        id: id.to_owned(),
        token_type: TokenType::DeviceCode,
        subject: None,
        client_id: "web".to_owned(),
        authorization_id: None,
        reference_digest: Some(secret::digest(&format!("{id}-device-code"))),
        status: TokenStatus::Inactive,
        created_at: T0,
        expires_at: Some(T0 + LIFETIME),
        family_id: None,
        payload: Some(serde_json::to_string(&payload).unwrap()),
    };
    let user = NewToken {
        id: format!("{id}-user"),
        token_type: TokenType::UserCode,
        reference_digest: Some(user_code.digest(&KEY)),
        status: TokenStatus::Valid,
        payload: Some(serde_json::to_string(&UserCodePayload { device_code_id: id.to_owned() }).unwrap()),
        ..device.clone()
    };
    (device, user)
}

async fn store_with_device_code(database: &TestDatabase) -> Arc<dyn Store> {
    let store = database.store();
    store.create_client(client("web"), T0).await.unwrap();
    store.create_user(crate::fixtures::user("user-1", "alice", None), T0).await.unwrap();
    let (device, user) = device_codes("device", &code("WDJB-MJHT"));
    store.create_device_codes(device, user).await.unwrap();
    store
}

fn approval(consent: DeviceConsent, now: OffsetDateTime) -> DeviceApproval {
    DeviceApproval {
        device_code_id: "device".to_owned(),
        user_code_id: "device-user".to_owned(),
        consent,
        payload: r#"{"approved":true}"#.to_owned(),
        now,
    }
}

fn new_consent(id: &str) -> DeviceConsent {
    DeviceConsent::New(authorization(id, "user-1", "web"))
}

pub async fn device_codes_are_recorded_together_and_found_by_their_digests(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let device = store.find_token_by_digest(&secret::digest("device-device-code")).await.unwrap().unwrap();
    assert_eq!(
        (device.id.as_str(), device.token_type, device.status),
        ("device", TokenType::DeviceCode, TokenStatus::Inactive)
    );
    let user = store.find_token_by_digest(&code("wdjbmjht").digest(&KEY)).await.unwrap().unwrap();
    assert_eq!(
        (user.id.as_str(), user.token_type, user.status),
        ("device-user", TokenType::UserCode, TokenStatus::Valid)
    );
    assert_eq!(user.expires_at, device.expires_at);
}

pub async fn a_taken_user_code_is_a_conflict_and_leaves_nothing_behind(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let (device, user) = device_codes("second", &code("WDJB-MJHT"));
    let error = store.create_device_codes(device, user).await.unwrap_err();
    assert_conflict(error, "user code of device code 'second'");
    // The device code was written first, in the same transaction: it is gone with the user code.
    assert_eq!(store.find_token("second").await.unwrap(), None);
    assert_eq!(store.find_token("second-user").await.unwrap(), None);

    let (device, user) = device_codes("third", &code("BCDF-GHJK"));
    let error =
        store.create_device_codes(NewToken { client_id: "nobody".to_owned(), ..device }, user).await.unwrap_err();
    assert!(matches!(error, portcullis_core::store::StoreError::NotFound(_)), "{error:?}");
    assert_eq!(store.find_token("third").await.unwrap(), None);
    assert_eq!(store.find_token("third-user").await.unwrap(), None);
}

pub async fn device_poll_records_the_time_and_grows_the_interval_when_too_fast(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    assert_eq!(store.record_device_poll("device", T0).await.unwrap(), PollOutcome::Pending { interval: 5 });
    assert_eq!(
        store.record_device_poll("device", T0 + Duration::seconds(2)).await.unwrap(),
        PollOutcome::SlowDown { interval: 10 }
    );
    assert_eq!(
        store.record_device_poll("device", T0 + Duration::seconds(12)).await.unwrap(),
        PollOutcome::Pending { interval: 10 }
    );
    let row = store.find_token("device").await.unwrap().unwrap();
    let payload: DeviceCodePayload = serde_json::from_str(row.payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload.interval, 10);
    assert_eq!(payload.last_polled_at, Some(T0 + Duration::seconds(12)));
    assert_eq!(row.status, TokenStatus::Inactive);
    assert_eq!(store.record_device_poll("unknown", T0).await.unwrap(), PollOutcome::NotPending);
}

pub async fn concurrent_device_polls_are_each_recorded_once(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let contenders = 20;
    let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|_| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_device_poll("device", T0).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    // Exactly one poll came first; every other one counted from it and slowed the device down by 5 s more.
    assert_eq!(
        outcomes.iter().filter(|outcome| **outcome == PollOutcome::Pending { interval: 5 }).count(),
        1,
        "{outcomes:?}"
    );
    let mut intervals: Vec<u64> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            PollOutcome::SlowDown { interval } => Some(*interval),
            _ => None,
        })
        .collect();
    intervals.sort_unstable();
    assert_eq!(intervals, (2..=20).map(|n| n * 5).collect::<Vec<u64>>());
}

pub async fn approving_a_device_code_records_the_consent_and_uses_the_user_code(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let at = T0 + Duration::minutes(1);
    assert!(store.approve_device_code(approval(new_consent("consent"), at)).await.unwrap());

    let device = store.find_token("device").await.unwrap().unwrap();
    assert_eq!(device.status, TokenStatus::Valid);
    assert_eq!(device.subject.as_deref(), Some("user-1"));
    assert_eq!(device.authorization_id.as_deref(), Some("consent"));
    assert_eq!(device.payload.as_deref(), Some(r#"{"approved":true}"#));
    let user = store.find_token("device-user").await.unwrap().unwrap();
    assert_eq!((user.status, user.redeemed_at), (TokenStatus::Redeemed, Some(at)));
    let consent = store.find_authorization("consent").await.unwrap().unwrap();
    assert_eq!((consent.status, consent.kind), (AuthorizationStatus::Valid, AuthorizationKind::Permanent));

    // A second answer (a double click, another tab) changes nothing, and records no second consent.
    assert!(!store.approve_device_code(approval(new_consent("again"), at)).await.unwrap());
    assert!(!store.deny_device_code("device", "device-user", "user-1", at).await.unwrap());
    assert_eq!(store.find_authorization("again").await.unwrap(), None);
    assert_eq!(store.find_token("device").await.unwrap().unwrap().status, TokenStatus::Valid);
    // No longer pending: polls leave it alone.
    assert_eq!(store.record_device_poll("device", at).await.unwrap(), PollOutcome::NotPending);
}

pub async fn approving_with_a_remembered_consent_ties_the_device_code_to_it(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    store.create_authorization(authorization("remembered", "user-1", "web")).await.unwrap();
    let consent = DeviceConsent::Existing { authorization_id: "remembered".to_owned(), subject: "user-1".to_owned() };
    assert!(store.approve_device_code(approval(consent, T0)).await.unwrap());
    let device = store.find_token("device").await.unwrap().unwrap();
    assert_eq!(device.authorization_id.as_deref(), Some("remembered"));
    assert_eq!(store.find_permanent_authorizations("user-1", "web").await.unwrap().len(), 1);
}

pub async fn an_expired_device_code_can_be_neither_approved_nor_denied(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let expired = T0 + LIFETIME;
    assert!(!store.approve_device_code(approval(new_consent("late"), expired)).await.unwrap());
    assert!(!store.deny_device_code("device", "device-user", "user-1", expired).await.unwrap());
    assert_eq!(store.find_authorization("late").await.unwrap(), None, "the consent was rolled back");
    assert_eq!(store.find_token("device").await.unwrap().unwrap().status, TokenStatus::Inactive);
    assert_eq!(store.find_token("device-user").await.unwrap().unwrap().status, TokenStatus::Valid);
}

pub async fn denying_a_device_code_revokes_it_and_uses_the_user_code(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    assert!(store.deny_device_code("device", "device-user", "user-1", T0).await.unwrap());
    let device = store.find_token("device").await.unwrap().unwrap();
    assert_eq!((device.status, device.authorization_id), (TokenStatus::Revoked, None));
    assert_eq!(device.subject.as_deref(), Some("user-1"));
    assert_eq!(store.find_token("device-user").await.unwrap().unwrap().status, TokenStatus::Redeemed);
    // Checklist D1: denied, then approved, is still denied.
    assert!(!store.approve_device_code(approval(new_consent("after"), T0)).await.unwrap());
    assert_eq!(store.find_authorization("after").await.unwrap(), None);
    assert_eq!(store.find_token("device").await.unwrap().unwrap().status, TokenStatus::Revoked);
}

pub async fn of_concurrent_answers_exactly_one_wins(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    let contenders = 10;
    let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|n| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                if n % 2 == 0 {
                    store.approve_device_code(approval(new_consent(&format!("consent-{n}")), T0)).await.unwrap()
                } else {
                    store.deny_device_code("device", "device-user", "user-1", T0).await.unwrap()
                }
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    let recorded = store.find_permanent_authorizations("user-1", "web").await.unwrap();
    let device = store.find_token("device").await.unwrap().unwrap();
    match device.status {
        TokenStatus::Valid => assert_eq!(recorded.len(), 1),
        TokenStatus::Revoked => assert!(recorded.is_empty(), "{recorded:?}"),
        other => panic!("{other:?}"),
    }
}

pub async fn expired_device_codes_are_pruned_with_their_user_codes(database: &TestDatabase) {
    let store = store_with_device_code(database).await;
    // Before both expire, nothing goes; after, both do.
    assert_eq!(store.prune(T0 + LIFETIME, 10).await.unwrap(), PruneReport::default());
    let report = store.prune(T0 + LIFETIME + Duration::seconds(1), 10).await.unwrap();
    assert_eq!(report.tokens, 2);
    assert_eq!(store.find_token("device").await.unwrap(), None);
    assert_eq!(store.find_token("device-user").await.unwrap(), None);
}
