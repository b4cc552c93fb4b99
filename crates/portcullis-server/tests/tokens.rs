//! Token minting and resolution (`portcullis_server::tokens`) on SQLite and PostgreSQL: what each access-token
//! format issues and records, the ID and refresh tokens, and every reason resolution refuses a token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::Arc;

use portcullis_core::FixedClock;
use portcullis_core::model::{
    AccessTokenFormat, AuthorizationKind, Client, ClientType, ConsentType, GrantType, NewAuthorization, NewClient,
    NewUser, Permissions, Scope, Token, TokenStatus, TokenType, User,
};
use portcullis_core::protocol::claims::at_hash;
use portcullis_core::protocol::grant::{Consent, Family, Holder, Issue, RefreshToken};
use portcullis_core::protocol::payload::{Payload, RefreshTokenPayload};
use portcullis_core::protocol::scope::ScopeSet;
use portcullis_core::secret;
use portcullis_jose::SigningAlg;
use portcullis_server::config::{Config, TokenSettings};
use portcullis_server::state::AppState;
use portcullis_server::tokens::{self, ActiveToken, Decided, ResolveError, Subject, TokenResponse, Written};
use portcullis_testkit::{TestDatabase, TestProvider, both_databases};
use serde_json::{Map, Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const ISSUER: &str = "http://localhost:44319";
const CLIENT_ID: &str = "angularclient";
const USER_ID: &str = "7f9c2ba4-alice";
const API: &str = "rs_dataEventRecordsApi";
/// Half a second past the minute: tokens must count whole seconds, like JWT NumericDates and the stores.
const NOW: OffsetDateTime = datetime!(2026-11-01 12:00:00.5 UTC);
const ISSUED_AT: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
const AUTH_TIME: OffsetDateTime = datetime!(2026-11-01 11:55 UTC);
const NONCE: &str = "n-0S6_WzA2Mj";
const SID: &str = "08a5019c-17e1-4977-8f42-65a12843ea02";
const ALL_SCOPES: &str = "openid profile email phone roles offline_access dataEventRecords reports";

struct Fixture {
    state: AppState,
    clock: Arc<FixedClock>,
    client: Client,
    user: User,
    authorization_id: String,
}

/// A provider whose default access-token format is `provider_format`, with the demo's scopes plus `reports`
/// (two resources, one shared with `dataEventRecords`), the client `angularclient` using `client_format`, the
/// user alice with two roles, and an authorization for them.
async fn fixture(
    db: &TestDatabase,
    provider_format: AccessTokenFormat,
    client_format: Option<AccessTokenFormat>,
) -> Fixture {
    let clock = Arc::new(FixedClock::new(NOW));
    let state = TestProvider::builder(db)
        .issuer(ISSUER)
        .configure(move |config| Config {
            tokens: TokenSettings { access_token_format: provider_format, ..config.tokens },
            ..config
        })
        .clock(clock.clone())
        .state()
        .await;
    let store = state.store.clone();

    portcullis_server::admin::ensure_standard_scopes(store.as_ref()).await.unwrap();
    for (name, resources) in [("dataEventRecords", vec![API]), ("reports", vec!["rs_reports", API])] {
        let resources = resources.into_iter().map(str::to_owned).collect();
        store
            .create_scope(Scope { name: name.into(), display_name: name.into(), description: None, resources })
            .await
            .unwrap();
    }
    // The provider publishes scopes from a snapshot; take the ones just created.
    state.refresh().await.unwrap();
    let scope_names: Vec<String> = ALL_SCOPES.split(' ').map(str::to_owned).collect();
    let client = store
        .create_client(
            NewClient {
                client_id: CLIENT_ID.into(),
                secret_digest: None,
                client_type: ClientType::Public,
                consent_type: ConsentType::Explicit,
                display_name: "Angular SPA".into(),
                redirect_uris: vec!["http://localhost:4200/callback".into()],
                post_logout_redirect_uris: vec![],
                cors_origins: vec![],
                permissions: Permissions {
                    grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                    scopes: scope_names.clone(),
                    introspection: false,
                    revocation: false,
                },
                pkce_exempt: false,
                access_token_format: client_format,
            },
            NOW,
        )
        .await
        .unwrap();
    store
        .create_user(
            NewUser {
                id: USER_ID.into(),
                username: "alice".into(),
                name: Some("Alice Smith".into()),
                email: Some("alice@example.com".into()),
                email_confirmed: true,
                phone: None,
                phone_confirmed: false,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bm90dXNlZA$bm90dXNlZA".into(),
                security_stamp: "stamp-1".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    for role in ["dataEventRecords.user", "dataEventRecords.admin"] {
        store.add_role(USER_ID, role).await.unwrap();
    }
    let user = store.find_user(USER_ID).await.unwrap().unwrap();
    let authorization = store
        .create_authorization(NewAuthorization {
            id: secret::new_id(),
            subject: USER_ID.into(),
            client_id: CLIENT_ID.into(),
            kind: AuthorizationKind::AdHoc,
            scopes: scope_names,
            created_at: NOW,
        })
        .await
        .unwrap();
    Fixture { state, clock, client, user, authorization_id: authorization.id }
}

/// What one issuance asks for, field by field: a grant's decision, with the client and the subject.
struct Grant<'f> {
    client: &'f Client,
    subject: Subject<'f>,
    authorization_id: String,
    scopes: ScopeSet,
    nonce: Option<String>,
    auth_time: Option<OffsetDateTime>,
    sid: Option<String>,
    issue_refresh_token: bool,
    issue_id_token: bool,
    previous_refresh_token_id: Option<String>,
}

/// What an authorization-code grant for alice asks for: every token, nonce, auth_time and sid.
fn user_grant<'f>(f: &'f Fixture, scopes: &str) -> Grant<'f> {
    Grant {
        client: &f.client,
        subject: Subject::User(&f.user),
        authorization_id: f.authorization_id.clone(),
        scopes: ScopeSet::parse(scopes).unwrap(),
        nonce: Some(NONCE.into()),
        auth_time: Some(AUTH_TIME),
        sid: Some(SID.into()),
        issue_refresh_token: true,
        issue_id_token: true,
        previous_refresh_token_id: None,
    }
}

