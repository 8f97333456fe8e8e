//! `GET /api/openapi.json` and `GET /docs`: the API described from the code, readable offline.

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
}

#[tokio::test]
async fn docs_page_and_its_script_are_served_locally() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/docs")).send().await.expect("docs");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.expect("html");
    assert!(html.contains("/docs/docs.js"));
    assert!(
        !html.contains("https://"),
        "the page must not load outside assets"
    );
    let script = app
        .client
        .get(app.url("/docs/docs.js"))
        .send()
        .await
        .expect("js");
    assert_eq!(script.status(), 200);
    assert!(script
        .text()
        .await
        .expect("js")
        .contains("/api/openapi.json"));
}
