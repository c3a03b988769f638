//! The fraud filter end to end: each rule through the HTTP API, the stored verdict, answers
//! that do not give a verdict away, and `subscriber.created` held until the verdict is final.
//!
//! Every request comes from 127.0.0.1, so the IP rules are driven by how many contestants
//! and entries that one address has made.

use protocol::campaign::EntryMethodType;
use protocol::ids::CampaignKey;
use protocol::payload::EventType;
use serde_json::Value;
use server::clock;
use server::delivery::Step;
use server::fraud::FraudLevel;
use server::store::NewEntryMethod;

use crate::helpers::{
    TestApp, entry_body, fresh_database_url, spawn_app, spawn_app_with, start_on, stop_app,
};

const WINDOW_MS: i64 = 300_000;

/// Posts every body at once (they arrive together) and expects 201 for each.
async fn enter_together(app: &TestApp, bodies: &[Value]) {
    let answers =
        futures_util::future::join_all(bodies.iter().map(|body| app.post_entry("demo", body)))
            .await;
    assert!(
        answers.iter().all(|(status, _)| *status == 201),
        "{answers:?}"
    );
}

/// What the filter stored for an entry.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Stored {
    client_ip: Option<String>,
    fraud_score: i64,
    fraud_reasons: String,
    verdict: String,
    created_at: i64,
}

/// An app whose endpoint also takes `subscriber.created` and `entry.disqualified`.
async fn spawn_app_with_all_events() -> TestApp {
    spawn_app_with(|config| {
        config.webhook.as_mut().unwrap().events = vec![
            EventType::EntryCreated,
            EventType::SubscriberCreated,
            EventType::EntryDisqualified,
        ];
    })
    .await
}

async fn set_level(app: &TestApp, level: FraudLevel, hold_window_ms: i64) {
    let key = CampaignKey::parse("demo").unwrap();
    assert!(
        app.store
            .set_campaign_fraud_settings(&key, level, hold_window_ms)
            .await
            .unwrap()
    );
}

/// An entry whose form was issued `age_ms` ago (so never too fast unless `age_ms` is small).
fn body(key: &str, email: &str, age_ms: i64) -> Value {
    let mut body = entry_body(key, email);
    body["form_issued_at"] = (clock::now_millis() - age_ms).into();
    body
}

