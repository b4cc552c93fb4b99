//! Rule PC-50 of docs/security.md: password checks run on a bounded number of threads behind a bounded queue.
//! A burst beyond both is answered at once with 503 `temporarily_unavailable` and `Retry-After` (RFC 6749
//! §5.2, RFC 9110 §15.6.4), never queued without end, never a 500; once the burst is over, sign-ins work again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_testkit::{CONSOLE, PASSWORD, Reply, TestDatabase, TestProvider, Visitor, both_databases, token_basic};

fn password_grant(username: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "password".into()),
        ("username", username.into()),
        ("password", PASSWORD.into()),
        ("scope", "openid".into()),
    ]
}

async fn grant(base: String, username: &'static str) -> Reply {
    let form = password_grant(username);
    let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
    token_basic(&base, CONSOLE, &form).await
}

async fn a_burst_beyond_the_queue_is_refused_with_503(db: TestDatabase) {
    let provider = TestProvider::builder(&db)
        .seed_demo()
        .configure(|mut config| {
            config.security.password_check_threads = 1;
            config.security.password_check_queue = 1;
            config
        })
        .start()
        .await;
    let base = provider.url("");
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..24 {
        requests.spawn(grant(base.clone(), "alice"));
    }
    let (mut issued, mut refused) = (0, 0);
    while let Some(reply) = requests.join_next().await {
        let reply = reply.unwrap();
        match reply.status.as_u16() {
            200 => issued += 1,
            503 => {
                assert_eq!(reply.error(), "temporarily_unavailable", "{}", reply.body);
                assert!(reply.description().contains("try again"), "{}", reply.description());
                assert_eq!(reply.header("retry-after"), Some("5"));
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(issued >= 1, "the first request always gets the thread");
    assert!(refused >= 1, "24 at once cannot all fit one thread and a queue of one");
    assert_eq!(issued + refused, 24);
    // An unknown user's dummy check (rule T3) goes through the same threads and is answered as before.
    let unknown = grant(base.clone(), "nobody").await;
    assert_eq!(unknown.error(), "invalid_grant", "{}", unknown.body);

    // Every place was given back: requests one after the other all get their answer.
    for _ in 0..3 {
        let reply = grant(base.clone(), "alice").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // The sign-in page goes through the same checks and still signs in.
    let visitor = Visitor::new(&base);
    let signed_in = visitor.sign_in_at("/login", "alice", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
}
both_databases!(password_checks_overload, a_burst_beyond_the_queue_is_refused_with_503);
