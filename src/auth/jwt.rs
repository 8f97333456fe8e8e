//! Access tokens: HS256 JWTs with the algorithm pinned and a session id that can be revoked.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id; revoking the session revokes the token.
    pub sid: String,
    /// The user's account.
    pub account: i64,
    /// The user's role when the token was issued (the database has the final word).
    pub role: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Signs and checks access tokens with the configured secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the secret; tokens live for `ttl`.
    pub fn new(secret: &Secret, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
        }
    }

    /// How long a token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for a user's session; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: i64,
        session_id: &str,
        account_id: i64,
        role: &str,
    ) -> Result<(String, chrono::DateTime<Utc>), jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let expires =
            now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(12));
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            account: account_id,
            role: role.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires))
    }

    /// The claims of a token signed with our key by HS256 and not expired; `None` otherwise.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&Secret::new(secret), Duration::from_secs(60))
    }

    #[test]
    fn issued_tokens_verify_with_the_same_key_only() {
        let a = keys("a-secret-a-secret-a-secret-a-secret");
        let b = keys("b-secret-b-secret-b-secret-b-secret");
        let (token, _) = a.issue(7, "sid", 1, "agent").unwrap();
        let claims = a.verify(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str(), claims.account),
            ("7", "sid", 1)
        );
        assert!(b.verify(&token).is_none());
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let a = keys("a-secret-a-secret-a-secret-a-secret");
        let (token, _) = a.issue(7, "sid", 1, "admin").unwrap();
        let mut parts = token.split('.');
        let (_, payload) = (parts.next().unwrap(), parts.next().unwrap());
        // {"alg":"none","typ":"JWT"}
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(a.verify(&none).is_none());
    }
}
