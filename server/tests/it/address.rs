//! Destination safety: webhooks never reach refused addresses, whether named by a host that
//! resolves to them or written in the URL; allowed networks work; every try is bounded.
//!
//! Names resolve through a fixed table (no lookup leaves the machine), and the refused ones
//! point at a "canary" listener on loopback that counts connections: it must see none.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use protocol::ids::EndpointId;
use protocol::payload::EventType;
use server::address::{self, AllowList};
use server::clock;
use server::config::DeliveryTimeouts;
use server::delivery::{BLOCKED_ADDRESS, Step};
use server::destination::{HostLookup, Lookup};
use server::store::ManagedEndpoint;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::helpers::{PATIENCE, SECRET, TestApp, entry_body, spawn_app_with};

/// The refused forms of `server/src/address.rs`'s unit tests.
const REFUSED: &str = include_str!("../data/refused_destinations.txt");

fn refused_addresses() -> Vec<IpAddr> {
    REFUSED
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// A resolver answering from a table; names not in it have no addresses.
#[derive(Debug)]
pub struct FakeLookup(pub HashMap<String, Vec<IpAddr>>);

impl HostLookup for FakeLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        let found = self.0.get(host).cloned().unwrap_or_default();
        Box::pin(async move { Ok::<_, io::Error>(found) })
    }
}

/// A listener on 127.0.0.1 that counts the connections it accepts.
struct Canary {
    port: u16,
    accepted: watch::Receiver<usize>,
}

impl Canary {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (count, accepted) = watch::channel(0);
        tokio::spawn(async move {
            while let Ok((_socket, _)) = listener.accept().await {
                count.send_modify(|n| *n += 1);
            }
        });
        Self { port, accepted }
    }

    /// Connections accepted before now: connects once more and waits for that connection to
    /// be accepted (the backlog is served in order), then leaves it out of the count.
    async fn connections_so_far(&self) -> usize {
        let before = *self.accepted.borrow();
        let _marker = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let mut accepted = self.accepted.clone();
        let total = *tokio::time::timeout(PATIENCE, accepted.wait_for(|n| *n > before))
            .await
            .expect("the canary accepts the marker connection")
            .unwrap();
        total - 1
    }
}

/// An app whose names resolve through `table`, with only `allowed` let through and no
/// endpoint besides those the test adds.
async fn spawn_guarded_app(table: HashMap<String, Vec<IpAddr>>, allowed: AllowList) -> TestApp {
    spawn_app_with(|config| {
        config.webhook = None;
        config.allow_networks = allowed;
        config.host_lookup = Arc::new(FakeLookup(table));
        config.delivery_timeouts = DeliveryTimeouts {
            connect: Duration::from_millis(300),
            total: Duration::from_millis(300),
        };
    })
    .await
}

async fn add_endpoint(app: &TestApp, name: &str, url: &str) {
    let public_id = EndpointId::from_suffix(&name.replace(['.', '-'], ""));
    app.store
        .save_managed_endpoint(&ManagedEndpoint {
            managed_by: name,
            public_id: &public_id,
            url,
            secret: SECRET,
            events: &[EventType::EntryCreated],
            now: clock::now_millis(),
        })
        .await
        .unwrap();
}

/// Posts one entry (a delivery per endpoint) and runs the worker until nothing is due.
async fn deliver_all(app: &TestApp) -> Vec<Step> {
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let now = clock::now_millis();
    let mut steps = Vec::new();
    loop {
        match app.worker.try_next(now).await.unwrap() {
            Step::Idle => return steps,
            step => steps.push(step),
        }
    }
}

