//! Inbound conversion webhooks (`POST /hooks/in/{stream_key}`, seed 001): every example body
//! of the seed as JSON and as form data, stored field by field; bad input refused with
//! nothing stored; signed streams; `conversion.received` delivered; social proof pushed to
//! widgets over Server-Sent Events.

use std::time::Duration;

use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use serde_json::{Value, json};

use crate::helpers::{PATIENCE, TestApp, entry_body, spawn_app, spawn_app_with};

/// The seed's example bodies, as JSON and as form data (server/tests/data/inbound).
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/inbound/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A workspace (the demo campaign's) with one stream; its admin key and the stream JSON.
async fn stream(app: &TestApp, body: Value) -> (String, Value) {
    let key = app.setup().await;
    let (status, stream) = app
        .admin("POST", "/api/v1/streams", Some(&key), Some(body))
        .await;
    assert_eq!(status, 201, "{stream}");
    (key, stream)
}

async fn post(app: &TestApp, url: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn conversions(app: &TestApp, key: &str, stream: &Value) -> Vec<Value> {
    let path = format!(
        "/api/v1/streams/{}/conversions",
        stream["id"].as_str().unwrap()
    );
    let (status, page) = app.admin("GET", &path, Some(key), None).await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn every_seed_example_is_stored_field_by_field_as_json_and_as_form() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Shop"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.url("/hooks/in/")), "{url}");
    for (name, format) in [
        ("basic", "json"),
        ("basic", "form"),
        ("location", "json"),
        ("location", "form"),
        ("purchase", "json"),
        ("purchase", "form"),
        ("products", "json"),
        ("products", "form"),
        ("full", "json"),
        ("full", "form"),
    ] {
        let content_type = if format == "json" { JSON } else { FORM };
        let (status, answer) = post(
            &app,
            &url,
            content_type,
            fixture(&format!("{name}.{format}")),
        )
        .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (201, Some("created")),
            "{name}.{format}: {answer}"
        );
        let stored = conversions(&app, &key, &stream).await[0].clone();
        let field = |name: &str| stored[name].clone();
        assert_eq!(field("email"), "test@gmail.com", "{name}.{format}");
        match name {
            "basic" => {
                assert_eq!(
                    field("occurred_at"),
                    "2018-06-10T06:14:39.398Z",
                    "milliseconds"
                );
                assert_eq!(field("ip"), "141.92.55.102");
                assert_eq!(
                    (field("first_name"), field("last_name")),
                    (json!("John"), json!("Smith"))
                );
                assert_eq!(field("guid"), "id");
            }
            "location" => {
                assert_eq!(
                    [
                        field("city"),
                        field("country"),
                        field("country_code"),
                        field("state"),
                        field("state_code")
                    ],
                    [
                        json!("Miami"),
                        json!("United States"),
                        json!("US"),
                        json!("Florida"),
                        json!("FL")
                    ]
                );
            }
            "purchase" => {
                assert_eq!(
                    (field("total"), field("currency")),
                    (json!("55"), json!("USD"))
                );
                assert_eq!(field("product_name"), "Sneakers");
                assert_eq!(field("product_link"), "https://sneakers.com/sneakers");
                assert_eq!(field("product_image"), "https://sneakers.com/sneakers.jpg");
            }
            "products" => {
                assert_eq!(field("product_name"), "T-Shirt");
                assert_eq!(field("products")[0]["price"], "55");
                assert_eq!(field("products")[0]["quantity"], 2);
            }
            _ => {
                assert_eq!(
                    field("product_name"),
                    "Hoodie",
                    "the most expensive product"
                );
                assert_eq!(field("products").as_array().unwrap().len(), 2);
                assert_eq!(field("total"), "85.5");
                assert_eq!(field("state_code"), "FL");
            }
        }
        assert!(field("raw").is_object(), "{name}.{format}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM conversions").await, 10);
}

#[tokio::test]
async fn missing_fields_are_found_or_filled_in() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "CRM"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let cases = [
        (
            json!({"order": {"id": 7, "customer": {"name": "Ann", "contact": {"mail": "ann@shop.example"}}},
                   "timestamp": 1_528_611_279}),
            "ann@shop.example",
            "2018-06-10T06:14:39Z",
            (None, None),
        ),
        (
            json!({"email": "bob@example.com", "countryCode": "au"}),
            "bob@example.com",
            "",
            (Some("Australia"), Some("AU")),
        ),
        (
            json!({"email": "cat@example.com", "country": "Germany"}),
            "cat@example.com",
            "",
            (Some("Germany"), Some("DE")),
        ),
    ];
    for (body, email, occurred_at, (country, code)) in cases {
        let (status, answer) = post(&app, &url, JSON, body.to_string().into_bytes()).await;
        assert_eq!(status, 201, "{answer}");
        let stored = conversions(&app, &key, &stream).await[0].clone();
        assert_eq!(stored["email"], email);
        if !occurred_at.is_empty() {
            assert_eq!(stored["occurred_at"], occurred_at, "seconds");
        }
        if let Some(country) = country {
            assert_eq!(
                (stored["country"].as_str(), stored["country_code"].as_str()),
                (Some(country), code)
            );
        }
    }
}