async fn issue(f: &Fixture, grant: Grant<'_>) -> TokenResponse {
    let (holder, user) = match grant.subject {
        Subject::User(user) => (Holder::User, Some(user.clone())),
        Subject::Client => (Holder::Client, None),
    };
    let issue = Issue {
        holder,
        scopes: grant.scopes,
        consent: Consent::Existing(grant.authorization_id),
        condition: None,
        refresh_token: if grant.issue_refresh_token { RefreshToken::New } else { RefreshToken::None },
        family: Family::Start,
        id_token: grant.issue_id_token,
        nonce: grant.nonce,
        auth_time: grant.auth_time,
        sid: grant.sid,
        previous_refresh_token: grant.previous_refresh_token_id,
    };
    match tokens::issue(&f.state, grant.client, Decided { issue, user }).await.unwrap() {
        Written::Issued(response) => response,
        Written::Lost(_) => panic!("nothing was presented, so nothing can be lost"),
    }
}

async fn row(f: &Fixture, id: &str) -> Token {
    f.state.store.find_token(id).await.unwrap().unwrap_or_else(|| panic!("no token row {id}"))
}

/// Verifies a JWS with the provider's keys; returns `typ` and the claims.
fn verify(f: &Fixture, jws: &str, alg: SigningAlg) -> (Option<String>, Map<String, Value>) {
    let (header, claims) = f.state.published().keyring.verify(jws, &[alg]).unwrap();
    assert_eq!(header.alg, alg);
    (header.typ, claims)
}

fn payload_claims(token: &Token) -> Map<String, Value> {
    serde_json::from_str(token.payload.as_deref().unwrap()).unwrap()
}

async fn resolve(f: &Fixture, presented: &str) -> ActiveToken {
    tokens::resolve_access_token(&f.state, presented).await.unwrap()
}

/// The `error_description` of a refused token.
async fn refused(f: &Fixture, presented: &str) -> String {
    match tokens::resolve_access_token(&f.state, presented).await {
        Err(ResolveError::Invalid(why)) => why,
        Err(other) => panic!("expected Invalid, got {other:?}"),
        Ok(active) => panic!("expected Invalid, the token resolved to row {}", active.token.id),
    }
}

