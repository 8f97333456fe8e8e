//! What Meta sends a hub: the fixtures' page and app secret, signed Messenger deliveries.

use switchboard::config::RawSettings;

use super::hub::TestApp;

/// The app secret the Meta fixtures are signed with.
pub const META_APP_SECRET: &str = "switchboard-test-app-secret";
/// The Facebook page id of the fixtures.
pub const PAGE_ID: &str = "104857600000001";

/// `sha256=<hex>` of a body with the fixtures' app secret.
pub fn meta_sign(body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(META_APP_SECRET.as_bytes()).expect("key");
    mac.update(body);
    format!(
        "sha256={}",
        switchboard::tokens::hex(&mac.finalize().into_bytes())
    )
}

/// A Messenger delivery with one text message.
pub fn messenger_text(sender: &str, mid: &str, text: &str, timestamp_ms: i64) -> Vec<u8> {
    serde_json::json!({"object":"page","entry":[{"id":PAGE_ID,"time":timestamp_ms,"messaging":[
        {"sender":{"id":sender},"recipient":{"id":PAGE_ID},"timestamp":timestamp_ms,
         "message":{"mid":mid,"text":text}}]}]})
    .to_string()
    .into_bytes()
}

impl TestApp {
    /// A hub that accepts the fixtures' signatures, with a Facebook channel for their page.
    pub async fn spawn_meta(adjust: impl FnOnce(&mut RawSettings)) -> (Self, i64) {
        let app = Self::spawn_with(|s| {
            s.set("META_APP_SECRET", META_APP_SECRET);
            s.set("META_VERIFY_TOKEN", "switchboard-verify-token");
            adjust(s);
        })
        .await;
        let admin = app.admin_token().await;
        let (status, body) = app
            .call(
                reqwest::Method::POST,
                "/api/channels",
                Some(&admin),
                Some(&serde_json::json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID, "access_token": "page-token"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().expect("channel id");
        (app, id)
    }

    /// Posts a signed Messenger delivery; the status.
    pub async fn post_messenger(&self, body: Vec<u8>) -> u16 {
        let signature = meta_sign(&body);
        self.client
            .post(self.url("/api/webhooks/facebook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }
}
