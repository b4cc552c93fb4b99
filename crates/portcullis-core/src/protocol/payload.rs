//! What a stored token's row remembers (its `payload` column, JSON): one type per kind of token that is
//! presented back to the provider, written and read through [`Payload`] only, so that the writer (the
//! authorization endpoint, the token endpoint, the device endpoint) and the reader (the grants) cannot drift
//! apart, and an unknown or damaged payload is reported the same way wherever it is met.
//!
//! The JSON shapes are stable: rows written by earlier versions must still read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::error::OAuthError;
use crate::model::{Token, TokenType};
use crate::protocol::pkce::CodeChallenge;
use crate::protocol::scope::ScopeSet;

pub use crate::protocol::device::{DeviceCodePayload, UserCodePayload};

/// A row's payload could not be read: the store holds something this version does not understand. Never the
/// client's fault, so it becomes `server_error` with the detail for the logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {token_id} {problem}")]
pub struct PayloadError {
    pub kind: &'static str,
    pub token_id: String,
    pub problem: String,
}

impl From<PayloadError> for OAuthError {
    fn from(error: PayloadError) -> Self {
        OAuthError::server_error("the provider could not read what it recorded for this grant")
            .with_detail(error.to_string())
    }
}

/// A typed payload of one kind of token row.
pub trait Payload: Serialize + DeserializeOwned {
    /// The only kind of row that holds this payload.
    const KIND: TokenType;

    /// Reads the payload of `token`, which must be of [`Payload::KIND`].
    fn read(token: &Token) -> Result<Self, PayloadError> {
        let error = |problem: String| PayloadError { kind: Self::KIND.as_str(), token_id: token.id.clone(), problem };
        if token.token_type != Self::KIND {
            return Err(error(format!(
                "is read as a {}, but the row is a {}",
                Self::KIND.as_str(),
                token.token_type.as_str()
            )));
        }
        let text = token.payload.as_deref().ok_or_else(|| error("has no payload".to_owned()))?;
        serde_json::from_str(text).map_err(|cause| error(format!("has an unreadable payload: {cause}")))
    }

    /// The JSON to store in the row's `payload` column.
    fn write(&self) -> Result<String, PayloadError> {
        serde_json::to_string(self).map_err(|cause| PayloadError {
            kind: Self::KIND.as_str(),
            token_id: String::new(),
            problem: format!("cannot be written: {cause}"),
        })
    }
}

/// What the authorization endpoint records with a code, for the token endpoint to check and carry on
/// (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePayload {
    /// The redirect URI the code was sent to: a token request that names one must name this one.
    pub redirect_uri: String,
    /// Whether the authorization request named it (RFC 6749 §4.1.3: then the token request must too).
    pub redirect_uri_in_request: bool,
    /// The PKCE challenge, when the request had one (S256 only).
    #[serde(with = "challenge_text")]
    pub code_challenge: Option<CodeChallenge>,
    /// Echoed in the ID token (OIDC Core §3.1.3.6).
    pub nonce: Option<String>,
    /// The granted scopes.
    pub scope: ScopeSet,
    /// When the user last entered credentials (the ID token's `auth_time`), in seconds since the epoch.
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    /// The provider session the code was issued in (the ID token's `sid`).
    pub sid: Option<String>,
}

impl Payload for CodePayload {
    const KIND: TokenType = TokenType::AuthorizationCode;
}

/// What a refresh token's row remembers for the refresh grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenPayload {
    /// The scopes granted with it: a refresh may keep or narrow them (RFC 6749 §6).
    pub scope: ScopeSet,
    /// The original authentication time. OIDC Core §12.2: a refreshed ID token's `auth_time` "MUST represent
    /// the time of the original authentication".
    #[serde(default, with = "time::serde::timestamp::option")]
    pub auth_time: Option<OffsetDateTime>,
    /// The provider session the tokens were issued in, carried to refreshed ID tokens.
    #[serde(default)]
    pub sid: Option<String>,
    /// The refresh token this one replaced, when it was issued by rotation: the reuse rule follows it.
    #[serde(default)]
    pub previous: Option<String>,
    /// The user's security stamp at issuance: it changes with the credentials, and a refresh token issued
    /// before must then be refused. `None` for client subjects.
    #[serde(default)]
    pub security_stamp: Option<String>,
}

impl Payload for RefreshTokenPayload {
    const KIND: TokenType = TokenType::RefreshToken;
}

impl Payload for DeviceCodePayload {
    const KIND: TokenType = TokenType::DeviceCode;
}

