//! Jobs: a manual job over thousands of entries (progress, cancel, completion), a one-time
//! job that waits for its time, a recurring digest across a restart without duplicates, and
//! bad requests refused with the field named. The runner and the delivery worker are driven
//! with `try_next` and a clock the test passes; nothing sleeps.

use std::collections::HashSet;

use serde_json::{Value, json};
use server::clock;
use server::jobs::JobStep;

use crate::helpers::{TestApp, entry_body, fresh_database_url, spawn_app_with, start_on, stop_app};

const HOUR: i64 = 3_600_000;

/// An app without an operator endpoint, set up with a workspace (which adopts the demo
/// campaign); its API key.
async fn app() -> (TestApp, String) {
    let app = spawn_app_with(|config| config.webhook = None).await;
    let key = app.setup().await;
    (app, key)
}

/// `n` entries of the demo campaign written straight into the database (a campaign that has
/// been running for a while): contestants `bulk{i}@example.com`, every other one on the
/// "pro" plan (`user.details.Plan`), made at `at`. They were never sent anywhere, so jobs
/// make their bodies from what is stored.
pub async fn bulk_entries(app: &TestApp, n: usize, at: i64) {
    let contestants = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                  actions_completed, total_entries, created_at, updated_at)
         SELECT (SELECT id FROM campaigns WHERE campaign_key = 'demo'),
                'bulk' || i || '@example.com', 'Bulk ' || i, 'Bulk', '' || i,
                CASE WHEN i % 2 = 0 THEN '{{\"Plan\":\"pro\"}}' ELSE '{{\"Plan\":\"free\"}}' END,
                1, 1, {at}, {at}
         FROM n"
    );
    let entries = format!(
        "INSERT INTO entries (campaign_id, contestant_id, entry_method_id, idempotency_key,
                              entry_value, worth, landing_url, referring_url, honeypot,
                              actions_completed, total_entries, created_at)
         SELECT c.campaign_id, c.id, 1, 'bulk-' || c.id, c.email, 1, 'https://example.com/', '', '',
                1, 1, {at}
         FROM contestants c WHERE c.email LIKE 'bulk%' AND NOT EXISTS (
             SELECT 1 FROM entries e WHERE e.contestant_id = c.id)
         ORDER BY c.id"
    );
    server::with_pool!(app.store.pool(), pool => {
        sqlx::query(sqlx::AssertSqlSafe(contestants)).execute(pool).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(entries)).execute(pool).await.unwrap();
    });
}

/// Creates an endpoint to the test receiver (no test on save) with these extra settings;
/// its id.
async fn endpoint(app: &TestApp, key: &str, settings: Value) -> String {
    let mut body = json!({
        "name": "CRM",
        "events": ["entry.created"],
        "url": app.receiver.url(),
        "test_on_save": false,
    });
    for (name, value) in settings.as_object().unwrap() {
        body[name] = value.clone();
    }
    let (status, saved) = app
        .admin("POST", "/api/v1/endpoints", Some(key), Some(body))
        .await;
    assert_eq!(status, 201, "{saved}");
    saved["endpoint"]["id"].as_str().unwrap().to_owned()
}

async fn job(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, job) = app
        .admin("GET", &format!("/api/v1/jobs/{id}"), Some(key), None)
        .await;
    assert_eq!(status, 200, "{job}");
    job
}

/// Sends every due delivery at `now`.
async fn send_all(app: &TestApp, now: i64) {
    loop {
        let step = app.worker.try_next(now).await.unwrap();
        if step == server::delivery::Step::Idle {
            return;
        }
    }
}

/// Steps the runner at `now` until it is idle; what it queued.
async fn run_jobs(app: &TestApp, now: i64) -> u64 {
    let mut queued = 0;
    loop {
        match app.jobs.try_next(now).await.unwrap() {
            JobStep::Idle => return queued,
            JobStep::Worked { queued: n, .. } => queued += n,
            JobStep::Completed(_) | JobStep::Cancelled(_) => {}
        }
    }
}

