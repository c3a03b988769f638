//! Sending webhooks: retries with the same id, redirects as failures, keep-alive, the
//! background loop and its hand-off (deliveries leased in their entry's transaction).

use std::time::Duration;

use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, verify};
use server::clock;
use server::delivery::Step;

use crate::helpers::{PATIENCE, ScriptedReceiver, entry_body, spawn_app, spawn_app_with};

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

/// `(lease_until - the entry's created_at, n_attempts, status)` of every delivery.
async fn leases(app: &crate::helpers::TestApp) -> Vec<(Option<i64>, i64, String)> {
    server::with_pool!(app.store.pool(), pool => sqlx::query_as(
        "SELECT d.lease_until - e.created_at, d.n_attempts, d.status
         FROM deliveries d JOIN entries e ON e.id = d.entry_id ORDER BY d.id",
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_new_delivery_is_handed_off_leased_and_taken_over_when_its_lease_runs_out() {
    let receiver = ScriptedReceiver::start(true).await;
    let url = receiver.url();
    let lease = Duration::from_secs(60);
    let app = spawn_app_with(|config| {
        config.deliver_in_background = true;
        config.delivery_limits.lease = lease;
        if let Some(webhook) = config.webhook.as_mut() {
            webhook.url = url;
        }
    })
    .await;
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    receiver.wait_in_flight(1).await;
    // Leased by the entry's own transaction (its time plus the lease), not by a claim.
    let lease_ms = i64::try_from(lease.as_millis()).unwrap();
    assert_eq!(leases(&app).await, [(Some(lease_ms), 0, "pending".into())]);

    // Another worker cannot take it while the lease holds; once it has run out (this
    // process died, say), it does, with the same webhook-id.
    let now = clock::now_millis();
    assert_eq!(app.worker.try_next(now).await.unwrap(), Step::Idle);
    let other = app.worker.clone();
    let takeover = tokio::spawn(async move { other.try_next(now + lease_ms + 1).await });
    receiver.wait_in_flight(2).await;
    receiver.release();
    assert_eq!(takeover.await.unwrap().unwrap(), Step::Delivered);
    let ids = receiver.webhook_ids();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    // The first try's outcome is recorded too (by the background loop, after its window).
    let attempts = async {
        while app.counts().await.attempts < 2 {
            // Polling the database: the background recorder says nothing when it is done.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, attempts)
        .await
        .expect("both tries are recorded");
    // Whichever try is recorded second finds the lease no longer its own: it is recorded as
    // an attempt but does not count again.
    assert_eq!(leases(&app).await, [(None, 1, "delivered".into())]);
}

#[tokio::test]
async fn deliveries_beyond_an_endpoints_cap_wait_in_the_queue_and_all_arrive() {
    let receiver = ScriptedReceiver::start(true).await;
    let url = receiver.url();
    let app = spawn_app_with(|config| {
        config.deliver_in_background = true;
        // One request at a time, so at most 4 (4 rounds) held by the dispatcher.
        config.delivery_limits.concurrency_per_endpoint = 1;
        if let Some(webhook) = config.webhook.as_mut() {
            webhook.url = url;
        }
    })
    .await;
    let n_entries = 12;
    for n in 0..n_entries {
        let (status, _) = app
            .post_entry(
                "demo",
                &entry_body(&format!("key-{n}"), &format!("p{n}@example.com")),
            )
            .await;
        assert_eq!(status, 201);
    }
    receiver.wait_in_flight(1).await;
    // The rest wait unleased (never handed off, or given back) for claims as room comes.
    let settled = async {
        loop {
            let leases = leases(&app).await;
            let leased = leases
                .iter()
                .filter(|(lease, _, _)| lease.is_some())
                .count();
            if leases.len() == n_entries && leased <= 4 {
                return leased;
            }
            // Polling the database: a delivery given back is released by a write of its own.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let leased = tokio::time::timeout(PATIENCE, settled)
        .await
        .expect("the dispatcher holds no more than its cap");
    assert!(leased >= 1, "{leased}");
    receiver.release();
    receiver.wait_for(n_entries).await;
    assert_eq!(receiver.max_in_flight(), 1);
    let mut ids = receiver.webhook_ids();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n_entries, "each delivery once");
}

#[tokio::test]
async fn requests_to_one_host_reuse_a_kept_alive_connection() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (connections, counted) = tokio::sync::watch::channel(0_usize);
    // A bare HTTP/1.1 server: answers 204 to every request on a connection, keeping it open.
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            connections.send_modify(|n| *n += 1);
            tokio::spawn(async move {
                let mut buffered = Vec::new();
                let mut buffer = [0_u8; 8192];
                loop {
                    let Some(head_end) =
                        buffered.windows(4).position(|window| window == b"\r\n\r\n")
                    else {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffered.extend_from_slice(&buffer[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buffered[..head_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .map_or(0, |value| value.trim().parse().unwrap());
                    while buffered.len() < head_end + 4 + length {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffered.extend_from_slice(&buffer[..n]),
                        }
                    }
                    buffered.drain(..head_end + 4 + length);
                    if socket
                        .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let app = spawn_app_with(|config| {
        if let Some(webhook) = config.webhook.as_mut() {
            webhook.url = format!("http://127.0.0.1:{port}/hooks");
        }
    })
    .await;
    for n in 0..5 {
        let (status, _) = app
            .post_entry(
                "demo",
                &entry_body(&format!("key-{n}"), &format!("k{n}@example.com")),
            )
            .await;
        assert_eq!(status, 201);
    }
    assert_eq!(
        app.drain(clock::now_millis()).await,
        [Step::Delivered; 5]
            .into_iter()
            .chain([Step::Idle])
            .collect::<Vec<_>>()
    );
    assert_eq!(*counted.borrow(), 1, "one connection for five requests");
}