fn seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// RFC 9068 §2.2 claims, exactly, and the row that records them; the client's format wins over the provider's.
async fn rfc9068_2_jwt_access_token_has_exact_claims_and_is_recorded(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Reference, Some(AccessTokenFormat::Jwt)).await;
    let response = issue(&f, user_grant(&f, "openid profile email roles offline_access dataEventRecords")).await;
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(response.expires_in, 3600);
    assert_eq!(response.scope, "dataEventRecords email offline_access openid profile roles");

    assert_eq!(response.access_token.split('.').count(), 3, "a JWS, not the provider's reference default");
    let (typ, claims) = verify(&f, &response.access_token, SigningAlg::Es256);
    assert_eq!(typ.as_deref(), Some("at+jwt"));
    let jti = claims["jti"].as_str().unwrap().to_owned();
    assert_eq!(
        Value::Object(claims.clone()),
        json!({
            "iss": ISSUER,
            "sub": USER_ID,
            "aud": API,
            "exp": seconds(ISSUED_AT) + 3600,
            "iat": seconds(ISSUED_AT),
            "nbf": seconds(ISSUED_AT),
            "jti": jti,
            "client_id": CLIENT_ID,
            "scope": "dataEventRecords email offline_access openid profile roles",
            "auth_time": seconds(AUTH_TIME),
            "role": ["dataEventRecords.admin", "dataEventRecords.user"],
        })
    );

    let token = row(&f, &jti).await;
    assert_eq!(token.token_type, TokenType::AccessToken);
    assert_eq!(token.subject.as_deref(), Some(USER_ID));
    assert_eq!(token.client_id, CLIENT_ID);
    assert_eq!(token.authorization_id.as_deref(), Some(f.authorization_id.as_str()));
    assert_eq!(token.status, TokenStatus::Valid);
    assert_eq!(token.created_at, ISSUED_AT);
    assert_eq!(token.expires_at, Some(ISSUED_AT + Duration::hours(1)));
    // Found by the digest of its value, like every access token: reading it back costs no signature check.
    assert_eq!(token.reference_digest.as_deref(), Some(secret::digest(&response.access_token).as_str()));
    assert_eq!(payload_claims(&token), claims, "introspection can answer from the row");

    let active = resolve(&f, &response.access_token).await;
    assert_eq!(active.token.id, jti);
    assert_eq!(active.claims, claims);
}
both_databases!(jwt_access_token, rfc9068_2_jwt_access_token_has_exact_claims_and_is_recorded);

/// The default format: the same signed JWT, encrypted to the provider's own key (a nested JWT).
async fn encrypted_access_token_is_a_jwe_around_the_signed_jwt(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Encrypted, None).await;
    let response = issue(&f, user_grant(&f, "openid dataEventRecords")).await;
    assert_eq!(response.access_token.split('.').count(), 5, "a compact JWE");

    let jws = f.state.published().keyring.decrypt(&response.access_token).unwrap();
    let (typ, claims) = verify(&f, &jws, SigningAlg::Es256);
    assert_eq!(typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["scope"], "dataEventRecords openid");
    assert_eq!(claims["iss"], ISSUER);

    let token = row(&f, claims["jti"].as_str().unwrap()).await;
    assert_eq!(token.token_type, TokenType::AccessToken);
    // Found by the digest of its value: introspection and userinfo need no private-key decryption.
    assert_eq!(token.reference_digest.as_deref(), Some(secret::digest(&response.access_token).as_str()));
    assert_eq!(payload_claims(&token), claims, "introspection answers without decrypting");

    let active = resolve(&f, &response.access_token).await;
    assert_eq!(active.token.id, token.id);
    assert_eq!(active.claims, claims);
}
both_databases!(encrypted_access_token, encrypted_access_token_is_a_jwe_around_the_signed_jwt);

/// A reference token is an opaque random handle; the row keeps its digest and the claims it stands for.
async fn reference_access_token_is_opaque_and_found_by_its_digest(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Reference, None).await;
    let response = issue(&f, user_grant(&f, "openid roles dataEventRecords")).await;
    let value = &response.access_token;
    assert_eq!(value.len(), 43, "256 random bits, base64url");
    assert!(!value.contains('.'));

    let token = f.state.store.find_token_by_digest(&secret::digest(value)).await.unwrap().unwrap();
    assert_eq!(token.token_type, TokenType::AccessToken);
    assert_eq!(token.reference_digest.as_deref(), Some(secret::digest(value).as_str()));
    assert!(!format!("{token:?}").contains(value.as_str()), "the value itself is never stored");
    let claims = payload_claims(&token);
    assert_eq!(claims["jti"], token.id.as_str());
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["role"], json!(["dataEventRecords.admin", "dataEventRecords.user"]));

    let active = resolve(&f, value).await;
    assert_eq!(active.token.id, token.id);
    assert_eq!(active.claims, claims);
}
both_databases!(reference_access_token, reference_access_token_is_opaque_and_found_by_its_digest);

