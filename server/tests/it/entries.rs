//! Posting entries: the stored rows, the answer, idempotency and the webhook it queues.

use protocol::campaign::EntryMethodType;
use protocol::entry::EntryResponse;
use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, verify};
use serde_json::Value;
use server::clock;
use server::delivery::Step;
use server::store::NewEntryMethod;

use crate::helpers::{Counts, entry_body, spawn_app, spawn_app_with};

const GLEAM_EXAMPLE: &str = include_str!("../../../protocol/fixtures/gleam_example.json");

/// Fails unless `ours` has exactly the keys of `gleam`, at every depth. Where Gleam shows an
/// object we may send `null` (no reward, coupon or upload) and where it shows a list, `[]`.
/// `user.details` holds the campaign's own questions, so only its being an object counts.
fn assert_same_keys(ours: &Value, gleam: &Value, path: &str) {
    match (ours, gleam) {
        (Value::Object(_), Value::Object(_)) if path == "body.user.details" => {}
        (Value::Object(ours), Value::Object(gleam)) => {
            let our_keys: Vec<&String> = ours.keys().collect();
            let gleam_keys: Vec<&String> = gleam.keys().collect();
            assert_eq!(our_keys, gleam_keys, "keys of {path}");
            for (key, value) in ours {
                assert_same_keys(value, &gleam[key], &format!("{path}.{key}"));
            }
        }
        (Value::Null, Value::Object(_)) => {}
        (Value::Array(ours), Value::Array(gleam)) => {
            if let (Some(ours), Some(gleam)) = (ours.first(), gleam.first()) {
                assert_same_keys(ours, gleam, &format!("{path}[0]"));
            }
        }
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            panic!("{path}: we send {ours}, Gleam sends {gleam}")
        }
        _ => {}
    }
}

#[tokio::test]
async fn an_entry_is_stored_and_its_webhook_is_signed_and_shaped_like_gleams() {
    let app = spawn_app().await;
    let (status, answer) = app
        .post_entry("demo", &entry_body("key-1", " Joe@Example.COM "))
        .await;
    assert_eq!(status, 201, "{answer}");
    let answer: EntryResponse = serde_json::from_value(answer).unwrap();
    assert_eq!((answer.actions_completed, answer.total_entries), (1, 1));
    assert_eq!(answer.entry.entry_type, "email_subscribe");
    assert_eq!(answer.entry.action, "Subscribe to our newsletter");
    assert_eq!(
        app.counts().await,
        Counts {
            contestants: 1,
            entries: 1,
            deliveries: 1,
            attempts: 0
        }
    );
    assert!(
        app.receiver.requests().is_empty(),
        "nothing is sent until the worker runs"
    );

    let now = clock::now_millis();
    assert_eq!(app.drain(now).await, vec![Step::Delivered, Step::Idle]);
    let requests = app.receiver.requests();
    assert_eq!(requests.len(), 1);
    let webhook = &requests[0];
    assert_eq!(webhook.method, "POST");
    assert_eq!(webhook.header("content-type"), Some("application/json"));
    assert_eq!(webhook.header("hookline-event"), Some("entry.created"));
    assert!(
        webhook
            .header("user-agent")
            .unwrap()
            .starts_with("Hookline-Webhooks/")
    );
    let webhook_id = webhook.header("webhook-id").unwrap();
    assert!(webhook_id.starts_with("msg_"), "{webhook_id}");
    let timestamp = webhook.header("webhook-timestamp").unwrap();
    assert_eq!(timestamp, (now / 1000).to_string());
    let signature = webhook.header("webhook-signature").unwrap();
    let verified = verify(
        &app.secret,
        webhook_id,
        timestamp,
        signature,
        &webhook.body,
        now / 1000,
        DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(verified, Ok(()));

    let body = webhook.json();
    assert_same_keys(&body, &serde_json::from_str(GLEAM_EXAMPLE).unwrap(), "body");
    assert_eq!(body["campaign"]["key"], "demo");
    assert_eq!(body["campaign"]["type"], "Competition");
    assert_eq!(body["user"]["email"], "Joe@example.com");
    assert_eq!(body["user"]["first_name"], "Joe");
    assert_eq!(body["user"]["last_name"], "Bloggs");
    assert_eq!(body["user"]["country"], "");
    assert_eq!(body["user"]["actions_completed"], 1);
    assert_eq!(body["user"]["details"]["Postcode"], 8282);
    assert_eq!(body["entry"]["id"], answer.entry.id.0);
    assert_eq!(body["entry"]["entry_method_id"], 1);
    assert_eq!(body["entry"]["created_at"], answer.entry.created_at);
    assert_eq!(body["entry"]["landing_url"], "https://example.com/giveaway");
    assert_eq!(body["entry"]["referring_url"], "https://search.example/");
    assert!(
        body["reward"].is_null() && body["coupon"].is_null() && body["entry"]["upload"].is_null()
    );
    assert_eq!(body["social_links"], serde_json::json!([]));
    let _typed: protocol::payload::EntryPayload = serde_json::from_value(body).unwrap();

    let (consent, honeypot): (Option<String>, String) = server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT consent_text, honeypot FROM entries")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!(
        consent.as_deref(),
        Some("I agree to receive emails from the Hookline Demo and accept the terms.")
    );
    assert_eq!(honeypot, "");
}

