//! `GET /api/openapi.json` and `GET /docs`: the API described from the code, and an
//! interactive reference served from the binary under a strict policy.

use crate::helpers::TestApp;

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(body["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
    assert!(body["paths"]["/api/health"]["get"].is_object(), "{body}");
    assert!(body["components"]["schemas"]["ErrorBody"].is_object());
    for path in [
        "/ws",
        "/ws/widget",
        "/metrics",
        "/api/users/me/password",
        "/api/webhooks/instagram",
    ] {
        assert!(body["paths"][path].is_object(), "{path} is not described");
    }
    assert!(body["paths"]["/api/webhooks/instagram"]["get"].is_object());
}

#[tokio::test]
async fn every_operation_has_its_own_id_and_query_parameters_are_in_the_query() {
    let app = TestApp::spawn().await;
    let (_, body) = app.get("/api/openapi.json").await;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in body["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "{id} is used twice");
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().expect("name");
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: '{name}' is declared in the path but is not in it"
                    );
                }
            }
            let responses = operation["responses"].as_object().expect("responses");
            if operation["security"].is_array() {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
            if operation["requestBody"].is_object() {
                for status in ["400", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
        }
    }
    let created = &body["components"]["schemas"]["AuditEntry"]["properties"]["created_at"];
    assert_eq!(created["format"], "date-time");

    let admin = app.admin_token().await;
    let (_, entries) = app
        .call(reqwest::Method::GET, "/api/audit", Some(&admin), None)
        .await;
    let at = entries[0]["created_at"].as_str().expect("created_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok(),
        "audit times carry their offset: {at}"
    );
}

#[tokio::test]
async fn the_interactive_reference_is_served_from_the_binary_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/docs")).send().await.expect("docs");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe"),
        "no inline script, style or eval: {csp}"
    );
    let html = page.text().await.expect("html");
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/docs.js",
    ] {
        assert!(html.contains(asset), "{asset} not on the page");
    }
    assert!(!html.contains("https://"), "no outside assets");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "nothing inline"
    );

    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("bundle");
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-encoding"], "gzip");
    let etag = bundle.headers()["etag"].clone();
    let compressed = bundle.bytes().await.expect("bytes");
    assert_eq!(&compressed[..2], &[0x1f, 0x8b], "a gzip stream");
    let plain = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .expect("bundle");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.expect("bytes");
    assert!(
        plain.len() > 3 * compressed.len(),
        "clients without gzip get the plain script ({} vs {} bytes)",
        plain.len(),
        compressed.len()
    );
    let again = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("bundle again");
    assert_eq!(again.status(), 304, "unchanged assets are not sent again");

    let script = app
        .client
        .get(app.url("/docs/docs.js"))
        .send()
        .await
        .expect("js")
        .text()
        .await
        .expect("js");
    assert!(script.contains("/api/openapi.json"));
}