/// The audiences are the granted scopes' resources; without any, the client itself.
async fn rfc9068_2_2_aud_comes_from_the_granted_scopes_resources(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Jwt, None).await;
    let several = issue(&f, user_grant(&f, "openid dataEventRecords reports")).await;
    let (_, claims) = verify(&f, &several.access_token, SigningAlg::Es256);
    assert_eq!(claims["aud"], json!([API, "rs_reports"]), "sorted, the shared resource once");

    let none = issue(&f, user_grant(&f, "openid profile")).await;
    let (_, claims) = verify(&f, &none.access_token, SigningAlg::Es256);
    assert_eq!(claims["aud"], CLIENT_ID);
}
both_databases!(access_token_audiences, rfc9068_2_2_aud_comes_from_the_granted_scopes_resources);

/// OIDC Core §2 / §3.1.3.6: RS256, `typ: JWT`, aud the client, the request's nonce, at_hash of the access token
/// as returned (here a JWE), auth_time, sid, azp, the scopes' claims, and a row found by `jti`.
async fn oidc_core_2_id_token_is_rs256_and_bound_to_its_access_token(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Encrypted, None).await;
    let response = issue(&f, user_grant(&f, "openid profile email roles offline_access")).await;
    let id_token = response.id_token.as_deref().unwrap();
    let (typ, claims) = verify(&f, id_token, SigningAlg::Rs256);
    assert_eq!(typ.as_deref(), Some("JWT"));
    let jti = claims["jti"].as_str().unwrap().to_owned();
    assert_eq!(
        Value::Object(claims),
        json!({
            "iss": ISSUER,
            "sub": USER_ID,
            "aud": CLIENT_ID,
            "exp": seconds(ISSUED_AT) + 1200,
            "iat": seconds(ISSUED_AT),
            "jti": jti,
            "auth_time": seconds(AUTH_TIME),
            "nonce": NONCE,
            "at_hash": at_hash(&response.access_token),
            "sid": SID,
            "azp": CLIENT_ID,
            "name": "Alice Smith",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "email_verified": true,
            "role": ["dataEventRecords.admin", "dataEventRecords.user"],
        })
    );

    let token = row(&f, &jti).await;
    assert_eq!(token.token_type, TokenType::IdToken);
    assert_eq!(token.subject.as_deref(), Some(USER_ID));
    assert_eq!(token.authorization_id.as_deref(), Some(f.authorization_id.as_str()));
    assert_eq!(token.expires_at, Some(ISSUED_AT + Duration::minutes(20)));
    assert_eq!(token.reference_digest, None);
}
both_databases!(id_token, oidc_core_2_id_token_is_rs256_and_bound_to_its_access_token);

/// OIDC Core §5.4: a scope not granted releases none of its claims, in the ID token or the access token.
async fn oidc_core_5_4_claims_follow_the_granted_scopes(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Jwt, None).await;
    let profile_only = issue(&f, user_grant(&f, "openid profile")).await;
    let (_, id_claims) = verify(&f, profile_only.id_token.as_deref().unwrap(), SigningAlg::Rs256);
    assert_eq!(id_claims["preferred_username"], "alice");
    for absent in ["email", "email_verified", "phone_number", "role"] {
        assert!(!id_claims.contains_key(absent), "{absent} released without its scope");
    }
    let (_, access_claims) = verify(&f, &profile_only.access_token, SigningAlg::Es256);
    assert!(!access_claims.contains_key("role"));

    let with_roles = issue(&f, user_grant(&f, "openid email roles")).await;
    let (_, id_claims) = verify(&f, with_roles.id_token.as_deref().unwrap(), SigningAlg::Rs256);
    assert_eq!(id_claims["email"], "alice@example.com");
    assert_eq!(id_claims["role"], json!(["dataEventRecords.admin", "dataEventRecords.user"]));
    assert!(!id_claims.contains_key("preferred_username"), "profile was not granted");
    let (_, access_claims) = verify(&f, &with_roles.access_token, SigningAlg::Es256);
    assert_eq!(access_claims["role"], json!(["dataEventRecords.admin", "dataEventRecords.user"]));
}
both_databases!(claims_by_scope, oidc_core_5_4_claims_follow_the_granted_scopes);

