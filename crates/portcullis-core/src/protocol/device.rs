//! The device authorization grant (RFC 8628): user codes, what a device code's row remembers, and the polling
//! rule of §3.5.
//!
//! A device authorization is two token rows that live and expire together: the device code (type
//! `device_code`, `inactive` until the user decides, found by the digest of the 256-bit value the device polls
//! with) and the user code (type `user_code`, found by the digest of the normalized code the user types, its
//! payload naming the device code's row). Nothing here touches storage or reads the clock.
//!
//! The device code is 256 random bits and stored as a plain SHA-256 digest, like every other high-entropy
//! secret ([`crate::secret`]). A user code has only about 34.6 bits: from a plain digest, anyone holding a copy of
//! the token rows would find every live code by trying all 20^8 of them, in minutes. So a user code is stored as
//! an HMAC-SHA-256 under a [`UserCodeKey`] that is not kept in the token rows; where that key comes from is the
//! server's choice, passed in here.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::protocol::scope::ScopeSet;

/// RFC 8628 §6.1: "Further removing vowels to avoid randomly creating words results in the base 20 character
/// set BCDFGHJKLMNPQRSTVWXZ." Upper case letters only: typed on a phone without modifier keys, and without the
/// lookalikes 0/O and 1/I/L-as-digit a mixed alphabet has.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Eight significant characters: 20^8 ≈ 2^34.6 codes. RFC 8628 §5.1: "the entropy is typically less than would
/// be used for the device code [...] It is therefore recommended that the server rate-limit user code
/// attempts" — a short lifetime and the verification page's limit make guessing a live code hopeless.
pub const USER_CODE_LENGTH: usize = 8;

/// RFC 8628 §3.2 `interval`: "If no value is provided, clients MUST use 5 as the default." Sent anyway.
pub const DEFAULT_INTERVAL: u64 = 5;

/// RFC 8628 §3.5 `slow_down`: "the interval MUST be increased by 5 seconds for this and all subsequent
/// requests."
pub const SLOW_DOWN_STEP: u64 = 5;

/// A user code in its normalized form: eight characters of [`USER_CODE_ALPHABET`], without the dash.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A new uniformly random code.
    pub fn generate() -> Result<Self, getrandom::Error> {
        // Rejection sampling: a byte below 240 (12 × 20) maps onto the alphabet without favouring any letter.
        const LIMIT: u8 = 240;
        let mut code = String::with_capacity(USER_CODE_LENGTH);
        let mut bytes = [0u8; 32];
        while code.len() < USER_CODE_LENGTH {
            getrandom::fill(&mut bytes)?;
            for byte in bytes.iter().copied().filter(|byte| *byte < LIMIT) {
                if code.len() == USER_CODE_LENGTH {
                    break;
                }
                code.push(char::from(USER_CODE_ALPHABET[usize::from(byte % 20)]));
            }
        }
        Ok(Self(code))
    }

    /// Reads what a user typed. RFC 8628 §6.1: "the server should strip dashes and other punctuation that it
    /// added for readability [...] the user's input should be uppercased before a comparison". Spaces go too.
    /// `None` when what is left cannot be a code this provider issued.
    pub fn parse(typed: &str) -> Option<Self> {
        let normalized: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t' | '\u{a0}' | '\u{2010}'..='\u{2015}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            normalized.len() == USER_CODE_LENGTH && normalized.bytes().all(|byte| USER_CODE_ALPHABET.contains(&byte));
        valid.then_some(Self(normalized))
    }

    /// The eight characters without punctuation: what is digested and stored.
    pub fn normalized(&self) -> &str {
        &self.0
    }

    /// The HMAC-SHA-256 of the normalized code under `key`, base64url-encoded: what the user code's row is found
    /// by, and what the device code's payload remembers. Without the key, a stored digest tells nothing about
    /// the code (see the module documentation).
    pub fn digest(&self, key: &UserCodeKey) -> String {
        // RFC 2104 §2: HMAC takes keys of any length, so `new_from_slice` cannot fail here.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.0) else {
            unreachable!("HMAC accepts a key of any length")
        };
        mac.update(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `expected` is this code's [`UserCode::digest`] under `key`, compared in constant time.
    pub fn matches_digest(&self, key: &UserCodeKey, expected: &str) -> bool {
        self.digest(key).as_bytes().ct_eq(expected.as_bytes()).into()
    }
}

/// The secret key of [`UserCode::digest`]: 256 bits, the same on every instance of a provider (a code issued
/// by one instance is entered on another). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCodeKey([u8; UserCodeKey::BYTES]);

impl UserCodeKey {
    /// 256 bits: the output size of SHA-256, so the key is as strong as the HMAC built on it.
    pub const BYTES: usize = 32;

