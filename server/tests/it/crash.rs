//! The crash test: the real `server` binary on a file database, thousands of deliveries to
//! a receiver, and SIGKILL again and again while they are in flight (restarting the server
//! each time). Every delivery must arrive at least once with a valid signature, nothing lost.
//!
//! The first kills come while entries are still being posted and the receiver holds every
//! request open: deliveries just handed to the dispatcher (leased in their entry's
//! transaction) die with it and must be taken over when their leases run out. The later ones
//! come while the backlog drains. The kills are placed by what the posters and the receiver
//! have seen, never by sleeping.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, SigningSecret, verify};
use serde_json::json;
use server::clock;
use tokio::sync::watch;

use crate::helpers::{MASTER_KEY, SECRET, fresh_database_url};

/// Entries posted, so deliveries queued (one endpoint).
const N_ENTRIES: usize = 3000;
/// Times the server is killed while entries are posted (and the receiver holds requests).
const N_KILLS_POSTING: usize = 2;
/// Times the server is killed while the backlog drains.
const N_KILLS: usize = 5;
/// Longest the test waits for any one thing; reached only when it fails.
const PATIENCE: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
struct Seen {
    /// Distinct webhook ids received with a valid signature, with the entry's email.
    emails: Mutex<HashMap<String, String>>,
    requests: Mutex<usize>,
    bad_signatures: Mutex<usize>,
    /// Distinct deliveries received so far.
    distinct: watch::Sender<usize>,
    /// While false, requests are held open unanswered.
    open: watch::Sender<bool>,
}

/// A receiver that checks every signature, answers 204 after a moment (so that there is
/// always something in flight to kill), and counts distinct deliveries.
async fn start_receiver(seen: Arc<Seen>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(receive).with_state(seen);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hooks")
}