/// `(endpoint url, status code, error kind, snippet)` of every attempt.
async fn attempts(app: &TestApp) -> Vec<(String, Option<i64>, Option<String>, String)> {
    server::with_pool!(app.store.pool(), pool => sqlx::query_as(
        "SELECT e.url, a.status_code, a.error_kind, a.response_snippet
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN endpoints e ON e.id = d.endpoint_id
         ORDER BY a.id",
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn refused_destinations_are_never_connected_to() {
    let canary = Canary::start().await;
    let port = canary.port;
    let refused = refused_addresses();
    assert!(refused.len() >= 60, "only {} refused forms", refused.len());
    let mut table: HashMap<String, Vec<IpAddr>> = refused
        .iter()
        .enumerate()
        .map(|(i, &ip)| (format!("blocked-{i}.test"), vec![ip]))
        .collect();
    // A public address first does not make a refused one after it acceptable.
    table.insert(
        "mixed.test".to_owned(),
        vec![
            "93.184.216.34".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
        ],
    );
    let app = spawn_guarded_app(table, AllowList::default()).await;

    let mut expected: HashMap<String, String> = HashMap::new();
    for (i, &ip) in refused.iter().enumerate() {
        let host = format!("blocked-{i}.test");
        let blocked = address::check(ip, &AllowList::default()).unwrap_err();
        expected.insert(
            format!("http://{host}:{port}/hooks"),
            format!("refused: {host} resolves to {ip}; {blocked}"),
        );
    }
    expected.insert(
        format!("http://mixed.test:{port}/hooks"),
        "refused: mixed.test resolves to 127.0.0.1; 127.0.0.1 is a loopback address".to_owned(),
    );
    let literal = [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("127.1", "127.0.0.1 is a loopback address"),
        ("2130706433", "127.0.0.1 is a loopback address"),
        (
            "[::ffff:127.0.0.1]",
            "::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address",
        ),
        ("[::1]", "::1 is a loopback address"),
        (
            "[64:ff9b::a9fe:a9fe]",
            "64:ff9b::a9fe:a9fe embeds 169.254.169.254, a link-local address",
        ),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ];
    for (host, message) in literal {
        expected.insert(
            format!("http://{host}:{port}/hooks"),
            format!("refused: {message}"),
        );
    }
    for (i, url) in expected.keys().enumerate() {
        add_endpoint(&app, &format!("test-{i}"), url).await;
    }

    let steps = deliver_all(&app).await;
    assert_eq!(steps, vec![Step::Failed; expected.len()]);
    assert_eq!(
        canary.connections_so_far().await,
        0,
        "a refused destination was connected to"
    );
    let attempts = attempts(&app).await;
    assert_eq!(attempts.len(), expected.len());
    for (url, status_code, error_kind, snippet) in attempts {
        assert_eq!(status_code, None, "{url}");
        assert_eq!(
            error_kind.as_deref(),
            Some(BLOCKED_ADDRESS),
            "{url}: {snippet}"
        );
        assert_eq!(Some(&snippet), expected.get(&url), "{url}");
    }
}

#[tokio::test]
async fn allowed_networks_are_reached_through_names_and_literals() {
    let canary = Canary::start().await;
    let table = HashMap::from([(
        "receiver.test".to_owned(),
        vec!["127.0.0.1".parse().unwrap()],
    )]);
    let app = spawn_guarded_app(table, AllowList::parse("127.0.0.0/8").unwrap()).await;
    let receiver_url = app.receiver.url();
    let port = receiver_url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/hooks");
    add_endpoint(
        &app,
        "by-name",
        &format!("http://receiver.test:{port}/hooks"),
    )
    .await;
    add_endpoint(&app, "by-address", &receiver_url).await;
    // Only 127.0.0.0/8 is allowed, not every loopback form.
    add_endpoint(
        &app,
        "other-loopback",
        &format!("http://[::1]:{}/hooks", canary.port),
    )
    .await;

    let mut steps = deliver_all(&app).await;
    steps.sort_by_key(|step| *step == Step::Failed);
    assert_eq!(steps, vec![Step::Delivered, Step::Delivered, Step::Failed]);
    assert_eq!(app.receiver.requests().len(), 2);
    let hosts: Vec<_> = app
        .receiver
        .requests()
        .iter()
        .map(|request| request.header("host").unwrap().to_owned())
        .collect();
    assert!(
        hosts.contains(&format!("receiver.test:{port}")),
        "{hosts:?}"
    );
    assert_eq!(canary.connections_so_far().await, 0);
}

/// A raw HTTP server on 127.0.0.1 that reads one request's head and then runs `respond`.
async fn raw_server<F, Fut>(respond: F) -> u16
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buffer = [0_u8; 4096];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            let n = socket.read(&mut buffer).await.unwrap();
            if n == 0 {
                return;
            }
            head.extend_from_slice(&buffer[..n]);
        }
        respond(socket).await;
    });
    port
}

#[tokio::test]
async fn an_endless_response_is_read_only_up_to_the_cap() {
    let (ended, wrote) = oneshot::channel::<usize>();
    let port = raw_server(|mut socket| async move {
        let mut written = 0;
        let head =
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head).await.is_ok() {
            let chunk = [b'x'; 65_536];
            let framed = [b"10000\r\n".as_slice(), &chunk, b"\r\n"].concat();
            // Until the client hangs up.
            while socket.write_all(&framed).await.is_ok() {
                written += chunk.len();
            }
        }
        // The test may have stopped waiting.
        let _ = ended.send(written);
    })
    .await;
    let app = spawn_app_with(|config| {
        config.webhook = None;
        // Long enough that only the cap can end this in time.
        config.delivery_timeouts.total = PATIENCE * 3;
    })
    .await;
    add_endpoint(&app, "endless", &format!("http://127.0.0.1:{port}/hooks")).await;

    assert_eq!(deliver_all(&app).await, vec![Step::Delivered]);
    let written = tokio::time::timeout(PATIENCE, wrote)
        .await
        .expect("the client hangs up after the cap")
        .unwrap();
    assert!(
        written < 64 << 20,
        "the client kept reading: {written} bytes"
    );
    let attempts = attempts(&app).await;
    let (_, status_code, error_kind, snippet) = &attempts[0];
    assert_eq!((*status_code, error_kind.as_deref()), (Some(200), None));
    assert_eq!(snippet.len(), 4096);
}