    pub const fn new(bytes: [u8; Self::BYTES]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; Self::BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The key as base64url, the form in which it is stored.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads what [`UserCodeKey::encode`] wrote; `None` unless it is exactly 32 bytes of base64url.
    pub fn decode(encoded: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded.trim()).ok()?;
        bytes.try_into().ok().map(Self)
    }
}

/// The key lets whoever holds it, with a copy of the token rows, recover live user codes: never printed.
impl fmt::Debug for UserCodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCodeKey([redacted])")
    }
}

/// Shown as `WDJB-MJHT` (RFC 8628 §6.1: "Dashes or other punctuation may be included for readability").
impl fmt::Display for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = self.0.split_at(USER_CODE_LENGTH / 2);
        write!(f, "{first}-{second}")
    }
}

/// A user code lets whoever holds it approve a device for their account: never printed in logs.
impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode([redacted])")
    }
}

/// What a device code's row remembers (its `payload`, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodePayload {
    /// The requested scopes, already checked against the client's permissions.
    pub scope: ScopeSet,
    /// Seconds the device must wait between polls; grows by [`SLOW_DOWN_STEP`] at every `slow_down`.
    pub interval: u64,
    /// The keyed digest ([`UserCode::digest`]) of the user code issued with it (the user code's row holds the
    /// same digest).
    pub user_code_digest: String,
    /// When the device last polled while the request was pending.
    #[serde(default, with = "time::serde::timestamp::option")]
    pub last_polled_at: Option<OffsetDateTime>,
    /// When the approving user last entered their credentials, set at approval: the ID token's `auth_time`.
    #[serde(default, with = "time::serde::timestamp::option")]
    pub auth_time: Option<OffsetDateTime>,
}

/// The answer to one poll of a pending device code, per RFC 8628 §3.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// Polled no faster than the `interval` (seconds) in force: `authorization_pending`.
    Pending { interval: u64 },
    /// Polled faster than the interval, which has now grown to `interval` seconds: `slow_down`.
    SlowDown { interval: u64 },
    /// The device code is not (or no longer) waiting for the user: approved, denied, redeemed or unknown. The
    /// caller reads the row again and answers from its status.
    NotPending,
}

impl DeviceCodePayload {
    /// A new device code's payload, for `user_code` digested under `key`.
    pub fn new(scope: ScopeSet, user_code: &UserCode, key: &UserCodeKey) -> Self {
        Self {
            scope,
            interval: DEFAULT_INTERVAL,
            user_code_digest: user_code.digest(key),
            last_polled_at: None,
            auth_time: None,
        }
    }

    /// Applies one poll at `now` and says how to answer it. The caller stores the changed payload (atomically
    /// with respect to other polls).
    pub fn poll(&mut self, now: OffsetDateTime) -> PollOutcome {
        let interval = Duration::seconds(i64::try_from(self.interval).unwrap_or(i64::MAX));
        let too_fast = self.last_polled_at.is_some_and(|last| now < last.saturating_add(interval));
        // The next poll is measured from this one, slowed down or not: a client that waits the (new) interval
        // after each answer is never told to slow down again.
        self.last_polled_at = Some(now);
        if too_fast {
            // RFC 8628 §3.5 slow_down: "A variant of "authorization_pending", the authorization request is still
            // pending and polling should continue, but the interval MUST be increased by 5 seconds for this and
            // all subsequent requests."
            self.interval = self.interval.saturating_add(SLOW_DOWN_STEP);
            PollOutcome::SlowDown { interval: self.interval }
        } else {
            PollOutcome::Pending { interval: self.interval }
        }
    }
}

