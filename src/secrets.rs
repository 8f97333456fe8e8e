//! Secrets at rest: values the hub must read back (a business's AI key) are sealed with
//! XChaCha20-Poly1305 under `SECRETS_KEY`, each with a fresh random nonce and the id of the key
//! that sealed it, so `SECRETS_KEY` can be rotated (`switchboard secrets rotate`).

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::config::Secret;

/// The version tag every sealed value starts with.
const VERSION: &str = "v1";
/// Bytes of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// A 32-byte key; prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretsKey([u8; 32]);

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretsKey({} ***)", self.id())
    }
}

impl SecretsKey {
    /// Reads a key written as 64 hex digits or as standard base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            BASE64
                .decode(text)
                .map_err(|_| "must be 64 hex digits or base64 of 32 bytes".to_string())?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "must be 32 bytes (64 hex digits or base64), not {}",
                b.len()
            )
        })?;
        Ok(Self(key))
    }

    /// A short public id of the key (a hash prefix), stored with what it seals.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"switchboard secrets key id\0")
            .chain_update(self.0)
            .finalize();
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Seals `plain`: `v1.<key id>.<base64 of nonce and ciphertext>`.
    pub fn seal(&self, plain: &str) -> Result<String, SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = XChaCha20Poly1305::new((&self.0).into())
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| SecretsError::Corrupt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}.{}.{}", self.id(), BASE64.encode(out)))
    }

    fn open(&self, body: &str) -> Result<Secret, SecretsError> {
        let bytes = BASE64.decode(body).map_err(|_| SecretsError::Corrupt)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SecretsError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| SecretsError::Corrupt)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SecretsError::Corrupt)
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    /// `SECRETS_KEY` is not set, so nothing can be sealed or opened.
    #[error("SECRETS_KEY is not set")]
    Missing,
    /// Sealed under a key this process does not have (neither `SECRETS_KEY` nor `SECRETS_KEY_OLD`).
    #[error("sealed under key {0}, which is neither SECRETS_KEY nor SECRETS_KEY_OLD")]
    UnknownKey(String),
    /// Not a sealed value, or altered.
    #[error("the sealed value is damaged or was altered")]
    Corrupt,
}

/// The keys of this process: the current one seals, either one opens.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    /// `SECRETS_KEY`.
    pub current: Option<SecretsKey>,
    /// `SECRETS_KEY_OLD`, kept while values sealed under it are rotated.
    pub old: Option<SecretsKey>,
}

impl Keyring {
    /// Seals under the current key.
    pub fn seal(&self, plain: &str) -> Result<String, SecretsError> {
        self.current
            .as_ref()
            .ok_or(SecretsError::Missing)?
            .seal(plain)
    }

    /// Opens a value sealed under the current or the old key.
    pub fn open(&self, sealed: &str) -> Result<Secret, SecretsError> {
        let (id, body) = parts(sealed)?;
        [&self.current, &self.old]
            .into_iter()
            .flatten()
            .find(|k| k.id() == id)
            .ok_or_else(|| match self.current {
                None => SecretsError::Missing,
                Some(_) => SecretsError::UnknownKey(id.to_string()),
            })?
            .open(body)
    }

    /// Whether `sealed` is sealed under the current key already.
    pub fn is_current(&self, sealed: &str) -> bool {
        match (parts(sealed), &self.current) {
            (Ok((id, _)), Some(key)) => key.id() == id,
            _ => false,
        }
    }
}

fn parts(sealed: &str) -> Result<(&str, &str), SecretsError> {
    let mut it = sealed.splitn(3, '.');
    match (it.next(), it.next(), it.next()) {
        (Some(VERSION), Some(id), Some(body)) => Ok((id, body)),
        _ => Err(SecretsError::Corrupt),
    }
}

/// The last four characters of a key, the only part ever shown again.
pub fn last4(plain: &str) -> String {
    let chars: Vec<char> = plain.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretsKey {
        SecretsKey([byte; 32])
    }

    #[test]
    fn seals_with_a_fresh_nonce_and_opens_with_either_key() {
        let old = Keyring {
            current: Some(key(1)),
            old: None,
        };
        let a = old.seal("sk-test-1234").unwrap();
        let b = old.seal("sk-test-1234").unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("sk-test"));
        assert_eq!(old.open(&a).unwrap().expose(), "sk-test-1234");
        let rotated = Keyring {
            current: Some(key(2)),
            old: Some(key(1)),
        };
        assert_eq!(rotated.open(&a).unwrap().expose(), "sk-test-1234");
        assert!(!rotated.is_current(&a));
        let other = Keyring {
            current: Some(key(3)),
            old: None,
        };
        assert!(matches!(other.open(&a), Err(SecretsError::UnknownKey(_))));
        assert_eq!(Keyring::default().seal("x"), Err(SecretsError::Missing));
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let ring = Keyring {
            current: Some(key(1)),
            old: None,
        };
        let sealed = ring.seal("sk-abc").unwrap();
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(ring.open(&altered).unwrap_err(), SecretsError::Corrupt);
    }

    #[test]
    fn keys_read_from_hex_or_base64_and_never_print() {
        let hex = "11".repeat(32);
        let b64 = BASE64.encode([0x11u8; 32]);
        assert_eq!(SecretsKey::parse(&hex), SecretsKey::parse(&b64));
        assert!(SecretsKey::parse("short").is_err());
        assert!(!format!("{:?}", key(0x11)).contains("11111111111"));
        assert_eq!(last4("sk-abcdef"), "cdef");
        assert_eq!(last4("ab"), "ab");
    }
}