#[tokio::test]
async fn bad_input_gets_its_error_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, stream) = stream(&app, json!({"name": "Shop"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (JSON, b"{\"email\": ".to_vec(), 400, "invalid_json"),
        (
            JSON,
            b"email=a%40b.example".to_vec(),
            400,
            "content_type_mismatch",
        ),
        (
            FORM,
            b"{\"email\": \"a@b.example\"}".to_vec(),
            400,
            "content_type_mismatch",
        ),
        (
            "text/plain",
            b"{\"email\": \"a@b.example\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (JSON, b"[1, 2]".to_vec(), 400, "json_not_object"),
        (
            JSON,
            br#"{"name": "no email here"}"#.to_vec(),
            422,
            "email_required",
        ),
        (
            JSON,
            br#"{"email": "not an email"}"#.to_vec(),
            422,
            "invalid_email",
        ),
        (
            JSON,
            br#"{"email": "a@b.example", "ip": "999.1.1.1"}"#.to_vec(),
            422,
            "invalid_ip",
        ),
        (
            JSON,
            br#"{"email": "a@b.example", "timestamp": "soon"}"#.to_vec(),
            422,
            "invalid_timestamp",
        ),
        (
            JSON,
            br#"{"email": "a@b.example", "products": {"name": "x"}}"#.to_vec(),
            422,
            "invalid_products",
        ),
        (
            JSON,
            br#"{"email": "a@b.example", "products": [{"name": "x"}]}"#.to_vec(),
            422,
            "invalid_product",
        ),
        (JSON, vec![b' '; 70 * 1024], 413, "payload_too_large"),
    ];
    for (content_type, body, status, code) in cases {
        let (got, error) = post(&app, &url, content_type, body).await;
        assert_eq!(
            (got, error["code"].as_str()),
            (status, Some(code)),
            "{error}"
        );
        assert!(!error["detail"].as_str().unwrap_or_default().is_empty());
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM conversions").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM deliveries").await, 0);
    let (status, error) = post(&app, &app.url("/hooks/in/nope"), JSON, b"{}".to_vec()).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_signed_stream_takes_only_signed_requests_and_each_message_once() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Signed", "signed": true})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let secret = SigningSecret::parse(stream["signing_secret"].as_str().unwrap()).unwrap();
    let body = br#"{"email": "joe@example.com"}"#.to_vec();
    let (status, error) = post(&app, &url, JSON, body.clone()).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("invalid_signature"))
    );

    let now = server::clock::now_millis() / 1000;
    let signed = |id: &str, timestamp: i64, body: &[u8], secret: &SigningSecret| {
        app.client
            .post(&url)
            .header("content-type", JSON)
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", secret.sign(id, timestamp, body))
            .body(body.to_vec())
            .send()
    };
    let forged = SigningSecret::from_bytes(&[7; 32]);
    let response = signed("msg_1", now, &body, &forged).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = signed("msg_1", now - 3600, &body, &secret).await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "too old");
    let response = signed("msg_1", now, &body, &secret).await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let response = signed("msg_1", now, &body, &secret).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "the same message again");
    assert_eq!(conversions(&app, &key, &stream).await.len(), 1);

    let path = format!("/api/v1/streams/{}", stream["id"].as_str().unwrap());
    let (status, _) = app
        .admin("PATCH", &path, Some(&key), Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, 200);
    let response = signed("msg_2", now, &body, &secret).await.unwrap();
    assert_eq!(response.status().as_u16(), 409, "switched off");
    let (status, _) = app.admin("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 204);
    let response = signed("msg_3", now, &body, &secret).await.unwrap();
    assert_eq!(response.status().as_u16(), 404, "deleted");
}