#[tokio::test]
async fn a_receiver_that_never_answers_hits_the_timeout() {
    let (_hold, held) = oneshot::channel::<()>();
    let port = raw_server(|socket| async move {
        // Keeps the connection open, silent, until the test ends.
        let _open = socket;
        // Errs when the test ends, which is the signal to hang up.
        let _ = held.await;
    })
    .await;
    let app = spawn_app_with(|config| {
        config.webhook = None;
        config.delivery_timeouts.total = Duration::from_millis(300);
    })
    .await;
    add_endpoint(&app, "silent", &format!("http://127.0.0.1:{port}/hooks")).await;

    assert_eq!(deliver_all(&app).await, vec![Step::Failed]);
    let attempts = attempts(&app).await;
    let (_, status_code, error_kind, _) = &attempts[0];
    assert_eq!(
        (*status_code, error_kind.as_deref()),
        (None, Some("timeout"))
    );
}

#[tokio::test]
async fn a_configured_webhook_on_a_refused_address_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let config = server::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
        demo: false,
        webhook: Some(server::config::WebhookSetting {
            url: "http://169.254.169.254/latest/meta-data".to_owned(),
            secret: None,
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: false,
        ..server::Config::default()
    };
    let error = server::Application::build(config.clone())
        .await
        .expect_err("a metadata address is refused");
    let message = format!("{error:#}");
    assert!(message.contains("HOOKLINE_WEBHOOK_URL"), "{message}");
    assert!(message.contains("link-local"), "{message}");

    // A name that resolves to a refused address is refused too; one that does not resolve
    // now is only warned about.
    let lookup = Arc::new(FakeLookup(HashMap::from([(
        "internal.test".to_owned(),
        vec!["10.0.0.7".parse().unwrap()],
    )])));
    let with_url = |url: &str| {
        let mut config = config.clone();
        config.host_lookup = lookup.clone();
        if let Some(webhook) = config.webhook.as_mut() {
            url.clone_into(&mut webhook.url);
        }
        config
    };
    let error = server::Application::build(with_url("https://internal.test/hooks"))
        .await
        .expect_err("a name of a private address is refused");
    assert!(format!("{error:#}").contains("10.0.0.7"), "{error:#}");
    server::Application::build(with_url("https://unknown.test/hooks"))
        .await
        .expect("an unresolvable name is only a warning");
    let allowed = server::Config {
        allow_networks: AllowList::parse("10.0.0.0/24").unwrap(),
        ..with_url("https://internal.test/hooks")
    };
    server::Application::build(allowed)
        .await
        .expect("an allowed network is accepted");
}

#[tokio::test]
async fn an_endpoint_saved_through_the_api_with_a_refused_destination_is_refused_and_never_connected_to()
 {
    let canary = Canary::start().await;
    let port = canary.port;
    let refused = refused_addresses();
    let table: HashMap<String, Vec<IpAddr>> = refused
        .iter()
        .enumerate()
        .map(|(i, &ip)| (format!("blocked-{i}.test"), vec![ip]))
        .collect();
    let app = spawn_guarded_app(table, AllowList::default()).await;
    let key = app.setup().await;
    let mut urls: Vec<String> = (0..refused.len())
        .map(|i| format!("http://blocked-{i}.test:{port}/hooks"))
        .collect();
    urls.extend(
        [
            "127.0.0.1",
            "[::1]",
            "169.254.169.254",
            "[::ffff:10.0.0.1]",
            "2130706433",
        ]
        .iter()
        .map(|host| format!("http://{host}:{port}/hooks")),
    );
    for url in &urls {
        let (status, body) = app
            .admin(
                "POST",
                "/api/v1/endpoints",
                Some(&key),
                Some(
                    serde_json::json!({"name": "Inside", "events": ["entry.created"], "url": url}),
                ),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("may not go there"),
            "{body}"
        );
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM endpoints").await, 0);
    assert_eq!(
        canary.connections_so_far().await,
        0,
        "a refused destination was connected to (a test request on save)"
    );
}