impl Payload for UserCodePayload {
    const KIND: TokenType = TokenType::UserCode;
}

/// A PKCE challenge as its S256 text, checked again when read back.
mod challenge_text {
    use super::*;

    pub fn serialize<S: Serializer>(challenge: &Option<CodeChallenge>, serializer: S) -> Result<S::Ok, S::Error> {
        match challenge {
            Some(challenge) => serializer.serialize_some(challenge.as_str()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<CodeChallenge>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| CodeChallenge::parse(&text, Some("S256")))
            .transpose()
            .map_err(|error| serde::de::Error::custom(error.description))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::model::TokenStatus;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn row(kind: TokenType, payload: Option<&str>) -> Token {
        Token {
            id: "row-1".into(),
            token_type: kind,
            subject: Some("alice".into()),
            client_id: "angularclient".into(),
            authorization_id: Some("consent".into()),
            reference_digest: Some("digest".into()),
            status: TokenStatus::Valid,
            created_at: datetime!(2026-11-01 12:00 UTC),
            expires_at: None,
            redeemed_at: None,
            payload: payload.map(str::to_owned),
            family_id: None,
            successor_id: None,
            successor_value: None,
        }
    }

    #[test]
    fn a_code_payload_written_by_earlier_versions_still_reads() {
        // The exact JSON the authorization endpoint has always written.
        let stored = format!(
            r#"{{"redirect_uri":"http://localhost:4200/callback","redirect_uri_in_request":true,"code_challenge":"{CHALLENGE}","nonce":"n-1","scope":"openid profile","auth_time":1793534400,"sid":"s-1"}}"#
        );
        let payload = CodePayload::read(&row(TokenType::AuthorizationCode, Some(&stored))).unwrap();
        assert_eq!(payload.redirect_uri, "http://localhost:4200/callback");
        assert_eq!(payload.code_challenge.as_ref().map(CodeChallenge::as_str), Some(CHALLENGE));
        assert_eq!(payload.scope.to_string(), "openid profile");
        assert_eq!(payload.auth_time.unix_timestamp(), 1_793_534_400);
        let again = CodePayload::read(&row(TokenType::AuthorizationCode, Some(&payload.write().unwrap()))).unwrap();
        assert_eq!(again, payload);
    }

    #[test]
    fn a_refresh_payload_round_trips_and_old_rows_without_optional_fields_read() {
        let payload = RefreshTokenPayload {
            scope: ScopeSet::parse("openid offline_access").unwrap(),
            auth_time: Some(datetime!(2026-11-01 12:00 UTC)),
            sid: Some("s-1".into()),
            previous: Some("row-0".into()),
            security_stamp: Some("stamp".into()),
        };
        let text = payload.write().unwrap();
        assert_eq!(RefreshTokenPayload::read(&row(TokenType::RefreshToken, Some(&text))).unwrap(), payload);
        let minimal = RefreshTokenPayload::read(&row(TokenType::RefreshToken, Some(r#"{"scope":"openid"}"#))).unwrap();
        assert_eq!(minimal.previous, None);
    }

    #[test]
    fn damaged_missing_and_misplaced_payloads_are_payload_errors_that_become_server_error() {
        let cases = [
            row(TokenType::AuthorizationCode, None),
            row(TokenType::AuthorizationCode, Some("not json")),
            row(TokenType::AuthorizationCode, Some(r#"{"redirect_uri":"x"}"#)),
            // A challenge that is not S256 text, and a scope with a forbidden character.
            row(
                TokenType::AuthorizationCode,
                Some(
                    r#"{"redirect_uri":"x","redirect_uri_in_request":false,"code_challenge":"short","nonce":null,"scope":"openid","auth_time":1,"sid":null}"#,
                ),
            ),
            row(
                TokenType::AuthorizationCode,
                Some(
                    r#"{"redirect_uri":"x","redirect_uri_in_request":false,"code_challenge":null,"nonce":null,"scope":"open\"id","auth_time":1,"sid":null}"#,
                ),
            ),
            row(TokenType::RefreshToken, Some(r#"{"redirect_uri":"x"}"#)),
        ];
        for token in cases {
            let error = CodePayload::read(&token).unwrap_err();
            assert_eq!(error.token_id, "row-1");
            let oauth = OAuthError::from(error.clone());
            assert_eq!(oauth.code, crate::ErrorCode::ServerError, "{error}");
            // The public description never carries the stored data; the detail does, for the logs.
            assert!(!oauth.description.contains("row-1"));
            assert!(oauth.detail.unwrap().contains("row-1"));
        }
    }
}
