//! Retry-After, endpoint health (410 Gone, auto-disable after a long failing run) and the
//! per-endpoint concurrency cap. Time is the clock passed to `try_next`, never slept on.

use std::time::Duration;

use server::clock;
use server::config::DeliveryLimits;
use server::delivery::Step;

use crate::helpers::{
    ScriptedReceiver, add_endpoint, endpoint_health, entry_body, spawn_app, spawn_app_with,
};

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn retry_after_delays_the_next_try_and_every_try_has_the_same_webhook_id() {
    let receiver = ScriptedReceiver::start(false).await;
    let url = receiver.url();
    let app = spawn_app_with(|config| {
        if let Some(webhook) = config.webhook.as_mut() {
            webhook.url = url;
        }
    })
    .await;
    receiver.reply(429, &[("retry-after", "600")]);
    receiver.reply(503, &[("retry-after", "Wed, 21 Oct 2065 07:28:00 GMT")]);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);

    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Failed);
    assert_eq!(
        app.worker.try_next(now + 9 * MINUTE).await.unwrap(),
        Step::Idle,
        "a minute's backoff, but the endpoint asked for ten"
    );
    let second = now + 10 * MINUTE + 1;
    assert_eq!(app.worker.try_next(second).await.unwrap(), Step::Failed);
    assert_eq!(
        app.worker
            .try_next(second + 23 * 60 * MINUTE)
            .await
            .unwrap(),
        Step::Idle,
        "a date decades away is capped at a day"
    );
    let third = second + 24 * 60 * MINUTE + 1;
    assert_eq!(app.worker.try_next(third).await.unwrap(), Step::Delivered);

    let ids = receiver.webhook_ids();
    assert_eq!(ids.len(), 3);
    assert!(ids[0].starts_with("msg_"), "{ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_nothing_more_is_sent_to_it() {
    let app = spawn_app().await;
    app.receiver.set_responses([410]);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);

    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Failed);
    let url = app.receiver.url();
    let (enabled, reason, _) = endpoint_health(&app.store, &url).await;
    assert_eq!((enabled, reason.as_deref()), (false, Some("gone")));
    let disabled_at: Option<i64> = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar("SELECT disabled_at FROM endpoints")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(disabled_at, Some(now));

    let (status, _) = app
        .post_entry("demo", &entry_body("key-2", "ann@example.com"))
        .await;
    assert_eq!(status, 201, "entries are still taken");
    assert_eq!(
        app.worker.try_next(now + 48 * 60 * MINUTE).await.unwrap(),
        Step::Idle
    );
    assert_eq!(app.receiver.requests().len(), 1);
    let (n_deliveries, status): (i64, String) = server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT COUNT(*), MIN(status) FROM deliveries")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!(
        (n_deliveries, status.as_str()),
        (1, "pending"),
        "no delivery is queued for a disabled endpoint; the one it had waits"
    );
}

#[tokio::test]
async fn an_endpoint_failing_long_enough_is_disabled_and_a_success_resets_the_run() {
    let app = spawn_app_with(|config| {
        config.delivery_limits = DeliveryLimits {
            disable_after_failures: 3,
            disable_after: Duration::from_secs(3600),
            ..DeliveryLimits::default()
        };
    })
    .await;
    let url = app.receiver.url();
    for key in ["key-1", "key-2"] {
        let (status, _) = app
            .post_entry("demo", &entry_body(key, &format!("{key}@example.com")))
            .await;
        assert_eq!(status, 201);
    }
    // Two failures, then a success: the run starts again.
    app.receiver.set_responses([500, 500]);
    let t0 = clock::now_millis();
    assert_eq!(
        app.drain(t0).await,
        [Step::Failed, Step::Failed, Step::Idle]
    );
    assert_eq!(endpoint_health(&app.store, &url).await, (true, None, 2));
    assert_eq!(
        app.drain(t0 + 2 * MINUTE).await,
        [Step::Delivered, Step::Delivered, Step::Idle]
    );
    assert_eq!(endpoint_health(&app.store, &url).await, (true, None, 0));

    // Two hours later, a new run: without the reset it would be 3 failures over 2 hours.
    let t1 = t0 + 120 * MINUTE;
    app.receiver.set_responses([500; 10]);
    for key in ["key-3", "key-4"] {
        let (status, _) = app
            .post_entry("demo", &entry_body(key, &format!("{key}@example.com")))
            .await;
        assert_eq!(status, 201);
    }
    assert_eq!(app.worker.try_next(t1).await.unwrap(), Step::Failed);
    assert_eq!(endpoint_health(&app.store, &url).await, (true, None, 1));
    assert_eq!(app.worker.try_next(t1).await.unwrap(), Step::Failed);
    assert_eq!(
        endpoint_health(&app.store, &url).await,
        (true, None, 2),
        "not yet: too few failures"
    );
    assert_eq!(
        app.worker.try_next(t1 + 30 * MINUTE).await.unwrap(),
        Step::Failed
    );
    assert_eq!(
        endpoint_health(&app.store, &url).await,
        (true, None, 3),
        "not yet: the run is only half an hour long"
    );
    assert_eq!(
        app.worker.try_next(t1 + 61 * MINUTE).await.unwrap(),
        Step::Failed
    );
    assert_eq!(
        endpoint_health(&app.store, &url).await,
        (false, Some("failing".to_owned()), 4)
    );
    let sent = app.receiver.requests().len();
    assert_eq!(app.drain(t1 + 600 * MINUTE).await, [Step::Idle]);
    assert_eq!(app.receiver.requests().len(), sent);
}

#[tokio::test]
async fn a_slow_endpoint_gets_at_most_its_cap_while_another_gets_everything() {
    let slow = ScriptedReceiver::start(true).await;
    let app = spawn_app_with(|config| {
        config.deliver_in_background = true;
        config.delivery_limits.concurrency_per_endpoint = 2;
    })
    .await;
    add_endpoint(&app.store, &slow.url()).await;
    let n_entries = 6;
    for n in 0..n_entries {
        let (status, _) = app
            .post_entry(
                "demo",
                &entry_body(&format!("key-{n}"), &format!("p{n}@example.com")),
            )
            .await;
        assert_eq!(status, 201);
    }
    slow.wait_in_flight(2).await;
    app.receiver
        .wait_for(n_entries, crate::helpers::PATIENCE)
        .await;
    assert_eq!(
        slow.max_in_flight(),
        2,
        "the slow endpoint never had more than its cap open"
    );
    assert_eq!(slow.webhook_ids().len(), 2);
    slow.release();
    slow.wait_for(n_entries).await;
    assert_eq!(slow.max_in_flight(), 2);
}
