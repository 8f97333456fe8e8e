//! `/api/canned-responses`: admins keep the account's ready answers; everyone reads them;
//! another account's are out of sight.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn admins_keep_canned_responses_agents_read_them_and_bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let path = "/api/canned-responses";

    let (status, hours) = app
        .call(
            Method::POST,
            path,
            Some(&admin),
            Some(
                &json!({"shortcut": "/Hours", "text": "Hi {{contact.first_name}}, we open at 9."}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{hours}");
    assert_eq!(
        hours["shortcut"], "hours",
        "stored without the slash, in lower case"
    );
    let (status, _) = app
        .call(
            Method::POST,
            path,
            Some(&admin),
            Some(&json!({"shortcut": "refund", "text": "Refunds take 5 days; 100% of the price."})),
        )
        .await;
    assert_eq!(status, 201);

    let (status, body) = app
        .call(
            Method::POST,
            path,
            Some(&admin),
            Some(&json!({"shortcut": "hours", "text": "again"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "shortcut_taken");
    for (input, code) in [
        (
            json!({"shortcut": "two words", "text": "x"}),
            "invalid_shortcut",
        ),
        (json!({"shortcut": "", "text": "x"}), "invalid_shortcut"),
        (
            json!({"shortcut": "a".repeat(33), "text": "x"}),
            "invalid_shortcut",
        ),
        (json!({"shortcut": "blank", "text": "   "}), "invalid_text"),
        (
            json!({"shortcut": "long", "text": "x".repeat(4001)}),
            "invalid_text",
        ),
    ] {
        let (status, body) = app
            .call(Method::POST, path, Some(&admin), Some(&input))
            .await;
        assert_eq!(status, 422, "{input}: {body}");
        assert_error(&body, code);
    }
    let (status, body) = app
        .call(
            Method::POST,
            path,
            Some(&agent.token),
            Some(&json!({"shortcut": "mine", "text": "x"})),
        )
        .await;
    assert_eq!(status, 403, "agents read, admins manage: {body}");

    let (status, list) = app.call(Method::GET, path, Some(&agent.token), None).await;
    assert_eq!(status, 200, "{list}");
    let shortcuts: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["shortcut"].as_str().expect("shortcut"))
        .collect();
    assert_eq!(shortcuts, ["hours", "refund"], "nothing refused was stored");
    let (_, found) = app
        .call(
            Method::GET,
            &format!("{path}?q=100%25"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(
        found.as_array().map(Vec::len),
        Some(1),
        "% is a character, not a wildcard: {found}"
    );
    assert_eq!(found[0]["shortcut"], "refund");
    let (_, found) = app
        .call(
            Method::GET,
            &format!("{path}?q=HOUR"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(found[0]["shortcut"], "hours", "{found}");

    let id = hours["id"].as_i64().expect("id");
    let (status, changed) = app
        .call(
            Method::PATCH,
            &format!("{path}/{id}"),
            Some(&admin),
            Some(&json!({"text": "We open at 8 now."})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["shortcut"], "hours");
    assert_eq!(changed["text"], "We open at 8 now.");
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("{path}/{id}"),
            Some(&admin),
            Some(&json!({"shortcut": "refund"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "shortcut_taken");

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{path}/{id}"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(Method::DELETE, &format!("{path}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .call(Method::DELETE, &format!("{path}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(status, 404, "{body}");
    let (_, list) = app.call(Method::GET, path, Some(&admin), None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn another_accounts_canned_responses_are_out_of_sight_and_reach() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.other_account_admin().await;
    let path = "/api/canned-responses";
    let (status, ours) = app
        .call(
            Method::POST,
            path,
            Some(&admin),
            Some(&json!({"shortcut": "hello", "text": "Hello!"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, theirs) = app
        .call(
            Method::POST,
            path,
            Some(&other.token),
            Some(&json!({"shortcut": "hello", "text": "Hej!"})),
        )
        .await;
    assert_eq!(
        status, 201,
        "a shortcut is unique per account only: {theirs}"
    );
    let (_, list) = app.call(Method::GET, path, Some(&other.token), None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["text"], "Hej!");
    let id = ours["id"].as_i64().expect("id");
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("{path}/{id}"),
            Some(&other.token),
            Some(&json!({"text": "mine now"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{path}/{id}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.call(Method::GET, path, Some(&admin), None).await;
    assert_eq!(list[0]["text"], "Hello!", "untouched: {list}");
}