/// design.md: refresh tokens are stored as digests, never in plain text; the payload keeps what the refresh
/// grant needs, and rotation links the new token to the one it replaced.
async fn refresh_token_is_recorded_as_a_digest_with_what_the_refresh_grant_needs(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Encrypted, None).await;
    let response = issue(&f, user_grant(&f, "openid profile offline_access")).await;
    let value = response.refresh_token.clone().unwrap();
    assert_eq!(value.len(), 43);

    let token = tokens::find_refresh_token(&f.state, &value).await.unwrap().unwrap();
    assert_eq!(token.token_type, TokenType::RefreshToken);
    assert_eq!(token.reference_digest.as_deref(), Some(secret::digest(&value).as_str()));
    assert_eq!(token.subject.as_deref(), Some(USER_ID));
    assert_eq!(token.authorization_id.as_deref(), Some(f.authorization_id.as_str()));
    assert_eq!(token.status, TokenStatus::Valid);
    assert_eq!(token.expires_at, Some(ISSUED_AT + Duration::days(14)));
    assert_eq!(
        RefreshTokenPayload::read(&token).unwrap(),
        RefreshTokenPayload {
            scope: ScopeSet::parse("offline_access openid profile").unwrap(),
            auth_time: Some(AUTH_TIME),
            sid: Some(SID.into()),
            previous: None,
            security_stamp: Some("stamp-1".into()),
        }
    );
    assert!(!token.payload.as_deref().unwrap().contains(NONCE), "no nonce on refresh (OIDC Core §12.2)");

    // The plain value appears in no field of any row of this issuance.
    let access = resolve(&f, &response.access_token).await.token;
    let (_, id_claims) = verify(&f, response.id_token.as_deref().unwrap(), SigningAlg::Rs256);
    let id = row(&f, id_claims["jti"].as_str().unwrap()).await;
    for recorded in [&token, &access, &id] {
        assert!(!format!("{recorded:?}").contains(&value), "{:?} row holds the refresh token", recorded.token_type);
    }

    // A refresh token is not an access token, and an access token value is not a refresh token.
    assert_eq!(refused(&f, &value).await, "the token is not an access token (it is a refresh_token)");
    assert!(tokens::find_refresh_token(&f.state, &response.access_token).await.unwrap().is_none());
    assert!(tokens::find_refresh_token(&f.state, &secret::generate().unwrap()).await.unwrap().is_none());

    // Rotation: the new token remembers the one it replaces; no nonce on a refresh.
    let rotated = issue(
        &f,
        Grant { nonce: None, previous_refresh_token_id: Some(token.id.clone()), ..user_grant(&f, "openid profile") },
    )
    .await;
    let next = tokens::find_refresh_token(&f.state, rotated.refresh_token.as_deref().unwrap()).await.unwrap().unwrap();
    assert_ne!(next.id, token.id);
    assert_eq!(RefreshTokenPayload::read(&next).unwrap().previous, Some(token.id.clone()));
    let (_, refreshed_id) = verify(&f, rotated.id_token.as_deref().unwrap(), SigningAlg::Rs256);
    assert!(!refreshed_id.contains_key("nonce"));
    assert_eq!(refreshed_id["auth_time"], seconds(AUTH_TIME), "the original authentication time");
}
both_databases!(refresh_token, refresh_token_is_recorded_as_a_digest_with_what_the_refresh_grant_needs);

/// The caller decides which tokens to issue; absent ones are left out of the response, not sent as null.
/// Client credentials: `sub` is the client, no user claims, and never an ID token.
async fn only_the_requested_tokens_are_issued_and_client_subjects_get_no_user_claims(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Jwt, None).await;
    let access_only = issue(
        &f,
        Grant { issue_refresh_token: false, issue_id_token: false, ..user_grant(&f, "openid dataEventRecords") },
    )
    .await;
    let body = serde_json::to_value(&access_only).unwrap();
    let mut members: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["access_token", "expires_in", "scope", "token_type"]);
    assert!(!format!("{access_only:?}").contains(&access_only.access_token), "Debug redacts tokens");

    let machine = issue(
        &f,
        Grant {
            subject: Subject::Client,
            nonce: None,
            auth_time: None,
            sid: None,
            issue_refresh_token: false,
            ..user_grant(&f, "roles dataEventRecords")
        },
    )
    .await;
    assert!(machine.id_token.is_none(), "no end-user, no ID token");
    let (_, claims) = verify(&f, &machine.access_token, SigningAlg::Es256);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert!(!claims.contains_key("auth_time") && !claims.contains_key("role"));
    let token = row(&f, claims["jti"].as_str().unwrap()).await;
    assert_eq!(token.subject.as_deref(), Some(CLIENT_ID));
}
both_databases!(issued_tokens, only_the_requested_tokens_are_issued_and_client_subjects_get_no_user_claims);

