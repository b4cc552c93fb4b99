//! HTTP Basic client credentials (`client_secret_basic`, RFC 6749 §2.3.1): the value of an `Authorization`
//! header turned into a client id and secret. Pure text handling, kept apart from the server's client
//! authentication so it can be tested and fuzzed without HTTP or a store.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::OAuthError;

/// The client id and secret of a Basic `Authorization` header, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret never reaches a log, even through a debug print of a request.
        f.debug_struct("BasicCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Reads `Basic base64(form_encode(client_id) ":" form_encode(client_secret))`. Every refusal is
/// `invalid_client`, saying what is wrong with the header.
pub fn parse_basic(authorization: &str) -> Result<BasicCredentials, OAuthError> {
    let basic =
        authorization.strip_prefix("Basic ").or_else(|| authorization.strip_prefix("basic ")).ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header must be `Basic base64(client_id:client_secret)`")
        })?;
    let decoded = STANDARD
        .decode(basic.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| OAuthError::invalid_client("the Basic credentials are not valid base64 of UTF-8 text"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::invalid_client("the Basic credentials must be client_id:client_secret"))?;
    // RFC 6749 §2.3.1: both halves are application/x-www-form-urlencoded before base64.
    Ok(BasicCredentials { client_id: form_decode(id), client_secret: form_decode(secret) })
}

/// application/x-www-form-urlencoded decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(value: &str) -> String {
    // The parser reads a whole body, where a raw `&` ends a value: `s3cret&more` would pass as `s3cret`. An
    // encoder never leaves `&` raw, so a raw one is kept as the character it is, like `=` already is.
    let body = format!("v={}", value.replace('&', "%26"));
    url::form_urlencoded::parse(body.as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn basic(credentials: &str) -> String {
        format!("Basic {}", STANDARD.encode(credentials))
    }

    fn refusal(authorization: &str) -> String {
        let error = parse_basic(authorization).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidClient);
        error.description
    }

    #[test]
    fn rfc6749_2_3_1_id_and_secret_are_read() {
        let credentials = parse_basic(&basic("webapp:s3cret")).unwrap();
        assert_eq!((credentials.client_id.as_str(), credentials.client_secret.as_str()), ("webapp", "s3cret"));
        // The scheme is accepted in lower case too, and whitespace around the credentials is ignored.
        assert_eq!(parse_basic(&format!("basic  {} ", STANDARD.encode("webapp:s3cret"))).unwrap(), credentials);
    }

    #[test]
    fn rfc6749_2_3_1_halves_are_form_decoded() {
        let credentials = parse_basic(&basic("my+app%3A1:p%3Ass+word%25")).unwrap();
        assert_eq!(credentials.client_id, "my app:1");
        assert_eq!(credentials.client_secret, "p:ss word%");
    }

    #[test]
    fn rfc6749_2_3_1_the_first_colon_separates_id_and_secret() {
        let credentials = parse_basic(&basic("app:a:b")).unwrap();
        assert_eq!((credentials.client_id.as_str(), credentials.client_secret.as_str()), ("app", "a:b"));
        let empty = parse_basic(&basic(":")).unwrap();
        assert_eq!((empty.client_id.as_str(), empty.client_secret.as_str()), ("", ""));
    }

    #[test]
    fn a_raw_ampersand_is_kept_so_a_longer_secret_is_not_read_as_its_prefix() {
        // Found by fuzzing: `&` ended the value, so `s3cret&anything` authenticated as `s3cret`.
        let credentials = parse_basic(&basic("app&x=1:s3cret&anything")).unwrap();
        assert_eq!(credentials.client_id, "app&x=1");
        assert_eq!(credentials.client_secret, "s3cret&anything");
    }

    #[test]
    fn another_scheme_is_refused() {
        assert!(refusal("Bearer abc").contains("must be `Basic"));
        assert!(refusal("BASIC d2ViYXBwOnM=").contains("must be `Basic"));
        assert!(refusal("").contains("must be `Basic"));
    }

    #[test]
    fn credentials_that_are_not_base64_of_utf8_are_refused() {
        assert!(refusal("Basic !!!").contains("not valid base64"));
        assert!(refusal(&format!("Basic {}", STANDARD.encode([0xff, b':', b'x']))).contains("not valid base64"));
    }

    #[test]
    fn credentials_without_a_colon_are_refused() {
        assert!(refusal(&basic("webapp")).contains("client_id:client_secret"));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", parse_basic(&basic("webapp:hunter2")).unwrap());
        assert!(!shown.contains("hunter2") && shown.contains("webapp"), "{shown}");
    }
}
