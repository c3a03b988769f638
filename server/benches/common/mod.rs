//! What the benchmarks share: their settings from the environment and percentiles.

use std::future::Future;
use std::time::Duration;

/// A whole-number setting from the environment, or `default`.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`-th percentile (0.0 to 1.0) of `sorted`, by nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs a benchmark's `run` on a multi-threaded tokio runtime, a thread per core.
#[allow(dead_code)] // Not every benchmark takes the default.
pub fn block_on(run: impl Future<Output = ()>) {
    block_on_with(
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        run,
    );
}

/// [`block_on`] on a runtime of `workers` threads.
///
/// First it has the system write back what earlier work left unwritten in its page cache
/// (`sync`), such as the build `cargo bench` has just run: written back during the run, it
/// would compete with the commits being measured. With 1.5 GB written just before, an ingest
/// run here gave 21,737 entries/s against 23,568 after a `sync`.
#[allow(dead_code)] // Not every benchmark sets them.
pub fn block_on_with(workers: usize, run: impl Future<Output = ()>) {
    // Where there is no `sync` command the run goes on as it is.
    let _ = std::process::Command::new("sync").status();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(run);
}

/// Creates a fresh database on the PostgreSQL server at `server` (a URL naming any database
/// there, e.g. `postgres://postgres@127.0.0.1:5432/test`) for one run: its URL and name.
#[allow(dead_code)] // Not every benchmark runs on PostgreSQL.
pub async fn fresh_postgres_database(server: &str, purpose: &str) -> (String, String) {
    let name = postgres_database_name(purpose);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {server}: {error}"));
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create the database {name}: {error}"));
    }
    let (base, _) = server
        .rsplit_once('/')
        .expect("a PostgreSQL URL with a database name");
    (format!("{base}/{name}"), name)
}

/// The name of the database [`fresh_postgres_database`] makes for `purpose` in this process.
#[allow(dead_code)]
pub fn postgres_database_name(purpose: &str) -> String {
    format!("hl_bench_{purpose}_{}", std::process::id())
}

/// Drops the database [`fresh_postgres_database`] made.
#[allow(dead_code)]
pub async fn drop_postgres_database(server: &str, name: &str) {
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {server}: {error}"));
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap_or_else(|error| panic!("cannot drop the database {name}: {error}"));
}

/// CPU time (user and system) each live thread of this process has used so far, by thread
/// id, with its name (Linux: `/proc/self/task`; empty elsewhere).
#[allow(dead_code)]
pub fn cpu_by_thread() -> std::collections::HashMap<u64, (String, Duration)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Default::default();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let id = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            // The first field is the time spent on a CPU, in nanoseconds.
            let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let nanos = schedstat.split_whitespace().next()?.parse().ok()?;
            Some((id, (name.trim().to_owned(), Duration::from_nanos(nanos))))
        })
        .collect()
}

/// Bytes this process has had written to storage so far, its own files' pages as it dirtied
/// them (Linux: `write_bytes` of `/proc/self/io`; `None` elsewhere).
#[allow(dead_code)]
pub fn bytes_written() -> Option<u64> {
    std::fs::read_to_string("/proc/self/io")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))?
        .trim()
        .parse()
        .ok()
}

/// CPU time the calling thread has used so far (Linux; zero elsewhere).
#[allow(dead_code)]
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|schedstat| schedstat.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// CPU time used since `before` (a [`cpu_by_thread`]), summed by thread name.
#[allow(dead_code)]
pub fn cpu_since(
    before: &std::collections::HashMap<u64, (String, Duration)>,
) -> std::collections::BTreeMap<String, Duration> {
    let mut by_name = std::collections::BTreeMap::new();
    for (id, (name, now)) in cpu_by_thread() {
        let earlier = before.get(&id).map_or(Duration::ZERO, |(_, at)| *at);
        *by_name.entry(name).or_insert(Duration::ZERO) += now.saturating_sub(earlier);
    }
    by_name
}

/// Prints the CPU time per item, in all and by thread name (threads that used less than 1%
/// of it are summed as "other"). The figure to follow while the machine is busy: unlike
/// wall-clock rates it does not depend on what else runs.
#[allow(dead_code, clippy::print_stdout)]
pub fn print_cpu_per_item(
    cpu: &std::collections::BTreeMap<String, Duration>,
    n_items: usize,
    item: &str,
) {
    if n_items == 0 || cpu.is_empty() {
        return;
    }
    let total: Duration = cpu.values().sum();
    let per = |time: Duration| time.as_secs_f64() * 1e6 / n_items as f64;
    println!("  CPU per {item:<13} {:.1} µs", per(total));
    let mut other = Duration::ZERO;
    for (name, time) in cpu {
        if time.as_secs_f64() < total.as_secs_f64() / 100.0 {
            other += *time;
        } else {
            println!("    {name:<20}{:.1} µs", per(*time));
        }
    }
    if !other.is_zero() {
        println!("    {:<20}{:.1} µs", "other", per(other));
    }
}

/// CPU time (user and system) the processes named `name` have used so far, summed (Linux:
/// `/proc/*/stat`, in clock ticks taken as 10 ms; zero elsewhere). For a database server on
/// the same machine, such as PostgreSQL's backends.
#[allow(dead_code)]
pub fn cpu_of_processes(name: &str) -> Duration {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    let ticks: u64 = processes
        .filter_map(|process| {
            let stat = std::fs::read_to_string(process.ok()?.path().join("stat")).ok()?;
            let (command, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            if command != name {
                return None;
            }
            // After the name: state, then fields 4…; utime and stime are fields 14 and 15.
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    Duration::from_millis(ticks * 10)
}