/// What a user code's row remembers (its `payload`, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCodePayload {
    /// The id of the device code's row.
    pub device_code_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

    #[test]
    fn rfc8628_6_1_generated_codes_use_the_base_20_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let code = UserCode::generate().unwrap();
            assert_eq!(code.normalized().len(), USER_CODE_LENGTH);
            assert!(code.normalized().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)), "{}", code.normalized());
            seen.insert(code.normalized().to_owned());
        }
        assert!(seen.len() > 195, "codes repeat: {}", seen.len());
    }

    #[test]
    fn rfc8628_6_1_code_is_shown_with_a_dash() {
        let code = UserCode::parse("WDJBMJHT").unwrap();
        assert_eq!(code.to_string(), "WDJB-MJHT");
        assert_eq!(format!("{code:?}"), "UserCode([redacted])");
    }

    #[test]
    fn rfc8628_6_1_typed_code_is_uppercased_and_stripped_of_dashes_and_spaces() {
        for typed in ["WDJB-MJHT", "wdjb-mjht", "wdjbmjht", " WDJB MJHT ", "Wdjb\u{2013}Mjht", "W-D-J-B-M-J-H-T"] {
            assert_eq!(
                UserCode::parse(typed).map(|c| c.normalized().to_owned()).as_deref(),
                Some("WDJBMJHT"),
                "{typed}"
            );
        }
        let key = UserCodeKey::new([7; UserCodeKey::BYTES]);
        let digest = UserCode::parse("WDJBMJHT").unwrap().digest(&key);
        for typed in ["WDJB-MJHT", "wdjb mjht"] {
            assert_eq!(UserCode::parse(typed).unwrap().digest(&key), digest, "{typed}");
        }
    }

    /// What a leaked copy of the token rows shows of a user code: not its plain SHA-256 (which a search of the
    /// 20^8 codes reverses in minutes), but an HMAC that changes with the key and that only the right code under
    /// the right key matches.
    #[test]
    fn rfc8628_5_1_user_codes_are_digested_under_a_key() {
        let code = UserCode::parse("WDJBMJHT").unwrap();
        let key = UserCodeKey::new([7; UserCodeKey::BYTES]);
        let digest = code.digest(&key);
        assert_ne!(digest, crate::secret::digest("WDJBMJHT"), "a plain SHA-256");
        assert_eq!(digest.len(), 43, "256 bits, base64url");
        assert_ne!(code.digest(&UserCodeKey::new([8; UserCodeKey::BYTES])), digest, "another key");
        assert!(code.matches_digest(&key, &digest));
        assert!(!UserCode::parse("WDJBMJHV").unwrap().matches_digest(&key, &digest));
        assert!(!code.matches_digest(&UserCodeKey::new([8; UserCodeKey::BYTES]), &digest));
        // Exactly HMAC-SHA-256 (RFC 2104) of the normalized code, base64url-encoded.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7; UserCodeKey::BYTES]).unwrap();
        mac.update(b"WDJBMJHT");
        assert_eq!(digest, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn user_code_keys_round_trip_and_never_show() {
        let key = UserCodeKey::generate().unwrap();
        assert_ne!(key, UserCodeKey::generate().unwrap());
        assert_eq!(UserCodeKey::decode(&key.encode()), Some(key.clone()));
        assert_eq!(UserCodeKey::decode("too-short"), None);
        assert_eq!(UserCodeKey::decode(&URL_SAFE_NO_PAD.encode([1u8; 31])), None);
        assert_eq!(format!("{key:?}"), "UserCodeKey([redacted])");
    }

    #[test]
    fn rfc8628_6_1_anything_else_is_not_a_code() {
        for typed in ["", "WDJB-MJH", "WDJB-MJHTX", "WDJB-MJH0", "AEIO-UAEI", "WDJB_MJHT", "WDJB-MJHÉ"] {
            assert_eq!(UserCode::parse(typed), None, "{typed}");
        }
    }

    fn payload() -> DeviceCodePayload {
        let key = UserCodeKey::new([7; UserCodeKey::BYTES]);
        DeviceCodePayload::new(ScopeSet::parse("openid").unwrap(), &UserCode::parse("WDJBMJHT").unwrap(), &key)
    }

    #[test]
    fn rfc8628_3_5_first_poll_and_polls_at_the_interval_are_pending() {
        let mut payload = payload();
        assert_eq!(payload.poll(T0), PollOutcome::Pending { interval: 5 });
        assert_eq!(payload.poll(T0 + Duration::seconds(5)), PollOutcome::Pending { interval: 5 });
        assert_eq!(payload.poll(T0 + Duration::seconds(11)), PollOutcome::Pending { interval: 5 });
        assert_eq!(payload.interval, DEFAULT_INTERVAL);
        assert_eq!(payload.last_polled_at, Some(T0 + Duration::seconds(11)));
    }

    #[test]
    fn rfc8628_3_5_polling_too_fast_is_slow_down_and_the_interval_grows_by_5_seconds() {
        let mut payload = payload();
        assert_eq!(payload.poll(T0), PollOutcome::Pending { interval: 5 });
        assert_eq!(payload.poll(T0 + Duration::seconds(4)), PollOutcome::SlowDown { interval: 10 });
        // Measured from the last poll with the new interval: 9 s after it is still too fast...
        assert_eq!(payload.poll(T0 + Duration::seconds(13)), PollOutcome::SlowDown { interval: 15 });
        // ...and the grown interval holds for all subsequent requests.
        assert_eq!(payload.poll(T0 + Duration::seconds(28)), PollOutcome::Pending { interval: 15 });
        assert_eq!(payload.poll(T0 + Duration::seconds(43)), PollOutcome::Pending { interval: 15 });
        assert_eq!(payload.interval, 15);
    }

    #[test]
    fn payload_round_trips_as_json_with_times_in_seconds() {
        let mut payload = payload();
        payload.poll(T0);
        let json = serde_json::to_string(&payload).unwrap();
        assert!(json.contains(&format!("\"last_polled_at\":{}", T0.unix_timestamp())), "{json}");
        assert_eq!(serde_json::from_str::<DeviceCodePayload>(&json).unwrap(), payload);
    }
}
