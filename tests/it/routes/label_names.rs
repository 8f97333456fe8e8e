//! Label names are unique in an account whatever their case: "vip" is refused beside "VIP", on
//! creation, on renaming, and by the database itself.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn a_name_that_differs_only_in_case_is_the_same_label() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let create = |name: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.call(
                Method::POST,
                "/api/labels",
                Some(&admin),
                Some(&json!({ "name": name })),
            )
            .await
        }
    };
    let (status, vip) = create("VIP").await;
    assert_eq!(status, 201, "{vip}");
    for name in ["vip", " Vip ", "VIP"] {
        let (status, body) = create(name).await;
        assert_eq!(status, 409, "{name:?}: {body}");
        assert_error(&body, "label_exists");
    }
    let (status, billing) = create("Billing").await;
    assert_eq!(status, 201);

    let rename = |id: &serde_json::Value, name: &'static str| {
        let (app, admin, id) = (&app, admin.clone(), id.clone());
        async move {
            app.call(
                Method::PATCH,
                &format!("/api/labels/{id}"),
                Some(&admin),
                Some(&json!({ "name": name })),
            )
            .await
        }
    };
    let (status, body) = rename(&billing["id"], "vip").await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "label_exists");
    let (status, body) = rename(&vip["id"], "Vip").await;
    assert_eq!(status, 200, "a label may change its own case: {body}");
    assert_eq!(body["name"], "Vip");

    let (_, list) = app
        .call(Method::GET, "/api/labels", Some(&admin), None)
        .await;
    assert_eq!(
        list.as_array()
            .map(|l| l.iter().map(|l| l["name"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("Billing"), json!("Vip")])
    );

    // Another account keeps its own names.
    let other = app.other_account_admin().await;
    let (status, _) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&other.token),
            Some(&json!({"name": "vip"})),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_database_refuses_a_second_name_in_another_case() {
    use diesel::result::{DatabaseErrorKind, Error};
    let app = TestApp::spawn().await;
    let refused = app
        .state
        .db()
        .run(|conn| {
            let account = switchboard::store::accounts::create(conn, "Shop")?;
            let now = chrono::Utc::now().naive_utc();
            switchboard::store::labels::create(conn, account, "VIP", "#aa0000", now)?;
            Ok::<_, switchboard::error::AppError>(
                switchboard::store::labels::create(conn, account, "vip", "#00aa00", now).err(),
            )
        })
        .await
        .expect("store");
    assert!(
        matches!(
            refused,
            Some(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        ),
        "two writers checking at once still end with one label: {refused:?}"
    );
}
