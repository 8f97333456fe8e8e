//! Signed media links: a URL that opens one object until it expires, for the widget (whose
//! visitors have no login) and for Meta fetching a file we send.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key that signs links, derived from `JWT_SECRET`.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    /// The link key of an installation.
    pub fn derive(secret: &str) -> Self {
        Self(mac(secret.as_bytes(), b"switchboard media links v1"))
    }

    fn signature(&self, media_id: i64, thumbnail: bool, expires: i64) -> String {
        let data = format!("{media_id}:{thumbnail}:{expires}");
        crate::tokens::hex(&mac(&self.0, data.as_bytes()))
    }

    /// The path and query of a link to a media object (or its thumbnail) that opens it for
    /// `ttl_seconds`.
    pub fn link(&self, media_id: i64, thumbnail: bool, ttl_seconds: i64) -> String {
        let expires = Utc::now().timestamp().saturating_add(ttl_seconds);
        let signature = self.signature(media_id, thumbnail, expires);
        let suffix = if thumbnail { "/thumbnail" } else { "" };
        format!("/api/media/{media_id}{suffix}?expires={expires}&signature={signature}")
    }

    /// Attachments (a message's `attachments` array) as someone without a login sees them: each
    /// kept file's `url` and `thumbnail_url` become links signed for `ttl_seconds`; anything
    /// else stays as it is.
    pub fn sign_attachments(&self, attachments: &mut serde_json::Value, ttl_seconds: i64) {
        let Some(items) = attachments.as_array_mut() else {
            return;
        };
        for item in items {
            let Some(id) = item["id"].as_i64().filter(|_| item.get("state").is_some()) else {
                continue;
            };
            for (field, thumbnail) in [("url", false), ("thumbnail_url", true)] {
                if item[field].is_string() {
                    item[field] = self.link(id, thumbnail, ttl_seconds).into();
                }
            }
        }
    }

    /// Whether a link's signature is this key's and it has not expired.
    pub fn verify(&self, media_id: i64, thumbnail: bool, expires: i64, signature: &str) -> bool {
        if expires < Utc::now().timestamp() {
            return false;
        }
        let expected = self.signature(media_id, thumbnail, expires);
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// HMAC-SHA256 of `data` under `key` (HMAC takes keys of any length).
fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_object_until_it_expires() {
        let key = LinkKey::derive("secret");
        let link = key.link(5, false, 60);
        let query = link.split_once('?').unwrap().1;
        let (expires, signature) = query.split_once('&').unwrap();
        let expires: i64 = expires.trim_start_matches("expires=").parse().unwrap();
        let signature = signature.trim_start_matches("signature=");
        assert!(key.verify(5, false, expires, signature));
        assert!(!key.verify(6, false, expires, signature));
        assert!(!key.verify(5, true, expires, signature));
        assert!(!LinkKey::derive("other").verify(5, false, expires, signature));
        let past = key.link(5, false, -10);
        let (e, s) = past.split_once('?').unwrap().1.split_once('&').unwrap();
        assert!(!key.verify(5, false, e[8..].parse().unwrap(), &s[10..]));
    }

    #[test]
    fn signed_attachments_open_without_a_login() {
        let key = LinkKey::derive("secret");
        let mut items = serde_json::json!([
            {"id": 7, "state": "stored", "url": "/api/media/7", "thumbnail_url": "/api/media/7/thumbnail"},
            {"id": 8, "state": "failed", "url": null, "thumbnail_url": null},
            {"type": "quick_reply", "url": "https://example.com"},
        ]);
        key.sign_attachments(&mut items, 60);
        assert!(items[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("/api/media/7?expires="));
        assert!(items[0]["thumbnail_url"]
            .as_str()
            .unwrap()
            .starts_with("/api/media/7/thumbnail?expires="));
        assert!(items[1]["url"].is_null());
        assert_eq!(items[2]["url"], "https://example.com");
    }
}
