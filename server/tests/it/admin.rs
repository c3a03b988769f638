//! The admin API: setup, keys, workspaces kept apart, campaigns and entry methods,
//! contestants and entries with filters, CSV, verdict overrides, deletion, the OpenAPI
//! document.

use serde_json::{Value, json};

use crate::helpers::{TestApp, entry_body, spawn_app, spawn_app_with};

const OPERATOR_KEY: &str = "operator-key-for-the-tests-0123456789";

async fn app_with_operator() -> TestApp {
    spawn_app_with(|config| config.operator_key = Some(OPERATOR_KEY.to_owned())).await
}

/// A second workspace made with the operator key; its API key.
async fn second_workspace(app: &TestApp) -> String {
    let (status, body) = app
        .admin(
            "POST",
            "/api/v1/workspaces",
            Some(OPERATOR_KEY),
            Some(json!({"name": "Other Co", "key_name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["api_key"]["key"].as_str().unwrap().to_owned()
}

/// A running competition with an email subscribe method (consent text set) and a second
/// method; returns the campaign JSON.
async fn create_campaign(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, campaign) = app
        .admin("POST", "/api/v1/campaigns", Some(key), Some(body))
        .await;
    assert_eq!(status, 201, "{campaign}");
    campaign
}

fn spring() -> Value {
    json!({
        "key": "spring",
        "name": "Spring Giveaway",
        "type": "Competition",
        "status": "running",
        "consent_text": "I agree.",
        "entry_methods": [
            {"type": "email_subscribe", "action": "Subscribe", "mandatory": true},
            {"type": "visit_url", "action": "Visit our shop", "worth": 3,
             "config": {"url": "https://shop.example"}}
        ]
    })
}

fn entry(key: &str, email: &str, method: i64) -> Value {
    let mut body = entry_body(key, email);
    body["entry_method_id"] = json!(method);
    body
}

#[tokio::test]
async fn setup_runs_once_and_its_key_works() {
    let app = spawn_app().await;
    let (status, body) = app.admin("GET", "/api/v1/workspace", None, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    let (status, created) = app
        .admin(
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({"name": "Acme", "key_name": "laptop"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["api_key"]["key"].as_str().unwrap();
    assert!(key.starts_with("hlk_") && key.len() == 28, "{key}");
    assert!(
        created["workspace"]["id"]
            .as_str()
            .unwrap()
            .starts_with("ws_")
    );
    assert_eq!(created["api_key"]["name"], "laptop");
    assert_eq!(
        created["api_key"]["hint"],
        format!("hlk_…{}", &key[key.len() - 4..])
    );

    let (status, again) = app
        .admin(
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({"name": "Mallory"})),
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("already_set_up"))
    );

    let (status, workspace) = app.admin("GET", "/api/v1/workspace", Some(key), None).await;
    assert_eq!((status, workspace["name"].as_str()), (200, Some("Acme")));
    for bad in ["hlk_notakey", "Bearer", ""] {
        let (status, _) = app.admin("GET", "/api/v1/workspace", Some(bad), None).await;
        assert_eq!(status, 401, "{bad:?}");
    }

    // The demo campaign, made before any workspace, belongs to the first one.
    let (status, campaigns) = app.admin("GET", "/api/v1/campaigns", Some(key), None).await;
    assert_eq!(status, 200);
    assert_eq!(campaigns["data"][0]["key"], "demo");
    assert_eq!(campaigns["next_cursor"], Value::Null);

    let (status, renamed) = app
        .admin(
            "PATCH",
            "/api/v1/workspace",
            Some(key),
            Some(json!({"name": "Acme Ltd"})),
        )
        .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Acme Ltd")));
}

#[tokio::test]
async fn keys_are_shown_once_listed_by_hint_and_revoked_at_once() {
    let app = spawn_app().await;
    let first = app.setup().await;
    let (status, second) = app
        .admin(
            "POST",
            "/api/v1/api-keys",
            Some(&first),
            Some(json!({"name": "CI"})),
        )
        .await;
    assert_eq!(status, 201);
    let second_key = second["key"].as_str().unwrap().to_owned();
    let (_, listed) = app
        .admin("GET", "/api/v1/api-keys", Some(&first), None)
        .await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|key| key.get("key").is_none()),
        "lists never show a key: {listed:?}"
    );
    assert!(
        !listed
            .to_vec()
            .iter()
            .any(|key| key.to_string().contains(&second_key))
    );

    let path = format!("/api/v1/api-keys/{}", second["id"].as_str().unwrap());
    let (status, _) = app.admin("DELETE", &path, Some(&first), None).await;
    assert_eq!(status, 204);
    let (status, _) = app
        .admin("GET", "/api/v1/workspace", Some(&second_key), None)
        .await;
    assert_eq!(status, 401, "a revoked key stops working");

    let (_, listed) = app
        .admin("GET", "/api/v1/api-keys", Some(&first), None)
        .await;
    let own = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["revoked_at"].is_null())
        .unwrap()
        .clone();
    let (status, body) = app
        .admin(
            "DELETE",
            &format!("/api/v1/api-keys/{}", own["id"].as_str().unwrap()),
            Some(&first),
            None,
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_key")));
    let (status, _) = app
        .admin("DELETE", "/api/v1/api-keys/key_nope", Some(&first), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn other_workspaces_objects_answer_404() {
    let app = app_with_operator().await;
    let owner = app.setup().await;
    let campaign = create_campaign(&app, &owner, spring()).await;
    let method_id = campaign["entry_methods"][0]["id"].as_i64().unwrap();
    let (status, _) = app
        .post_entry("spring", &entry("k1", "joe@example.com", method_id))
        .await;
    assert_eq!(status, 201);
    let (_, entries) = app
        .admin("GET", "/api/v1/entries", Some(&owner), None)
        .await;
    let entry_id = entries["data"][0]["id"].as_i64().unwrap();
    let contestant_id = entries["data"][0]["contestant_id"].as_i64().unwrap();

    let (status, stream) = app
        .admin(
            "POST",
            "/api/v1/streams",
            Some(&owner),
            Some(json!({"name": "Shop"})),
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let stream_path = format!("/api/v1/streams/{}", stream["id"].as_str().unwrap());
    let (_, keys) = app
        .admin("GET", "/api/v1/api-keys", Some(&owner), None)
        .await;
    let owner_key_path = format!("/api/v1/api-keys/{}", keys[0]["id"].as_str().unwrap());

    let stranger = second_workspace(&app).await;
    let (status, _) = app
        .admin(
            "POST",
            "/api/v1/workspaces",
            Some(&stranger),
            Some(json!({"name": "Nope"})),
        )
        .await;
    assert_eq!(status, 401, "only the operator key makes workspaces");
    let method_path = format!("/api/v1/campaigns/spring/entry-methods/{method_id}");
    let probes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/campaigns/spring".to_owned(), None),
        (
            "PATCH",
            "/api/v1/campaigns/spring".to_owned(),
            Some(json!({"status": "ended"})),
        ),
        (
            "POST",
            "/api/v1/campaigns/spring/entry-methods".to_owned(),
            Some(json!({"type": "visit_url", "action": "x"})),
        ),
        ("PATCH", method_path.clone(), Some(json!({"worth": 9}))),
        ("DELETE", method_path, None),
        (
            "GET",
            "/api/v1/campaigns/spring/contestants".to_owned(),
            None,
        ),
        ("GET", format!("/api/v1/contestants/{contestant_id}"), None),
        (
            "DELETE",
            format!("/api/v1/contestants/{contestant_id}"),
            None,
        ),
        ("GET", format!("/api/v1/entries/{entry_id}"), None),
        (
            "PUT",
            format!("/api/v1/entries/{entry_id}/verdict"),
            Some(json!({"verdict": "disqualified"})),
        ),
        ("GET", "/api/v1/entries?campaign=spring".to_owned(), None),
        (
            "GET",
            "/api/v1/entries/export.csv?campaign=spring".to_owned(),
            None,
        ),
        ("GET", "/api/v1/campaigns/spring/coupons".to_owned(), None),
        (
            "POST",
            "/api/v1/campaigns/spring/coupons".to_owned(),
            Some(json!({"codes": ["STOLEN"]})),
        ),
        ("GET", stream_path.clone(), None),
        (
            "PATCH",
            stream_path.clone(),
            Some(json!({"enabled": false})),
        ),
        ("GET", format!("{stream_path}/conversions"), None),
        ("DELETE", stream_path.clone(), None),
        ("DELETE", owner_key_path, None),
    ];
    for (method, path, body) in probes {
        let response = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .bearer_auth(&stranger)
            .header("content-type", "application/json")
            .body(body.unwrap_or(Value::Null).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{method} {path}");
    }
    let (_, theirs) = app
        .admin("GET", "/api/v1/campaigns", Some(&stranger), None)
        .await;
    assert_eq!(theirs["data"], json!([]));
    let (_, their_entries) = app
        .admin("GET", "/api/v1/entries", Some(&stranger), None)
        .await;
    assert_eq!(their_entries["data"], json!([]));

    // Nothing the stranger tried changed anything.
    let (_, still) = app
        .admin("GET", "/api/v1/campaigns/spring", Some(&owner), None)
        .await;
    assert_eq!(still["status"], "running");
    assert_eq!(still["entry_methods"].as_array().unwrap().len(), 2);
    let (_, entry) = app
        .admin(
            "GET",
            &format!("/api/v1/entries/{entry_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(entry["fraud"]["verdict"], "accepted");
    let (_, pool) = app
        .admin(
            "GET",
            "/api/v1/campaigns/spring/coupons",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(pool, json!({"added": 0, "available": 0, "assigned": 0}));
    let (status, stream) = app.admin("GET", &stream_path, Some(&owner), None).await;
    assert_eq!((status, &stream["enabled"]), (200, &json!(true)));
    let (status, _) = app
        .admin("GET", "/api/v1/workspace", Some(&owner), None)
        .await;
    assert_eq!(status, 200, "the owner's key still works");
}

#[tokio::test]
async fn coupon_codes_are_added_once_counted_and_refused_by_field() {
    let app = spawn_app().await;
    let owner = app.setup().await;
    create_campaign(&app, &owner, spring()).await;
    let add = |codes: Value| {
        let (app, owner) = (&app, &owner);
        async move {
            app.admin(
                "POST",
                "/api/v1/campaigns/spring/coupons",
                Some(owner),
                Some(json!({ "codes": codes })),
            )
            .await
        }
    };
    let (status, pool) = add(json!(["SAVE-1", " SAVE-2 ", "", "SAVE-1"])).await;
    assert_eq!(status, 200, "{pool}");
    assert_eq!(pool, json!({"added": 2, "available": 2, "assigned": 0}));
    let (status, pool) = add(json!(["SAVE-2", "SAVE-3"])).await;
    assert_eq!(status, 200, "{pool}");
    assert_eq!(pool, json!({"added": 1, "available": 3, "assigned": 0}));

    // A bad code anywhere refuses the request, names the code, and adds none of it.
    for (codes, field) in [
        (json!(["SAVE-4", "x".repeat(101)]), "codes[1]"),
        (json!(["SAVE-4", "bad\u{7}code"]), "codes[1]"),
    ] {
        let (status, body) = add(codes).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    let (status, body) = add(json!({"not": "a list"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    let (status, pool) = app
        .admin(
            "GET",
            "/api/v1/campaigns/spring/coupons",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(pool, json!({"added": 0, "available": 3, "assigned": 0}));
    let (status, _) = app
        .admin("GET", "/api/v1/campaigns/nope/coupons", Some(&owner), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn campaigns_are_created_checked_and_changed() {
    let app = spawn_app().await;
    let key = app.setup().await;
    let campaign = create_campaign(&app, &key, spring()).await;
    assert_eq!(campaign["key"], "spring");
    assert_eq!(campaign["status"], "running");
    assert_eq!(campaign["fraud_level"], "standard");
    assert_eq!(campaign["hold_window_seconds"], 300);
    assert_eq!(campaign["entry_methods"][1]["worth"], 3);
    assert_eq!(
        campaign["entry_methods"][1]["config"],
        json!({"url": "https://shop.example"})
    );
    assert!(
        campaign["embed_snippet"]
            .as_str()
            .unwrap()
            .contains(r#"data-campaign="spring""#)
    );
    assert_eq!(campaign["hosted_url"], app.url("/c/spring"));

    let (status, taken) = app
        .admin("POST", "/api/v1/campaigns", Some(&key), Some(spring()))
        .await;
    assert_eq!((status, taken["code"].as_str()), (409, Some("key_taken")));
    let (status, generated) = app
        .admin(
            "POST",
            "/api/v1/campaigns",
            Some(&key),
            Some(json!({"name": "Drop", "type": "Capture"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(generated["key"].as_str().unwrap().len(), 5);
    assert_eq!(generated["status"], "draft");

    for (body, field) in [
        (json!({"name": "", "type": "Competition"}), "name"),
        (
            json!({"name": "x", "type": "Competition", "ends_at": "soon"}),
            "ends_at",
        ),
        (
            json!({"name": "x", "type": "Competition", "allowed_origins": ["nope"]}),
            "allowed_origins[0]",
        ),
        (
            json!({"name": "x", "type": "Competition", "entry_methods": [{"type": "upload", "action": ""}]}),
            "entry_methods[0].action",
        ),
    ] {
        let (status, error) = app
            .admin("POST", "/api/v1/campaigns", Some(&key), Some(body))
            .await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["code"], "invalid_field");
        assert_eq!(error["field"], field, "{error}");
    }
    let (status, error) = app
        .admin(
            "POST",
            "/api/v1/campaigns",
            Some(&key),
            Some(json!({"name": "x", "type": "Competition", "colour": "red"})),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_json"))
    );
    assert!(
        error["detail"].as_str().unwrap().contains("colour"),
        "{error}"
    );

    let method_id = campaign["entry_methods"][0]["id"].as_i64().unwrap();
    let (status, _) = app
        .post_entry("spring", &entry("k1", "joe@example.com", method_id))
        .await;
    assert_eq!(status, 201);

    let (status, paused) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/spring",
            Some(&key),
            Some(json!({"status": "paused", "description": "Back soon"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (paused["status"].as_str(), paused["name"].as_str()),
        (Some("paused"), Some("Spring Giveaway"))
    );
    let (status, refused) = app
        .post_entry("spring", &entry("k2", "ann@example.com", method_id))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("campaign_not_running"))
    );

    let later = server::clock::rfc3339(server::clock::now_millis() + 3_600_000);
    let (status, _) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/spring",
            Some(&key),
            Some(json!({"status": "running", "starts_at": later})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = app
        .post_entry("spring", &entry("k2", "ann@example.com", method_id))
        .await;
    assert_eq!(status, 409);
    assert_eq!(refused["detail"], "This campaign has not started yet.");

    let earlier = server::clock::rfc3339(server::clock::now_millis() - 3_600_000);
    let (_, ended) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/spring",
            Some(&key),
            Some(json!({"starts_at": null, "ends_at": earlier})),
        )
        .await;
    assert_eq!(ended["starts_at"], Value::Null);
    let (_, refused) = app
        .post_entry("spring", &entry("k2", "ann@example.com", method_id))
        .await;
    assert_eq!(refused["detail"], "This campaign has ended.");
    // Nothing of the refused entries was stored.
    assert_eq!(app.counts().await.entries, 1);
}

#[tokio::test]
async fn entry_methods_are_added_changed_and_removed() {
    let app = spawn_app().await;
    let key = app.setup().await;
    create_campaign(&app, &key, spring()).await;
    let (status, added) = app
        .admin(
            "POST",
            "/api/v1/campaigns/spring/entry-methods",
            Some(&key),
            Some(
                json!({"type": "custom_question", "action": "How did you hear of us?",
                        "config": {"question": "How did you hear of us?", "kind": "text"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["position"], 2);
    let id = added["id"].as_i64().unwrap();
    let path = format!("/api/v1/campaigns/spring/entry-methods/{id}");
    let (status, changed) = app
        .admin(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({"worth": 5, "daily": true, "position": -1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&changed["worth"], &changed["daily"], &changed["action"]),
        (&json!(5), &json!(true), &json!("How did you hear of us?"))
    );
    let (_, public) = app.get_json("/api/v1/public/campaigns/spring").await;
    assert_eq!(
        public["entry_methods"][0]["id"], id,
        "position -1 shows it first"
    );

    let (status, _) = app.admin("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.admin("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 404);
    let (_, public) = app.get_json("/api/v1/public/campaigns/spring").await;
    assert_eq!(public["entry_methods"].as_array().unwrap().len(), 2);
    let (status, refused) = app
        .post_entry("spring", &entry("k9", "joe@example.com", id))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("unknown_entry_method"))
    );
}

/// Three contestants, four entries in `spring` (one by a disposable address) and one in
/// `demo`; returns spring's email method id and visit method id.
async fn some_entries(app: &TestApp, key: &str) -> (i64, i64) {
    let campaign = create_campaign(app, key, spring()).await;
    let email = campaign["entry_methods"][0]["id"].as_i64().unwrap();
    let visit = campaign["entry_methods"][1]["id"].as_i64().unwrap();
    for (idempotency_key, address, method) in [
        ("a1", "ann@example.com", email),
        ("a2", "ann@example.com", visit),
        ("b1", "bob@example.com", email),
        ("c1", "cat@mailinator.com", email),
    ] {
        let (status, body) = app
            .post_entry("spring", &entry(idempotency_key, address, method))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = app
        .post_entry("demo", &entry_body("d1", "dan@example.com"))
        .await;
    assert_eq!(status, 201);
    (email, visit)
}

#[tokio::test]
async fn entries_are_listed_with_filters_and_cursors() {
    let app = spawn_app().await;
    let key = app.setup().await;
    let (email, visit) = some_entries(&app, &key).await;
    let list = |query: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, body) = app
                .admin("GET", &format!("/api/v1/entries{query}"), Some(&key), None)
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            let emails: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| entry["email"].as_str().unwrap().to_owned())
                .collect();
            (emails, body)
        }
    };
    let (all, _) = list("").await;
    assert_eq!(
        all,
        [
            "dan@example.com",
            "cat@mailinator.com",
            "bob@example.com",
            "ann@example.com",
            "ann@example.com"
        ]
    );
    assert_eq!(list("?campaign=spring").await.0.len(), 4);
    let path = format!("/api/v1/entries?entry_method_id={visit}");
    let (_, by_method) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(by_method["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_method["data"][0]["action"], "Visit our shop");
    let path = format!("/api/v1/entries?entry_method_id={email}&search=BOB");
    let (_, searched) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(searched["data"][0]["email"], "bob@example.com");
    assert_eq!(searched["data"].as_array().unwrap().len(), 1);
    assert_eq!(list("?verdict=flagged").await.0, ["cat@mailinator.com"]);
    let flagged = &list("?verdict=flagged").await.1["data"][0]["fraud"];
    assert_eq!(flagged["reasons"], json!(["disposable_email"]));
    let future = "?since=2999-01-01T00:00:00Z";
    assert!(list(future).await.0.is_empty());
    assert_eq!(list("?until=2999-01-01T00:00:00Z").await.0.len(), 5);

    let (first_page, body) = list("?limit=2").await;
    assert_eq!(first_page, ["dan@example.com", "cat@mailinator.com"]);
    let cursor = body["next_cursor"].as_str().unwrap();
    let path = format!("/api/v1/entries?limit=2&cursor={cursor}");
    let (_, second) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(second["data"][0]["email"], "bob@example.com");
    let path = format!(
        "/api/v1/entries?limit=2&cursor={}",
        second["next_cursor"].as_str().unwrap()
    );
    let (_, third) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(third["data"].as_array().unwrap().len(), 1);
    assert_eq!(third["next_cursor"], Value::Null);

    for bad in [
        "?verdict=maybe",
        "?since=yesterday",
        "?limit=0",
        "?limit=9999",
        "?cursor=abc",
    ] {
        let (status, body) = app
            .admin("GET", &format!("/api/v1/entries{bad}"), Some(&key), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}"
        );
    }
    let (status, _) = app
        .admin("GET", "/api/v1/entries?campaign=nope", Some(&key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn entries_export_as_csv() {
    let app = spawn_app().await;
    let key = app.setup().await;
    some_entries(&app, &key).await;
    let response = app
        .client
        .get(app.url("/api/v1/entries/export.csv?campaign=spring"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "entry_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    assert_eq!(&rows[0][column("email")], "cat@mailinator.com");
    assert_eq!(&rows[0][column("verdict")], "flagged");
    assert_eq!(&rows[3][column("campaign")], "spring");
    let details: Value = serde_json::from_str(&rows[3][column("details")]).unwrap();
    assert_eq!(details["Postcode"], 8282);
    assert_eq!(&rows[3][column("consent_text")], "I agree.");
}

#[tokio::test]
async fn a_verdict_override_cancels_and_restores_subscriber_created() {
    let app = spawn_app_with(|config| {
        if let Some(webhook) = &mut config.webhook {
            webhook
                .events
                .push(protocol::payload::EventType::SubscriberCreated);
        }
    })
    .await;
    let key = app.setup().await;
    let (status, _) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({"hold_window_seconds": 0})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_entry("demo", &entry_body("k1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let (_, entries) = app.admin("GET", "/api/v1/entries", Some(&key), None).await;
    let id = entries["data"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/entries/{id}/verdict");

    // Settle the (zero) hold: `subscriber.created` becomes pending, not yet sent.
    app.store
        .release_held_deliveries(server::clock::now_millis())
        .await
        .unwrap();
    let (status, overridden) = app
        .admin(
            "PUT",
            &path,
            Some(&key),
            Some(json!({"verdict": "disqualified"})),
        )
        .await;
    assert_eq!(status, 200, "{overridden}");
    assert_eq!(overridden["fraud"]["verdict"], "disqualified");
    assert_eq!(overridden["fraud"]["original_verdict"], "accepted");
    assert!(overridden["fraud"]["overridden_at"].is_string());
    let status_of = |event: &'static str| {
        let app = &app;
        async move {
            server::with_pool!(app.store.pool(), pool => {
                sqlx::query_scalar::<_, String>("SELECT status FROM deliveries WHERE event_type = $1")
                    .bind(event)
                    .fetch_one(pool)
                    .await
                    .unwrap()
            })
        }
    };
    assert_eq!(status_of("subscriber.created").await, "cancelled");
    assert_eq!(status_of("entry.created").await, "pending");

    let (_, restored) = app
        .admin(
            "PUT",
            &path,
            Some(&key),
            Some(json!({"verdict": "accepted"})),
        )
        .await;
    assert_eq!(restored["fraud"]["verdict"], "accepted");
    assert_eq!(restored["fraud"]["original_verdict"], "accepted");
    assert_eq!(status_of("subscriber.created").await, "pending");

    let (status, error) = app
        .admin("PUT", &path, Some(&key), Some(json!({"verdict": "maybe"})))
        .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("verdict")));
}

#[tokio::test]
async fn contestants_are_listed_shown_and_deleted_with_their_data() {
    let app = spawn_app().await;
    let key = app.setup().await;
    some_entries(&app, &key).await;
    let (status, listed) = app
        .admin(
            "GET",
            "/api/v1/campaigns/spring/contestants",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    let (_, found) = app
        .admin(
            "GET",
            "/api/v1/campaigns/spring/contestants?search=ann",
            Some(&key),
            None,
        )
        .await;
    let ann = &found["data"][0];
    assert_eq!(
        (
            &ann["email"],
            &ann["actions_completed"],
            &ann["total_entries"]
        ),
        (&json!("ann@example.com"), &json!(2), &json!(4))
    );
    let path = format!("/api/v1/contestants/{}", ann["id"]);
    let (status, detail) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["entries"].as_array().unwrap().len(), 2);
    assert_eq!(detail["details"]["How are you?"], "Great, thanks!");

    let before = app.counts().await;
    let (status, _) = app.admin("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 204);
    let after = app.counts().await;
    assert_eq!(after.contestants, before.contestants - 1);
    assert_eq!(after.entries, before.entries - 2);
    assert_eq!(after.deliveries, before.deliveries - 2);
    let (status, _) = app.admin("GET", &path, Some(&key), None).await;
    assert_eq!(status, 404);
    let dump = app
        .scalar("SELECT COUNT(*) FROM contestants WHERE email = 'ann@example.com'")
        .await;
    assert_eq!(dump, 0);
}

#[tokio::test]
async fn allowed_origins_decide_cors_and_refuse_other_pages() {
    let app = spawn_app().await;
    let key = app.setup().await;
    let (status, _) = app
        .admin(
            "PATCH",
            "/api/v1/campaigns/demo",
            Some(&key),
            Some(json!({"allowed_origins": ["https://shop.example"]})),
        )
        .await;
    assert_eq!(status, 200);
    let get = |origin: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/public/campaigns/demo"))
                .header("origin", origin)
                .send()
                .await
                .unwrap()
        }
    };
    let allowed = get("https://shop.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = get("https://evil.example").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let post = |origin: &'static str, idempotency_key: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(app.url("/api/v1/public/campaigns/demo/entries"))
                .header("origin", origin)
                .header("content-type", "text/plain;charset=UTF-8")
                .body(entry_body(idempotency_key, "joe@example.com").to_string())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (
                status,
                serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).unwrap(),
            )
        }
    };
    let (status, refused) = post("https://evil.example", "k1").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("origin_not_allowed"))
    );
    assert_eq!(app.counts().await.entries, 0);
    let (status, _) = post("https://shop.example", "k2").await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_openapi_document_describes_every_admin_route() {
    let app = spawn_app().await;
    let (status, document) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for (method, path) in [
        ("post", "/api/v1/setup"),
        ("post", "/api/v1/workspaces"),
        ("get", "/api/v1/workspace"),
        ("patch", "/api/v1/workspace"),
        ("get", "/api/v1/api-keys"),
        ("post", "/api/v1/api-keys"),
        ("delete", "/api/v1/api-keys/{id}"),
        ("get", "/api/v1/campaigns"),
        ("post", "/api/v1/campaigns"),
        ("get", "/api/v1/campaigns/{key}"),
        ("patch", "/api/v1/campaigns/{key}"),
        ("post", "/api/v1/campaigns/{key}/entry-methods"),
        ("patch", "/api/v1/campaigns/{key}/entry-methods/{id}"),
        ("delete", "/api/v1/campaigns/{key}/entry-methods/{id}"),
        ("get", "/api/v1/campaigns/{key}/contestants"),
        ("get", "/api/v1/contestants/{id}"),
        ("delete", "/api/v1/contestants/{id}"),
        ("get", "/api/v1/entries"),
        ("get", "/api/v1/entries/export.csv"),
        ("get", "/api/v1/entries/{id}"),
        ("put", "/api/v1/entries/{id}/verdict"),
        ("get", "/api/v1/campaigns/{key}/coupons"),
        ("post", "/api/v1/campaigns/{key}/coupons"),
        ("post", "/api/v1/public/campaigns/{key}/uploads"),
        ("get", "/uploads/{id}"),
        ("get", "/api/v1/streams"),
        ("post", "/api/v1/streams"),
        ("get", "/api/v1/streams/{id}"),
        ("patch", "/api/v1/streams/{id}"),
        ("delete", "/api/v1/streams/{id}"),
        ("get", "/api/v1/streams/{id}/conversions"),
        ("post", "/hooks/in/{stream_key}"),
        ("get", "/api/v1/public/campaigns/{key}/activity"),
        ("get", "/api/v1/endpoints"),
        ("post", "/api/v1/endpoints"),
        ("get", "/api/v1/endpoints/{id}"),
        ("patch", "/api/v1/endpoints/{id}"),
        ("delete", "/api/v1/endpoints/{id}"),
        ("post", "/api/v1/endpoints/{id}/restore"),
        ("get", "/api/v1/endpoints/{id}/secret"),
        ("post", "/api/v1/endpoints/{id}/rotate-secret"),
        ("post", "/api/v1/endpoints/{id}/test"),
        ("get", "/api/v1/endpoints/{id}/example"),
        ("post", "/api/v1/endpoints/{id}/retry-failed"),
        ("get", "/api/v1/auth-connectors"),
        ("post", "/api/v1/auth-connectors"),
        ("get", "/api/v1/auth-connectors/{id}"),
        ("patch", "/api/v1/auth-connectors/{id}"),
        ("delete", "/api/v1/auth-connectors/{id}"),
        ("get", "/api/v1/deliveries"),
        ("get", "/api/v1/deliveries/{id}"),
        ("post", "/api/v1/deliveries/{id}/retry"),
        ("post", "/api/v1/endpoints/audience-preview"),
        ("get", "/api/v1/jobs"),
        ("post", "/api/v1/jobs"),
        ("get", "/api/v1/jobs/{id}"),
        ("post", "/api/v1/jobs/{id}/cancel"),
        ("get", "/api/v1/public/campaigns/{key}"),
        ("post", "/api/v1/public/campaigns/{key}/entries"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "the OpenAPI document lacks {method} {path}"
        );
    }
}