async fn receive(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    // The sender never goes away while the receiver runs.
    let _ = seen.open.subscribe().wait_for(|open| *open).await;
    // A slow receiver: the backlog drains over seconds, not milliseconds.
    tokio::time::sleep(Duration::from_millis(4)).await;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    *seen.requests.lock().unwrap() += 1;
    let id = header("webhook-id");
    let valid = verify(
        &SigningSecret::parse(SECRET).unwrap(),
        &id,
        &header("webhook-timestamp"),
        &header("webhook-signature"),
        &body,
        clock::now_millis() / 1000,
        DEFAULT_TOLERANCE_SECONDS,
    )
    .is_ok();
    if !valid {
        *seen.bad_signatures.lock().unwrap() += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let email = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let distinct = {
        let mut emails = seen.emails.lock().unwrap();
        emails.insert(id, email);
        emails.len()
    };
    seen.distinct.send_replace(distinct);
    StatusCode::NO_CONTENT
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(database_url: &str, port: u16, receiver: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("HOOKLINE_BIND", format!("127.0.0.1:{port}"))
        .env("HOOKLINE_DATABASE_URL", database_url)
        .env("HOOKLINE_DEMO", "false")
        .env("HOOKLINE_WEBHOOK_URL", receiver)
        .env("HOOKLINE_WEBHOOK_SECRET", SECRET)
        .env("HOOKLINE_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("HOOKLINE_SECRET_KEY", MASTER_KEY)
        .env("HOOKLINE_DELIVERY_LEASE", "2s")
        .env("HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT", "4")
        .env("HOOKLINE_RATE_LIMIT_PER_IP", "off")
        .env("HOOKLINE_RATE_LIMIT_PER_CAMPAIGN", "off")
        .env("HOOKLINE_RATE_LIMIT_PER_EMAIL", "off")
        .env("HOOKLINE_WIDGET_DIR", dir.join("widget"))
        .env("HOOKLINE_WWW_DIR", dir.join("www"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts")
}

/// Waits until the server answers `/healthz`.
async fn wait_ready(client: &reqwest::Client, port: u16) {
    let url = format!("http://127.0.0.1:{port}/healthz");
    let ready = async {
        loop {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|response| response.status().is_success())
            {
                return;
            }
            // Polling a process that is starting: nothing to wait on but its port.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, ready)
        .await
        .expect("the server came up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_arrives_signed_although_the_server_is_killed_again_and_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("widget")).unwrap();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let seen = Arc::new(Seen::default());
    let receiver = start_receiver(Arc::clone(&seen)).await;
    // Errs only when a provider is already installed (another test did): that is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let port = free_port();
    let mut server = start_server(&database_url, port, &receiver, dir.path());
    wait_ready(&client, port).await;

    // Entries are posted while the receiver holds every request open, and the server is
    // killed twice meanwhile. A post that fails (the server is down, or died answering it) is
    // sent again with the same idempotency key until it is acknowledged: durably stored with
    // its delivery.
    let url = format!("http://127.0.0.1:{port}/api/v1/public/campaigns/demo/entries");
    let (acknowledged, _) = watch::channel(0_usize);
    let acknowledged = Arc::new(acknowledged);
    let posts: Vec<_> = (0..16)
        .map(|task| {
            let (client, url, acknowledged) = (client.clone(), url.clone(), Arc::clone(&acknowledged));
            tokio::spawn(async move {
                let mut n = task;
                while n < N_ENTRIES {
                    let body = json!({
                        "idempotency_key": format!("crash-{n}"), "entry_method_id": 1,
                        "email": format!("crash{n}@example.com"), "name": "Crash Test", "consent": true,
                    });
                    let sent = client
                        .post(&url)
                        .header("content-type", "text/plain;charset=UTF-8")
                        .body(body.to_string())
                        .send()
                        .await;
                    match sent.map(|response| response.status().as_u16()) {
                        Ok(200 | 201) => {
                            acknowledged.send_modify(|n| *n += 1);
                            n += 16;
                        }
                        Ok(status) => panic!("entry {n} answered {status}"),
                        // The server is being restarted: nothing to wait on but its port.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect();
    let mut acknowledged_so_far = acknowledged.subscribe();
    for kill in 1..=N_KILLS_POSTING {
        let target = kill * N_ENTRIES / (N_KILLS_POSTING + 1);
        tokio::time::timeout(PATIENCE, acknowledged_so_far.wait_for(|n| *n >= target))
            .await
            .unwrap_or_else(|_| {
                panic!("{target} entries were never acknowledged before kill {kill}")
            })
            .unwrap();
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        server = start_server(&database_url, port, &receiver, dir.path());
        wait_ready(&client, port).await;
    }
    for post in posts {
        post.await.unwrap();
    }
    assert_eq!(
        *seen.distinct.borrow(),
        0,
        "the receiver answered nothing yet"
    );

    seen.open.send_replace(true);
    let mut distinct = seen.distinct.subscribe();
    for kill in 1..=N_KILLS {
        let target = kill * N_ENTRIES / (N_KILLS + 2);
        tokio::time::timeout(PATIENCE, distinct.wait_for(|n| *n >= target))
            .await
            .unwrap_or_else(|_| panic!("{target} deliveries never arrived before kill {kill}"))
            .unwrap();
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        assert!(
            *distinct.borrow() < N_ENTRIES,
            "kill {kill} came after everything was delivered"
        );
        server = start_server(&database_url, port, &receiver, dir.path());
        wait_ready(&client, port).await;
    }
    let arrived = tokio::time::timeout(PATIENCE, distinct.wait_for(|n| *n >= N_ENTRIES))
        .await
        .is_ok();
    assert!(
        arrived,
        "only {} of {N_ENTRIES} deliveries arrived",
        *seen.distinct.borrow()
    );
    server.kill().unwrap();
    server.wait().unwrap();

    assert_eq!(*seen.bad_signatures.lock().unwrap(), 0);
    let emails: HashSet<String> = seen.emails.lock().unwrap().values().cloned().collect();
    let expected: HashSet<String> = (0..N_ENTRIES)
        .map(|n| format!("crash{n}@example.com"))
        .collect();
    assert_eq!(emails, expected, "every entry's webhook arrived");
    let requests = *seen.requests.lock().unwrap();
    assert!(requests >= N_ENTRIES);
    eprintln!(
        "crash test: {N_ENTRIES} deliveries, {} kills, {requests} requests ({} sent again after a kill)",
        N_KILLS_POSTING + N_KILLS,
        requests - N_ENTRIES
    );
}
