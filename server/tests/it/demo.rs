//! The built-in demo receiver, fed by a real delivery.

use serde_json::Value;
use server::clock;
use server::delivery::Step;

use crate::helpers::{PATIENCE, entry_body, spawn_app, spawn_app_with};

/// Reads the event stream until `n` `webhook` events have arrived; returns their data.
async fn read_webhook_events(response: &mut reqwest::Response, n: usize) -> Vec<Value> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(PATIENCE, response.chunk())
            .await
            .expect("an event in time")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(
            &chunk.expect("the stream stays open"),
        ));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.lines().any(|line| line == "event: webhook") {
                let data = event
                    .lines()
                    .find_map(|line| line.strip_prefix("data: "))
                    .expect("a data line");
                events.push(serde_json::from_str(data).unwrap());
            }
        }
    }
    events
}

#[tokio::test]
async fn the_demo_receiver_verifies_a_real_delivery_and_streams_it() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let (status, answer) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let mut live = app.get("/demo/receiver/stream").await;
    assert_eq!(live.status().as_u16(), 200);
    assert_eq!(live.headers()["content-type"], "text/event-stream");

    // One delivery to the test receiver and one to the demo receiver.
    let steps = app.drain(clock::now_millis()).await;
    assert_eq!(steps, vec![Step::Delivered, Step::Delivered, Step::Idle]);
    let events = read_webhook_events(&mut live, 1).await;
    let webhook = &events[0];
    assert_eq!(webhook["signature_valid"], true, "{webhook}");
    assert!(webhook["signature_error"].is_null());
    assert_eq!(webhook["event_type"], "entry.created");
    assert!(webhook["webhook_id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(webhook["headers"]["hookline-event"], "entry.created");
    assert_eq!(webhook["body"]["entry"]["id"], answer["entry"]["id"]);
    assert_eq!(webhook["body"]["campaign"]["key"], "demo");

    // A page opened later gets the remembered webhooks first.
    let mut later = app.get("/demo/receiver/stream").await;
    let remembered = read_webhook_events(&mut later, 1).await;
    assert_eq!(remembered[0]["webhook_id"], webhook["webhook_id"]);
}

#[tokio::test]
async fn a_forged_webhook_is_refused_but_shown() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let forged = app
        .client
        .post(app.url("/demo/receiver"))
        .header("webhook-id", "msg_forged")
        .header(
            "webhook-timestamp",
            (clock::now_millis() / 1000).to_string(),
        )
        .header("webhook-signature", "v1,AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let mut live = app.get("/demo/receiver/stream").await;
    let events = read_webhook_events(&mut live, 1).await;
    assert_eq!(events[0]["signature_valid"], false);
    assert_eq!(events[0]["webhook_id"], "msg_forged");
}

#[tokio::test]
async fn without_demo_mode_there_is_no_demo_receiver() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/demo/receiver"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(app.drain(clock::now_millis()).await, vec![Step::Idle]);
}
