//! A validated access token, and the claim checks shared by introspection answers and JWTs (RFC 9068 §4,
//! RFC 7662 §2.2).

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::Rejection;
use crate::rejection::clip;

/// What a request's access token says, once every check passed. Handlers get it with the axum extractor (see
/// [`crate::RequireBearerLayer`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// `iss`; always present for a JWT, and for introspection answers of Portcullis.
    pub issuer: Option<String>,
    /// `sub`: the user, or the client itself for client credentials.
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// `username` (introspection only).
    pub username: Option<String>,
    pub audiences: Vec<String>,
    /// The granted scopes, from the space-separated `scope` claim.
    pub scopes: Vec<String>,
    /// The roles from the role claim (by default `role`, a string or an array of strings).
    pub roles: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub issued_at: Option<OffsetDateTime>,
    pub auth_time: Option<OffsetDateTime>,
    /// `jti`.
    pub token_id: Option<String>,
    /// Every claim (or introspection member) as received, for what the fields above do not cover.
    pub claims: Map<String, Value>,
}

impl AccessToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}

/// What a token must say to be accepted here.
#[derive(Debug, Clone)]
pub(crate) struct Expected {
    /// `iss`, compared as an exact string (RFC 9068 §4, OIDC Discovery §4.3).
    pub issuer: String,
    /// This API's name in `aud`; `None` skips the check (only for an API that truly accepts any audience).
    pub audience: Option<String>,
    /// Tolerated clock difference between the provider and this API, for `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    pub role_claim: String,
}

/// Where the claims came from: a JWT must carry `iss` and `exp` (RFC 9068 §2.2); an introspection answer
/// comes from the issuer itself and RFC 7662 §2.2 makes both optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Jwt,
    Introspection,
}

/// RFC 9068 §4 steps 4–7 (for a JWT; steps 1–3 are the signature's, in `jwt.rs`), also applied to an
/// introspection answer so both modes refuse the same tokens with the same words.
pub(crate) fn check(
    claims: Map<String, Value>,
    expected: &Expected,
    now: OffsetDateTime,
    source: Source,
) -> Result<AccessToken, Rejection> {
    // "The issuer identifier for the authorization server [...] MUST exactly match the value of the iss claim."
    let issuer = optional_string(&claims, "iss")?;
    match (&issuer, source) {
        (Some(found), _) if *found != expected.issuer => {
            return Err(invalid(format!("issuer mismatch: expected {:?}, found {:?}", expected.issuer, clip(found))));
        }
        (None, Source::Jwt) => {
            return Err(invalid(format!("the token has no issuer (iss); expected {:?}", expected.issuer)));
        }
        _ => {}
    }

    // "The resource server MUST validate that the aud claim contains a resource indicator value corresponding to
    // an identifier the resource server expects for itself."
    let audiences = string_or_array(&claims, "aud")?;
    if let Some(audience) = &expected.audience
        && !audiences.iter().any(|found| found == audience)
    {
        return Err(invalid(match audiences.as_slice() {
            [] => format!("the token has no audience (aud); expected {audience:?}"),
            [one] => format!("audience mismatch: expected {audience:?}, found {:?}", clip(one)),
            many => format!(
                "audience mismatch: expected {audience:?}, found [{}]",
                many.iter().map(|one| format!("{:?}", clip(one))).collect::<Vec<_>>().join(", ")
            ),
        }));
    }

    // "The current time MUST be before the time represented by the exp claim." Plus the leeway for clock skew.
    let expires_at = optional_time(&claims, "exp")?;
    match expires_at {
        // Checked: `exp + leeway` past the last instant `time` represents (year 9999) would panic, and such a
        // token is simply not expired.
        Some(exp) if exp.checked_add(expected.leeway).is_some_and(|latest| now > latest) => {
            return Err(invalid(format!(
                "the token expired at {} (it is now {}; leeway {} s)",
                show(exp),
                show(now),
                expected.leeway.whole_seconds()
            )));
        }
        None if source == Source::Jwt => return Err(invalid("the token has no expiry (exp)")),
        _ => {}
    }
    // RFC 7519 §4.1.5: "MUST NOT be accepted for processing" before `nbf`.
    if let Some(nbf) = optional_time(&claims, "nbf")?
        && now + expected.leeway < nbf
    {
        return Err(invalid(format!("the token is not valid before {} (it is now {})", show(nbf), show(now))));
    }
    // A token issued in the future comes from a provider whose clock is off by more than the leeway, or is forged.
    let issued_at = optional_time(&claims, "iat")?;
    if let Some(iat) = issued_at
        && now + expected.leeway < iat
    {
        return Err(invalid(format!("the token was issued in the future, at {} (it is now {})", show(iat), show(now))));
    }

    let scopes = optional_string(&claims, "scope")?
        .map(|scope| scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(AccessToken {
        issuer,
        subject: optional_string(&claims, "sub")?,
        client_id: optional_string(&claims, "client_id")?,
        username: optional_string(&claims, "username")?,
        audiences,
        scopes,
        roles: string_or_array(&claims, &expected.role_claim)?,
        expires_at,
        issued_at,
        auth_time: optional_time(&claims, "auth_time")?,
        token_id: optional_string(&claims, "jti")?,
        claims,
    })
}

pub(crate) fn invalid(description: impl Into<String>) -> Rejection {
    Rejection::InvalidToken(description.into())
}

/// An instant as RFC 3339 for a description; the Unix time if it cannot be formatted.
pub(crate) fn show(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn optional_string(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, Rejection> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(invalid(format!("the claim {name:?} is not a string"))),
    }
}

/// RFC 7519 §4.1.3: "In the general case, the aud value is an array of case-sensitive strings [...] In the
/// special case when the JWT has one audience, the aud value MAY be a single case-sensitive string".
fn string_or_array(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>, Rejection> {
    let not_strings = || invalid(format!("the claim {name:?} is neither a string nor an array of strings"));
    match claims.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(many)) => {
            many.iter().map(|value| value.as_str().map(str::to_owned).ok_or_else(not_strings)).collect()
        }
        Some(_) => Err(not_strings()),
    }
}

