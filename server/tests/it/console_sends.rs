//! The console's pages for audiences, sends and answers, over HTTP: the webhook form shows
//! the audience and data-source settings, the Sends tab a job's progress and its cancel
//! button, the History what each receiver said (and a data source's fields), the
//! contestant's page each receiver's answer to their entries.

use serde_json::json;
use server::clock;

use crate::console::{page, sign_in};
use crate::helpers::{TestApp, entry_body, spawn_app_with};
use crate::jobs::bulk_entries;

async fn app() -> (TestApp, String, String) {
    let app = spawn_app_with(|config| config.webhook = None).await;
    let key = app.setup().await;
    let cookie = sign_in(&app, &key).await;
    (app, key, cookie)
}

#[tokio::test]
async fn the_webhook_form_shows_its_audience_and_answer_settings() {
    let (app, key, cookie) = app().await;
    let (status, saved) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "Promo codes", "events": ["entry.created"], "url": app.receiver.url(),
                "test_on_save": false,
                "audience": {"match": "any", "conditions": [
                    "user.country_code == \"AU\"", "user.details.\"How are you?\" contains \"great\""
                ]},
                "data_source": {"fields": ["promocode", "data.expires"], "timeout_ms": 2500}
            })),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["endpoint"]["id"].as_str().unwrap();
    let (status, _, form) = page(&app, Some(&cookie), &format!("/admin/webhooks/{id}")).await;
    assert_eq!(status, 200);
    for expected in [
        "name=\"audience.conditions\"",
        "user.country_code == &quot;AU&quot;\nuser.details.&quot;How are you?&quot; contains &quot;great&quot;",
        "<option value=\"any\" selected>",
        "data-api=\"POST /api/v1/endpoints/audience-preview\"",
        "data-body-from=\"#audience-fields, #campaign-fields\"",
        "name=\"data_source_on\" type=\"checkbox\" checked",
        "promocode\ndata.expires",
        "value=\"2500\"",
        "href=\"/admin/webhooks/",
        ">Sends</a>",
    ] {
        assert!(form.contains(expected), "{expected} in {form}");
    }
    // A new webhook's form has them too, empty.
    let (_, _, new) = page(&app, Some(&cookie), "/admin/webhooks/new").await;
    assert!(
        new.contains("name=\"audience.conditions\"") && new.contains("name=\"data_source_on\"")
    );
    assert!(!new.contains("name=\"data_source_on\" type=\"checkbox\" checked"));
}

#[tokio::test]
async fn the_sends_tab_shows_progress_and_the_history_what_each_receiver_said() {
    let (app, key, cookie) = app().await;
    let (status, saved) = app
        .admin(
            "POST",
            "/api/v1/endpoints",
            Some(&key),
            Some(json!({
                "name": "CRM", "events": ["entry.created"], "url": app.receiver.url(),
                "test_on_save": false,
                "data_source": {"fields": ["promocode"]}
            })),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let endpoint = saved["endpoint"]["id"].as_str().unwrap().to_owned();
    let (status, _, empty) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/sends"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(empty.contains("No sends yet.") && empty.contains("data-api=\"POST /api/v1/jobs\""));
    assert!(empty.contains(&format!("name=\"endpoint_id\" value=\"{endpoint}\"")));

    // A contestant enters; the receiver answers with a new record and a promo code.
    app.receiver
        .respond_with_json(201, &json!({"promocode": "SAVE-7QK2", "id": 9}));
    let (status, entry) = app
        .post_entry("demo", &entry_body("k-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201, "{entry}");
    let entry_id = entry["entry"]["id"].as_i64().unwrap();
    let now = clock::now_millis();
    app.drain(now).await;

    // A manual send of every entry: the receiver says it has that one already.
    bulk_entries(&app, 3, now).await;
    let (status, job) = app
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "manual"})),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    app.jobs.try_next(clock::now_millis()).await.unwrap();
    let (_, _, sends) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/sends"),
    )
    .await;
    for expected in [
        format!("data-job=\"{job_id}\""),
        "data-job-status=\"sending\"".to_owned(),
        "<span data-sent>0 sent</span>".to_owned(),
        "<span data-waiting>4 waiting</span>".to_owned(),
        "4 queued of 4 looked at".to_owned(),
        format!("data-api=\"POST /api/v1/jobs/{job_id}/cancel\""),
        format!("/admin/webhooks/{endpoint}/history?job={job_id}"),
        "data-live".to_owned(),
    ] {
        assert!(sends.contains(&expected), "{expected} in {sends}");
    }
    app.receiver.set_responses([200, 409]);
    app.drain(clock::now_millis()).await;

    let (_, _, history) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/history?job={job_id}"),
    )
    .await;
    assert_eq!(history.matches("data-delivery=").count(), 4, "{history}");
    assert_eq!(
        history.matches("data-receiver-answer=\"existing\"").count(),
        1
    );
    assert_eq!(history.matches("data-receiver-answer=\"error\"").count(), 3);
    let (_, _, all) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/history"),
    )
    .await;
    assert_eq!(all.matches("data-delivery=").count(), 5);
    assert_eq!(all.matches("data-receiver-answer=\"new\"").count(), 1);

    // The triggered delivery's page shows what the contestant was given.
    let (_, deliveries) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries?entry_id={entry_id}&event=entry.created"),
            Some(&key),
            None,
        )
        .await;
    let delivery = deliveries["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(deliveries["data"][0]["receiver_answer"], "new");
    let (_, _, detail) = page(
        &app,
        Some(&cookie),
        &format!("/admin/deliveries/{delivery}"),
    )
    .await;
    assert!(detail.contains("Answer for the contestant"), "{detail}");
    assert!(detail.contains("<span class=\"mono\">promocode</span> = <strong>SAVE-7QK2</strong>"));

    // The contestant's page: each receiver's answer to each of their entries.
    let contestant: i64 = app
        .scalar("SELECT id FROM contestants WHERE email = 'joe@example.com'")
        .await;
    let (_, _, person) = page(
        &app,
        Some(&cookie),
        &format!("/admin/contestants/{contestant}"),
    )
    .await;
    assert!(person.contains("data-receiver-answer=\"new\""), "{person}");
    assert!(
        person.contains("data-receiver-answer=\"existing\""),
        "{person}"
    );

    // The refused one goes again later; then the send is complete: no cancel button, no
    // more refreshing.
    app.drain(clock::now_millis() + 3_600_000).await;
    app.jobs.try_next(clock::now_millis()).await.unwrap();
    let (_, _, sends) = page(
        &app,
        Some(&cookie),
        &format!("/admin/webhooks/{endpoint}/sends"),
    )
    .await;
    assert!(sends.contains("data-job-status=\"completed\""), "{sends}");
    assert!(!sends.contains("/cancel\"") && !sends.contains("data-live"));
}
