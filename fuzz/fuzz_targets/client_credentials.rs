//! HTTP Basic client credentials (`client_credentials::parse_basic`, RFC 6749 §2.3.1).
//!
//! Besides not panicking:
//! - whatever the header, an accepted id and secret are exactly the form-urlencoded decoding (Appendix B: `+`
//!   is a space, `%XX` a byte) of the two halves around the first `:`, by a decoder written here from the RFC:
//!   no character of the credentials is dropped or lets a different secret through;
//! - any id and secret (the input split at its first newline), encoded as a client must encode them, come back
//!   unchanged.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use portcullis_core::protocol::client_credentials::parse_basic;
use url::form_urlencoded::byte_serialize;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    if let Ok(credentials) = parse_basic(text) {
        let encoded = text.strip_prefix("Basic ").or_else(|| text.strip_prefix("basic ")).expect("accepted as Basic");
        let decoded = STANDARD.decode(encoded.trim()).expect("accepted as base64");
        let decoded = String::from_utf8(decoded).expect("accepted as UTF-8");
        let (id, secret) = decoded.split_once(':').expect("accepted with a colon");
        assert_eq!(credentials.client_id, form_decode(id), "client id of {decoded:?}");
        assert_eq!(credentials.client_secret, form_decode(secret), "secret of {decoded:?}");
    }

    let (id, secret) = text.split_once('\n').unwrap_or((text, ""));
    let encode = |value: &str| byte_serialize(value.as_bytes()).collect::<String>();
    let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))));
    let credentials = parse_basic(&header).expect("well-encoded credentials are accepted");
    assert_eq!((credentials.client_id.as_str(), credentials.client_secret.as_str()), (id, secret));
});

/// application/x-www-form-urlencoded decoding of one value (WHATWG URL §5.1): `+` is a space, `%` with two hex
/// digits is that byte, every other byte is itself; the bytes are then read as UTF-8, invalid sequences
/// becoming U+FFFD.
fn form_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            (byte, _, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
