//! Argon2id password hashing (OWASP parameters) stored as PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted, so no megabyte passwords reach Argon2.
pub const MAX_LENGTH: usize = 256;

/// Why a password was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Too short or too long.
    #[error("a password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")]
    Length,
    /// The hasher failed (bad stored hash or parameters).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn hasher() -> Argon2<'static> {
    // OWASP's recommendation, which is also the crate's default: m = 19 MiB, t = 2, p = 1.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// Checks a new password's length.
pub fn validate(password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if (MIN_LENGTH..=MAX_LENGTH).contains(&len) {
        Ok(())
    } else {
        Err(PasswordError::Length)
    }
}

/// Hashes a password into a PHC string. CPU-heavy: call it off the async threads.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    validate(password)?;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Checks a password against a stored PHC string. CPU-heavy: call it off the async threads.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Whether a stored hash was made with other parameters than today's (rehash at next login).
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let current = Params::DEFAULT;
    let param = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || param("m") != Some(current.m_cost())
        || param("t") != Some(current.t_cost())
        || param("p") != Some(current.p_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("wrong horse battery", &phc));
    }

    #[test]
    fn weaker_parameters_need_a_rehash() {
        let current = hash("correct horse battery").unwrap();
        assert!(!needs_rehash(&current));
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let old = weak
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(needs_rehash(&old));
        assert!(
            verify("correct horse battery", &old),
            "old hashes still verify"
        );
    }

    #[test]
    fn lengths_are_bounded() {
        assert_eq!(hash("short"), Err(PasswordError::Length));
        assert_eq!(
            hash(&"x".repeat(MAX_LENGTH + 1)),
            Err(PasswordError::Length)
        );
    }
}
