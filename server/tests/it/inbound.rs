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

/// What each seed example is stored as, every field but `id`, `stream`, `raw` and
/// `received_at` (checked on their own). `occurred_at: null` stands for "when it arrived".
fn stored_as(name: &str) -> Value {
    let nothing = json!({
        "email": "test@gmail.com", "first_name": "", "last_name": "", "occurred_at": null,
        "ip": null, "guid": null, "city": null, "country": null, "country_code": null,
        "state": null, "state_code": null, "product_name": null, "product_link": null,
        "product_image": null, "total": null, "currency": null, "products": [],
    });
    let with = |fields: Value| {
        let mut stored = nothing.clone();
        if let (Some(stored), Value::Object(fields)) = (stored.as_object_mut(), fields) {
            stored.extend(fields);
        }
        stored
    };
    let basic = json!({"first_name": "John", "last_name": "Smith",
                       "occurred_at": "2018-06-10T06:14:39.398Z", "ip": "141.92.55.102", "guid": "id"});
    let location = json!({"city": "Miami", "country": "United States", "country_code": "US",
                          "state": "Florida", "state_code": "FL"});
    let t_shirt = |price: &str| {
        json!({"id": "123", "name": "T-Shirt", "link": "https://mystore.com/t-shirt",
               "image": "https://mystore.com/images/t-shirt.png", "price": price, "quantity": 2})
    };
    match name {
        "basic" => with(basic),
        "location" => with(location),
        "purchase" => with(json!({
            "product_name": "Sneakers", "product_link": "https://sneakers.com/sneakers",
            "product_image": "https://sneakers.com/sneakers.jpg", "total": "55", "currency": "USD",
        })),
        "products" => with(json!({
            "product_name": "T-Shirt", "product_link": "https://mystore.com/t-shirt",
            "product_image": "https://mystore.com/images/t-shirt.png", "products": [t_shirt("55")],
        })),
        "full" => {
            let mut full = with(basic);
            for (key, value) in location.as_object().unwrap() {
                full[key] = value.clone();
            }
            for (key, value) in json!({
                "total": "85.5", "currency": "USD",
                // The most expensive of the two.
                "product_name": "Hoodie", "product_link": "https://mystore.com/hoodie", "product_image": null,
                "products": [t_shirt("25.5"), {"id": "hoodie-xl", "name": "Hoodie",
                    "link": "https://mystore.com/hoodie", "image": null, "price": "34.5", "quantity": 1}],
            })
            .as_object()
            .unwrap()
            {
                full[key] = value.clone();
            }
            full
        }
        _ => panic!("no fixture {name}"),
    }
}

#[tokio::test]
async fn every_seed_example_is_stored_field_by_field_as_json_and_as_form() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Shop"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.url("/hooks/in/")), "{url}");
    for name in ["basic", "location", "purchase", "products", "full"] {
        for format in ["json", "form"] {
            let content_type = if format == "json" { JSON } else { FORM };
            let body = fixture(&format!("{name}.{format}"));
            let (status, answer) = post(&app, &url, content_type, body.clone()).await;
            assert_eq!(
                (status, answer["status"].as_str()),
                (201, Some("created")),
                "{name}.{format}: {answer}"
            );
            let mut stored = conversions(&app, &key, &stream).await[0].clone();
            assert_eq!(stored["id"], answer["id"], "{name}.{format}");
            assert_eq!(stored["stream"], stream["id"]);
            let raw = stored["raw"].take();
            let received_at = stored["received_at"].take();
            assert!(received_at.is_string(), "{received_at}");
            let mut expected = stored_as(name);
            if expected["occurred_at"].is_null() {
                // No timestamp: when it arrived.
                expected["occurred_at"] = received_at.clone();
            }
            for field in ["id", "stream", "raw", "received_at"] {
                stored.as_object_mut().unwrap().remove(field);
            }
            assert_eq!(stored, expected, "{name}.{format}, field by field");
            if format == "json" {
                let sent: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(raw, sent, "{name}: the whole payload is kept");
            } else {
                assert_eq!(raw["email"], "test@gmail.com", "{name}: {raw}");
            }
        }
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
async fn form_data_finds_and_fills_in_the_same_way() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Forms"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let cases: [(&str, [&str; 5]); 3] = [
        (
            // The email deep in an unknown payload, a timestamp in milliseconds, a country
            // code only.
            "order%5Bid%5D=7&order%5Bcustomer%5D%5Bcontact%5D%5Bmail%5D=ann%40shop.example\
             &timestamp=1528611279398&countryCode=fr",
            [
                "ann@shop.example",
                "2018-06-10T06:14:39.398Z",
                "France",
                "FR",
                "",
            ],
        ),
        (
            // Seconds, a country name only, a US state by its name.
            "email=bob%40example.com&timestamp=1528611279&country=United+States&state=texas",
            [
                "bob@example.com",
                "2018-06-10T06:14:39Z",
                "United States",
                "US",
                "TX",
            ],
        ),
        (
            "email=cat%40example.com&timestamp=1528611279.5&countryCode=US&stateCode=ny",
            [
                "cat@example.com",
                "2018-06-10T06:14:39.500Z",
                "United States",
                "US",
                "NY",
            ],
        ),
    ];
    for (body, [email, occurred_at, country, code, state_code]) in cases {
        let (status, answer) = post(&app, &url, FORM, body.as_bytes().to_vec()).await;
        assert_eq!(status, 201, "{answer}");
        let stored = conversions(&app, &key, &stream).await[0].clone();
        assert_eq!(
            [
                &stored["email"],
                &stored["occurred_at"],
                &stored["country"],
                &stored["country_code"]
            ],
            [email, occurred_at, country, code],
            "{stored}"
        );
        if !state_code.is_empty() {
            assert_eq!(stored["state_code"], state_code, "{stored}");
        }
    }
}

