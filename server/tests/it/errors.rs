//! Every way an entry is refused, and that a refused entry stores nothing.

use protocol::campaign::{CampaignStatus, CampaignType, EntryMethodType};
use protocol::ids::CampaignKey;
use serde_json::{Value, json};
use server::store::{NewCampaign, NewEntryMethod};

use crate::helpers::{Counts, TestApp, entry_body, spawn_app};

async fn check(
    app: &TestApp,
    key: &str,
    body: impl Into<reqwest::Body>,
    expected: (u16, &str, Option<&str>),
) {
    let (status, answer) = app.post_raw(key, "text/plain;charset=UTF-8", body).await;
    let got = (
        status,
        answer["code"].as_str().unwrap_or("(none)"),
        answer.get("field").and_then(Value::as_str),
    );
    assert_eq!(got, expected, "answer: {answer}");
    assert!(
        !answer["detail"].as_str().unwrap_or_default().is_empty(),
        "a detail is given: {answer}"
    );
    assert_eq!(
        app.counts().await,
        Counts {
            contestants: 0,
            entries: 0,
            deliveries: 0,
            attempts: 0
        },
        "after {answer}"
    );
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut body = entry_body("key-1", "joe@example.com");
    change(&mut body);
    body.to_string()
}

#[tokio::test]
async fn bad_entries_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let mut paused = NewCampaign::new(
        CampaignKey::parse("paused").unwrap(),
        "Paused",
        CampaignType::Competition,
    );
    paused.status = CampaignStatus::Paused;
    paused.entry_methods = vec![NewEntryMethod::new(
        EntryMethodType::EmailSubscribe,
        "Subscribe",
    )];
    assert!(
        app.store
            .insert_campaign_if_absent(&paused, 0)
            .await
            .unwrap()
    );

    check(
        &app,
        "demo",
        vec![b' '; 65 * 1024],
        (413, "payload_too_large", None),
    )
    .await;
    check(&app, "demo", "{not json", (400, "invalid_json", None)).await;
    check(
        &app,
        "demo",
        json!({"email": "joe@example.com"}).to_string(),
        (400, "invalid_json", None),
    )
    .await;
    check(
        &app,
        "nope",
        with(|_| {}),
        (404, "campaign_not_found", None),
    )
    .await;
    check(
        &app,
        "paused",
        with(|_| {}),
        (409, "campaign_not_running", None),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["entry_method_id"] = 999.into()),
        (422, "unknown_entry_method", Some("entry_method_id")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["email"] = "joe@".into()),
        (422, "invalid_email", Some("email")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["email"] = "".into()),
        (422, "invalid_email", Some("email")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["name"] = "n".repeat(201).into()),
        (422, "invalid_name", Some("name")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["consent"] = false.into()),
        (422, "consent_required", Some("consent")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["idempotency_key"] = "".into()),
        (422, "invalid_idempotency_key", Some("idempotency_key")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["idempotency_key"] = "k".repeat(65).into()),
        (422, "invalid_idempotency_key", Some("idempotency_key")),
    )
    .await;
    check(
        &app,
        "demo",
        with(|b| b["idempotency_key"] = "a\u{1}b".into()),
        (422, "invalid_idempotency_key", Some("idempotency_key")),
    )
    .await;
}

#[tokio::test]
async fn the_email_problem_is_the_detail() {
    let app = spawn_app().await;
    let (status, answer) = app
        .post_entry("demo", &entry_body("key-1", "not an email"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["detail"],
        protocol::validate::EmailProblem::Malformed.to_string()
    );
}

#[tokio::test]
async fn json_errors_say_what_is_wrong() {
    let app = spawn_app().await;
    let (status, answer) = app
        .post_raw(
            "demo",
            "text/plain",
            json!({"idempotency_key": "k"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    let detail = answer["detail"].as_str().unwrap();
    assert!(detail.contains("missing field"), "{detail}");
}