#[tokio::test]
async fn application_json_is_accepted_too() {
    let app = spawn_app().await;
    let (status, answer) = app
        .post_raw(
            "demo",
            "application/json",
            entry_body("key-1", "joe@example.com").to_string(),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn the_same_idempotency_key_answers_with_the_first_entry() {
    let app = spawn_app().await;
    let body = entry_body("retried-key", "joe@example.com");
    let (first_status, mut first) = app.post_entry("demo", &body).await;
    let (second_status, mut second) = app.post_entry("demo", &body).await;
    assert_eq!((first_status, second_status), (201, 200));
    // The token is stored only hashed: a retry that does not carry it gets a new one (and
    // the first stops working), so the widget always ends up holding a valid token.
    let first_token = first["contestant_token"].take();
    let second_token = second["contestant_token"].take();
    assert!(second_token.as_str().unwrap().starts_with("ctk_"));
    assert_ne!(first_token, second_token);
    assert_eq!(first, second);
    let (status, _) = app
        .get_json(&format!(
            "/api/v1/public/campaigns/demo/contestant?token={}",
            second_token.as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    // With the token, the retry's answer is the first, byte for byte.
    let mut carrying = body.clone();
    carrying["contestant_token"] = second_token.clone();
    let (third_status, mut third) = app.post_entry("demo", &carrying).await;
    assert_eq!(third_status, 200);
    assert_eq!(third["contestant_token"].take(), second_token);
    assert_eq!(third, first);
    assert_eq!(
        app.counts().await,
        Counts {
            contestants: 1,
            entries: 1,
            deliveries: 1,
            attempts: 0
        }
    );
    assert_eq!(
        app.drain(clock::now_millis()).await,
        vec![Step::Delivered, Step::Idle]
    );
    assert_eq!(app.receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_contestants_actions_add_up() {
    let app = spawn_app().await;
    let visit = app
        .store
        .add_entry_method(
            1,
            &NewEntryMethod::new(EntryMethodType::VisitUrl, "Visit the shop"),
            1,
            0,
        )
        .await
        .unwrap();
    let (status, _) = app
        .post_entry("demo", &entry_body("first", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let mut second = entry_body("second", "joe@EXAMPLE.com");
    second["entry_method_id"] = visit.0.into();
    second["name"] = "Joseph Bloggs".into();
    second["details"] = serde_json::json!({"Favourite bean": "Arabica"});
    let (status, answer) = app.post_entry("demo", &second).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (
            answer["actions_completed"].clone(),
            answer["total_entries"].clone()
        ),
        (2.into(), 2.into())
    );
    assert_eq!(
        app.counts().await,
        Counts {
            contestants: 1,
            entries: 2,
            deliveries: 2,
            attempts: 0
        }
    );

    assert_eq!(
        app.drain(clock::now_millis()).await,
        vec![Step::Delivered, Step::Delivered, Step::Idle]
    );
    let latest = app.receiver.requests()[1].json();
    assert_eq!(latest["user"]["name"], "Joseph Bloggs");
    assert_eq!(latest["user"]["actions_completed"], 2);
    assert_eq!(latest["user"]["details"]["Favourite bean"], "Arabica");
    assert_eq!(
        latest["user"]["details"]["Postcode"], 8282,
        "earlier answers are kept"
    );
}

/// A contestant's posts arriving together (one group, one transaction) add up as if they came
/// one after the other: each sees the ones before (its completions, its idempotency key), and
/// a retry among them gets the first answer.
#[tokio::test]
async fn posts_arriving_together_add_up_as_one_after_the_other() {
    // On PostgreSQL also in groups written at once, as by several processes.
    let app = spawn_app_with(|config| config.postgres_groups_at_once = 4).await;
    let mut visits = Vec::new();
    for n in 0..3 {
        visits.push(
            app.store
                .add_entry_method(
                    1,
                    &NewEntryMethod::new(EntryMethodType::VisitUrl, &format!("Visit shop {n}")),
                    1,
                    0,
                )
                .await
                .unwrap(),
        );
    }
    let (status, _) = app
        .post_entry("demo", &entry_body("first", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let mut bodies: Vec<serde_json::Value> = visits
        .iter()
        .enumerate()
        .map(|(n, method)| {
            let mut body = entry_body(&format!("visit-{n}"), "joe@example.com");
            body["entry_method_id"] = method.0.into();
            body
        })
        .collect();
    // The first visit's post, retried before its answer came.
    bodies.push(bodies[0].clone());
    let answers =
        futures_util::future::join_all(bodies.iter().map(|body| app.post_entry("demo", body)))
            .await;
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201, 201, 201], "{answers:?}");
    let mut counted: Vec<u64> = answers
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, answer)| answer["actions_completed"].as_u64().unwrap())
        .collect();
    counted.sort_unstable();
    assert_eq!(counted, [2, 3, 4], "{answers:?}");
    // The retry's answer is its first post's.
    let (first, retry) = (&answers[0].1, &answers[3].1);
    assert_eq!(first["entry"], retry["entry"]);
    assert_eq!(
        app.counts().await,
        Counts {
            contestants: 1,
            entries: 4,
            deliveries: 4,
            attempts: 0
        }
    );
}
