//! Sending webhooks: retries with the same id, redirects as failures, the background loop.

use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, verify};
use server::clock;
use server::delivery::Step;

use crate::helpers::{PATIENCE, entry_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_failed_delivery_is_retried_later_with_the_same_webhook_id() {
    let app = spawn_app().await;
    app.receiver.set_responses([500, 200]);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);

    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Failed);
    let (status_code, error_kind): (Option<i64>, Option<String>) = server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT status_code, error_kind FROM attempts")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!((status_code, error_kind), (Some(500), None));
    assert_eq!(
        app.worker.try_next(now).await.unwrap(),
        Step::Idle,
        "not due again yet"
    );
    assert_eq!(
        app.worker.try_next(now + 50_000).await.unwrap(),
        Step::Idle,
        "the first retry waits about a minute"
    );

    let later = now + 70_000;
    assert_eq!(app.worker.try_next(later).await.unwrap(), Step::Delivered);
    assert_eq!(app.worker.try_next(later).await.unwrap(), Step::Idle);
    let requests = app.receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id")
    );
    assert_eq!(requests[0].body, requests[1].body);
    let retry = &requests[1];
    let verified = verify(
        &app.secret,
        retry.header("webhook-id").unwrap(),
        retry.header("webhook-timestamp").unwrap(),
        retry.header("webhook-signature").unwrap(),
        &retry.body,
        later / 1000,
        DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(verified, Ok(()), "each try is signed afresh");
    let (delivery_status, n_attempts): (String, i64) = server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT status, n_attempts FROM deliveries")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!((delivery_status.as_str(), n_attempts), ("delivered", 2));
    assert_eq!(app.counts().await.attempts, 2);
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let app = spawn_app().await;
    app.receiver.respond_with_redirect(&app.receiver.url());
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Failed
    );
    assert_eq!(
        app.receiver.requests().len(),
        1,
        "the redirect was not followed"
    );
    let status_code: Option<i64> = server::with_pool!(app.store.pool(), pool => sqlx::query_scalar("SELECT status_code FROM attempts")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(status_code, Some(302));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_recorded_failure() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = spawn_app_with(|config| {
        if let Some(webhook) = config.webhook.as_mut() {
            webhook.url = format!("http://127.0.0.1:{closed_port}/hooks");
        }
    })
    .await;
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        app.worker.try_next(clock::now_millis()).await.unwrap(),
        Step::Failed
    );
    let (status_code, error_kind): (Option<i64>, Option<String>) = server::with_pool!(app.store.pool(), pool => sqlx::query_as("SELECT status_code, error_kind FROM attempts")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!(
        (status_code, error_kind.as_deref()),
        (None, Some("connect"))
    );
}

#[tokio::test]
async fn the_background_loop_delivers_on_its_own() {
    let app = spawn_app_with(|config| config.deliver_in_background = true).await;
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let requests = app.receiver.wait_for(1, PATIENCE).await;
    let webhook = &requests[0];
    assert_eq!(webhook.header("hookline-event"), Some("entry.created"));
    let verified = verify(
        &app.secret,
        webhook.header("webhook-id").unwrap(),
        webhook.header("webhook-timestamp").unwrap(),
        webhook.header("webhook-signature").unwrap(),
        &webhook.body,
        clock::now_millis() / 1000,
        DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(verified, Ok(()));
}
