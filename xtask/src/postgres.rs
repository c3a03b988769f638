//! PostgreSQL for the server suite's second run (`cargo xtask test`).
//!
//! Which server: the one `HOOKLINE_TEST_POSTGRES_URL` names; else one that accepts connections
//! on 127.0.0.1:5432 (trust authentication, user `postgres`); else the project's own cluster
//! under `target/postgres`, made with `initdb` (Debian's `postgresql` package is installed if
//! `initdb` is missing), started on a free port for the run and stopped after it, also when
//! the tests fail. `HOOKLINE_TEST_POSTGRES=own` always uses the project's own,
//! `off` skips the PostgreSQL run.
//!
//! On a server that was already running, test databases (`hl_test_<pid>_<n>`) left by earlier
//! runs are dropped, in the background while the SQLite run goes on: only those whose process
//! is gone, since other test runs may share the server. The project's own cluster is made
//! anew each run, so it has none.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::toolchain;
use crate::{root, run_command};

/// Names the server to use; set for the test binaries too.
pub const URL_VARIABLE: &str = "HOOKLINE_TEST_POSTGRES_URL";
/// `own` (always the project's own cluster), `off` (no PostgreSQL run), or unset.
pub const CHOICE_VARIABLE: &str = "HOOKLINE_TEST_POSTGRES";
const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Unix socket paths are limited to 107 bytes; longer cluster paths listen on TCP only.
const MAX_SOCKET_PATH: usize = 100;

/// A PostgreSQL server for the tests; the project's own is stopped when this is dropped.
#[derive(Debug)]
pub struct TestPostgres {
    pub url: String,
    /// Where it came from, for the log.
    pub origin: String,
    psql: PathBuf,
    /// Held only to be dropped: dropping it stops the cluster.
    _own: Option<OwnCluster>,
}

/// What to do, from `HOOKLINE_TEST_POSTGRES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Own,
    Off,
}

pub fn choice() -> Result<Choice, String> {
    match std::env::var(CHOICE_VARIABLE).unwrap_or_default().trim() {
        "" | "auto" => Ok(Choice::Auto),
        "own" => Ok(Choice::Own),
        "off" => Ok(Choice::Off),
        other => Err(format!(
            "{CHOICE_VARIABLE}={other:?}: expected own, off or auto"
        )),
    }
}

/// A server that is already running, if the tests are to use one: the one
/// `HOOKLINE_TEST_POSTGRES_URL` names, or the one on 127.0.0.1:5432. `None`: start the
/// project's own ([`start_own`]).
pub fn running(choice: Choice) -> Result<Option<TestPostgres>, String> {
    if choice != Choice::Auto {
        return Ok(None);
    }
    let given = std::env::var(URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty());
    let (url, origin) = match given {
        Some(url) => (url, URL_VARIABLE.to_owned()),
        None if accepts_connections(SocketAddr::from((Ipv4Addr::LOCALHOST, 5432))) => (
            LOCAL_URL.to_owned(),
            "the server on 127.0.0.1:5432".to_owned(),
        ),
        None => return Ok(None),
    };
    Ok(Some(TestPostgres {
        url,
        origin,
        psql: psql()?,
        _own: None,
    }))
}

/// Starts the project's own cluster, a fresh one (so no test databases are left over).
pub fn start_own() -> Result<TestPostgres, String> {
    let own = OwnCluster::start()?;
    Ok(TestPostgres {
        url: own.url(),
        origin: format!(
            "the project's own cluster in {} (port {})",
            own.dir.display(),
            own.port
        ),
        psql: own.bin.join("psql"),
        _own: Some(own),
    })
}

impl TestPostgres {
    /// Drops leftover test databases in the background (each drop waits for a checkpoint:
    /// about a second each), so that it overlaps the SQLite run. Join before the PostgreSQL run.
    pub fn drop_leftover_databases_in_background(
        &self,
    ) -> std::thread::JoinHandle<Result<(), String>> {
        let (url, psql) = (self.url.clone(), self.psql.clone());
        std::thread::spawn(move || {
            TestPostgres {
                url,
                origin: String::new(),
                psql,
                _own: None,
            }
            .drop_leftover_databases()
        })
    }

