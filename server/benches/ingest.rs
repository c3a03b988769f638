//! Ingest benchmark: drives `POST /api/v1/public/campaigns/{key}/entries` over loopback
//! against the real server and prints accepted entries per second, latency percentiles, the
//! CPU time each accepted entry cost (by thread) and, on SQLite, the bytes it had written to
//! the disk (the WAL, and the checkpoints' copies into the database file). The load generator
//! runs in the same process on its own thread (on these 2-core machines the figure includes
//! it, as the targets ask): one keep-alive HTTP/1.1 connection per client, each posting the next entry as soon
//! as the last was answered whole. Like `wrk`, it writes each request's bytes and reads the
//! answer with nothing in between but `httparse`: hyper's client, used before, cost 13–18 µs
//! of CPU per entry against 10–12 (mostly the kernel's loopback TCP, the same either way).
//!
//! `cargo bench -p server --bench ingest` (or `cargo xtask bench`). Settings:
//! `HOOKLINE_BENCH_SECONDS` (default 10), `HOOKLINE_BENCH_CONCURRENCY` (default 64),
//! `HOOKLINE_BENCH_ENTRIES` (stop after about this many entries, if sooner: a fixed amount of
//! work, for comparing CPU time or instruction counts under a profiler), and
//! `HOOKLINE_BENCH_POSTGRES_URL` (a PostgreSQL server, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`: the run then uses a fresh database of its own
//! there, dropped afterwards, instead of SQLite).
//!
//! A run longer than [`WINDOW`] also prints each window's entries per second and p99: the
//! database grows as the run goes on (about a million entries a minute here), and what a steady
//! load gets from a large database is the later windows' figure, not the first's.
//!
//! Every entry is a new contestant with a random email and a widget-like random idempotency
//! key, and writes one delivery (an endpoint takes `entry.created`; nothing is sent). Each is
//! acknowledged only after its transaction (contestant, entry, delivery) is durably committed
//! (SQLite: WAL with `synchronous=FULL`; PostgreSQL: its default `synchronous_commit=on`).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use common::{percentile, setting};
use protocol::payload::EventType;
use server::config::WebhookSetting;
use server::{Application, Config};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The allocator the server binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // The server's errors (a failing group says why), to stderr.
    server::logs::init(server::config::LogFormat::Text, "error").unwrap();
    let postgres = std::env::var("HOOKLINE_BENCH_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty());
    // As many threads as the server binary gives its runtime for this database.
    let workers = server::config::default_worker_threads(match postgres {
        Some(_) => "postgres://",
        None => "sqlite://",
    });
    common::block_on_with(workers, run(postgres));
}

/// The stretch of a run each line of the per-window figures covers.
const WINDOW: Duration = Duration::from_secs(10);

/// What the clients saw.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<Duration>,
    /// When each accepted entry was answered, since the run started (in step with
    /// `latencies`).
    answered_at: Vec<Duration>,
    failures: u64,
    /// CPU time the client thread used.
    cpu: Duration,
}

