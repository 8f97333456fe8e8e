//! The console's chat view in a real browser: an agent takes a chat from the queue with
//! "Assign to me", the queue's count agrees with its list, and the composer counts a reply
//! against its channel's limit; at desktop and phone sizes.

use reqwest::Method;
use serde_json::json;

use crate::browser;
use crate::console::{shots, sign_in};
use crate::helpers::{messenger_text, TestApp};

/// The chat of customer `sender`, behind the API.
pub(crate) async fn chat_of(app: &TestApp, sender: &'static str) -> i64 {
    use diesel::prelude::*;
    use switchboard::store::schema::{chats, contacts};
    app.state
        .db()
        .run(move |conn| {
            chats::table
                .inner_join(contacts::table.on(contacts::id.eq(chats::contact_id)))
                .filter(contacts::external_id.eq(sender))
                .select(chats::id)
                .first(conn)
        })
        .await
        .unwrap()
}

/// Puts a chat with the bot (as an AI channel's new chat is), behind the API.
async fn with_the_bot(app: &TestApp, chat: i64) {
    use diesel::prelude::*;
    use switchboard::store::schema::chats;
    app.state
        .db()
        .run(move |conn| {
            diesel::update(chats::table.find(chat))
                .set(chats::status.eq("bot"))
                .execute(conn)
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_chat_from_the_queue_with_assign_to_me() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    for (width, height, shot) in [
        (1280, 800, "chat-assign-to-me.png"),
        (390, 844, "chat-assign-to-me-phone.png"),
    ] {
        let (app, _) = TestApp::spawn_meta(|_| {}).await;
        let agent = app.agent_outside_round_robin().await;
        let now = chrono::Utc::now().timestamp_millis();
        for (sender, mid, text) in [
            ("6213000000000042", "m_q_1", "Do you ship to Austria?"),
            ("6213000000000043", "m_b_1", "The assistant is answering me"),
        ] {
            assert_eq!(
                app.post_messenger(messenger_text(sender, mid, text, now))
                    .await,
                200
            );
        }
        let queued = chat_of(&app, "6213000000000042").await;
        with_the_bot(&app, chat_of(&app, "6213000000000043").await).await;

        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &agent.email, &agent.password).await;
        browser.wait_text(20, "Take one from the queue").await;
        browser.press("Queue").await;
        // The queue lists what it counts: the chat waiting for a person, not the bot's.
        browser.wait_text(20, "1 waiting in the queue").await;
        browser.wait_text(20, "Do you ship to Austria?").await;
        assert_eq!(browser.texts(".inbox a.row").await.len(), 1);
        assert!(!browser
            .page_text()
            .await
            .contains("The assistant is answering me"));
        let tabs = browser.texts("[role=tab]").await;
        assert!(tabs.iter().any(|t| t == "Queue 1"), "{tabs:?}");

        browser.press_css("a.row").await;
        browser.wait_text(20, "in the queue").await;
        browser.button("Assign to me").await;
        browser.screenshot(&shots().join(shot)).await;
        browser.press("Assign to me").await;
        browser.wait_text(20, "assigned to You").await;
        browser
            .wait_for(
                20,
                "the Assign to me button to go",
                "![...document.querySelectorAll('button')].some((b) => b.textContent === 'Assign to me' && b.offsetParent !== null)",
                vec![],
            )
            .await;
        let (status, chat) = app
            .call(
                Method::GET,
                &format!("/api/chats/{queued}"),
                Some(&agent.token),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(chat["assignee_id"], agent.id, "{width}x{height}");

        // A supervisor is told what "Back to queue" would do: nobody takes new chats now.
        if width > 760 {
            let supervisor = app.user("supervisor").await;
            let other = turn.browser(width, height).await;
            sign_in(&other, &app, &supervisor.email, &supervisor.password).await;
            other.goto(&app.url(&format!("/#/chats/{queued}"))).await;
            other
                .wait_text(
                    20,
                    "Back to queue: it waits there until an agent is available.",
                )
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_counter_shows_the_channels_limit_and_send_waits_under_it() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    for (width, height, shot) in [
        (1280, 800, "chat-reply-limit.png"),
        (390, 844, "chat-reply-limit-phone.png"),
    ] {
        let (app, _) = TestApp::spawn_meta(|_| {}).await;
        let agent = app.agent_outside_round_robin().await;
        let now = chrono::Utc::now().timestamp_millis();
        assert_eq!(
            app.post_messenger(messenger_text(
                "6213000000000042",
                "m_l_1",
                "Tell me everything about the sofa",
                now
            ))
            .await,
            200
        );
        let chat = chat_of(&app, "6213000000000042").await;
        let admin = app.admin_token().await;
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{chat}/assign"),
                Some(&admin),
                Some(&json!({"user_id": agent.id})),
            )
            .await;
        assert_eq!(status, 200);

        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &agent.email, &agent.password).await;
        browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
        browser
            .wait_text(20, "Tell me everything about the sofa")
            .await;
        browser.wait_text(20, "0 / 2000").await;
        let composer = browser.field("Reply").await;
        browser.type_text(&composer, "Hello").await;
        browser.wait_text(20, "5 / 2000").await;

        // A long answer pasted in, then typed on past the limit: red, and Send waits.
        browser
            .run(
                "const c = document.getElementById('composer'); \
                 c.value = 'The sofa is made of oak. '.repeat(79) + 'Yes'; \
                 c.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![],
            )
            .await;
        browser.wait_text(20, "1978 / 2000").await;
        browser
            .type_text(&composer, " and it comes in six colours.")
            .await;
        browser.wait_text(20, "2007 / 2000").await;
        let over = browser
            .run(
                "const c = document.getElementById('reply-count'); \
                 const send = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Send'); \
                 return [getComputedStyle(c).color, send.disabled];",
                vec![],
            )
            .await;
        assert_eq!(over, json!(["rgb(179, 38, 30)", true]), "{width}x{height}");
        browser.screenshot(&shots().join(shot)).await;

        // Back under the limit, it goes out.
        browser
            .run(
                "const c = document.getElementById('composer'); \
                 c.value = 'The sofa is made of oak.'; \
                 c.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![],
            )
            .await;
        browser.wait_text(20, "24 / 2000").await;
        browser.press("Send").await;
        browser
            .wait_for(
                20,
                "the reply in the chat",
                "[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'The sofa is made of oak.')",
                vec![],
            )
            .await;
        let (_, messages) = app
            .call(
                Method::GET,
                &format!("/api/chats/{chat}/messages"),
                Some(&agent.token),
                None,
            )
            .await;
        assert!(
            messages
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["text"] == "The sofa is made of oak."),
            "{messages}"
        );
    }
}