#[tokio::test]
async fn conversions_are_sent_as_conversion_received() {
    let app = spawn_app_with(|config| {
        if let Some(webhook) = &mut config.webhook {
            webhook.events = vec![EventType::ConversionReceived];
        }
    })
    .await;
    let (_, stream) = stream(&app, json!({"name": "Shop"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let (status, answer) = post(&app, &url, JSON, fixture("full.json")).await;
    assert_eq!(status, 201);
    app.drain(server::clock::now_millis()).await;
    let received = app.receiver.wait_for(1, PATIENCE).await;
    let webhook = &received[0];
    assert_eq!(
        webhook.header("hookline-event"),
        Some("conversion.received")
    );
    let body = webhook.json();
    assert_eq!(body["stream"]["name"], "Shop");
    assert_eq!(body["conversion"]["id"], answer["id"]);
    assert_eq!(body["conversion"]["email"], "test@gmail.com");
    assert_eq!(body["conversion"]["product_name"], "Hoodie");
    assert_eq!(body["conversion"]["occurred_at"], "2018-06-10 06:14:39 UTC");
    assert_eq!(body["conversion"]["raw"]["guid"], "id");
}

/// The next `n` events of an SSE response: (event name, data).
async fn next_events(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    n: usize,
) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    while events.len() < n {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim());
                }
            }
            if !name.is_empty() {
                events.push((name, serde_json::from_str(&data).unwrap()));
            }
        }
        if events.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout(PATIENCE, stream.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    events
}

#[tokio::test]
async fn widgets_hear_conversions_and_entries_at_once_without_emails() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Shop", "campaigns": ["demo"]})).await;
    let (status, body) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({"settings": {"social_proof": {"enabled": true, "position": "bottom_right"}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, public) = app.get_json("/api/v1/public/campaigns/demo").await;
    assert_eq!(public["social_proof"]["position"], "bottom_right");

    // One conversion before the widget connects: it is among the recent ones.
    let url = stream["url"].as_str().unwrap().to_owned();
    let earlier = json!({"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee",
                         "city": "Sydney", "countryCode": "AU"});
    assert_eq!(
        post(&app, &url, JSON, earlier.to_string().into_bytes())
            .await
            .0,
        201
    );

    let response = app
        .client
        .get(app.url("/api/v1/public/campaigns/demo/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut events = response;
    let mut buffer = String::new();
    let first = next_events(&mut events, &mut buffer, 2).await;
    assert_eq!(first[0].0, "summary");
    assert_eq!(first[0].1["conversions_today"], 1);
    assert_eq!(first[1].0, "notification");
    assert_eq!(
        first[1].1["text"],
        "Ann L. from Sydney, Australia just signed up"
    );

    let started = std::time::Instant::now();
    assert_eq!(
        post(&app, &url, JSON, fixture("purchase.json")).await.0,
        201
    );
    let live = next_events(&mut events, &mut buffer, 1).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(live[0].1["kind"], "conversion");
    assert_eq!(live[0].1["text"], "Someone just bought Sneakers");
    assert_eq!(
        live[0].1["product"]["link"],
        "https://sneakers.com/sneakers"
    );

    let (status, _) = app
        .post_entry("demo", &entry_body("k1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let live = next_events(&mut events, &mut buffer, 1).await;
    assert_eq!(live[0].1["kind"], "entry");
    assert_eq!(
        live[0].1["text"],
        "Joe B. just entered Hookline Demo Giveaway"
    );
    assert!(!buffer.contains('@'));
    for (_, data) in first.iter().chain(&live) {
        assert!(
            !data.to_string().contains('@'),
            "no email ever leaves: {data}"
        );
    }

    // A campaign that does not show social proof has no feed.
    let (status, _) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({"settings": {}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get_json("/api/v1/public/campaigns/demo/activity").await;
    assert_eq!(status, 404);
}
