//! Endpoints people manage through the admin API, delivered to a recording receiver: every
//! setting, each method and content type, templates with hostile values, auth connectors,
//! secret rotation, strict ordering, batching, retry schedules, the history and retries,
//! soft delete, and workspaces kept apart. Time is the clock given to `try_next`.

use std::time::Duration;

use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, SigningSecret, verify};
use serde_json::{Value, json};
use server::clock;
use server::config::DeliveryTimeouts;
use server::delivery::Step;
use tests::receiver::Recorded;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{PATIENCE, ScriptedReceiver, TestApp, entry_body, spawn_app_with};

const OPERATOR_KEY: &str = "operator-key-for-the-tests-0123456789";
const MINUTE: i64 = 60_000;

/// An app with no operator endpoint, set up with a workspace; its API key.
async fn app() -> (TestApp, String) {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.operator_key = Some(OPERATOR_KEY.to_owned());
    })
    .await;
    let key = app.setup().await;
    (app, key)
}

/// Creates an endpoint (no test on save unless asked); the answer.
async fn create(app: &TestApp, key: &str, mut body: Value) -> Value {
    if body.get("test_on_save").is_none() {
        body["test_on_save"] = json!(false);
    }
    let (status, saved) = app
        .admin("POST", "/api/v1/endpoints", Some(key), Some(body))
        .await;
    assert_eq!(status, 201, "{saved}");
    saved
}

