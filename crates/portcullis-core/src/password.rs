//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane — the crate's defaults).
//!
//! Hashing costs tens of milliseconds of CPU on purpose: callers on an async runtime run these functions on
//! a blocking thread.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError(error.to_string()))
}

/// Whether `password` matches the PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as [`verify`] against a real hash, for sign-in attempts with an unknown user name, so
/// response times do not reveal which accounts exist (security checklist T3, U1). Always `false`.
pub fn verify_against_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("portcullis-dummy-password").unwrap_or_default());
    let _ = verify(password, dummy);
    false
}

/// Minimum rules for a new password: long enough to resist guessing; no composition rules (NIST SP 800-63B §5.1.1.2).
pub fn check_strength(password: &str) -> Result<(), String> {
    const MIN: usize = 8;
    const MAX: usize = 256;
    let length = password.chars().count();
    if length < MIN {
        return Err(format!("the password must have at least {MIN} characters (it has {length})"));
    }
    if length > MAX {
        return Err(format!("the password must have at most {MAX} characters (it has {length})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_and_verifies_only_the_right_password() {
        let phc = hash("Demo-Passw0rd!").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify("Demo-Passw0rd!", &phc));
        assert!(!verify("demo-passw0rd!", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn same_password_gets_a_different_salt() {
        assert_ne!(hash("x-password").unwrap(), hash("x-password").unwrap());
    }

    #[test]
    fn malformed_stored_hash_never_matches() {
        assert!(!verify("anything", "not-a-phc-string"));
        assert!(!verify_against_dummy("portcullis-dummy-password"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength(&"x".repeat(300)).is_err());
        assert!(check_strength("Demo-Passw0rd!").is_ok());
    }
}
