//! Answers that come back: a data source's answer reaches the widget by the entry's token (the
//! route waits for the first try, up to the timeout, and says `timeout` or `unanswered`
//! otherwise), and every receiver's answer is recorded per delivery as Gleam reads it (201
//! new, 200 existing, anything else an error).

use serde_json::{Value, json};
use server::clock;

use crate::helpers::{TestApp, entry_body, spawn_app_with};

async fn app() -> (TestApp, String) {
    let app = spawn_app_with(|config| config.webhook = None).await;
    let key = app.setup().await;
    (app, key)
}

async fn endpoint(app: &TestApp, key: &str, extra: Value) -> String {
    let mut body = json!({
        "name": "Promo codes", "events": ["entry.created"], "url": app.receiver.url(),
        "test_on_save": false,
    });
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    let (status, saved) = app
        .admin("POST", "/api/v1/endpoints", Some(key), Some(body))
        .await;
    assert_eq!(status, 201, "{saved}");
    saved["endpoint"]["id"].as_str().unwrap().to_owned()
}

async fn enter(app: &TestApp, n: usize) -> Value {
    let (status, answer) = app
        .post_entry(
            "demo",
            &entry_body(&format!("answer-{n}"), &format!("joe{n}@example.com")),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    answer
}

fn answer_path(token: &str) -> String {
    format!("/api/v1/public/campaigns/demo/answers/{token}")
}

#[tokio::test]
async fn a_data_sources_fields_reach_the_widget_once_its_first_try_is_over() {
    let (app, key) = app().await;
    endpoint(
        &app,
        &key,
        json!({"data_source": {"fields": ["promocode", "data.expires", "data.missing"]}}),
    )
    .await;
    app.receiver.respond_with_json(
        201,
        &json!({"promocode": "SAVE-7QK2", "data": {"expires": "2026-12-31", "uses": 1}}),
    );
    let answer = enter(&app, 1).await;
    let ticket = &answer["answer"];
    assert_eq!(ticket["wait_ms"], 3000, "the default timeout: {answer}");
    let token = ticket["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ans_") && token.len() >= 36, "{token}");

    // The widget asks at once; the answer comes when the delivery has been sent.
    let asking = {
        let (client, url) = (app.client.clone(), app.url(&answer_path(&token)));
        tokio::spawn(async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        })
    };
    app.drain(clock::now_millis()).await;
    let (status, fields) = asking.await.unwrap();
    assert_eq!(status, 200, "{fields}");
    assert_eq!(
        fields,
        json!({"status": "answered", "fields": {"promocode": "SAVE-7QK2", "data.expires": "2026-12-31"}})
    );
    // Asked again later: the same.
    assert_eq!(app.get_json(&answer_path(&token)).await, (200, fields));

    // Only the hash of the token is stored.
    let stored: String = server::with_pool!(app.store.pool(), pool => {
        sqlx::query_scalar("SELECT answer_token FROM deliveries WHERE answer_token IS NOT NULL")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&token));

    // A replay of the post carries no ticket; unknown tokens and other campaigns find nothing.
    let (status, replay) = app
        .post_entry("demo", &entry_body("answer-1", "joe1@example.com"))
        .await;
    assert_eq!(status, 200);
    assert!(replay.get("answer").is_none(), "{replay}");
    for path in [
        answer_path("ans_unknown0123456789012345678901"),
        answer_path("not-a-token"),
        format!("/api/v1/public/campaigns/other/answers/{token}"),
    ] {
        let (status, error) = app.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {error}");
    }
}

#[tokio::test]
async fn a_receiver_too_slow_or_failing_leaves_the_widget_a_plain_confirmation() {
    let (app, key) = app().await;
    endpoint(
        &app,
        &key,
        json!({"data_source": {"fields": ["promocode"], "timeout_ms": 300}}),
    )
    .await;
    // No try within the timeout: `timeout`.
    let answer = enter(&app, 1).await;
    assert_eq!(answer["answer"]["wait_ms"], 300);
    let (status, said) = app
        .get_json(&answer_path(answer["answer"]["token"].as_str().unwrap()))
        .await;
    assert_eq!(
        (status, said),
        (200, json!({"status": "timeout", "fields": {}}))
    );

    // An error status, or an answer without the fields: `unanswered`, at once.
    app.drain(clock::now_millis()).await;
    for reply in [
        (500, json!({"promocode": "NOT-AN-ANSWER"})),
        (200, json!({"code": "elsewhere"})),
    ] {
        app.receiver.respond_with_json(reply.0, &reply.1);
        let answer = enter(&app, 2 + usize::from(reply.0)).await;
        app.drain(clock::now_millis()).await;
        let (status, said) = app
            .get_json(&answer_path(answer["answer"]["token"].as_str().unwrap()))
            .await;
        assert_eq!(
            (status, said),
            (200, json!({"status": "unanswered", "fields": {}})),
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn only_data_sources_taking_the_entry_at_once_give_a_ticket() {
    let (app, key) = app().await;
    // Not a data source; a data source of a held event; one whose audience leaves the
    // entry out.
    endpoint(&app, &key, json!({})).await;
    endpoint(
        &app,
        &key,
        json!({"events": ["subscriber.created"], "data_source": {"fields": ["promocode"]}}),
    )
    .await;
    endpoint(
        &app,
        &key,
        json!({"data_source": {"fields": ["promocode"]},
               "audience": {"conditions": [r#"user.email ends with "@example.org""#]}}),
    )
    .await;
    let answer = enter(&app, 1).await;
    assert!(answer.get("answer").is_none(), "{answer}");
    // Data-source settings are checked on save.
    let (status, error) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "Bad", "events": ["entry.created"], "url": app.receiver.url(),
                "test_on_save": false,
                "data_source": {"fields": ["promo code"], "timeout_ms": 60000},
            })),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["data_source.fields.0", "data_source.timeout_ms"]);
}

#[tokio::test]
async fn every_receivers_answer_is_recorded_as_new_existing_or_an_error() {
    let (app, key) = app().await;
    endpoint(&app, &key, json!({})).await;
    let mut entries = Vec::new();
    for (n, status) in [201, 200, 204, 409].into_iter().enumerate() {
        app.receiver.set_responses([status]);
        entries.push(enter(&app, n).await["entry"]["id"].as_i64().unwrap());
        app.drain(clock::now_millis()).await;
    }
    let mut said = Vec::new();
    for entry in &entries {
        let (status, page) = app
            .admin(
                "GET",
                &format!("/api/v1/deliveries?entry_id={entry}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let delivery = &page["data"][0];
        said.push((
            delivery["last_status_code"].as_u64().unwrap(),
            delivery["receiver_answer"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        said,
        [
            (201, "new".to_owned()),
            (200, "existing".to_owned()),
            (204, "error".to_owned()),
            (409, "error".to_owned())
        ]
    );
    // Before any try there is nothing to read.
    let waiting = enter(&app, 9).await["entry"]["id"].as_i64().unwrap();
    let (_, page) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries?entry_id={waiting}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(page["data"][0]["receiver_answer"], Value::Null);
}