/// Posts `body` to the demo campaign and expects 201.
async fn enter(app: &TestApp, body: &Value) -> Value {
    let (status, answer) = app.post_entry("demo", body).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// Enters, one after another, contestant `{prefix}{n}@example.com` for each `n` (key `k{n}`,
/// the form issued 30 s before), expecting 201 each time.
async fn enter_as(app: &TestApp, prefix: &str, numbers: std::ops::Range<u32>) {
    for n in numbers {
        enter(
            app,
            &body(
                &format!("k{n}"),
                &format!("{prefix}{n}@example.com"),
                30_000,
            ),
        )
        .await;
    }
}

/// The latest entry by `email`.
async fn stored(app: &TestApp, email: &str) -> Stored {
    server::with_pool!(app.store.pool(), pool => sqlx::query_as(
        "SELECT e.client_ip, e.fraud_score, e.fraud_reasons, e.verdict, e.created_at
         FROM entries e JOIN contestants c ON c.id = e.contestant_id
         WHERE c.email = $1 ORDER BY e.id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap())
}

/// Checks the latest entry by `email`: score, reasons (JSON) and verdict.
async fn check(app: &TestApp, email: &str, score: i64, reasons: &str, verdict: &str) {
    let entry = stored(app, email).await;
    assert_eq!(
        (
            entry.fraud_score,
            entry.fraud_reasons.as_str(),
            entry.verdict.as_str()
        ),
        (score, reasons, verdict),
        "{email}"
    );
}

/// Event types the receiver got, in order.
fn received(app: &TestApp) -> Vec<String> {
    app.receiver
        .requests()
        .iter()
        .map(|request| request.header("hookline-event").unwrap().to_owned())
        .collect()
}

/// `(event_type, status)` of every delivery, in creation order.
async fn deliveries(app: &TestApp) -> Vec<(String, String)> {
    server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT event_type, status FROM deliveries ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap())
}

#[tokio::test]
async fn an_ordinary_entry_is_accepted_with_its_ip_stored() {
    let app = spawn_app().await;
    enter(&app, &body("k1", "joe@example.com", 30_000)).await;
    let entry = stored(&app, "joe@example.com").await;
    assert_eq!(entry.client_ip.as_deref(), Some("127.0.0.1"));
    check(&app, "joe@example.com", 0, "[]", "accepted").await;
}

#[tokio::test]
async fn a_filled_honeypot_disqualifies() {
    let app = spawn_app().await;
    let mut bot = body("k1", "bot@example.com", 30_000);
    bot["honeypot"] = "http://cheap-pills.example".into();
    enter(&app, &bot).await;
    check(
        &app,
        "bot@example.com",
        100,
        r#"["honeypot"]"#,
        "disqualified",
    )
    .await;
}

#[tokio::test]
async fn a_disposable_domain_is_flagged() {
    let app = spawn_app().await;
    enter(&app, &body("k1", "joe@mailinator.com", 30_000)).await;
    enter(&app, &body("k2", "ann@eu.yopmail.com", 30_000)).await;
    check(
        &app,
        "joe@mailinator.com",
        50,
        r#"["disposable_email"]"#,
        "flagged",
    )
    .await;
    check(
        &app,
        "ann@eu.yopmail.com",
        50,
        r#"["disposable_email"]"#,
        "flagged",
    )
    .await;
}

#[tokio::test]
async fn the_same_email_doing_the_same_action_again_is_refused_not_flagged() {
    let app = spawn_app().await;
    enter(&app, &body("k1", "joe@example.com", 30_000)).await;
    check(&app, "joe@example.com", 0, "[]", "accepted").await;
    let (status, error) = app
        .post_entry("demo", &body("k2", " joe@EXAMPLE.com", 30_000))
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("already_entered"))
    );
    // A daily action done again on another day is what it is for: no duplicate.
    let mut visit = NewEntryMethod::new(EntryMethodType::VisitUrl, "Visit daily");
    visit.daily = true;
    let visit = app.store.add_entry_method(1, &visit, 1, 0).await.unwrap();
    let mut daily = body("k3", "joe@example.com", 30_000);
    daily["entry_method_id"] = visit.0.into();
    enter(&app, &daily).await;
    app.execute("UPDATE entries SET created_at = created_at - 86400000")
        .await;
    daily["idempotency_key"] = "k4".into();
    enter(&app, &daily).await;
    check(&app, "joe@example.com", 0, "[]", "accepted").await;
}

#[tokio::test]
async fn one_mailbox_entering_under_other_spellings_is_a_duplicate_email() {
    let app = spawn_app().await;
    enter(&app, &body("k1", "joe.bloggs@gmail.com", 30_000)).await;
    check(&app, "joe.bloggs@gmail.com", 0, "[]", "accepted").await;
    // The same Gmail mailbox: dots and a tag.
    enter(&app, &body("k2", "JoeBloggs+win@gmail.com", 30_000)).await;
    check(
        &app,
        "JoeBloggs+win@gmail.com",
        40,
        r#"["duplicate_email"]"#,
        "flagged",
    )
    .await;
    // Two tags of one mailbox whose plain address never entered, then the plain address.
    enter(&app, &body("k3", "sam+1@example.com", 30_000)).await;
    check(&app, "sam+1@example.com", 0, "[]", "accepted").await;
    enter(&app, &body("k4", "sam+2@example.com", 30_000)).await;
    check(
        &app,
        "sam+2@example.com",
        40,
        r#"["duplicate_email"]"#,
        "flagged",
    )
    .await;
    enter(&app, &body("k5", "sam@example.com", 30_000)).await;
    check(
        &app,
        "sam@example.com",
        40,
        r#"["duplicate_email"]"#,
        "flagged",
    )
    .await;
    // Other people are not duplicates; dots count outside Gmail.
    enter(&app, &body("k6", "s.am@example.com", 30_000)).await;
    check(&app, "s.am@example.com", 0, "[]", "accepted").await;
    // Each is still a contestant of their own, answered as ever.
    assert_eq!(app.counts().await.contestants, 6);
}