async fn post(app: &TestApp, n: usize) -> i64 {
    let (status, body) = app
        .post_entry(
            "demo",
            &entry_body(&format!("key-{n}"), &format!("joe{n}@example.com")),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["entry"]["id"].as_i64().unwrap()
}

fn verifies(request: &Recorded, secret: &str, now_s: i64) -> bool {
    verify(
        &SigningSecret::parse(secret).unwrap(),
        request.header("webhook-id").unwrap(),
        request.header("webhook-timestamp").unwrap(),
        request.header("webhook-signature").unwrap(),
        &request.body,
        now_s,
        DEFAULT_TOLERANCE_SECONDS,
    )
    .is_ok()
}

/// The demo entry with answers that a request must carry through every encoding.
fn hostile_entry(n: usize) -> Value {
    let mut body = entry_body(&format!("hostile-{n}"), &format!("obrien+{n}@example.com"));
    body["details"] = json!({
        "Comment": "He said \"hi\" & <b>left</b>\nthen 'came back' 100% ?a=b#c",
        "Postcode": 8282
    });
    body
}

#[tokio::test]
async fn an_endpoint_is_created_tested_on_save_shown_and_listed() {
    let (app, key) = app().await;
    let url = app.receiver.url();
    let (status, saved) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "CRM", "description": "Contacts", "events": ["entry.created", "subscriber.created"],
                "url": url, "headers": {"X-Source": "hookline"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let secret = saved["signing_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let test = &saved["test"];
    assert_eq!(test["succeeded"], true, "{test}");
    assert_eq!(test["status_code"], 204);
    assert!(test["latency_ms"].is_u64(), "{test}");
    assert_eq!(test["response_snippet"], "", "a 204 has no body");
    assert_eq!(test["request"]["method"], "POST");
    let requests = app.receiver.wait_for(1, PATIENCE).await;
    assert_eq!(requests[0].header("hookline-event"), Some("webhook.test"));
    assert_eq!(requests[0].header("x-source"), Some("hookline"));
    assert_eq!(
        requests[0].json()["campaign"]["key"],
        "a1XyD",
        "the sample payload"
    );
    assert!(verifies(&requests[0], &secret, clock::now_millis() / 1000));

    let endpoint = &saved["endpoint"];
    let id = endpoint["id"].as_str().unwrap();
    assert!(id.starts_with("ep_"));
    assert_eq!(endpoint["status"], "active");
    assert_eq!(endpoint["method"], "POST");
    assert_eq!(endpoint["content_type"], "json");
    assert_eq!(endpoint["retry_schedule"], json!([60, 120, 240, 480, 3600]));
    assert_eq!(endpoint["max_attempts"], 40);
    assert_eq!(endpoint["campaigns"], Value::Null);
    assert!(endpoint.get("signing_secret").is_none() && !endpoint.to_string().contains(&secret));

    let (status, got) = app
        .admin("GET", &format!("/api/v1/endpoints/{id}"), Some(&key), None)
        .await;
    assert_eq!((status, &got), (200, endpoint));
    let (_, revealed) = app
        .admin(
            "GET",
            &format!("/api/v1/endpoints/{id}/secret"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(revealed["signing_secret"], secret.as_str());

    // An entry goes to it; the list shows the success rate of its attempts.
    post(&app, 1).await;
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Delivered
    );
    let (status, list) = app
        .admin("GET", "/api/v1/endpoints", Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["success_rate"], 1.0);
    assert_eq!(list["data"][0]["attempts_last_24h"], 1);
}

#[tokio::test]
async fn settings_are_refused_with_every_problem_named_and_template_positions() {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.allow_http_webhooks = false;
    })
    .await;
    let key = app.setup().await;
    let (status, refused) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "",
                "events": ["entry.created", "entry.made"],
                "campaigns": ["nope"],
                "url": "http://api.example.com/{{user.email}}",
                "headers": {"X Bad": "1", "X-Id": "{{user.nope}}"},
                "body_template": "{\n  \"email\": \"{{user.emial}}\"\n}",
                "retry_schedule": [],
                "rate_limit_per_second": 0,
            })),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "invalid_settings");
    let problems: Vec<(String, Value, Value)> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            (
                problem["field"].as_str().unwrap().to_owned(),
                problem["line"].clone(),
                problem["column"].clone(),
            )
        })
        .collect();
    let field = |name: &str| {
        problems
            .iter()
            .find(|(field, _, _)| field == name)
            .unwrap_or_else(|| panic!("no problem with {name}: {refused}"))
            .clone()
    };
    field("name");
    field("events.1");
    field("campaigns.0");
    field("retry_schedule");
    field("rate_limit_per_second");
    field("headers.X Bad");
    assert_eq!(field("headers.X-Id").1, json!(1));
    assert_eq!(
        field("body_template"),
        ("body_template".into(), json!(2), json!(15))
    );
    assert_eq!(refused["field"], "name");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM endpoints").await,
        0,
        "nothing stored"
    );

    // The template fixed, only the scheme is left: HTTPS is required here.
    let (status, refused) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({"name": "CRM", "events": ["entry.created"], "url": "http://api.example.com/"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(refused["errors"][0]["field"], "url", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("https://")
    );
    // Wrong names of methods and content types.
    let (status, refused) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({"name": "CRM", "events": ["entry.created"], "url": "https://api.example.com/", "method": "DELETE", "content_type": "yaml"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(refused["errors"].as_array().unwrap().len(), 2, "{refused}");
}

/// Creates an endpoint with `settings`, posts a hostile entry, delivers it; the request.
async fn deliver_with(settings: Value) -> (Recorded, String) {
    let (app, key) = app().await;
    let mut body =
        json!({"name": "Receiver", "events": ["entry.created"], "url": app.receiver.url()});
    for (name, value) in settings.as_object().unwrap() {
        body[name] = value.clone();
    }
    let saved = create(&app, &key, body).await;
    let (status, _) = app.post_entry("demo", &hostile_entry(1)).await;
    assert_eq!(status, 201);
    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Delivered);
    let requests = app.receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = requests[0].clone();
    let secret = saved["signing_secret"].as_str().unwrap().to_owned();
    assert!(verifies(&request, &secret, now / 1000), "signed");
    (request, secret)
}

const COMMENT: &str = "He said \"hi\" & <b>left</b>\nthen 'came back' 100% ?a=b#c";

fn form_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

#[tokio::test]
async fn json_post_carries_the_frozen_body() {
    let (request, _) = deliver_with(json!({})).await;
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["user"]["details"]["Comment"], COMMENT);
    assert_eq!(body["user"]["email"], "obrien+1@example.com");
}

#[tokio::test]
async fn put_with_a_form_body_template_escapes_each_value() {
    let (request, _) = deliver_with(json!({
        "method": "PUT", "content_type": "form",
        "body_template": "email={{user.email}}\ncomment={{user.details.Comment}}\nsource=web shop"
    }))
    .await;
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let text = String::from_utf8(request.body.clone()).unwrap();
    assert_eq!(
        form_pairs(&text),
        [
            ("email".to_owned(), "obrien+1@example.com".to_owned()),
            ("comment".to_owned(), COMMENT.to_owned()),
            ("source".to_owned(), "web shop".to_owned()),
        ]
    );
}

#[tokio::test]
async fn patch_with_the_default_xml_body_is_well_formed() {
    let (request, _) = deliver_with(json!({"method": "PATCH", "content_type": "xml"})).await;
    assert_eq!(request.method, "PATCH");
    assert_eq!(request.header("content-type"), Some("application/xml"));
    let text = String::from_utf8(request.body.clone()).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    let comment = document
        .descendants()
        .find(|node| node.attribute("name") == Some("Comment"))
        .unwrap();
    assert_eq!(comment.text(), Some(COMMENT));
    assert_eq!(
        document.root_element().attribute("type"),
        Some("entry.created")
    );
}

#[tokio::test]
async fn an_xml_body_template_escapes_values_as_xml_text() {
    let (request, _) = deliver_with(json!({
        "content_type": "xml",
        "body_template": "<contact source=\"hookline\">\n  <email>{{user.email}}</email>\n  <comment>{{user.details.Comment}}</comment>\n  <campaign>{{campaign.name}}</campaign>\n</contact>"
    }))
    .await;
    assert_eq!(request.header("content-type"), Some("application/xml"));
    let text = String::from_utf8(request.body.clone()).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    let text_of = |name: &str| {
        document
            .descendants()
            .find(|node| node.has_tag_name(name))
            .and_then(|node| node.text())
            .map(str::to_owned)
    };
    assert_eq!(text_of("email").as_deref(), Some("obrien+1@example.com"));
    assert_eq!(text_of("comment").as_deref(), Some(COMMENT));
    assert_eq!(
        document.root_element().attribute("source"),
        Some("hookline")
    );
    assert!(
        !text.contains("<b>"),
        "the contestant's markup is text: {text}"
    );
}

#[tokio::test]
async fn a_json_body_template_and_header_templates_escape_for_where_they_land() {
    let (request, _) = deliver_with(json!({
        "headers": {"X-Comment": "{{user.details.Comment}}"},
        "body_template": "{\"email\": \"{{user.email}}\", \"comment\": \"{{user.details.Comment}}\", \"postcode\": {{user.details.Postcode}}}"
    }))
    .await;
    let body = request.json();
    assert_eq!(
        body,
        json!({"email": "obrien+1@example.com", "comment": COMMENT, "postcode": 8282})
    );
    // A newline cannot be in a header: it becomes a space.
    assert_eq!(
        request.header("x-comment"),
        Some(COMMENT.replace('\n', " ").as_str())
    );
}

#[tokio::test]
async fn urls_and_headers_carry_hostile_values_escaped() {
    let (app, key) = app().await;
    create(
        &app,
        &key,
        json!({
            "name": "Templated", "events": ["entry.created"],
            "url": format!("{}/{{{{user.email}}}}?c={{{{user.details.Comment}}}}", app.receiver.url()),
            "headers": {"X-Comment": "{{user.details.Comment}}"},
        }),
    )
    .await;
    app.post_entry("demo", &hostile_entry(1)).await;
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Delivered
    );
    let request = &app.receiver.requests()[0];
    let (path, query) = request.path.split_once('?').unwrap();
    assert_eq!(path, "/hooks/obrien%2B1%40example.com");
    assert_eq!(form_pairs(query), [("c".to_owned(), COMMENT.to_owned())]);
    assert_eq!(
        request.header("x-comment"),
        Some(COMMENT.replace('\n', " ").as_str())
    );
}

