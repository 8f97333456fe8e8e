//! Integration keys as credentials: their shape (`sbk_<prefix>_<secret>`), their hash, and the
//! caller a live key makes (its creator's rights, narrowed to its scopes).

use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use super::policy::{KeyGrant, Principal};
use crate::app::AppState;
use crate::error::AppError;
use crate::model::scopes_from_text;
use crate::store::users::User;
use crate::tokens;

/// What every integration key starts with, so a key is told from a session token at a glance.
pub const KEY_PREFIX: &str = "sbk_";
/// Uses of a key closer together than this update its `last_used_at` once.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A new key: the whole secret (shown once), its public prefix and its hash.
#[derive(Debug)]
pub struct MintedKey {
    /// `sbk_<prefix>_<secret>`: 8 random bytes of prefix, 32 of secret, hex.
    pub secret: String,
    /// The part that finds its row.
    pub prefix: String,
    /// SHA-256 of `secret`, hex.
    pub hash: String,
}

/// Makes a new key.
pub fn mint() -> MintedKey {
    let prefix = tokens::random_hex(8);
    let secret = format!("{KEY_PREFIX}{prefix}_{}", tokens::random_hex(32));
    MintedKey {
        hash: hash(&secret),
        prefix,
        secret,
    }
}

/// SHA-256 of a key, hex: keys carry 256 random bits, so a fast hash is the right one.
pub fn hash(secret: &str) -> String {
    tokens::hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether a bearer token is an integration key rather than a session's token.
pub fn is_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

fn unauthorized() -> AppError {
    AppError::unauthorized("unauthorized", "a valid bearer token is required")
}

/// The caller a key makes, when it is live: not revoked, its creator active. Any failure is
/// the same 401 as a bad session token. The key row is read on every request, so a revocation
/// applies at once on every process.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(Principal, User), AppError> {
    let prefix = token
        .strip_prefix(KEY_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .map(|(prefix, _)| prefix.to_string())
        .ok_or_else(unauthorized)?;
    let given = hash(token);
    let now = Utc::now().naive_utc();
    let found = state
        .db()
        .run(move |conn| -> diesel::QueryResult<_> {
            let found = crate::store::api_keys::live_by_prefix(conn, &prefix)?;
            if let Some((key, _)) = &found {
                let stale = key.last_used_at.is_none_or(|at| at < now - TOUCH_EVERY);
                if stale && tokens::constant_time_eq(key.secret_hash.as_bytes(), given.as_bytes()) {
                    crate::store::api_keys::touch(conn, key.id, now, now - TOUCH_EVERY)?;
                }
            }
            Ok(found)
        })
        .await?
        .ok_or_else(unauthorized)?;
    let (key, user) = found;
    if !tokens::constant_time_eq(key.secret_hash.as_bytes(), hash(token).as_bytes()) {
        return Err(unauthorized());
    }
    Ok(caller(key, user))
}

/// The caller behind a key still live, by id (for long-lived connections).
pub async fn live(state: &AppState, key_id: i64) -> Option<(Principal, User)> {
    state
        .db()
        .run(move |conn| crate::store::api_keys::live_by_id(conn, key_id))
        .await
        .ok()
        .flatten()
        .map(|(key, user)| caller(key, user))
}

fn caller(key: crate::store::api_keys::ApiKey, user: User) -> (Principal, User) {
    let principal = Principal {
        user_id: user.id,
        account_id: key.account_id,
        role: user.role,
        session_id: session_id(key.id),
        key: Some(KeyGrant {
            id: key.id,
            scopes: scopes_from_text(&key.scopes),
        }),
    };
    (principal, user)
}

/// The session id a key's caller carries: what a revocation names to end its connections.
pub fn session_id(key_id: i64) -> String {
    format!("api_key:{key_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_carries_its_prefix_and_hashes_to_its_hash() {
        let key = mint();
        assert!(is_key(&key.secret));
        assert!(key.secret.starts_with(&format!("sbk_{}_", key.prefix)));
        assert_eq!(key.secret.len(), 4 + 16 + 1 + 64);
        assert_eq!(hash(&key.secret), key.hash);
        assert_ne!(mint().secret, key.secret);
    }
}