#[tokio::test]
async fn many_contestants_from_one_ip_are_flagged() {
    let app = spawn_app().await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    for (n, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .into_iter()
        .enumerate()
    {
        enter(&app, &body(&format!("k{n}"), email, 30_000)).await;
        check(&app, email, 0, "[]", "accepted").await;
    }
    enter(&app, &body("k4", "d@example.com", 30_000)).await;
    check(&app, "d@example.com", 30, r#"["duplicate_ip"]"#, "flagged").await;
}

#[tokio::test]
async fn a_form_posted_as_soon_as_it_was_issued_is_too_fast() {
    let app = spawn_app().await;
    let (status, campaign) = app.get_json("/api/v1/public/campaigns/demo").await;
    assert_eq!(status, 200);
    let issued_at = campaign["issued_at"].as_i64().unwrap();

    let mut quick = entry_body("k1", "quick@example.com");
    quick["form_issued_at"] = issued_at.into();
    enter(&app, &quick).await;
    check(&app, "quick@example.com", 40, r#"["too_fast"]"#, "flagged").await;

    let mut person = entry_body("k2", "person@example.com");
    person["form_issued_at"] = (issued_at - 20_000).into();
    enter(&app, &person).await;
    check(&app, "person@example.com", 0, "[]", "accepted").await;

    // Without the timestamp nothing is known, which is no reason at the default level…
    enter(&app, &entry_body("k3", "old-widget@example.com")).await;
    check(&app, "old-widget@example.com", 0, "[]", "accepted").await;
    // …but is at `strict` (on a fresh app: three contestants from one IP are too many there).
    let app = spawn_app().await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    enter(&app, &entry_body("k4", "strict@example.com")).await;
    check(&app, "strict@example.com", 40, r#"["too_fast"]"#, "flagged").await;
}

#[tokio::test]
async fn many_entries_from_one_ip_within_a_minute_are_too_many() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (app, stop, running) = start_on(&database_url).await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    enter_as(&app, "p", 0..6).await;
    check(
        &app,
        "p5@example.com",
        70,
        r#"["duplicate_ip","velocity_ip"]"#,
        "disqualified",
    )
    .await;

    // Two minutes later the minute's count is back to nothing (and the hour's is under 30).
    // The entries are moved back, then the server started again: on SQLite its entry writer
    // reads the entries' addresses and times as it starts (`store/addresses.rs`).
    app.execute("UPDATE entries SET created_at = created_at - 120000")
        .await;
    stop_app(stop, running).await;
    let (app, _stop, _running) = start_on(&database_url).await;
    enter(&app, &body("k6", "p6@example.com", 30_000)).await;
    check(&app, "p6@example.com", 30, r#"["duplicate_ip"]"#, "flagged").await;
}

/// Entries that arrive together are written in one group (one transaction); each is still
/// counted after every entry written before it, those of its own group included, whatever the
/// grouping: at `strict`, `duplicate_ip` where three other contestants entered from the
/// address before, `velocity_ip` where five entries did. Groups follow one another (one
/// process writes one at a time). One contestant entered before the burst and enters
/// again within it: an entry of a contestant who was there before the group counts once per
/// contestant, however many entries they made (on PostgreSQL the group's later new contestants
/// are then counted on the database, not from what was read at the group's start).
#[tokio::test]
async fn entries_written_together_are_each_counted_after_those_before() {
    let app = spawn_app_with(|config| config.postgres_groups_at_once = 1).await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    let visit = app
        .store
        .add_entry_method(
            1,
            &NewEntryMethod::new(EntryMethodType::VisitUrl, "Visit the shop"),
            1,
            0,
        )
        .await
        .unwrap();
    enter(&app, &body("before", "old@example.com", 30_000)).await;
    let mut again = body("again", "old@example.com", 30_000);
    again["entry_method_id"] = visit.0.into();
    let bodies: Vec<Value> = std::iter::once(again)
        .chain((0..12).map(|n| body(&format!("k{n}"), &format!("t{n}@example.com"), 30_000)))
        .collect();
    enter_together(&app, &bodies).await;
    let rows: Vec<(i64, String)> = server::with_pool!(app.store.pool(), pool => sqlx::query_as(
        "SELECT contestant_id, fraud_reasons FROM entries ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(rows.len(), 14);
    let mut flagged = (0, 0);
    for (written, (contestant, reasons)) in rows.iter().enumerate() {
        let before = &rows[..written];
        let mut others: Vec<i64> = before
            .iter()
            .map(|(other, _)| *other)
            .filter(|other| other != contestant)
            .collect();
        others.sort_unstable();
        others.dedup();
        let mut expected = Vec::new();
        if others.len() >= 3 {
            expected.push("duplicate_ip");
            flagged.0 += 1;
        }
        if before.len() >= 5 {
            expected.push("velocity_ip");
            flagged.1 += 1;
        }
        let stored: Vec<String> = serde_json::from_str(reasons).unwrap();
        assert_eq!(stored, expected, "entry {written} of {rows:?}");
    }
    // Most of them are flagged, so the counts did reach past the group's start.
    assert!(flagged.0 >= 9 && flagged.1 == 9, "{flagged:?}");
}

/// As above, with PostgreSQL writing several groups at once (as several processes sharing the
/// database do): one does not see another's entries before it commits, so there the counts
/// can only fall short of that.
#[tokio::test]
async fn entries_arriving_together_are_each_counted_after_those_before() {
    let app = spawn_app_with(|config| config.postgres_groups_at_once = 4).await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    let bodies: Vec<Value> = (0..12)
        .map(|n| body(&format!("k{n}"), &format!("t{n}@example.com"), 30_000))
        .collect();
    enter_together(&app, &bodies).await;
    let reasons: Vec<String> = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar(
        "SELECT fraud_reasons FROM entries ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let with = |reason: &str| reasons.iter().filter(|r| r.contains(reason)).count();
    let counted = (reasons.len(), with("duplicate_ip"), with("velocity_ip"));
    match app.store.pool() {
        server::store::Pool::Sqlite(_) => assert_eq!(counted, (12, 9, 7), "{reasons:?}"),
        server::store::Pool::Postgres(_) => {
            assert!(
                counted.0 == 12 && counted.1 <= 9 && counted.2 <= 7,
                "{reasons:?}"
            );
        }
    }
}

#[tokio::test]
async fn at_level_off_nothing_is_scored() {
    let app = spawn_app().await;
    set_level(&app, FraudLevel::Off, WINDOW_MS).await;
    let mut bot = body("k1", "bot@mailinator.com", 0);
    bot["honeypot"] = "x".into();
    enter(&app, &bot).await;
    check(&app, "bot@mailinator.com", 0, "[]", "accepted").await;
}

/// Status, header names and body, with the entry's id and time (which differ by nature)
/// replaced by placeholders, byte for byte.
async fn answer_shape(app: &TestApp, body: &Value) -> (u16, Vec<String>, String) {
    let response = app
        .client
        .post(app.url("/api/v1/public/campaigns/demo/entries"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let mut headers: Vec<String> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    headers.sort();
    let text = response.text().await.unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let id = value["entry"]["id"].as_i64().unwrap();
    let created_at = value["entry"]["created_at"].as_str().unwrap();
    let mut text = text
        .replacen(&format!("\"id\":{id},"), "\"id\":ID,", 1)
        .replacen(created_at, "CREATED_AT", 1);
    // Each contestant's own session, and the time of their completion.
    for (key, placeholder) in [
        ("contestant_token", "TOKEN"),
        ("referral_code", "CODE"),
        ("referral_url", "URL"),
    ] {
        text = text.replacen(value[key].as_str().unwrap(), placeholder, 1);
    }
    let done_at = value["completed"][0]["last_completed_at"].as_i64().unwrap();
    let text = text.replacen(&done_at.to_string(), "DONE_AT", 1);
    (status, headers, text)
}

#[tokio::test]
async fn flagged_and_disqualified_entries_are_answered_exactly_like_accepted_ones() {
    let app = spawn_app().await;
    let accepted = answer_shape(&app, &body("k1", "joe@example.com", 30_000)).await;
    let flagged = answer_shape(&app, &body("k2", "ann@mailinator.com", 30_000)).await;
    let mut bot = body("k3", "bot@example.com", 0);
    bot["honeypot"] = "x".into();
    let disqualified = answer_shape(&app, &bot).await;
    check(&app, "joe@example.com", 0, "[]", "accepted").await;
    check(
        &app,
        "ann@mailinator.com",
        50,
        r#"["disposable_email"]"#,
        "flagged",
    )
    .await;
    check(
        &app,
        "bot@example.com",
        140,
        r#"["honeypot","too_fast"]"#,
        "disqualified",
    )
    .await;
    assert_eq!(accepted.0, 201);
    assert!(accepted.2.contains("\"id\":ID,"), "{}", accepted.2);
    assert!(accepted.2.contains("CREATED_AT"), "{}", accepted.2);
    assert_eq!(flagged, accepted);
    assert_eq!(disqualified, accepted);
}

#[tokio::test]
async fn subscriber_created_waits_for_the_hold_window() {
    let app = spawn_app_with_all_events().await;
    enter(&app, &body("k1", "joe@example.com", 30_000)).await;
    let created_at = stored(&app, "joe@example.com").await.created_at;
    assert_eq!(
        deliveries(&app).await,
        [
            ("entry.created".into(), "pending".into()),
            ("subscriber.created".into(), "held".into()),
            ("entry.disqualified".into(), "held".into()),
        ]
    );

    assert_eq!(app.drain(created_at).await, [Step::Delivered, Step::Idle]);
    assert_eq!(received(&app), ["entry.created"]);
    assert_eq!(
        app.worker.next_due_at().await.unwrap(),
        Some(created_at + WINDOW_MS),
        "the background loop wakes when the window ends"
    );
    assert_eq!(
        app.drain(created_at + WINDOW_MS - 1).await,
        [Step::Idle],
        "not before the window ends"
    );
    assert_eq!(received(&app), ["entry.created"]);

    assert_eq!(
        app.drain(created_at + WINDOW_MS).await,
        [Step::Delivered, Step::Idle]
    );
    assert_eq!(received(&app), ["entry.created", "subscriber.created"]);
    let requests = app.receiver.requests();
    assert_eq!(
        requests[1].json()["user"]["email"],
        "joe@example.com",
        "the same Gleam-shaped body"
    );
    assert_eq!(
        deliveries(&app).await,
        [
            ("entry.created".into(), "delivered".into()),
            ("subscriber.created".into(), "delivered".into()),
        ],
        "the entry was not disqualified, so that event never happened"
    );
    assert_eq!(app.worker.next_due_at().await.unwrap(), None);
}

#[tokio::test]
async fn a_flagged_entry_still_gets_subscriber_created() {
    let app = spawn_app_with_all_events().await;
    enter(&app, &body("k1", "joe@mailinator.com", 30_000)).await;
    let created_at = stored(&app, "joe@mailinator.com").await.created_at;
    app.drain(created_at + WINDOW_MS).await;
    assert_eq!(received(&app), ["entry.created", "subscriber.created"]);
}

#[tokio::test]
async fn with_no_hold_window_subscriber_created_is_due_at_once() {
    let app = spawn_app_with_all_events().await;
    set_level(&app, FraudLevel::Standard, 0).await;
    enter(&app, &body("k1", "joe@example.com", 30_000)).await;
    let created_at = stored(&app, "joe@example.com").await.created_at;
    assert_eq!(
        app.drain(created_at).await,
        [Step::Delivered, Step::Delivered, Step::Idle]
    );
    assert_eq!(received(&app), ["entry.created", "subscriber.created"]);
}

#[tokio::test]
async fn a_disqualified_entry_gets_entry_disqualified_and_never_subscriber_created() {
    let app = spawn_app_with_all_events().await;
    let mut bot = body("k1", "bot@example.com", 30_000);
    bot["honeypot"] = "x".into();
    enter(&app, &bot).await;
    let created_at = stored(&app, "bot@example.com").await.created_at;

    assert_eq!(app.drain(created_at).await, [Step::Delivered, Step::Idle]);
    assert_eq!(
        received(&app),
        ["entry.created"],
        "entry.created is immediate"
    );
    assert_eq!(
        app.drain(created_at + WINDOW_MS).await,
        [Step::Delivered, Step::Idle]
    );
    assert_eq!(received(&app), ["entry.created", "entry.disqualified"]);
    assert_eq!(
        app.receiver.requests()[1].json()["user"]["email"],
        "bot@example.com"
    );
    app.drain(created_at + 10 * WINDOW_MS).await;
    assert_eq!(received(&app), ["entry.created", "entry.disqualified"]);
    assert_eq!(
        deliveries(&app).await,
        [
            ("entry.created".into(), "delivered".into()),
            ("subscriber.created".into(), "cancelled".into()),
            ("entry.disqualified".into(), "delivered".into()),
        ]
    );
}

#[tokio::test]
async fn the_verdict_is_read_again_when_the_window_ends() {
    let app = spawn_app_with_all_events().await;
    enter(&app, &body("k1", "joe@example.com", 30_000)).await;
    let created_at = stored(&app, "joe@example.com").await.created_at;
    app.drain(created_at).await;
    // Disqualified during the window (as a person reviewing entries would).
    app.execute("UPDATE entries SET verdict = 'disqualified'")
        .await;
    app.drain(created_at + WINDOW_MS).await;
    assert_eq!(received(&app), ["entry.created", "entry.disqualified"]);
}

/// A deleted contestant no longer counts against those entering from their address after
/// them: at `strict`, three other contestants from the address make a `duplicate_ip`, and with
/// one of the three deleted the next entry is not one (on SQLite the entry writer keeps the
/// counts in memory, and the deletion takes the contestant out of them).
#[tokio::test]
async fn a_deleted_contestant_no_longer_counts_for_their_address() {
    let app = spawn_app().await;
    let key = app.setup().await;
    set_level(&app, FraudLevel::Strict, WINDOW_MS).await;
    enter_as(&app, "d", 0..3).await;
    let (status, found) = app
        .admin(
            "GET",
            "/api/v1/campaigns/demo/contestants?search=d0%40example.com",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let path = format!("/api/v1/contestants/{}", found["data"][0]["id"]);
    let (status, _) = app.admin("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 204);
    enter(&app, &body("k3", "d3@example.com", 30_000)).await;
    check(&app, "d3@example.com", 0, "[]", "accepted").await;
    // The same entry with the three there would have been a duplicate.
    enter(&app, &body("k4", "d4@example.com", 30_000)).await;
    check(&app, "d4@example.com", 30, r#"["duplicate_ip"]"#, "flagged").await;
}

/// Two servers on one database: the entries sent through one count for the next entry sent
/// through the other (on SQLite each entry writer keeps the counts in memory, and reads what
/// the other wrote at the start of its next transaction).
#[tokio::test]
async fn entries_through_another_server_on_the_database_count() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (one, _stop_one, _one_running) = start_on(&database_url).await;
    let (two, _stop_two, _two_running) = start_on(&database_url).await;
    set_level(&one, FraudLevel::Strict, WINDOW_MS).await;
    enter_as(&one, "s", 0..3).await;
    enter(&two, &body("k3", "s3@example.com", 30_000)).await;
    check(&two, "s3@example.com", 30, r#"["duplicate_ip"]"#, "flagged").await;
    // And back: the fourth contestant counts on the first server too.
    enter(&one, &body("k4", "s4@example.com", 30_000)).await;
    check(&one, "s4@example.com", 30, r#"["duplicate_ip"]"#, "flagged").await;
}