#[tokio::test]
async fn text_sends_the_json_text_and_get_sends_the_data_in_the_query() {
    let (request, _) = deliver_with(json!({"content_type": "text"})).await;
    assert_eq!(
        request.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(request.json()["user"]["details"]["Comment"], COMMENT);

    let (request, _) = deliver_with(json!({"method": "GET"})).await;
    assert_eq!(request.method, "GET");
    assert!(request.body.is_empty() && request.header("content-type").is_none());
    let (_, query) = request.path.split_once('?').unwrap();
    let pairs = form_pairs(query);
    assert!(
        pairs.contains(&("user.details.Comment".to_owned(), COMMENT.to_owned())),
        "{pairs:?}"
    );
    assert!(pairs.contains(&("campaign.key".to_owned(), "demo".to_owned())));
}

#[tokio::test]
async fn auth_connectors_sign_requests_and_never_show_their_secrets() {
    let (app, key) = app().await;
    let mut expected = Vec::new();
    for (connector, header, value) in [
        (
            json!({"name": "Basic", "type": "basic", "username": "joe", "password": "s3cret-pw"}),
            "authorization",
            "Basic am9lOnMzY3JldC1wdw==",
        ),
        (
            json!({"name": "Bearer", "type": "bearer", "token": "t0ken-value"}),
            "authorization",
            "Bearer t0ken-value",
        ),
        (
            json!({"name": "Key", "type": "api_key", "header_name": "X-Api-Key", "key": "k3y-value"}),
            "x-api-key",
            "k3y-value",
        ),
    ] {
        let (status, made) = app
            .admin(
                "POST",
                "/api/v1/auth-connectors",
                Some(&key),
                Some(connector),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let id = made["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ac_"));
        assert!(
            !made.to_string().contains("s3cret")
                && !made.to_string().contains("t0ken")
                && !made.to_string().contains("k3y")
        );
        create(&app, &key, json!({"name": "With auth", "events": ["entry.created"], "url": app.receiver.url(), "auth_connector_id": id})).await;
        expected.push((id, header, value));
    }
    // Credentials at rest are ciphertexts.
    let plain: i64 = app
        .scalar("SELECT COUNT(*) FROM auth_connectors WHERE secret LIKE '%s3cret%' OR secret LIKE '%t0ken%' OR secret LIKE '%k3y-value%' OR secret NOT LIKE 'v1:%'")
        .await;
    assert_eq!(plain, 0);
    post(&app, 1).await;
    let steps = app.drain(clock::now_millis()).await;
    assert_eq!(
        steps
            .iter()
            .filter(|step| **step == Step::Delivered)
            .count(),
        3
    );
    let requests = app.receiver.requests();
    for (_, header, value) in &expected {
        assert!(
            requests
                .iter()
                .any(|request| request.header(header) == Some(*value)),
            "no request with {header}: {value}"
        );
    }
    // The history and the example show them redacted.
    let (_, deliveries) = app
        .admin("GET", "/api/v1/deliveries", Some(&key), None)
        .await;
    let delivery_id = deliveries["data"][0]["id"].as_str().unwrap();
    let (_, detail) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries/{delivery_id}"),
            Some(&key),
            None,
        )
        .await;
    let recorded = detail["attempts"][0]["request"].to_string();
    assert!(recorded.contains("[redacted]"), "{recorded}");
    assert!(
        !recorded.contains("s3cret")
            && !recorded.contains("t0ken-value")
            && !recorded.contains("k3y-value"),
        "{recorded}"
    );

    // In use: not deleted. Changing its credentials takes effect at the next send.
    let (status, refused) = app
        .admin(
            "DELETE",
            &format!("/api/v1/auth-connectors/{}", expected[1].0),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("connector_in_use"))
    );
    let (status, changed) = app
        .admin(
            "PATCH",
            &format!("/api/v1/auth-connectors/{}", expected[1].0),
            Some(&key),
            Some(json!({"token": "n3w-token"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["endpoints"].as_array().unwrap().len(), 1);
    post(&app, 2).await;
    app.drain(clock::now_millis()).await;
    assert!(
        app.receiver
            .requests()
            .iter()
            .any(|request| request.header("authorization") == Some("Bearer n3w-token"))
    );
    let (status, refused) = app
        .admin(
            "POST",
            "/api/v1/auth-connectors",
            Some(&key),
            Some(json!({"name": "Bad", "type": "bearer", "token": "two words"})),
        )
        .await;
    assert_eq!(
        (status, refused["errors"][0]["field"].as_str()),
        (422, Some("token"))
    );
}

#[tokio::test]
async fn credentials_in_the_url_become_basic_auth_and_are_not_shown() {
    let (app, key) = app().await;
    let url = app
        .receiver
        .url()
        .replace("http://", "http://joe:s%3Acret@");
    let saved = create(
        &app,
        &key,
        json!({"name": "Basic in URL", "events": ["entry.created"], "url": url}),
    )
    .await;
    assert_eq!(saved["endpoint"]["url"], app.receiver.url());
    assert_eq!(saved["endpoint"]["url_has_credentials"], true);
    let id = saved["endpoint"]["id"].as_str().unwrap();
    let (status, example) = app
        .admin(
            "GET",
            &format!("/api/v1/endpoints/{id}/example?event=entry.created"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{example}");
    assert_eq!(example["method"], "POST");
    assert_eq!(example["url"], app.receiver.url());
    let headers = example["headers"].as_array().unwrap();
    assert!(
        headers.contains(&json!({"name": "authorization", "value": "[redacted]"})),
        "{example}"
    );
    assert!(headers.contains(&json!({"name": "hookline-event", "value": "entry.created"})));
    assert_eq!(
        serde_json::from_str::<Value>(example["body"].as_str().unwrap()).unwrap()["campaign"]["key"],
        "a1XyD"
    );
    post(&app, 1).await;
    app.worker.try_next(clock::now_millis()).await.unwrap();
    let request = &app.receiver.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Basic am9lOnM6Y3JldA==")
    );
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_and_afterwards_only_the_new_one() {
    let (app, key) = app().await;
    let saved = create(
        &app,
        &key,
        json!({"name": "Rotating", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    let old = saved["signing_secret"].as_str().unwrap().to_owned();
    let id = saved["endpoint"]["id"].as_str().unwrap();
    let (status, rotated) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/rotate-secret"),
            Some(&key),
            Some(json!({"grace_period_seconds": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["signing_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(rotated["previous_secret"], old.as_str());

    post(&app, 1).await;
    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Delivered);
    let during = app.receiver.requests()[0].clone();
    assert_eq!(
        during
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(verifies(&during, &new, now / 1000) && verifies(&during, &old, now / 1000));

    let later = now + 61 * MINUTE;
    post(&app, 2).await;
    assert_eq!(app.worker.try_next(later).await.unwrap(), Step::Delivered);
    let after = app.receiver.requests()[1].clone();
    assert_eq!(
        after
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert!(verifies(&after, &new, later / 1000));
    assert!(
        !verifies(&after, &old, later / 1000),
        "the old secret has expired"
    );

    // A rotation without grace ends the old one at once.
    let (_, rotated) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/rotate-secret"),
            Some(&key),
            Some(json!({"grace_period_seconds": 0})),
        )
        .await;
    assert_eq!(rotated["previous_secret"], Value::Null);
}

#[tokio::test]
async fn strict_order_holds_later_deliveries_until_the_first_succeeds() {
    let (app, key) = app().await;
    create(&app, &key, json!({"name": "Ordered", "events": ["entry.created"], "url": app.receiver.url(), "strict_order": true})).await;
    for n in 1..=3 {
        post(&app, n).await;
    }
    app.receiver.set_responses([500, 503]);
    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Failed);
    assert_eq!(
        app.worker.try_next(now).await.unwrap(),
        Step::Idle,
        "the others wait for the first"
    );
    assert_eq!(
        app.worker.try_next(now + 2 * MINUTE).await.unwrap(),
        Step::Failed
    );
    assert_eq!(
        app.worker.try_next(now + 2 * MINUTE).await.unwrap(),
        Step::Idle
    );
    let recovered = now + 10 * MINUTE;
    assert_eq!(
        app.drain(recovered).await,
        [
            Step::Delivered,
            Step::Delivered,
            Step::Delivered,
            Step::Idle
        ]
    );
    let emails: Vec<String> = app
        .receiver
        .requests()
        .iter()
        .map(|request| request.json()["user"]["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        emails,
        [
            "joe1@example.com",
            "joe1@example.com",
            "joe1@example.com",
            "joe2@example.com",
            "joe3@example.com"
        ]
    );
}

#[tokio::test]
async fn strict_order_holds_in_the_background_loop_too() {
    let (app, key) = app().await;
    create(&app, &key, json!({"name": "Ordered", "events": ["entry.created"], "url": app.receiver.url(), "strict_order": true, "max_concurrency": 8})).await;
    for n in 1..=20 {
        post(&app, n).await;
    }
    // The loop starts on the backlog (only it sends: there is no other worker).
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _loops = server::delivery::spawn_background(
        app.worker.clone(),
        std::sync::Arc::new(tokio::sync::Notify::new()),
        stopped,
    );
    let requests = app.receiver.wait_for(20, PATIENCE).await;
    let emails: Vec<String> = requests
        .iter()
        .map(|request| request.json()["user"]["email"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (1..=20).map(|n| format!("joe{n}@example.com")).collect();
    assert_eq!(emails, expected);
}

#[tokio::test]
async fn strict_order_in_the_background_loop_waits_for_a_failing_first_delivery_to_recover() {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.deliver_in_background = true;
    })
    .await;
    let key = app.setup().await;
    create(&app, &key, json!({"name": "Ordered", "events": ["entry.created"], "url": app.receiver.url(), "strict_order": true, "retry_schedule": [1]})).await;
    // The first delivery fails twice (retried a second later each time), then all go.
    app.receiver.set_responses([500, 503]);
    for n in 1..=3 {
        post(&app, n).await;
    }
    let requests = app.receiver.wait_for(5, PATIENCE).await;
    let emails: Vec<String> = requests
        .iter()
        .map(|request| request.json()["user"]["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        emails,
        [
            "joe1@example.com",
            "joe1@example.com",
            "joe1@example.com",
            "joe2@example.com",
            "joe3@example.com"
        ]
    );
    assert_eq!(
        requests[0].header("webhook-id"),
        requests[2].header("webhook-id")
    );
}

#[tokio::test]
async fn batching_sends_arrays_and_records_each_delivery_as_part_of_the_attempt() {
    let (app, key) = app().await;
    let saved = create(&app, &key, json!({"name": "Batched", "events": ["entry.created"], "url": app.receiver.url(), "batching": {"max_events": 3}})).await;
    let secret = saved["signing_secret"].as_str().unwrap().to_owned();
    for n in 1..=5 {
        post(&app, n).await;
    }
    let now = clock::now_millis();
    assert_eq!(
        app.drain(now).await,
        [Step::Delivered, Step::Delivered, Step::Idle]
    );
    let requests = app.receiver.requests();
    let sizes: Vec<usize> = requests
        .iter()
        .map(|request| request.json().as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [3, 2]);
    assert!(
        requests
            .iter()
            .all(|request| verifies(request, &secret, now / 1000))
    );
    assert!(
        requests[0]
            .header("webhook-id")
            .unwrap()
            .starts_with("msg_batch_")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'")
            .await,
        5
    );
    let (_, deliveries) = app
        .admin("GET", "/api/v1/deliveries", Some(&key), None)
        .await;
    for delivery in deliveries["data"].as_array().unwrap() {
        let (_, detail) = app
            .admin(
                "GET",
                &format!("/api/v1/deliveries/{}", delivery["id"].as_str().unwrap()),
                Some(&key),
                None,
            )
            .await;
        let attempt = &detail["attempts"][0];
        assert!(
            attempt["batch_size"] == 3 || attempt["batch_size"] == 2,
            "{attempt}"
        );
        assert!(
            attempt["request"]["body"]
                .as_str()
                .unwrap()
                .starts_with('['),
            "every delivery of a batch shows its request"
        );
    }
}

#[tokio::test]
async fn an_endpoint_retry_schedule_and_most_attempts_are_its_own() {
    let (app, key) = app().await;
    create(&app, &key, json!({"name": "Quick", "events": ["entry.created"], "url": app.receiver.url(), "retry_schedule": [5, 30], "max_attempts": 3})).await;
    app.receiver.set_responses([500, 500, 500]);
    post(&app, 1).await;
    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Failed);
    assert_eq!(app.worker.try_next(now + 4_000).await.unwrap(), Step::Idle);
    assert_eq!(
        app.worker.try_next(now + 6_000).await.unwrap(),
        Step::Failed
    );
    assert_eq!(app.worker.try_next(now + 30_000).await.unwrap(), Step::Idle);
    assert_eq!(
        app.worker.try_next(now + 40_000).await.unwrap(),
        Step::Failed
    );
    assert_eq!(
        app.worker.try_next(now + 99 * MINUTE).await.unwrap(),
        Step::Idle,
        "given up after 3"
    );
    let (_, failed) = app
        .admin("GET", "/api/v1/deliveries?outcome=failed", Some(&key), None)
        .await;
    assert_eq!(failed["data"][0]["status"], "failed");
    assert_eq!(failed["data"][0]["n_attempts"], 3);
    assert_eq!(failed["data"][0]["last_status_code"], 500);
}

#[tokio::test]
async fn the_history_filters_and_retries_one_or_every_failed_delivery() {
    let (app, key) = app().await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let first = create(&app, &key, json!({"name": "One", "events": ["entry.created"], "url": format!("http://127.0.0.1:{closed_port}/hooks"), "max_attempts": 1})).await;
    let second = create(&app, &key, json!({"name": "Two", "events": ["entry.created", "subscriber.created"], "url": app.receiver.url()})).await;
    let first_id = first["endpoint"]["id"].as_str().unwrap().to_owned();
    let second_id = second["endpoint"]["id"].as_str().unwrap().to_owned();
    let entry = post(&app, 1).await;
    post(&app, 2).await;
    // The first endpoint's two deliveries fail for good (nothing listens); the second's succeed.
    let now = clock::now_millis();
    app.drain(now).await;
    let list = |query: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, page) = app
                .admin(
                    "GET",
                    &format!("/api/v1/deliveries{query}"),
                    Some(&key),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{page}");
            page["data"].as_array().unwrap().clone()
        }
    };
    let _ = &second_id;
    assert_eq!(
        list(String::new()).await.len(),
        6,
        "2 entries × (2 entry.created + 1 held subscriber.created)"
    );
    assert_eq!(list(format!("?endpoint_id={first_id}")).await.len(), 2);
    assert_eq!(list("?event=subscriber.created".into()).await.len(), 2);
    assert_eq!(list(format!("?entry_id={entry}")).await.len(), 3);
    assert_eq!(list("?outcome=failed".into()).await.len(), 2);
    assert_eq!(list("?outcome=delivered".into()).await.len(), 2);
    assert_eq!(
        list("?outcome=pending".into()).await.len(),
        2,
        "the held ones"
    );
    assert_eq!(list("?until=2000-01-01T00:00:00Z".into()).await.len(), 0);
    let page = list("?limit=4".into()).await;
    assert_eq!(page.len(), 4);
    let (_, paged) = app
        .admin("GET", "/api/v1/deliveries?limit=4", Some(&key), None)
        .await;
    let cursor = paged["next_cursor"].as_str().unwrap();
    assert_eq!(list(format!("?limit=4&cursor={cursor}")).await.len(), 2);

    let failed = list("?outcome=failed".into()).await;
    let (_, detail) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries/{}", failed[0]["id"].as_str().unwrap()),
            Some(&key),
            None,
        )
        .await;
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["status_code"], Value::Null);
    assert_eq!(attempt["error_kind"], "connect");
    assert_eq!(attempt["request"]["method"], "POST");
    assert_eq!(
        attempt["request"]["body"], detail["body"],
        "the body sent is shown"
    );
    assert!(
        attempt["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|header| header["name"] == "webhook-signature")
    );
    assert_eq!(
        serde_json::from_str::<Value>(detail["body"].as_str().unwrap()).unwrap()["user"]["email"],
        "joe2@example.com"
    );

    // The endpoint fixed, retry one: due now although it was given up.
    let (status, _) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{first_id}"),
            Some(&key),
            Some(json!({"url": app.receiver.url(), "test_on_save": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, retried) = app
        .admin(
            "POST",
            &format!(
                "/api/v1/deliveries/{}/retry",
                failed[0]["id"].as_str().unwrap()
            ),
            Some(&key),
            None,
        )
        .await;
    assert_eq!((status, retried["status"].as_str()), (200, Some("pending")));
    assert_eq!(
        app.drain(clock::now_millis()).await,
        [Step::Delivered, Step::Idle]
    );
    // Retry every failed one of the endpoint since a time: the other one.
    let (status, retried) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{first_id}/retry-failed"),
            Some(&key),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!((status, retried["retried"].as_u64()), (200, Some(1)));
    assert_eq!(
        app.drain(clock::now_millis()).await,
        [Step::Delivered, Step::Idle]
    );
}

#[tokio::test]
async fn inactive_endpoints_wait_and_deleted_ones_are_cancelled_listed_and_restored() {
    let (app, key) = app().await;
    let saved = create(
        &app,
        &key,
        json!({"name": "Pausable", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    let id = saved["endpoint"]["id"].as_str().unwrap().to_owned();
    post(&app, 1).await;
    let (status, _) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{id}"),
            Some(&key),
            Some(json!({"status": "inactive", "test_on_save": false})),
        )
        .await;
    assert_eq!(status, 200);
    post(&app, 2).await;
    let now = clock::now_millis();
    assert_eq!(
        app.worker.try_next(now).await.unwrap(),
        Step::Idle,
        "nothing goes while inactive"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM deliveries").await,
        1,
        "and nothing new is queued"
    );
    let (_, saved) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{id}"),
            Some(&key),
            Some(json!({"status": "active", "test_on_save": false})),
        )
        .await;
    assert_eq!(saved["endpoint"]["status"], "active");
    assert_eq!(
        app.drain(now).await,
        [Step::Delivered, Step::Idle],
        "the waiting one goes once active"
    );

    post(&app, 3).await;
    let (status, _) = app
        .admin(
            "DELETE",
            &format!("/api/v1/endpoints/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'cancelled'")
            .await,
        1
    );
    let (_, live) = app
        .admin("GET", "/api/v1/endpoints", Some(&key), None)
        .await;
    assert!(live["data"].as_array().unwrap().is_empty());
    let (_, deleted) = app
        .admin("GET", "/api/v1/endpoints?deleted=true", Some(&key), None)
        .await;
    assert_eq!(deleted["data"][0]["id"], id.as_str());
    assert!(deleted["data"][0]["deleted_at"].is_string());
    post(&app, 4).await;
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Idle);
    let (status, refused) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{id}"),
            Some(&key),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("endpoint_deleted"))
    );
    let (status, restored) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/restore"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["deleted_at"], Value::Null);
    post(&app, 5).await;
    assert_eq!(
        app.drain(clock::now_millis()).await,
        [Step::Delivered, Step::Idle],
        "only the new entry: the cancelled one stays so"
    );
}

#[tokio::test]
async fn gone_disables_an_endpoint_visibly_until_it_is_set_active_again() {
    let (app, key) = app().await;
    let saved = create(
        &app,
        &key,
        json!({"name": "Gone", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    let id = saved["endpoint"]["id"].as_str().unwrap().to_owned();
    app.receiver.set_responses([410]);
    post(&app, 1).await;
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Failed
    );
    let (_, endpoint) = app
        .admin("GET", &format!("/api/v1/endpoints/{id}"), Some(&key), None)
        .await;
    assert_eq!(endpoint["disabled"]["reason"], "gone");
    assert_eq!(
        endpoint["status"], "active",
        "the person's choice is unchanged"
    );
    let (_, saved) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{id}"),
            Some(&key),
            Some(json!({"status": "active", "test_on_save": false})),
        )
        .await;
    assert_eq!(saved["endpoint"]["disabled"], Value::Null);
    assert_eq!(
        app.drain(clock::now_millis() + 2 * MINUTE).await,
        [Step::Delivered, Step::Idle]
    );
}

#[tokio::test]
async fn an_endpoint_takes_only_its_events_and_campaigns_and_the_operators_takes_all() {
    let (app, key) = app().await;
    let (status, campaign) = app
        .admin(
            "POST",
            "/api/v1/campaigns",
            Some(&key),
            Some(json!({"name": "Spring", "type": "Competition", "key": "spring"})),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    create(&app, &key, json!({"name": "Spring only", "events": ["entry.created"], "url": app.receiver.url(), "campaigns": ["spring"]})).await;
    let all = create(&app, &key, json!({"name": "All", "events": ["entry.created"], "url": app.receiver.url(), "campaigns": null})).await;
    assert_eq!(all["endpoint"]["campaigns"], Value::Null);
    create(
        &app,
        &key,
        json!({"name": "Subscribers", "events": ["subscriber.created"], "url": app.receiver.url()}),
    )
    .await;
    post(&app, 1).await;
    let endpoints: Vec<String> = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT e.name || ':' || d.event_type FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id ORDER BY e.id",
    ).fetch_all(pool).await.unwrap());
    assert_eq!(
        endpoints,
        ["All:entry.created", "Subscribers:subscriber.created"]
    );
}

#[tokio::test]
async fn send_test_sends_the_sample_or_a_real_entry() {
    let (app, key) = app().await;
    let saved = create(
        &app,
        &key,
        json!({"name": "Test me", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    let id = saved["endpoint"]["id"].as_str().unwrap();
    let entry = post(&app, 7).await;
    let (status, outcome) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/test"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, outcome["succeeded"].as_bool()),
        (200, Some(true)),
        "{outcome}"
    );
    let (_, outcome) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/test"),
            Some(&key),
            Some(json!({"entry_id": entry, "event": "entry.created"})),
        )
        .await;
    assert_eq!(outcome["status_code"], 204, "{outcome}");
    let requests = app.receiver.requests();
    assert_eq!(requests[0].json()["campaign"]["key"], "a1XyD");
    assert_eq!(requests[0].header("hookline-event"), Some("webhook.test"));
    assert_eq!(requests[1].json()["user"]["email"], "joe7@example.com");
    assert_eq!(requests[1].header("hookline-event"), Some("entry.created"));
    assert!(
        requests[1]
            .header("webhook-id")
            .unwrap()
            .starts_with("msg_test_")
    );
    assert_eq!(app.counts().await.attempts, 0, "tests are not deliveries");
    // A test to a receiver that fails shows its status and answer.
    app.receiver.set_responses([422]);
    let (_, outcome) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/test"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (
            outcome["succeeded"].as_bool(),
            outcome["status_code"].as_u64()
        ),
        (Some(false), Some(422))
    );
    let (status, _) = app
        .admin(
            "POST",
            &format!("/api/v1/endpoints/{id}/test"),
            Some(&key),
            Some(json!({"entry_id": 999_999})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn another_workspaces_endpoints_connectors_and_deliveries_are_not_found() {
    let (app, key) = app().await;
    let saved = create(
        &app,
        &key,
        json!({"name": "Mine", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    let id = saved["endpoint"]["id"].as_str().unwrap().to_owned();
    let (_, connector) = app
        .admin(
            "POST",
            "/api/v1/auth-connectors",
            Some(&key),
            Some(json!({"name": "B", "type": "bearer", "token": "abc"})),
        )
        .await;
    let connector = connector["id"].as_str().unwrap().to_owned();
    post(&app, 1).await;
    app.drain(clock::now_millis()).await;
    let (_, deliveries) = app
        .admin("GET", "/api/v1/deliveries", Some(&key), None)
        .await;
    let delivery = deliveries["data"][0]["id"].as_str().unwrap().to_owned();

    let (status, other) = app
        .admin(
            "POST",
            "/api/v1/workspaces",
            Some(OPERATOR_KEY),
            Some(json!({"name": "Other Co"})),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let other = other["api_key"]["key"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        ("GET", format!("/api/v1/endpoints/{id}"), None),
        (
            "PATCH",
            format!("/api/v1/endpoints/{id}"),
            Some(json!({"name": "Theirs"})),
        ),
        ("DELETE", format!("/api/v1/endpoints/{id}"), None),
        ("GET", format!("/api/v1/endpoints/{id}/secret"), None),
        (
            "POST",
            format!("/api/v1/endpoints/{id}/rotate-secret"),
            None,
        ),
        ("POST", format!("/api/v1/endpoints/{id}/test"), None),
        ("GET", format!("/api/v1/endpoints/{id}/example"), None),
        ("POST", format!("/api/v1/endpoints/{id}/restore"), None),
        (
            "POST",
            format!("/api/v1/endpoints/{id}/retry-failed"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        ),
        ("GET", format!("/api/v1/auth-connectors/{connector}"), None),
        (
            "PATCH",
            format!("/api/v1/auth-connectors/{connector}"),
            Some(json!({"name": "x"})),
        ),
        (
            "DELETE",
            format!("/api/v1/auth-connectors/{connector}"),
            None,
        ),
        ("GET", format!("/api/v1/deliveries/{delivery}"), None),
        ("POST", format!("/api/v1/deliveries/{delivery}/retry"), None),
        ("GET", format!("/api/v1/deliveries?endpoint_id={id}"), None),
    ] {
        let (status, body) = app.admin(method, &path, Some(&other), body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (_, theirs) = app
        .admin("GET", "/api/v1/deliveries", Some(&other), None)
        .await;
    assert!(theirs["data"].as_array().unwrap().is_empty());
    let (_, theirs) = app
        .admin("GET", "/api/v1/endpoints", Some(&other), None)
        .await;
    assert!(theirs["data"].as_array().unwrap().is_empty());
    // Nor can their endpoint use my connector.
    let (status, refused) = app
        .admin("POST", "/api/v1/endpoints", Some(&other), Some(json!({"name": "x", "events": ["entry.created"], "url": app.receiver.url(), "auth_connector_id": connector})))
        .await;
    assert_eq!(
        (status, refused["errors"][0]["field"].as_str()),
        (422, Some("auth_connector_id"))
    );
}

#[tokio::test]
async fn a_receiver_that_streams_forever_is_read_only_up_to_the_cap() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sent, mut sent_total) = tokio::sync::watch::channel(0_usize);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut request = [0_u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                // Bounded, but far more than the cap: 64 MiB.
                for _ in 0..1024 {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        break;
                    }
                    sent.send_modify(|n| *n += 64 * 1024);
                }
            });
        }
    });
    let (app, key) = app().await;
    create(&app, &key, json!({"name": "Firehose", "events": ["entry.created"], "url": format!("http://127.0.0.1:{port}/hooks")})).await;
    post(&app, 1).await;
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Delivered
    );
    let snippet: String = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar("SELECT response_snippet FROM attempts").fetch_one(pool).await.unwrap());
    assert_eq!(snippet.len(), 4096, "the body is read only up to the cap");
    // The receiver could not push its whole answer: the connection was dropped.
    let total = *sent_total.borrow_and_update();
    assert!(total < 64 * 1024 * 1024, "{total} bytes were taken");
}

#[tokio::test]
async fn a_receiver_that_hangs_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.delivery_timeouts = DeliveryTimeouts {
            connect: Duration::from_millis(300),
            total: Duration::from_millis(300),
        };
    })
    .await;
    let key = app.setup().await;
    create(&app, &key, json!({"name": "Hangs", "events": ["entry.created"], "url": format!("http://127.0.0.1:{port}/hooks")})).await;
    post(&app, 1).await;
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Failed
    );
    let kind: Option<String> = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar("SELECT error_kind FROM attempts").fetch_one(pool).await.unwrap());
    assert_eq!(kind.as_deref(), Some("timeout"));
}

#[tokio::test]
async fn an_endpoints_own_concurrency_cap_holds_while_another_endpoint_gets_everything() {
    let slow = ScriptedReceiver::start(true).await;
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.deliver_in_background = true;
    })
    .await;
    let key = app.setup().await;
    create(&app, &key, json!({"name": "Slow", "events": ["entry.created"], "url": slow.url(), "max_concurrency": 2})).await;
    create(
        &app,
        &key,
        json!({"name": "Fast", "events": ["entry.created"], "url": app.receiver.url()}),
    )
    .await;
    for n in 1..=5 {
        post(&app, n).await;
    }
    // Every delivery has been taken up once the fast endpoint has them all.
    app.receiver.wait_for(5, PATIENCE).await;
    slow.wait_in_flight(2).await;
    assert_eq!(
        slow.webhook_ids().len(),
        2,
        "two open, the rest wait their turn"
    );
    slow.release();
    slow.wait_for(5).await;
    assert_eq!(slow.max_in_flight(), 2);
}

#[tokio::test]
async fn a_rate_limit_spaces_requests_in_the_background_loop() {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.deliver_in_background = true;
    })
    .await;
    let key = app.setup().await;
    create(&app, &key, json!({"name": "Slow down", "events": ["entry.created"], "url": app.receiver.url(), "rate_limit_per_second": 10})).await;
    let started = std::time::Instant::now();
    for n in 1..=5 {
        post(&app, n).await;
    }
    app.receiver.wait_for(5, PATIENCE).await;
    // Five requests at ten a second take at least four intervals.
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
}
