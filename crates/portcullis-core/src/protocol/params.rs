//! Raw request parameters: the name/value pairs of a query string or an `application/x-www-form-urlencoded`
//! body, before any endpoint reads them.
//!
//! Three rules of RFC 6749 §3.1 apply to every endpoint and live here, so no endpoint can forget them:
//! a parameter sent twice is refused, an empty value counts as absent, and the input is bounded
//! (checklist T5, X1).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use url::form_urlencoded;

use crate::error::OAuthError;
use crate::protocol::quoted;

/// How much input [`Params`] accepts before it refuses the request (checklist X1).
///
/// The defaults leave room for every legitimate request (the largest value a client sends is an `id_token_hint`
/// of a few kilobytes) while keeping the memory one request can claim small and fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamLimits {
    /// Default 100: no OAuth or OpenID Connect request needs more than about twenty.
    pub max_parameters: usize,
    /// Default 256 bytes: parameter names are short words; a long one is an attack or a bug.
    pub max_name_bytes: usize,
    /// Default 8 KiB (decoded): an `id_token_hint` signed with RSA-4096 and carrying many claims fits.
    pub max_value_bytes: usize,
    /// Default 64 KiB (encoded): checked first, before anything is decoded.
    pub max_input_bytes: usize,
}

impl Default for ParamLimits {
    fn default() -> Self {
        Self { max_parameters: 100, max_name_bytes: 256, max_value_bytes: 8 * 1024, max_input_bytes: 64 * 1024 }
    }
}

/// The parameters of one request, each present at most once and never empty.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

/// Parameters whose values are secrets or personal data; [`Params`]' `Debug` output hides them so a request
/// logged while debugging does not leak a credential.
const REDACTED: [&str; 10] = [
    "client_secret",
    "client_assertion",
    "code",
    "code_verifier",
    "device_code",
    "id_token_hint",
    "password",
    "refresh_token",
    "token",
    "user_code",
];

impl Params {
    /// Parses a query string (without the `?`) or an `application/x-www-form-urlencoded` body with the
    /// default [`ParamLimits`].
    pub fn parse(input: &[u8]) -> Result<Self, OAuthError> {
        Self::parse_with_limits(input, ParamLimits::default())
    }

    pub fn parse_with_limits(input: &[u8], limits: ParamLimits) -> Result<Self, OAuthError> {
        // Refuse oversized input before decoding anything, so its cost stays proportional to the limit.
        if input.len() > limits.max_input_bytes {
            return Err(OAuthError::invalid_request(format!(
                "the request parameters take {} bytes; at most {} are accepted",
                input.len(),
                limits.max_input_bytes
            )));
        }
        Self::from_pairs_with_limits(form_urlencoded::parse(input), limits)
    }