#[tokio::test]
async fn a_manual_job_over_thousands_of_entries_shows_progress_and_can_be_cancelled() {
    let (app, key) = app().await;
    let now = clock::now_millis();
    bulk_entries(&app, 3000, now - HOUR).await;
    let endpoint = endpoint(
        &app,
        &key,
        json!({"audience": {"match": "all", "conditions": ["user.details.Plan == \"pro\""]}}),
    )
    .await;
    let (status, created) = app
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "manual"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "scheduled");
    assert_eq!(created["kind"], "manual");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("job_"), "{id}");

    // One step: the run starts (3000 entries to look at) and the first page is queued; only
    // the pro half passes the endpoint's audience.
    let now = clock::now_millis();
    let step = app.jobs.try_next(now).await.unwrap();
    assert!(
        matches!(
            step,
            JobStep::Worked {
                scanned: 500,
                queued: 250,
                ..
            }
        ),
        "{step:?}"
    );
    let shown = job(&app, &key, &id).await;
    assert_eq!(shown["status"], "running", "{shown}");
    assert_eq!(
        shown["progress"],
        json!({"to_scan": 3000, "scanned": 500, "queued": 250, "sent": 0, "failed": 0,
               "cancelled": 0, "pending": 250})
    );
    app.jobs.try_next(now).await.unwrap();
    // Some go out; one is refused by the receiver and retried later.
    app.receiver.set_responses([500]);
    for _ in 0..20 {
        app.worker.try_next(now).await.unwrap();
    }
    let shown = job(&app, &key, &id).await;
    assert_eq!(shown["progress"]["scanned"], 1000);
    assert_eq!(shown["progress"]["queued"], 500);
    assert_eq!(shown["progress"]["sent"], 19, "{shown}");
    assert_eq!(shown["progress"]["pending"], 481);
    let received = app.receiver.requests();
    assert_eq!(received.len(), 20);
    for request in &received {
        assert_eq!(request.header("hookline-event"), Some("entry.exported"));
        let body = request.json();
        assert_eq!(body["user"]["details"]["Plan"], "pro", "{body}");
        assert_eq!(body["campaign"]["key"], "demo");
    }

    // Cancelled: nothing more is queued, and what waited is cancelled, never sent.
    let (status, cancelled) = app
        .admin(
            "POST",
            &format!("/api/v1/jobs/{id}/cancel"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["progress"]["sent"], 19);
    assert_eq!(cancelled["progress"]["cancelled"], 481);
    assert_eq!(cancelled["progress"]["pending"], 0);
    assert!(cancelled["finished_at"].is_string());
    assert_eq!(app.jobs.try_next(now).await.unwrap(), JobStep::Idle);
    send_all(&app, now + 24 * HOUR).await;
    assert_eq!(app.receiver.requests().len(), 20);
    let (status, again) = app
        .admin(
            "POST",
            &format!("/api/v1/jobs/{id}/cancel"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("job_finished"))
    );

    // Its deliveries are in the history, found by job.
    let (status, history) = app
        .admin(
            "GET",
            &format!("/api/v1/deliveries?job_id={id}&limit=200&outcome=delivered"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let delivered = history["data"].as_array().unwrap();
    assert_eq!(delivered.len(), 19);
    assert!(delivered.iter().all(|d| d["job_id"] == id.as_str()
        && d["event_type"] == "entry.exported"
        && d["entry_id"].is_number()));
}

#[tokio::test]
async fn a_manual_job_sends_every_matching_entry_once_then_completes() {
    let (app, key) = app().await;
    // Batches of 100: fewer requests for the same entries.
    let endpoint = endpoint(&app, &key, json!({"batching": {"max_events": 100}})).await;
    // Two entries made through the widget's route (sent at once, their bodies frozen then),
    // and 1200 that were never sent anywhere.
    for n in 0..2 {
        let (status, body) = app
            .post_entry(
                "demo",
                &entry_body(&format!("live-{n}"), &format!("live{n}@example.com")),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let now = clock::now_millis();
    send_all(&app, now).await;
    assert_eq!(app.receiver.requests().len(), 1);
    app.execute("UPDATE contestants SET name = 'Renamed Since' WHERE email = 'live0@example.com'")
        .await;
    bulk_entries(&app, 1200, now - HOUR).await;
    let (status, created) = app
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "manual"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let now = clock::now_millis();
    assert_eq!(run_jobs(&app, now).await, 1202);
    assert_eq!(job(&app, &key, &id).await["status"], "sending");
    send_all(&app, now).await;
    assert_eq!(app.jobs.try_next(now).await.unwrap(), JobStep::Completed(1));
    let shown = job(&app, &key, &id).await;
    assert_eq!(shown["status"], "completed", "{shown}");
    assert_eq!(
        shown["progress"],
        json!({"to_scan": 1202, "scanned": 1202, "queued": 1202, "sent": 1202, "failed": 0,
               "cancelled": 0, "pending": 0})
    );
    let requests = app.receiver.requests().split_off(1);
    assert_eq!(requests.len(), 13, "1202 entries in batches of 100");
    let mut emails = HashSet::new();
    for request in &requests {
        for body in request.json().as_array().unwrap() {
            assert!(
                emails.insert(body["user"]["email"].as_str().unwrap().to_owned()),
                "sent twice: {body}"
            );
        }
    }
    assert_eq!(emails.len(), 1202);
    assert!(emails.contains("live0@example.com") && emails.contains("bulk1200@example.com"));
    // An entry sent before goes as it went then; the others are made from what is stored.
    let first = requests[0].json();
    assert_eq!(first[0]["user"]["email"], "live0@example.com");
    assert_eq!(first[0]["user"]["name"], "Joe Bloggs");
    assert_eq!(
        first[0]["user"]["details"]["How are you?"],
        "Great, thanks!"
    );
    assert_eq!(first[2]["user"]["email"], "bulk1@example.com");
    assert_eq!(first[2]["user"]["details"], json!({"Plan": "free"}));
    assert_eq!(first[2]["entry"]["type"], "email_subscribe");
}

#[tokio::test]
async fn a_one_time_job_waits_for_its_time() {
    let (app, key) = app().await;
    let now = clock::now_millis();
    bulk_entries(&app, 3, now - HOUR).await;
    let endpoint = endpoint(&app, &key, json!({})).await;
    let at = now + 2 * HOUR;
    let (status, created) = app
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(
                json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "one_time",
                        "run_at": clock::rfc3339(at)}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["next_run_at"], clock::rfc3339(at));
    assert_eq!(run_jobs(&app, now + HOUR).await, 0);
    assert_eq!(run_jobs(&app, at).await, 3);
    send_all(&app, at).await;
    assert_eq!(app.receiver.requests().len(), 3);
}

#[tokio::test]
async fn a_recurring_digest_sends_whats_new_each_run_across_a_restart_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (first, stop_first, first_run_task) = start_on(&database_url).await;
    let key = first.setup().await;
    let start = clock::now_millis();
    bulk_entries(&first, 2, start - HOUR).await;
    let endpoint = endpoint(&first, &key, json!({})).await;
    let (status, created) = first
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(
                json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "recurring",
                        "every": "hour"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let first_run = clock::parse_rfc3339(created["next_run_at"].as_str().unwrap()).unwrap();
    assert!((start + HOUR..start + HOUR + 60_000).contains(&first_run));

    // What was there before the job is not part of it; what comes after is, once.
    for n in 0..3 {
        first
            .post_entry(
                "demo",
                &entry_body(&format!("a-{n}"), &format!("a{n}@example.com")),
            )
            .await;
    }
    assert_eq!(run_jobs(&first, first_run - 1).await, 0, "not yet due");
    assert_eq!(run_jobs(&first, first_run).await, 3);
    send_all(&first, first_run).await;
    let digests = |app: &TestApp| -> Vec<Vec<String>> {
        app.receiver
            .requests()
            .into_iter()
            .filter(|request| request.header("hookline-event") == Some("digest.created"))
            .map(|digest| {
                digest
                    .json()
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|body| body["user"]["email"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    };
    assert_eq!(
        digests(&first),
        [["a0@example.com", "a1@example.com", "a2@example.com"]]
    );
    let shown = job(&first, &key, &id).await;
    assert_eq!(shown["status"], "scheduled");
    assert_eq!(shown["runs"], 1);
    assert_eq!(shown["next_run_at"], clock::rfc3339(first_run + HOUR));

    // Two more entries, then the server stops and another starts on the same database.
    for n in 0..2 {
        first
            .post_entry(
                "demo",
                &entry_body(&format!("b-{n}"), &format!("b{n}@example.com")),
            )
            .await;
    }
    stop_app(stop_first, first_run_task).await;
    let (second, _stop_second, _second_run_task) = start_on(&database_url).await;

    // The next run, late (the server was down): the two new entries only, in one digest.
    let cursor = second.scalar("SELECT cursor_entry_id FROM jobs").await;
    let second_run = first_run + HOUR + HOUR / 2;
    assert_eq!(run_jobs(&second, second_run).await, 2);
    send_all(&second, second_run).await;
    // The runner forgets where it was (as if it died in the middle of a run): the job's
    // record of what it sent keeps every entry from going twice, and a run with nothing new
    // sends nothing.
    server::with_pool!(second.store.pool(), pool => {
        sqlx::query("UPDATE jobs SET cursor_entry_id = $1, next_run_at = 0")
            .bind(cursor)
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(run_jobs(&second, second_run).await, 0);
    send_all(&second, second_run).await;
    assert_eq!(
        digests(&first),
        [
            vec!["a0@example.com", "a1@example.com", "a2@example.com"],
            vec!["b0@example.com", "b1@example.com"]
        ]
    );
    let shown = job(&second, &key, &id).await;
    assert_eq!(shown["runs"], 3, "{shown}");
    assert_eq!(shown["progress"]["sent"], 5);
    assert_eq!(
        second.scalar("SELECT COUNT(*) FROM job_entries").await,
        5,
        "one record per entry sent"
    );
}

#[tokio::test]
async fn two_servers_running_one_job_at_once_send_each_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (one, _stop_one, _one_task) = start_on(&database_url).await;
    let (two, _stop_two, _two_task) = start_on(&database_url).await;
    let key = one.setup().await;
    bulk_entries(&one, 2000, clock::now_millis() - HOUR).await;
    let endpoint = endpoint(&one, &key, json!({})).await;
    let (status, created) = one
        .admin(
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(json!({"endpoint_id": endpoint, "campaign": "demo", "kind": "manual"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // Both runners step the same job at the same time, each taking what its lease allows.
    let now = clock::now_millis();
    let (by_one, by_two) = tokio::join!(run_jobs(&one, now), run_jobs(&two, now));
    assert_eq!(by_one + by_two, 2000, "{by_one} + {by_two}");
    assert_eq!(
        one.scalar("SELECT COUNT(*) FROM deliveries WHERE job_id IS NOT NULL")
            .await,
        2000
    );
    assert_eq!(
        one.scalar("SELECT COUNT(DISTINCT entry_id) FROM deliveries WHERE job_id IS NOT NULL")
            .await,
        2000
    );
    let shown = job(&two, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(shown["status"], "sending");
    assert_eq!(shown["progress"]["queued"], 2000);
}

#[tokio::test]
async fn bad_jobs_are_refused_with_the_field_named() {
    let (app, key) = app().await;
    let json_endpoint = endpoint(&app, &key, json!({})).await;
    let form_endpoint = endpoint(&app, &key, json!({"content_type": "form"})).await;
    for (body, field) in [
        (
            json!({"endpoint_id": "ep_nope", "campaign": "demo", "kind": "manual"}),
            "endpoint_id",
        ),
        (
            json!({"endpoint_id": json_endpoint, "campaign": "nope", "kind": "manual"}),
            "campaign",
        ),
        (
            json!({"endpoint_id": json_endpoint, "campaign": "demo", "kind": "weekly"}),
            "kind",
        ),
        (
            json!({"endpoint_id": json_endpoint, "campaign": "demo", "kind": "one_time"}),
            "run_at",
        ),
        (
            json!({"endpoint_id": json_endpoint, "campaign": "demo", "kind": "one_time",
                   "run_at": "tomorrow"}),
            "run_at",
        ),
        (
            json!({"endpoint_id": json_endpoint, "campaign": "demo", "kind": "recurring"}),
            "every",
        ),
        (
            json!({"endpoint_id": form_endpoint, "campaign": "demo", "kind": "recurring",
                   "every": "day"}),
            "kind",
        ),
    ] {
        let (status, error) = app
            .admin("POST", "/api/v1/jobs", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["code"], "invalid_settings");
        assert_eq!(error["field"], field, "{body}: {error}");
        assert!(!error["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM jobs").await, 0);
    let (status, _) = app
        .admin("GET", "/api/v1/jobs/job_nope", Some(&key), None)
        .await;
    assert_eq!(status, 404);
}