/// RFC 7519 §2 NumericDate: seconds since the epoch, possibly with a fraction (dropped: whole seconds are
/// what every check here needs).
fn optional_time(claims: &Map<String, Value>, name: &str) -> Result<Option<OffsetDateTime>, Rejection> {
    let bad = || invalid(format!("the claim {name:?} is not a NumericDate (seconds since 1970)"));
    let Some(value) = claims.get(name).filter(|value| !value.is_null()) else { return Ok(None) };
    let seconds = match value.as_i64() {
        Some(seconds) => seconds,
        // Truncation is the intent: a fractional NumericDate is rounded down to the second.
        #[allow(clippy::cast_possible_truncation)]
        None => value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64).ok_or_else(bad)?,
    };
    OffsetDateTime::from_unix_timestamp(seconds).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

    fn expected() -> Expected {
        Expected {
            issuer: "https://id.example".into(),
            audience: Some("api".into()),
            leeway: Duration::seconds(30),
            role_claim: "role".into(),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "https://id.example", "aud": "api", "sub": "alice", "client_id": "spa",
            "exp": NOW.unix_timestamp() + 60, "iat": NOW.unix_timestamp(), "nbf": NOW.unix_timestamp(),
            "scope": "openid dataEventRecords", "role": ["admin", "user"], "jti": "t1",
        });
        for (name, member) in value.as_object().unwrap() {
            base[name] = member.clone();
        }
        base.as_object().unwrap().clone()
    }

    fn refusal(value: Value, source: Source) -> String {
        match check(claims(value), &expected(), NOW, source) {
            Err(Rejection::InvalidToken(text)) => text,
            other => panic!("expected invalid_token, got {other:?}"),
        }
    }

    #[test]
    fn a_good_token_yields_its_claims() {
        let token = check(claims(json!({})), &expected(), NOW, Source::Jwt).unwrap();
        assert_eq!(token.scopes, ["openid", "dataEventRecords"]);
        assert_eq!(token.roles, ["admin", "user"]);
        assert_eq!(token.audiences, ["api"]);
        assert_eq!(token.subject.as_deref(), Some("alice"));
        assert_eq!(token.expires_at, Some(NOW + Duration::minutes(1)));
        assert!(token.has_scope("dataEventRecords") && !token.has_scope("data"));
    }

    #[test]
    fn rfc9068_4_another_issuer_names_expected_and_found() {
        assert_eq!(
            refusal(json!({"iss": "https://evil.example"}), Source::Jwt),
            "issuer mismatch: expected \"https://id.example\", found \"https://evil.example\""
        );
        assert!(refusal(json!({"iss": null}), Source::Jwt).contains("no issuer"));
        assert!(check(claims(json!({"iss": null})), &expected(), NOW, Source::Introspection).is_ok());
    }

    #[test]
    fn rfc9068_4_another_audience_names_expected_and_found() {
        assert_eq!(
            refusal(json!({"aud": "consoleclient"}), Source::Jwt),
            "audience mismatch: expected \"api\", found \"consoleclient\""
        );
        assert_eq!(
            refusal(json!({"aud": ["a", "b"]}), Source::Introspection),
            "audience mismatch: expected \"api\", found [\"a\", \"b\"]"
        );
        assert!(refusal(json!({"aud": null}), Source::Jwt).contains("no audience"));
        assert!(check(claims(json!({"aud": ["x", "api"]})), &expected(), NOW, Source::Jwt).is_ok());
    }

    #[test]
    fn rfc9068_4_expiry_is_checked_with_the_leeway_and_says_when() {
        let exp = NOW.unix_timestamp() - 30;
        assert!(check(claims(json!({"exp": exp})), &expected(), NOW, Source::Jwt).is_ok());
        assert_eq!(
            refusal(json!({"exp": exp - 1}), Source::Jwt),
            "the token expired at 2026-11-01T11:59:29Z (it is now 2026-11-01T12:00:00Z; leeway 30 s)"
        );
        assert!(refusal(json!({"exp": null}), Source::Jwt).contains("no expiry"));
        assert!(check(claims(json!({"exp": null})), &expected(), NOW, Source::Introspection).is_ok());
    }

    #[test]
    fn an_expiry_at_the_last_representable_second_is_not_a_panic() {
        // Found by fuzzing introspection answers: adding the leeway to this `exp` overflowed and panicked.
        let end_of_time = 253_402_300_799_i64;
        for source in [Source::Jwt, Source::Introspection] {
            let token = check(claims(json!({"exp": end_of_time})), &expected(), NOW, source).unwrap();
            assert_eq!(token.expires_at.unwrap().unix_timestamp(), end_of_time);
        }
    }

    #[test]
    fn rfc7519_4_1_5_not_before_and_future_iat_are_refused() {
        let later = NOW.unix_timestamp() + 31;
        assert!(refusal(json!({"nbf": later}), Source::Jwt).contains("not valid before"));
        assert!(refusal(json!({"iat": later}), Source::Jwt).contains("issued in the future"));
        assert!(check(claims(json!({"nbf": later - 1})), &expected(), NOW, Source::Jwt).is_ok());
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused_not_ignored() {
        assert!(refusal(json!({"exp": "tomorrow"}), Source::Jwt).contains("NumericDate"));
        assert!(refusal(json!({"aud": 7}), Source::Jwt).contains("aud"));
        assert!(refusal(json!({"role": [1]}), Source::Jwt).contains("role"));
        assert!(refusal(json!({"scope": ["a"]}), Source::Jwt).contains("scope"));
        let fractional = check(claims(json!({"exp": 1.8e9 + 0.5})), &expected(), NOW, Source::Jwt).unwrap();
        assert_eq!(fractional.expires_at.unwrap().unix_timestamp(), 1_800_000_000);
    }
}