/// Revocation takes effect at once, whatever the format: the row is the authority.
async fn revoked_access_tokens_are_invalid(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Reference, None).await;
    let reference = issue(&f, user_grant(&f, "openid")).await.access_token;
    let reference_id = resolve(&f, &reference).await.token.id;
    assert!(f.state.store.revoke_token(&reference_id).await.unwrap());
    assert_eq!(refused(&f, &reference).await, "the access token was revoked");

    let jwt_client = Client { access_token_format: Some(AccessTokenFormat::Jwt), ..f.client.clone() };
    let jwt = issue(&f, Grant { client: &jwt_client, ..user_grant(&f, "openid") }).await.access_token;
    let jwt_id = resolve(&f, &jwt).await.token.id;
    f.state.store.revoke_tokens_by_authorization(&f.authorization_id).await.unwrap();
    assert_eq!(refused(&f, &jwt).await, "the access token was revoked", "still validly signed, but revoked: {jwt_id}");
}
both_databases!(revoked, revoked_access_tokens_are_invalid);

/// Expiry is judged at the clock's `now`, and the refusal names the instant.
async fn expired_access_tokens_are_invalid_naming_the_expiry(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Encrypted, None).await;
    let token = issue(&f, user_grant(&f, "openid")).await.access_token;
    f.clock.advance(Duration::seconds(3599)); // 12:59:59.5: still inside the hour
    resolve(&f, &token).await;
    f.clock.advance(Duration::seconds(1)); // 13:00:00.5
    assert_eq!(refused(&f, &token).await, "the access token expired at 2026-11-01T13:00:00Z");
}
both_databases!(expired, expired_access_tokens_are_invalid_naming_the_expiry);

/// Anything not minted here as an access token is refused, and says why.
async fn forged_foreign_and_unknown_tokens_are_invalid(db: TestDatabase) {
    let f = fixture(&db, AccessTokenFormat::Jwt, None).await;
    let first = issue(&f, user_grant(&f, "openid profile")).await;
    let second = issue(&f, user_grant(&f, "openid dataEventRecords")).await;

    // Tampered: the first token's signature over the second token's claims.
    let [header, _, signature]: [&str; 3] = first.access_token.split('.').collect::<Vec<_>>().try_into().unwrap();
    let payload = second.access_token.split('.').nth(1).unwrap();
    let spliced = format!("{header}.{payload}.{signature}");
    let why = refused(&f, &spliced).await;
    assert!(why.contains("signature"), "{why}");

    // Validly signed with our access-token key, but not typed as an access token (RFC 9068 §4).
    let (_, claims) = verify(&f, &first.access_token, SigningAlg::Es256);
    let untyped = f.state.published().keyring.sign(SigningAlg::Es256, &claims, Some("JWT")).unwrap();
    let why = refused(&f, &untyped).await;
    assert!(why.contains("typ is \"JWT\""), "{why}");
    let application_typed =
        f.state.published().keyring.sign(SigningAlg::Es256, &claims, Some("application/at+jwt")).unwrap();
    resolve(&f, &application_typed).await; // RFC 9068 §4 accepts the full media type too.

    // An ID token is RS256: refused before its typ is read.
    let why = refused(&f, first.id_token.as_deref().unwrap()).await;
    assert!(why.contains("RS256"), "{why}");

    // Signed and typed, but no such token was recorded.
    let mut unrecorded = claims.clone();
    unrecorded.insert("jti".into(), Value::from(secret::new_id()));
    let unrecorded = f.state.published().keyring.sign(SigningAlg::Es256, &unrecorded, Some("at+jwt")).unwrap();
    assert_eq!(refused(&f, &unrecorded).await, "the access token is unknown");

    assert_eq!(refused(&f, &secret::generate().unwrap()).await, "the access token is unknown");
    assert_eq!(refused(&f, "").await, "the access token is empty");
    let why = refused(&f, "a.b.c.d.e").await;
    assert!(why.starts_with("the access token does not verify"), "{why}");
    let why = refused(&f, "not.a.jwt").await;
    assert!(why.starts_with("the access token does not verify"), "{why}");
}
both_databases!(refused_tokens, forged_foreign_and_unknown_tokens_are_invalid);