async fn run(postgres: Option<String>) {
    let seconds = setting("HOOKLINE_BENCH_SECONDS", 10);
    let concurrency = setting("HOOKLINE_BENCH_CONCURRENCY", 64);
    let per_client = match setting("HOOKLINE_BENCH_ENTRIES", 0) {
        0 => u64::MAX,
        entries => entries.div_ceil(concurrency),
    };
    let dir = tempfile::tempdir().unwrap();
    let (database_url, database, label) = match &postgres {
        Some(server) => {
            let (url, name) = common::fresh_postgres_database(server, "ingest").await;
            (url, Some(name), "PostgreSQL")
        }
        None => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            None,
            "SQLite",
        ),
    };
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url,
        demo: false,
        // Each entry also writes one delivery row, as in real use; nothing is sent.
        webhook: Some(WebhookSetting {
            url: "https://receiver.invalid/hooks".into(),
            secret: None,
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: false,
        // The load comes faster than any person: no limits.
        rate_limits: server::limits::RateLimitSettings {
            per_ip: None,
            per_campaign: None,
            per_email: None,
        },
        // Behind a proxy (a load balancer) on loopback, which says who each visitor is.
        trusted_proxies: server::address::AllowList::loopback(),
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    let address: std::net::SocketAddr = ([127, 0, 0, 1], app.port()).into();
    let store = app.store().clone();
    let stop = app.shutdown_handle();
    let served = tokio::spawn(app.run_until_stopped());

    let cpu_before = common::cpu_by_thread();
    let written_before = common::bytes_written();
    let postgres_before = common::cpu_of_processes("postgres");
    let started = Instant::now();
    let tally = std::thread::Builder::new()
        .name("bench-client".to_owned())
        .spawn(move || {
            load(
                address,
                concurrency,
                per_client,
                Duration::from_secs(seconds),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    let elapsed = started.elapsed();
    let written = common::bytes_written()
        .zip(written_before)
        .map(|(after, before)| after.saturating_sub(before));
    let mut cpu = common::cpu_since(&cpu_before);
    if postgres.is_some() {
        // The database server shares the machine: its backends' time counts too (all of
        // PostgreSQL's processes, whatever else they served meanwhile).
        cpu.insert(
            "postgres (server)".to_owned(),
            common::cpu_of_processes("postgres").saturating_sub(postgres_before),
        );
    }
    // The client thread has ended: it told its own.
    cpu.insert("bench-client".to_owned(), tally.cpu);

    let windows = per_window(
        &tally.answered_at,
        &tally.latencies,
        elapsed.min(Duration::from_secs(seconds)),
    );
    let mut latencies = tally.latencies;
    latencies.sort();
    let stored: i64 = server::with_pool!(store.pool(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM entries")
        .fetch_one(pool)
        .await
        .unwrap());
    let accepted = latencies.len();
    println!(
        "ingest on {label} ({concurrency} concurrent clients, {seconds} s, loopback, load generator in-process)"
    );
    println!("  accepted entries      {accepted}");
    println!(
        "  accepted / s          {:.0}",
        accepted as f64 / elapsed.as_secs_f64()
    );
    println!("  failed requests       {}", tally.failures);
    println!("  stored entries        {stored}");
    for (name, p) in [("p50", 0.50), ("p99", 0.99)] {
        println!(
            "  latency {name}           {:.2} ms",
            percentile(&latencies, p).as_secs_f64() * 1e3
        );
    }
    println!(
        "  latency max           {:.2} ms",
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    common::print_cpu_per_item(&cpu, accepted, "accepted entry");
    // On PostgreSQL its server processes write, not this one.
    if let (None, Some(written), 1..) = (&postgres, written, accepted) {
        println!(
            "  written per entry     {:.1} KB (WAL and checkpoints)",
            written as f64 / accepted as f64 / 1e3
        );
    }
    if windows.len() > 1 {
        println!("  per {} s, as the database grows", WINDOW.as_secs());
        for (index, window) in windows.iter().enumerate() {
            let from = WINDOW * index as u32;
            // The last window takes the answers that came after the run's end, and is as long.
            let length = if index + 1 == windows.len() {
                elapsed.saturating_sub(from)
            } else {
                WINDOW
            };
            println!(
                "    {:>3.0}-{:<3.0} s  {:>6.0} / s  p99 {:.2} ms",
                from.as_secs_f64(),
                (from + length).as_secs_f64(),
                window.len() as f64 / length.as_secs_f64(),
                percentile(window, 0.99).as_secs_f64() * 1e3
            );
        }
    }

    stop.shut_down();
    stop.shut_down();
    served.await.unwrap().unwrap();
    if let (Some(server), Some(name)) = (&postgres, &database) {
        common::drop_postgres_database(server, name).await;
    }
}

/// The latencies of the entries answered in each [`WINDOW`] of a run that lasted `span`, in
/// order, each sorted; what was answered after `span` counts in the last.
fn per_window(
    answered_at: &[Duration],
    latencies: &[Duration],
    span: Duration,
) -> Vec<Vec<Duration>> {
    let count = span.as_nanos().div_ceil(WINDOW.as_nanos()).max(1) as usize;
    let mut windows = vec![Vec::new(); count];
    for (at, latency) in answered_at.iter().zip(latencies) {
        let index = (at.as_nanos() / WINDOW.as_nanos()) as usize;
        windows[index.min(count - 1)].push(*latency);
    }
    for window in &mut windows {
        window.sort();
    }
    windows
}

/// The clients, on a runtime of their own on this thread: `concurrency` connections, each
/// posting entries one after the other until `duration` has passed or it has posted
/// `per_client`.
fn load(
    address: std::net::SocketAddr,
    concurrency: u64,
    per_client: u64,
    duration: Duration,
) -> Tally {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let started = Instant::now();
        let deadline = started + duration;
        let clients: Vec<_> = (0..concurrency)
            .map(|client| {
                tokio::spawn(post_entries(address, client, per_client, started, deadline))
            })
            .collect();
        let mut tally = Tally::default();
        for client in clients {
            let mut seen = client.await.unwrap();
            tally.latencies.append(&mut seen.latencies);
            tally.answered_at.append(&mut seen.answered_at);
            tally.failures += seen.failures;
        }
        tally.cpu = common::thread_cpu();
        tally
    })
}

/// One client: one keep-alive connection, one entry at a time.
async fn post_entries(
    address: std::net::SocketAddr,
    client: u64,
    entries: u64,
    started: Instant,
    deadline: Instant,
) -> Tally {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut random = SplitMix64(client.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED);
    let mut tally = Tally::default();
    let (mut request, mut answer) = (Vec::with_capacity(512), Vec::with_capacity(1024));
    for _ in 0..entries {
        if Instant::now() >= deadline {
            break;
        }
        // As the widget makes them: `idem_` and 16 random bytes in hex. The email is as
        // random (where it lands in the index is), and new: each entry is a new contestant.
        let (key, email) = (random.next(), random.next());
        let (key_low, visitor) = (random.next(), random.next());
        let body = format!(
            r#"{{"idempotency_key":"idem_{key:016x}{key_low:016x}","entry_method_id":1,"email":"b{email:016x}@example.com","name":"Bench Mark","consent":true}}"#
        );
        request.clear();
        write!(
            request,
            "POST /api/v1/public/campaigns/demo/entries HTTP/1.1\r\nhost: {address}\r\n\
             content-type: text/plain;charset=UTF-8\r\nx-forwarded-for: {}\r\n\
             content-length: {}\r\n\r\n{body}",
            std::net::Ipv4Addr::from(visitor as u32),
            body.len()
        )
        .unwrap();
        let sent = Instant::now();
        let answered = async {
            stream.write_all(&request).await?;
            read_answer(&mut stream, &mut answer).await
        }
        .await;
        match answered {
            Ok((201, _)) => {
                tally.latencies.push(sent.elapsed());
                tally.answered_at.push(started.elapsed());
            }
            Ok((status, body)) => {
                if tally.failures == 0 && client == 0 {
                    eprintln!(
                        "a post was answered {status}: {}",
                        String::from_utf8_lossy(&answer[body])
                    );
                }
                tally.failures += 1;
            }
            Err(cause) => {
                if tally.failures == 0 && client == 0 {
                    eprintln!("a post failed: {cause}");
                }
                tally.failures += 1;
                break;
            }
        }
    }
    tally
}

/// Reads one HTTP/1.1 answer whole, as a widget does: the head, then a body of its
/// `content-length`. Its status, and where its body is in `buffer`.
async fn read_answer(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<(u16, std::ops::Range<usize>)> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    buffer.clear();
    let (status, body) = loop {
        if stream.read_buf(buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut head = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(length) = head
            .parse(buffer)
            .map_err(|cause| invalid(format!("an answer's head: {cause}")))?
        {
            let content_length: usize = head
                .headers
                .iter()
                .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                .and_then(|header| std::str::from_utf8(header.value).ok()?.parse().ok())
                .ok_or_else(|| invalid("an answer without a content-length".to_owned()))?;
            break (
                head.code.unwrap_or_default(),
                length..length + content_length,
            );
        }
    };
    while buffer.len() < body.end {
        if stream.read_buf(buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok((status, body))
}

/// A small fast generator of random-looking numbers (SplitMix64), so that making the load
/// costs next to nothing.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
