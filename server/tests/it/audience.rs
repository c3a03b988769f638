//! Audience filters end to end: every operator (and a field that is missing) decides which
//! entries are queued for an endpoint as they are made, and the preview on the workspace's
//! latest entries agrees; a bad condition is refused on save with its place; conversions are
//! filtered too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, entry_body, spawn_app_with};

/// Each case: a name, its audience, and which of the three contestants it lets through.
fn cases() -> Vec<(&'static str, Value, &'static [&'static str])> {
    let all = |conditions: &[&str]| json!({"match": "all", "conditions": conditions});
    vec![
        ("equal", all(&[r#"user.details.Country == "AU""#]), &["joe"]),
        (
            "not equal, missing passes",
            all(&[r#"user.details.Country != "AU""#]),
            &["ann", "bob"],
        ),
        (
            "less, text read as a number",
            all(&["user.details.Postcode < 1000"]),
            &["ann"],
        ),
        (
            "less or equal",
            all(&["user.details.Postcode <= 8282"]),
            &["joe", "ann"],
        ),
        ("greater", all(&["user.details.Postcode > 1000"]), &["joe"]),
        (
            "greater or equal",
            all(&["user.details.Postcode >= 800"]),
            &["joe", "ann"],
        ),
        (
            "contains, any case",
            all(&[r#"user.details."How are you?" contains "great""#]),
            &["joe"],
        ),
        (
            "not contains",
            all(&[r#"user.details."How are you?" not contains "great""#]),
            &["ann", "bob"],
        ),
        (
            "starts with",
            all(&[r#"user.email starts with "ann""#]),
            &["ann"],
        ),
        (
            "ends with",
            all(&[r#"user.email ends with "@example.com""#]),
            &["joe", "bob"],
        ),
        (
            "in",
            all(&[r#"user.details.Country in ["AU", "NZ"]"#]),
            &["joe"],
        ),
        (
            "not in",
            all(&[r#"user.details.Country not in ["AU", "NZ"]"#]),
            &["ann", "bob"],
        ),
        (
            "exists",
            all(&["user.details.Postcode exists"]),
            &["joe", "ann"],
        ),
        (
            "not exists",
            all(&["user.details.Postcode not exists"]),
            &["bob"],
        ),
        (
            "missing is null",
            all(&["user.details.Country == null"]),
            &["bob"],
        ),
        (
            "entry fields",
            all(&[
                r#"entry.type in ["email_subscribe", "custom_question"]"#,
                "entry.worth >= 1",
            ]),
            &["joe", "ann", "bob"],
        ),
        (
            "any of two",
            json!({"match": "any", "conditions": [r#"user.details.Country == "AU""#, r#"user.email starts with "bob""#]}),
            &["joe", "bob"],
        ),
        (
            "all of two",
            json!({"match": "all", "conditions": ["user.details.Postcode exists", r#"user.details."How are you?" contains "MEH""#]}),
            &["ann"],
        ),
        (
            "no conditions: everyone",
            json!({"match": "all", "conditions": []}),
            &["joe", "ann", "bob"],
        ),
    ]
}

/// The three contestants' entries.
fn contestants() -> [(&'static str, Value); 3] {
    let entry = |name: &str, domain: &str, details: Value| {
        let mut body = entry_body(&format!("key-{name}"), &format!("{name}@{domain}"));
        body["details"] = details;
        body
    };
    [
        (
            "joe",
            entry(
                "joe",
                "example.com",
                json!({"How are you?": "Great, thanks!", "Postcode": 8282, "Country": "AU"}),
            ),
        ),
        (
            "ann",
            entry(
                "ann",
                "example.org",
                json!({"How are you?": "Meh", "Postcode": "0800", "Country": "FR"}),
            ),
        ),
        ("bob", entry("bob", "example.com", json!({}))),
    ]
}

async fn app() -> (TestApp, String) {
    let app = spawn_app_with(|config| config.webhook = None).await;
    let key = app.setup().await;
    (app, key)
}

#[tokio::test]
async fn each_operator_decides_which_entries_are_queued_and_the_preview_agrees() {
    let (app, key) = app().await;
    let mut names = BTreeMap::new();
    for (name, audience, _) in cases() {
        let (status, saved) = app
            .admin(
                "POST",
                "/api/v1/endpoints",
                Some(&key),
                Some(json!({
                    "name": name, "events": ["entry.created"], "url": app.receiver.url(),
                    "test_on_save": false, "audience": audience,
                })),
            )
            .await;
        assert_eq!(status, 201, "{name}: {saved}");
        names.insert(name, saved["endpoint"]["id"].as_str().unwrap().to_owned());
    }
    let mut entry_ids = BTreeMap::new();
    for (who, body) in contestants() {
        let (status, answer) = app.post_entry("demo", &body).await;
        assert_eq!(status, 201, "{answer}");
        entry_ids.insert(answer["entry"]["id"].as_i64().unwrap(), who);
    }

    // Queued as the entries were made: exactly the matching ones, per endpoint.
    let queued: Vec<(String, i64)> = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_as(
            "SELECT ep.name, d.entry_id FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
             WHERE d.event_type = 'entry.created'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    for (name, audience, expected) in cases() {
        let got: BTreeSet<&str> = queued
            .iter()
            .filter(|(endpoint, _)| endpoint == name)
            .map(|(_, entry)| entry_ids[entry])
            .collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(got, expected, "{name}: {audience}");

        // The preview on the workspace's latest entries says the same.
        let (status, preview) = app
            .admin(
                "POST",
                "/api/v1/endpoints/audience-preview",
                Some(&key),
                Some(json!({"audience": audience, "campaigns": ["demo"], "sample": 50})),
            )
            .await;
        assert_eq!(status, 200, "{name}: {preview}");
        assert_eq!(preview["total"], 3, "{name}");
        assert_eq!(preview["matched"], expected.len(), "{name}: {preview}");
        let previewed: BTreeSet<&str> = preview["matched_entry_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| entry_ids[&id.as_i64().unwrap()])
            .collect();
        assert_eq!(previewed, expected, "{name}");
    }

    // The endpoint shows its audience in the canonical form; clearing it sends everything.
    let (_, shown) = app
        .admin(
            "GET",
            &format!("/api/v1/endpoints/{}", names["in"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        shown["audience"],
        json!({"match": "all", "conditions": [r#"user.details.Country in ["AU", "NZ"]"#]})
    );
    let (_, everyone) = app
        .admin(
            "GET",
            &format!("/api/v1/endpoints/{}", names["no conditions: everyone"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        everyone["audience"],
        Value::Null,
        "no conditions is no audience"
    );
    let (status, cleared) = app
        .admin(
            "PATCH",
            &format!("/api/v1/endpoints/{}", names["in"]),
            Some(&key),
            Some(json!({"audience": null, "test_on_save": false})),
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["endpoint"]["audience"], Value::Null);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-zed", "zed@example.net"))
        .await;
    assert_eq!(status, 201);
    let for_in: i64 = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
             WHERE ep.name = 'in' AND d.event_type = 'entry.created'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(for_in, 2, "joe's, then zed's once the audience was cleared");
}

#[tokio::test]
async fn a_bad_condition_is_refused_with_its_place_and_nothing_changes() {
    let (app, key) = app().await;
    let audience = json!({"match": "all", "conditions": [
        r#"user.country_code == "AU""#,
        r#"user.details."How are you?" like "great""#,
        "entry.wrth >= 2",
        "user.city == Paris",
    ]});
    let (status, error) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "CRM", "events": ["entry.created"], "url": app.receiver.url(),
                "test_on_save": false, "audience": audience,
            })),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "invalid_settings");
    assert_eq!(error["field"], "audience.conditions.1");
    let problems: Vec<(String, Option<u64>, Option<u64>)> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            (
                problem["field"].as_str().unwrap().to_owned(),
                problem["line"].as_u64(),
                problem["column"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("audience.conditions.1".to_owned(), Some(1), Some(29)),
            ("audience.conditions.2".to_owned(), Some(1), Some(1)),
            ("audience.conditions.3".to_owned(), Some(1), Some(14)),
        ],
        "{error}"
    );
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains("audience.conditions.1 (line 1, column 29): unknown operator `like`"),
        "{detail}"
    );
    assert!(detail.contains("entry.wrth"), "{detail}");
    assert!(detail.contains("quote"), "{detail}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM endpoints").await, 0);

    for (body, field) in [
        (json!({"match": "most", "conditions": []}), "audience.match"),
        (
            json!({"match": "all", "conditions": [" "]}),
            "audience.conditions.0",
        ),
    ] {
        let (status, error) = app
            .admin(
                "POST",
                "/api/v1/endpoints/audience-preview",
                Some(&key),
                Some(json!({"audience": body})),
            )
            .await;
        assert_eq!(
            (status, error["field"].as_str()),
            (422, Some(field)),
            "{error}"
        );
    }
    let (status, error) = app
        .admin(
            "POST",
            "/api/v1/endpoints/audience-preview",
            Some(&key),
            Some(json!({"audience": {"conditions": []}, "campaigns": ["nope"]})),
        )
        .await;
    assert_eq!(
        (status, error["field"].as_str()),
        (422, Some("campaigns.0"))
    );
}

#[tokio::test]
async fn conversions_are_filtered_by_the_audience_too() {
    let (app, key) = app().await;
    for (name, condition) in [
        ("Hoodies", r#"conversion.product_name == "Hoodie""#),
        ("Shoes", r#"conversion.product_name == "Shoes""#),
    ] {
        let (status, saved) = app
            .admin(
                "POST",
                "/api/v1/endpoints",
                Some(&key),
                Some(json!({
                    "name": name, "events": ["conversion.received"], "url": app.receiver.url(),
                    "test_on_save": false, "audience": {"conditions": [condition]},
                })),
            )
            .await;
        assert_eq!(status, 201, "{saved}");
    }
    let (status, stream) = app
        .admin(
            "POST",
            "/api/v1/streams",
            Some(&key),
            Some(json!({"name": "Shop"})),
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let response = app
        .client
        .post(stream["url"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(json!({"email": "joe@example.com", "productName": "Hoodie"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let names: Vec<String> = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_scalar(
            "SELECT ep.name FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
             WHERE d.event_type = 'conversion.received'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    assert_eq!(names, ["Hoodies"]);
}