    /// Drops `hl_test_<pid>_<n>` databases whose process has ended. A database still in use
    /// (its test runs on another machine, or its pid was reused) is left alone.
    fn drop_leftover_databases(&self) -> Result<(), String> {
        let names = self.psql_query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hl\\_test\\_%' ORDER BY datname",
        )?;
        let mut dropped = 0;
        for name in names.lines().map(str::trim).filter(|name| !name.is_empty()) {
            let pid = name
                .strip_prefix("hl_test_")
                .and_then(|rest| rest.split('_').next())
                .unwrap_or("");
            let is_plain = name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
            if !is_plain || Path::new("/proc").join(pid).exists() {
                continue;
            }
            match self.psql_query(&format!("DROP DATABASE IF EXISTS {name}")) {
                Ok(_) => dropped += 1,
                Err(error) => println!("xtask: left {name} in place: {error}"),
            }
        }
        if dropped > 0 {
            println!("xtask: dropped {dropped} test databases left by earlier runs");
        }
        Ok(())
    }

    fn psql_query(&self, sql: &str) -> Result<String, String> {
        let output = Command::new(&self.psql)
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(&self.url)
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {}: {e}", self.psql.display()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "psql {sql:?} on {} failed: {}",
                self.url,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

fn accepts_connections(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

/// `psql` for a server that is not the project's own: the Debian client, installed if missing.
fn psql() -> Result<PathBuf, String> {
    if let Some(found) = debian_bin_dir()
        .map(|dir| dir.join("psql"))
        .filter(|p| p.is_file())
    {
        return Ok(found);
    }
    if let Some(found) = toolchain::which("psql") {
        return Ok(found);
    }
    toolchain::apt_install(&["postgresql-client"])?;
    toolchain::which("psql")
        .ok_or_else(|| "psql is missing after installing postgresql-client".to_owned())
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `initdb`, where Debian puts it.
fn debian_bin_dir() -> Option<PathBuf> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// The server binaries: Debian's, installed if missing.
fn server_bin_dir() -> Result<PathBuf, String> {
    if let Some(bin) = debian_bin_dir() {
        return Ok(bin);
    }
    // Elsewhere (a developer's own install), `initdb` on PATH with `pg_ctl` beside it.
    if let Some(bin) = toolchain::which("initdb")
        .and_then(|initdb| initdb.canonicalize().ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|bin| bin.join("pg_ctl").is_file())
    {
        return Ok(bin);
    }
    toolchain::apt_install(&["postgresql"])?;
    debian_bin_dir().ok_or_else(|| {
        "initdb is missing after installing postgresql (looked in /usr/lib/postgresql/*/bin)"
            .to_owned()
    })
}

/// A cluster of the project's own, running until dropped.
#[derive(Debug)]
struct OwnCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// `Some("postgres")` when running as root: initdb and the server refuse root.
    run_as: Option<&'static str>,
}

impl OwnCluster {
    fn start() -> Result<Self, String> {
        let bin = server_bin_dir()?;
        let run_as = toolchain::is_root().then_some("postgres");
        let dir = cluster_dir(run_as)?;
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            run_as,
        };
        let data = cluster.data_dir();
        if data.join("postmaster.pid").is_file() {
            // A server an interrupted run left behind: stop it (quietly fails if none runs).
            let mut stale = cluster.command("pg_ctl");
            stale
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Its outcome does not matter: the start below says what is wrong, if anything.
            let _ = stale.status();
        }
        // A new cluster each run: initdb takes seconds, dropping a run's fifty test databases
        // (a checkpoint each) takes a minute.
        if data.exists() {
            std::fs::remove_dir_all(&data)
                .map_err(|e| format!("cannot remove {}: {e}", data.display()))?;
        }
        println!("xtask: creating a PostgreSQL cluster in {}", data.display());
        let mut initdb = cluster.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .stdout(Stdio::null());
        run_command(&mut initdb)?;
        cluster.port = free_port()?;
        let socket_dir = cluster.dir.join("socket");
        let sockets = if socket_dir.as_os_str().len() + 20 <= MAX_SOCKET_PATH {
            socket_dir.display().to_string()
        } else {
            String::new()
        };
        // Durable as in production (fsync and synchronous commits on, the defaults); TCP on
        // loopback only; enough connections for tests running side by side.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{sockets}' \
             -c fsync=on -c synchronous_commit=on -c max_connections=300",
            cluster.port
        );
        let log = cluster.dir.join("postgres.log");
        let mut start = cluster.command("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null());
        if let Err(error) = run_command(&mut start) {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!("{error}\n{}:\n{}", log.display(), tail.join("\n")));
        }
        Ok(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `program` from the server binaries, as the user the cluster belongs to.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null());
        match stop.status() {
            Ok(status) if status.success() => {
                println!(
                    "xtask: stopped the project's PostgreSQL (port {})",
                    self.port
                )
            }
            Ok(status) => println!("xtask: stopping the project's PostgreSQL failed ({status})"),
            Err(error) => println!("xtask: could not run pg_ctl stop: {error}"),
        }
    }
}

/// `target/postgres`, owned by `run_as` if given. If that user cannot reach it (the clone
/// is in root's home, say), a folder of the system's temporary directory named after the
/// clone instead.
fn cluster_dir(run_as: Option<&str>) -> Result<PathBuf, String> {
    let preferred = root().join("target").join("postgres");
    let Some(user) = run_as else {
        create_dir(&preferred.join("socket"))?;
        return Ok(preferred);
    };
    for dir in [preferred, temporary_cluster_dir()] {
        create_dir(&dir.join("socket"))?;
        run_command(
            Command::new("chown")
                .args(["-R", &format!("{user}:")])
                .arg(&dir),
        )?;
        let reachable = Command::new("runuser")
            .args(["-u", user, "--", "test", "-w"])
            .arg(dir.join("socket"))
            .status()
            .is_ok_and(|status| status.success());
        if reachable {
            return Ok(dir);
        }
    }
    Err(format!(
        "the user {user} can reach neither target/postgres nor {}",
        temporary_cluster_dir().display()
    ))
}

/// `/tmp/hookline-postgres-<hash of the clone's path>`: one per clone.
fn temporary_cluster_dir() -> PathBuf {
    use std::hash::{DefaultHasher, Hash as _, Hasher as _};
    let mut hasher = DefaultHasher::new();
    root().hash(&mut hasher);
    std::env::temp_dir().join(format!("hookline-postgres-{:016x}", hasher.finish()))
}

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}