    /// Builds the parameters from pairs that are already decoded (a framework's extractor, a test), applying
    /// the same rules as [`Params::parse`].
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, OAuthError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_pairs_with_limits(pairs, ParamLimits::default())
    }

    pub fn from_pairs_with_limits<I, K, V>(pairs: I, limits: ParamLimits) -> Result<Self, OAuthError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut values = BTreeMap::new();
        // Names seen so far, empty values included: `a=&a=x` still sends `a` twice.
        let mut seen: HashSet<String> = HashSet::new();
        for (count, (name, value)) in pairs.into_iter().enumerate() {
            let (name, value) = (name.as_ref(), value.as_ref());
            if count >= limits.max_parameters {
                return Err(OAuthError::invalid_request(format!(
                    "the request has more than {} parameters",
                    limits.max_parameters
                )));
            }
            if name.len() > limits.max_name_bytes {
                return Err(OAuthError::invalid_request(format!(
                    "a parameter name is longer than {} bytes: {}",
                    limits.max_name_bytes,
                    quoted(name)
                )));
            }
            if value.len() > limits.max_value_bytes {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {} is {} bytes long; at most {} are accepted",
                    quoted(name),
                    value.len(),
                    limits.max_value_bytes
                )));
            }
            // `form_urlencoded` decodes bytes that are not UTF-8 into U+FFFD. No OAuth value needs that
            // character, and silently altering a `state` or a `redirect_uri` is worse than refusing it.
            if name.contains(char::REPLACEMENT_CHARACTER) || value.contains(char::REPLACEMENT_CHARACTER) {
                return Err(OAuthError::invalid_request(format!("the parameter {} is not valid UTF-8", quoted(name))));
            }
            if name.is_empty() {
                // `=value` names nothing; like an unknown parameter, it is ignored.
                continue;
            }
            // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
            if !seen.insert(name.to_owned()) {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {} was sent more than once; each parameter may appear only once \
                     (RFC 6749 §3.1)",
                    quoted(name)
                )));
            }
            // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from the
            // request."
            if !value.is_empty() {
                values.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(Self { values })
    }

    /// The value of `name`, or `None` when it was not sent or sent empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `name`, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("the parameter {name:?} is required")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Every non-empty parameter, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.values {
            if REDACTED.contains(&name.as_str()) {
                map.entry(name, &"[redacted]");
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn parse(input: &str) -> Result<Params, OAuthError> {
        Params::parse(input.as_bytes())
    }

    #[test]
    fn rfc6749_3_1_decodes_form_encoding() {
        let params = parse("scope=openid+profile&redirect_uri=https%3A%2F%2Fa.example%2Fcb").unwrap();
        assert_eq!(params.get("scope"), Some("openid profile"));
        assert_eq!(params.get("redirect_uri"), Some("https://a.example/cb"));
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn rfc6749_3_1_duplicate_parameter_is_invalid_request() {
        let err = parse("client_id=a&scope=openid&client_id=b").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"client_id\""), "{}", err.description);
        assert!(err.description.contains("more than once"), "{}", err.description);
    }

    #[test]
    fn checklist_t5_duplicate_with_empty_value_is_invalid_request() {
        let err = parse("state=&state=xyz").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"state\""), "{}", err.description);
    }

    #[test]
    fn checklist_t5_duplicate_through_encoding_is_invalid_request() {
        // `%73cope` decodes to `scope`: the rule applies to names after decoding.
        let err = parse("scope=openid&%73cope=admin").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"scope\""), "{}", err.description);
    }

    #[test]
    fn rfc6749_3_1_empty_value_is_absent() {
        let params = parse("client_id=&state=x").unwrap();
        assert_eq!(params.get("client_id"), None);
        assert!(!params.contains("client_id"));
        assert_eq!(params.get("state"), Some("x"));
    }

    #[test]
    fn rfc6749_3_1_require_names_missing_parameter() {
        let params = parse("client_id=&state=x").unwrap();
        let err = params.require("client_id").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert_eq!(err.description, "the parameter \"client_id\" is required");
        assert_eq!(params.require("state").unwrap(), "x");
    }

    #[test]
    fn checklist_x1_too_many_parameters_is_invalid_request() {
        let input: Vec<String> = (0..101).map(|i| format!("p{i}=v")).collect();
        let err = parse(&input.join("&")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("more than 100 parameters"), "{}", err.description);
        // One fewer is fine.
        assert_eq!(parse(&input[..100].join("&")).unwrap().len(), 100);
    }

    #[test]
    fn checklist_x1_oversized_value_is_invalid_request() {
        let err = parse(&format!("state={}", "s".repeat(8 * 1024 + 1))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"state\""), "{}", err.description);
        assert!(err.description.contains("8193 bytes"), "{}", err.description);
        assert!(parse(&format!("state={}", "s".repeat(8 * 1024))).is_ok());
    }

    #[test]
    fn checklist_x1_oversized_name_is_invalid_request() {
        let err = parse(&format!("{}=v", "n".repeat(257))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("parameter name"), "{}", err.description);
    }

    #[test]
    fn checklist_x1_oversized_input_is_refused_before_decoding() {
        let limits = ParamLimits { max_input_bytes: 10, ..ParamLimits::default() };
        let err = Params::parse_with_limits(b"state=0123456789", limits).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("16 bytes"), "{}", err.description);
    }

    #[test]
    fn invalid_utf8_is_invalid_request() {
        let err = parse("state=%FF%FE").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"state\""), "{}", err.description);
        assert!(err.description.contains("UTF-8"), "{}", err.description);
    }

    #[test]
    fn checklist_o2_unknown_and_nameless_parameters_are_kept_or_ignored() {
        let params = parse("=orphan&x-custom=1").unwrap();
        assert_eq!(params.get("x-custom"), Some("1"));
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn from_pairs_applies_the_same_rules() {
        let err = Params::from_pairs([("a", "1"), ("a", "2")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"a\""), "{}", err.description);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let params = parse("client_id=app&client_secret=hunter2&code_verifier=v").unwrap();
        let shown = format!("{params:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(shown.contains("app"), "{shown}");
    }
}
