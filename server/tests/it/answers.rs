//! Answers that come back: a data source's answer reaches the contestant in the entry's own
//! answer (which waits for the endpoint's first try, up to its timeout, and comes without one
//! otherwise), replays carry it too; and every receiver's answer is recorded per delivery as
//! Gleam reads it (201 new, 200 existing, anything else an error). Delivery runs in the
//! background here, as in a server: the entry's answer waits on a real first try.

use serde_json::{Value, json};
use server::clock;

use crate::helpers::{TestApp, entry_body, spawn_app_with};

async fn app(background: bool) -> (TestApp, String) {
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.deliver_in_background = background;
    })
    .await;
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

/// Posts entry `n`; the status and the answer.
async fn enter(app: &TestApp, n: usize) -> (u16, Value) {
    app.post_entry(
        "demo",
        &entry_body(&format!("answer-{n}"), &format!("joe{n}@example.com")),
    )
    .await
}

#[tokio::test]
async fn a_data_sources_fields_come_back_in_the_entrys_answer_and_its_replays() {
    let (app, key) = app(true).await;
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
    let (status, answer) = enter(&app, 1).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["answer"],
        json!({"promocode": "SAVE-7QK2", "data.expires": "2026-12-31"}),
        "{answer}"
    );
    // The endpoint got the entry: that is what it answered.
    let requests = app.receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["user"]["email"], "joe1@example.com");
    assert_eq!(requests[0].header("hookline-event"), Some("entry.created"));

    // The same post again (its first answer was lost, say): the same fields, not sent again.
    let (status, replay) = enter(&app, 1).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["answer"], answer["answer"]);
    assert_eq!(app.receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_receiver_too_slow_or_failing_leaves_a_plain_answer() {
    let (app, key) = app(true).await;
    endpoint(
        &app,
        &key,
        json!({"data_source": {"fields": ["promocode"], "timeout_ms": 300}}),
    )
    .await;
    // The receiver takes the request but does not answer within the timeout.
    app.receiver
        .respond_with_json(201, &json!({"promocode": "TOO-LATE"}));
    app.receiver.hold();
    let (status, answer) = enter(&app, 1).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.get("answer").is_none(), "{answer}");
    assert_eq!(app.receiver.requests().len(), 1, "it was sent");
    app.receiver.release();

    // An error status, or an answer without the fields: nothing to show.
    for (n, reply) in [
        (500, json!({"promocode": "NOT-AN-ANSWER"})),
        (200, json!({"code": "elsewhere"})),
    ]
    .into_iter()
    .enumerate()
    {
        app.receiver.respond_with_json(reply.0, &reply.1);
        let (status, answer) = enter(&app, 2 + n).await;
        assert_eq!(status, 201, "{answer}");
        assert!(answer.get("answer").is_none(), "{reply:?}: {answer}");
    }
}

#[tokio::test]
async fn only_data_sources_taking_the_entry_at_once_are_waited_for() {
    let (app, key) = app(false).await;
    // Not a data source; a data source of a held event; one whose audience leaves the
    // entry out. Nothing is sent here (no delivery loop), so were one waited for, the answer
    // would come after its timeout without fields: the stored marks say none was.
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
    let (status, answer) = enter(&app, 1).await;
    assert_eq!(status, 201);
    assert!(answer.get("answer").is_none(), "{answer}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM deliveries WHERE shows_answer")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM deliveries").await,
        2,
        "entry.created to the first, subscriber.created (held) to the second, none to the third"
    );
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
    let (app, key) = app(false).await;
    endpoint(&app, &key, json!({})).await;
    let mut entries = Vec::new();
    for (n, status) in [201, 200, 204, 409].into_iter().enumerate() {
        app.receiver.set_responses([status]);
        entries.push(enter(&app, n).await.1["entry"]["id"].as_i64().unwrap());
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
    let waiting = enter(&app, 9).await.1["entry"]["id"].as_i64().unwrap();
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