/// A bad request: Content-Type, body, and the status, code and field of its error.
type BadInput = (
    &'static str,
    Vec<u8>,
    u16,
    &'static str,
    Option<&'static str>,
);

#[tokio::test]
async fn bad_input_gets_its_error_and_stores_nothing() {
    // An endpoint takes conversions: a half-stored one would show as a delivery.
    let app = spawn_app_with(|config| {
        if let Some(webhook) = &mut config.webhook {
            webhook.events = vec![EventType::ConversionReceived];
        }
    })
    .await;
    let (_, stream) = stream(&app, json!({"name": "Shop"})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let email = r#""email": "a@b.example""#;
    let with = |fields: &str| format!("{{{email}, {fields}}}").into_bytes();
    // The seed's location example on its own: valid JSON, but no email anywhere.
    let seed_location = br#"{"city": "Miami", "country": "United States", "countryCode": "US",
                             "state": "Florida", "stateCode": "FL"}"#;
    let cases: Vec<BadInput> = vec![
        (JSON, b"{\"email\": ".to_vec(), 400, "invalid_json", None),
        // The seed's own example, comments and all, is not JSON.
        (
            JSON,
            b"{\"email\": \"test@gmail.com\", //optional\n}".to_vec(),
            400,
            "invalid_json",
            None,
        ),
        (JSON, b"email=a%40b.example".to_vec(), 400, "content_type_mismatch", None),
        (FORM, with(""), 400, "content_type_mismatch", None),
        (FORM, b"email=a%40b.example&city=%FF".to_vec(), 400, "invalid_form", None),
        ("text/plain", with("\"x\": 1"), 415, "unsupported_media_type", None),
        ("application/json; charset=latin1", with("\"x\": 1"), 415, "unsupported_charset", None),
        (JSON, b"[1, 2]".to_vec(), 400, "json_not_object", None),
        (JSON, seed_location.to_vec(), 422, "email_required", Some("email")),
        (FORM, b"firstName=Joe&city=Miami".to_vec(), 422, "email_required", Some("email")),
        (JSON, br#"{"email": "not an email"}"#.to_vec(), 422, "invalid_email", Some("email")),
        (JSON, with(r#""ip": "999.1.1.1""#), 422, "invalid_ip", Some("ip")),
        (JSON, with(r#""timestamp": "soon""#), 422, "invalid_timestamp", Some("timestamp")),
        (JSON, with(r#""timestamp": -1528611279398"#), 422, "invalid_timestamp", Some("timestamp")),
        (JSON, with(r#""firstName": ["Joe"]"#), 422, "invalid_field", Some("firstName")),
        (
            JSON,
            with(&format!(r#""city": "{}""#, "x".repeat(501))),
            422,
            "field_too_long",
            Some("city"),
        ),
        (JSON, with(r#""total": "55,90""#), 422, "invalid_amount", Some("total")),
        (JSON, with(r#""productLink": "javascript:alert(1)""#), 422, "invalid_url", Some("productLink")),
        (JSON, with(r#""products": {"name": "x"}"#), 422, "invalid_products", Some("products")),
        (
            JSON,
            with(r#""products": [{"name": "x", "link": "https://shop.example/x"}, {"name": "y"}]"#),
            422,
            "invalid_product",
            Some("products[1].link"),
        ),
        (
            JSON,
            with(r#""products": [{"name": "x", "link": "ftp://shop.example/x"}]"#),
            422,
            "invalid_url",
            Some("products[0].link"),
        ),
        (
            FORM,
            b"email=a%40b.example&products[0][name]=x&products[0][link]=https://s.example/x&products[0][price]=-1"
                .to_vec(),
            422,
            "invalid_amount",
            Some("products[0].price"),
        ),
        (JSON, vec![b' '; 70 * 1024], 413, "payload_too_large", None),
    ];
    for (content_type, body, status, code, field) in cases {
        let (got, error) = post(&app, &url, content_type, body).await;
        assert_eq!(
            (got, error["code"].as_str(), error["field"].as_str()),
            (status, Some(code), field),
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

/// Opens the demo campaign's feed and reads the summary and the `n` recent notifications.
async fn open_feed(app: &TestApp, n: usize) -> (reqwest::Response, String, Vec<Value>) {
    let mut response = app
        .client
        .get(app.url("/api/v1/public/campaigns/demo/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut buffer = String::new();
    let first = next_events(&mut response, &mut buffer, n + 1).await;
    assert_eq!(first[0].0, "summary");
    let recent: Vec<Value> = first[1..].iter().map(|(_, data)| data.clone()).collect();
    assert_eq!(recent.len(), n, "{recent:?}");
    (response, buffer, recent)
}

#[tokio::test]
async fn owners_choose_the_fields_shown_and_can_leave_contestants_out() {
    let app = spawn_app().await;
    let (key, stream) = stream(&app, json!({"name": "Shop", "campaigns": ["demo"]})).await;
    let url = stream["url"].as_str().unwrap().to_owned();
    let settings = json!({"social_proof": {
        "enabled": true, "exclude_contestants": true,
        "fields": {"name": false, "location": true, "product": true, "link": false},
    }});
    let (status, body) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Joe enters the campaign: his entry is shown without his name (he is a contestant).
    let (status, _) = app
        .post_entry("demo", &entry_body("k1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let (mut events, mut buffer, recent) = open_feed(&app, 1).await;
    assert_eq!(recent[0]["kind"], "entry");
    assert_eq!(
        recent[0]["text"],
        "Someone just entered Hookline Demo Giveaway"
    );

    // Joe buys something: not shown, he is a contestant. Ann buys: shown without her name or
    // the product's link. The feed is in order, so the next notification is Ann's.
    let purchase = |email: &str, first_name: &str| {
        json!({"email": email, "firstName": first_name, "lastName": "Lee", "city": "Sydney",
               "countryCode": "AU", "productName": "Sneakers",
               "productLink": "https://sneakers.com/sneakers"})
        .to_string()
        .into_bytes()
    };
    let (status, _) = post(&app, &url, JSON, purchase("joe@example.com", "Joe")).await;
    assert_eq!(status, 201);
    let (status, ann) = post(&app, &url, JSON, purchase("ann@example.com", "Ann")).await;
    assert_eq!(status, 201);
    let live = next_events(&mut events, &mut buffer, 1).await;
    let shown = &live[0].1;
    assert_eq!(shown["id"], format!("cv_{}", ann["id"]));
    assert_eq!(shown["name"], "Someone");
    assert_eq!(shown["place"], "Sydney, Australia");
    assert_eq!(shown["product"]["name"], "Sneakers");
    assert_eq!(shown["product"]["link"], Value::Null, "links not shown");
    assert_eq!(
        shown["text"],
        "Someone from Sydney, Australia just bought Sneakers"
    );

    // Joe's further actions are not more people entering: the next entry shown is Ann's.
    let (status, _) = app
        .post_entry("demo", &entry_body("k2", "joe@example.com"))
        .await;
    assert!(status < 500, "{status}");
    let (status, _) = app
        .post_entry("demo", &entry_body("k3", "ann@example.com"))
        .await;
    assert_eq!(status, 201);
    let live = next_events(&mut events, &mut buffer, 1).await;
    assert_eq!(live[0].1["kind"], "entry");
    let ann_entry = live[0].1["id"].clone();

    // A widget connecting now: both are contestants now, so neither purchase is shown; their
    // entries are, one each, without names.
    let (_, _, recent) = open_feed(&app, 2).await;
    let ids: Vec<&Value> = recent
        .iter()
        .map(|notification| &notification["id"])
        .collect();
    assert!(ids.contains(&&ann_entry), "{ids:?}");
    assert!(
        recent
            .iter()
            .all(|notification| notification["kind"] == "entry"),
        "{recent:?}"
    );
    for notification in &recent {
        assert_eq!(notification["name"], "Someone", "{notification}");
        assert!(!notification.to_string().contains('@'), "{notification}");
    }

    // Names shown again, contestants kept in: Joe's purchase is there, by name.
    let settings = json!({"social_proof": {"enabled": true}});
    let (status, _) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200);
    let (_, _, recent) = open_feed(&app, 4).await;
    let texts: Vec<&str> = recent
        .iter()
        .map(|notification| notification["text"].as_str().unwrap_or_default())
        .collect();
    assert!(
        texts.contains(&"Joe L. from Sydney, Australia just bought Sneakers"),
        "{texts:?}"
    );
    assert_eq!(
        recent
            .iter()
            .filter(|notification| notification["kind"] == "entry")
            .count(),
        2,
        "one per person: {texts:?}"
    );
}
