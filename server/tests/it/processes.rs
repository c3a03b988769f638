//! Real server processes (the `server` binary) sharing one database: each entry is stored
//! once and each webhook sent once, whichever process took the entry or claimed the
//! delivery. On SQLite the processes share the file; on PostgreSQL (the suite's second run)
//! the database, as several servers behind a load balancer would.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, SigningSecret, verify};
use tests::TestReceiver;

use crate::helpers::{PATIENCE, SECRET, entry_body, fresh_database_url};

/// A running `server` process, killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
}

impl ServerProcess {
    /// Starts the server binary on a free port with `database_url` and `env`, and waits until
    /// it says it is listening.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOOKLINE_BIND", format!("127.0.0.1:{port}"))
            .env("HOOKLINE_DATABASE_URL", database_url)
            .env("HOOKLINE_DEMO", "false")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        // The log, from whichever stream it is written to.
        let (lines, heard) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let out_lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The test may have stopped listening; the lines are only for it.
                let _ = out_lines.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut said = Vec::new();
        loop {
            match heard.recv_timeout(PATIENCE * 3) {
                Ok(line) if line.contains("Hookline is listening") => break,
                Ok(line) => said.push(line),
                Err(_) => panic!("the server did not start; it said:\n{}", said.join("\n")),
            }
        }
        Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Asks the process to stop (SIGTERM) and waits until it has: it finishes what it has in
    /// flight first.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        let exited = self.child.wait().expect("the server exits");
        assert!(exited.success(), "the server stopped with {exited}");
    }

    /// Kills the process at once (SIGKILL): no graceful shutdown.
    pub fn kill(&mut self) {
        // An error means it has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn two_servers_on_one_database_store_each_entry_and_send_each_webhook_once() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let receiver = TestReceiver::start().await;
    let receiver_url = receiver.url();
    let env = [
        ("HOOKLINE_WEBHOOK_URL", receiver_url.as_str()),
        ("HOOKLINE_WEBHOOK_SECRET", SECRET),
        ("HOOKLINE_ALLOW_NETWORKS", "127.0.0.0/8"),
        ("HOOKLINE_RATE_LIMIT_PER_IP", "off"),
        ("HOOKLINE_RATE_LIMIT_PER_EMAIL", "off"),
    ];
    // The first one migrates and seeds; the second finds it done.
    let first = ServerProcess::start(&database_url, &env);
    let second = ServerProcess::start(&database_url, &env);
    let base_urls = [first.base_url.clone(), second.base_url.clone()];

    const ENTRIES: usize = 200;
    // Errs when a provider is installed already (another test did): fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let posts = (0..ENTRIES).map(|n| {
        let base_url = &base_urls[n % 2];
        let url = format!("{base_url}/api/v1/public/campaigns/demo/entries");
        let body = entry_body(&format!("key-{n}"), &format!("person{n}@example.com")).to_string();
        let client = client.clone();
        async move {
            let response = client
                .post(url)
                .header("content-type", "text/plain;charset=UTF-8")
                .body(body)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");

    let received = receiver.wait_for(ENTRIES, PATIENCE * 3).await;
    let secret = SigningSecret::parse(SECRET).unwrap();
    let now = server::clock::now_millis() / 1000;
    let mut webhook_ids = HashSet::new();
    let mut entry_ids = HashSet::new();
    for webhook in &received {
        let id = webhook.header("webhook-id").unwrap().to_owned();
        verify(
            &secret,
            &id,
            webhook.header("webhook-timestamp").unwrap(),
            webhook.header("webhook-signature").unwrap(),
            &webhook.body,
            now,
            DEFAULT_TOLERANCE_SECONDS,
        )
        .unwrap();
        webhook_ids.insert(id);
        entry_ids.insert(webhook.json()["entry"]["id"].as_i64().unwrap());
    }
    assert_eq!(webhook_ids.len(), ENTRIES, "one webhook per entry");
    assert_eq!(entry_ids.len(), ENTRIES, "each entry's own webhook");

    // Stop both gracefully: each finishes and records the sends it has in flight, so a
    // webhook sent twice would have arrived by the time they have exited.
    first.stop();
    second.stop();
    assert_eq!(
        receiver.requests().len(),
        ENTRIES,
        "no webhook was sent twice"
    );
    let stored = server::store::Store::connect(&database_url).await.unwrap();
    let count = |sql: &'static str| {
        let stored = &stored;
        async move {
            server::with_pool!(stored.pool(), pool => {
                sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
            })
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM entries").await, ENTRIES as i64);
    assert_eq!(
        count("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'").await,
        ENTRIES as i64
    );
    assert_eq!(count("SELECT COUNT(*) FROM attempts").await, ENTRIES as i64);
    stored.close().await;
}
