//! The server's settings, read from the environment and an optional settings file.
//!
//! Owns every setting and its default. Nothing else in the server reads environment
//! variables. Must not open sockets, nor any file but the settings file: checking a setting
//! is parsing it.
//!
//! The settings file (TOML) is named by `--config PATH` or `HOOKLINE_CONFIG`; each setting
//! has a key there (below). A variable set in the environment wins over the file; an empty one
//! counts as unset. A key the file does not know is an error, as is a bad value (named by its
//! key). Lists are TOML arrays of strings in the file, comma-separated in the environment.
//!
//! | variable | file key | default | what |
//! | --- | --- | --- | --- |
//! | `HOOKLINE_CONFIG` | — | unset | the settings file to read (`--config PATH` on the command line wins over it) |
//! | `HOOKLINE_BIND` | `bind` | `127.0.0.1:8080` | address and port to listen on (`0.0.0.0:8080` for all interfaces; port 0 picks a free one) |
//! | `HOOKLINE_DATABASE_URL` | `database_url` | `sqlite://hookline.db` | the database: `sqlite://FILE` (created if missing) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (several servers may share one) |
//! | `HOOKLINE_PUBLIC_URL` | `public_url` | `http://<bound address>` | the URL people and the demo webhook reach this server at, e.g. `https://hookline.example.com` |
//! | `HOOKLINE_WIDGET_DIR` | `widget_dir` | `target/widget-dist` | the widget bundle (`cargo xtask widget` builds it there) |
//! | `HOOKLINE_WWW_DIR` | `www_dir` | `www` | the demo page and its assets |
//! | `HOOKLINE_DEMO` | `demo` | `true` | `true`/`false`: serve the built-in demo webhook receiver and send the demo campaign's webhooks to it |
//! | `HOOKLINE_WEBHOOK_URL` | `webhook.url` | unset | one webhook endpoint to send events to (`http://` or `https://`) |
//! | `HOOKLINE_WEBHOOK_SECRET` | `webhook.secret` | generated | its signing secret, `whsec_` + base64 of 24 to 64 bytes; if unset, one is generated, stored and logged once |
//! | `HOOKLINE_WEBHOOK_EVENTS` | `webhook.events` | `entry.created` | comma-separated event types that endpoint receives (an array in the file) |
//! | `HOOKLINE_DELIVERY_CONCURRENCY` | `delivery.concurrency` | `64` | most webhooks sent at once by the background delivery loop |
//! | `HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT` | `delivery.concurrency_per_endpoint` | `8` | most webhooks sent at once to one endpoint, so a slow endpoint cannot hold every sender |
//! | `HOOKLINE_DISABLE_AFTER_FAILURES` | `delivery.disable_after_failures` | `50` | an endpoint is disabled (reason `failing`, logged, stored in `endpoints`) after this many failed attempts in a row… |
//! | `HOOKLINE_DISABLE_AFTER` | `delivery.disable_after` | `5d` | …when the first of them was at least this long ago (`s`, `m`, `h` or `d`, e.g. `36h`). A success starts the count again; a `410 Gone` answer disables the endpoint at once (reason `gone`) |
//! | `HOOKLINE_ALLOW_NETWORKS` | `delivery.allow_networks` | empty | comma-separated networks (an array in the file) webhooks may reach although they are not public, e.g. `10.1.2.0/24,::1/128` (a bare address stands for itself). Webhooks are never sent to loopback, private, link-local, CGNAT, multicast or reserved addresses otherwise; `HOOKLINE_DEMO=true` adds loopback (`127.0.0.0/8,::1/128`) so the demo receiver on this server is reached |
//! | `HOOKLINE_DELIVERY_LEASE` | `delivery.lease` | `120s` | how long a claimed delivery is kept from other workers; after a crash, the claimed deliveries are sent again (same `webhook-id`) once it runs out |
//! | `HOOKLINE_ALLOW_HTTP_WEBHOOKS` | `delivery.allow_http` | the value of `HOOKLINE_DEMO` | `true`/`false`: workspace endpoints may use `http://` URLs (else `https://` is required when saving and at every send). Endpoints from the settings may always |
//! | `HOOKLINE_WEBHOOK_PROXY` | `delivery.proxy` | unset | an `http://` or `https://` proxy (`http://user:pass@proxy.example:3128` for Basic auth) every webhook and test request goes through, so receivers can allowlist the proxy's address. Hookline still resolves each destination and applies the address rules before the request goes to the proxy |
//! | `HOOKLINE_WEBHOOK_SOURCE_ADDRESS` | `delivery.source_address` | unset | an IP address of this machine that webhooks are sent from (to the proxy, if one is set), e.g. the one address receivers allowlist |
//! | `HOOKLINE_SECRET_KEY` | `secrets.key` | unset | base64 of 32 bytes (`openssl rand -base64 32`): the master key auth connector credentials are encrypted under. Several servers sharing one PostgreSQL must share it |
//! | `HOOKLINE_SECRET_KEY_FILE` | `secrets.key_file` | `<SQLite file>.key`, or `hookline.key` on PostgreSQL | where the master key is kept when `HOOKLINE_SECRET_KEY` is unset: read if it exists, else created with mode 0600 |
//! | `HOOKLINE_RATE_LIMIT_PER_IP` | `limits.per_ip` | `60/m` | most entries from one client address (`N/s`, `N/m` or `N/h`, all of which may come at once; `off` for none). Refused entries get 429 `rate_limited` with `Retry-After` and store nothing. Each server process counts its own |
//! | `HOOKLINE_RATE_LIMIT_PER_CAMPAIGN` | `limits.per_campaign` | `20000/s` | most entries into one campaign from everyone |
//! | `HOOKLINE_RATE_LIMIT_PER_EMAIL` | `limits.per_email` | `20/m` | most entries by one email address in one campaign |
//! | `HOOKLINE_TRUSTED_PROXIES` | `limits.trusted_proxies` | empty | comma-separated networks (an array in the file) of the reverse proxies in front of Hookline, e.g. `10.0.0.0/8`; only from them is `X-Forwarded-For` believed for the client's address (the rightmost address in it that is not a trusted proxy). Empty: the connecting peer is the client |
//! | `HOOKLINE_OPERATOR_KEY` | `operator_key` | unset | a secret of at least 24 characters; its holder may create more workspaces (`POST /api/v1/workspaces` with `Authorization: Bearer <key>`). The first workspace is made by first-run setup (`POST /api/v1/setup`) |
//! | `RUST_LOG` | `log.filter` | `info` | which log lines are written, as a `tracing` filter: a level (`warn`) or per module (`info,server::delivery=debug`) |
//! | `HOOKLINE_LOG_FORMAT` | `log.format` | `text` | `text` (one readable line per event) or `json` (one JSON object per line, for log collectors) |
//! | `HOOKLINE_METRICS_TOKEN` | `metrics.token` | unset | if set, `GET /metrics` requires `Authorization: Bearer <token>` (visible ASCII, no spaces) |
//! | `HOOKLINE_SHUTDOWN_DELAY` | `shutdown.delay` | `0s` | on SIGTERM or Ctrl-C, how long `/readyz` answers 503 while the server still serves, so a load balancer stops sending first (`s`, `m`, `h` or `d`); a second signal ends the wait |
//! | `HOOKLINE_WORKER_THREADS` | `worker_threads` | the cores, less one on SQLite | threads that serve requests (at least 1). On SQLite the entry writer has a thread of its own, and every entry waits for it, so by default it keeps a core: on 2 cores, in four alternating pairs of runs, one worker took 12,017–15,115 entries/s against 11,306–13,307 with two (README, Benchmarks) |

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use protocol::payload::EventType;
use protocol::signature::SigningSecret;

use crate::address::AllowList;
use crate::destination::{HostLookup, SystemLookup};
use crate::limits::{Rate, RateLimitSettings};

/// Every setting of the server. Build it with [`Config::from_env`], or in tests as a struct
/// literal over [`Config::default`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOOKLINE_BIND`: where to listen. Port 0 picks a free port (tests use it).
    pub bind: SocketAddr,
    /// `HOOKLINE_DATABASE_URL`: a `sqlite:` URL (the file is created if missing) or a
    /// `postgres://` one.
    pub database_url: String,
    /// `HOOKLINE_PUBLIC_URL`: the server's URL as others reach it, without a trailing slash.
    /// `None`: `http://` and the bound address (with 127.0.0.1 when bound to all interfaces).
    pub public_url: Option<String>,
    /// `HOOKLINE_WIDGET_DIR`: served at `/widget/`.
    pub widget_dir: PathBuf,
    /// `HOOKLINE_WWW_DIR`: `index.html` is served at `/`, the rest at `/www/`.
    pub www_dir: PathBuf,
    /// `HOOKLINE_DEMO`: serve the demo receiver at `/demo/receiver` and keep an endpoint
    /// pointing at it.
    pub demo: bool,
    /// `HOOKLINE_WEBHOOK_URL`, `_SECRET`, `_EVENTS`: one endpoint kept in step with these
    /// settings (disabled again when the URL is removed).
    pub webhook: Option<WebhookSetting>,
    /// Run the delivery loop in the background. Tests turn it off and drive
    /// [`crate::delivery::DeliveryWorker::try_next`] themselves. Not an environment variable.
    pub deliver_in_background: bool,
    /// `HOOKLINE_ALLOW_NETWORKS`: networks webhooks may reach although
    /// [`crate::address::classify`] refuses them (loopback, private…). Empty by default: only
    /// public addresses. Demo mode adds loopback at startup (the demo receiver is this server).
    pub allow_networks: AllowList,
    /// `HOOKLINE_ALLOW_HTTP_WEBHOOKS`: workspace endpoints may use `http://`. Defaults to
    /// `demo`.
    pub allow_http_webhooks: bool,
    /// `HOOKLINE_WEBHOOK_PROXY` and `HOOKLINE_WEBHOOK_SOURCE_ADDRESS`: how webhooks leave.
    pub egress: Egress,
    /// `HOOKLINE_SECRET_KEY`: base64 of the 32-byte master key for connector credentials.
    pub secret_key: Option<String>,
    /// `HOOKLINE_SECRET_KEY_FILE`: where the master key is kept when `secret_key` is unset.
    /// `None`: beside the SQLite database (`<file>.key`), or `hookline.key` on PostgreSQL.
    pub secret_key_file: Option<PathBuf>,
    /// How long one webhook try may take. Not an environment variable; tests shorten it.
    pub delivery_timeouts: DeliveryTimeouts,
    /// `HOOKLINE_DELIVERY_CONCURRENCY…` and `HOOKLINE_DISABLE_AFTER…`: how many webhooks are
    /// sent at once, and when an endpoint that keeps failing is disabled.
    pub delivery_limits: DeliveryLimits,
    /// `HOOKLINE_RATE_LIMIT_PER_IP`, `…_PER_CAMPAIGN`, `…_PER_EMAIL`: limits on the public
    /// entry route.
    pub rate_limits: RateLimitSettings,
    /// `HOOKLINE_TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` is believed for the
    /// client's address. Empty: the connecting peer is the client.
    pub trusted_proxies: AllowList,
    /// `HOOKLINE_OPERATOR_KEY`: lets its holder create workspaces beyond the first through
    /// `POST /api/v1/workspaces`. Unset: that route does not exist.
    pub operator_key: Option<String>,
    /// Turns webhook hosts into addresses before they are checked: the system resolver. Not an
    /// environment variable; tests put a fixed table here so no lookup leaves the machine.
    pub host_lookup: Arc<dyn HostLookup>,
    /// `RUST_LOG`: which log lines are written (a `tracing_subscriber::EnvFilter` directive).
    pub log_filter: String,
    /// `HOOKLINE_LOG_FORMAT`: how each log line is written.
    pub log_format: LogFormat,
    /// `HOOKLINE_METRICS_TOKEN`: the bearer token `/metrics` requires, if any.
    pub metrics_token: Option<MetricsToken>,
    /// `HOOKLINE_SHUTDOWN_DELAY`: how long `/readyz` answers 503 before the server stops
    /// accepting, once told to stop.
    pub shutdown_delay: Duration,
    /// `HOOKLINE_WORKER_THREADS`: threads of the async runtime that serves requests. `None`:
    /// [`default_worker_threads`] for the database. Read by `main`, which builds the runtime.
    pub worker_threads: Option<usize>,
    /// Groups of entries this process writes at once on PostgreSQL, each in its own
    /// transaction on its own connection (SQLite writes one at a time). Not an environment
    /// variable: one is fastest; tests take more, to write groups at once as several
    /// processes sharing the database do.
    pub postgres_groups_at_once: usize,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, the event's fields
    /// (`message`…) and the request's span (`method`, `uri`) when there is one.
    Json,
}

/// The token `/metrics` requires. Its `Debug` does not show it, so printing the settings
/// does not leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// A token of visible ASCII characters (no spaces), as a header carries it.
    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty() && text.bytes().all(|byte| byte.is_ascii_graphic()))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

/// Bounds on one webhook try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryTimeouts {
    /// To open the connection (and finish the TLS handshake).
    pub connect: Duration,
    /// For the whole try, from connecting to the end of the (capped) response body.
    pub total: Duration,
}

impl Default for DeliveryTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(15),
        }
    }
}

/// How much the delivery loop sends at once, and how long an endpoint may keep failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLimits {
    /// `HOOKLINE_DELIVERY_CONCURRENCY`: webhooks in flight at once, over all endpoints.
    pub concurrency: u32,
    /// `HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT`: webhooks in flight at once to one
    /// endpoint. Counted per server process.
    pub concurrency_per_endpoint: u32,
    /// `HOOKLINE_DISABLE_AFTER_FAILURES`: failed attempts in a row (over all of an endpoint's
    /// deliveries) before it may be disabled. Fifty keeps a brief outage of a busy endpoint
    /// from counting on its own.
    pub disable_after_failures: u32,
    /// `HOOKLINE_DISABLE_AFTER`: and how long the run must have lasted. Five days (as Svix
    /// does) outlasts a long weekend's outage.
    pub disable_after: Duration,
    /// `HOOKLINE_DELIVERY_LEASE`: how long a claim keeps other workers away, and so how long
    /// the deliveries a crashed server had claimed wait before another server (or the
    /// restarted one) takes them. Must outlast the rounds of sends claimed ahead (4 × the
    /// 15 s try timeout).
    pub lease: Duration,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        Self {
            concurrency: 64,
            concurrency_per_endpoint: 8,
            disable_after_failures: 50,
            disable_after: Duration::from_secs(5 * 24 * 3600),
            lease: Duration::from_secs(120),
        }
    }
}

/// How webhooks leave this server, so receivers can allowlist where they come from.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Egress {
    /// `HOOKLINE_WEBHOOK_PROXY`: every webhook goes through this HTTP(S) proxy.
    pub proxy: Option<reqwest::Url>,
    /// `HOOKLINE_WEBHOOK_SOURCE_ADDRESS`: the local address connections are made from.
    pub source_address: Option<IpAddr>,
}

/// Shows the proxy without its password.
impl fmt::Debug for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = self.proxy.as_ref().map(|url| {
            let mut shown = url.clone();
            if shown.password().is_some() {
                // Setting a password on a URL that has a host cannot fail.
                let _ = shown.set_password(Some("[redacted]"));
            }
            shown.to_string()
        });
        f.debug_struct("Egress")
            .field("proxy", &proxy)
            .field("source_address", &self.source_address)
            .finish()
    }
}

/// The webhook endpoint configured through the environment.
#[derive(Debug, Clone)]
pub struct WebhookSetting {
    pub url: String,
    /// `None`: keep the stored one, or generate one and log it once.
    pub secret: Option<SigningSecret>,
    pub events: Vec<EventType>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://hookline.db".to_owned(),
            public_url: None,
            widget_dir: PathBuf::from("target/widget-dist"),
            www_dir: PathBuf::from("www"),
            demo: true,
            webhook: None,
            deliver_in_background: true,
            allow_networks: AllowList::default(),
            allow_http_webhooks: true,
            egress: Egress::default(),
            secret_key: None,
            secret_key_file: None,
            delivery_timeouts: DeliveryTimeouts::default(),
            delivery_limits: DeliveryLimits::default(),
            operator_key: None,
            rate_limits: RateLimitSettings::default(),
            trusted_proxies: AllowList::default(),
            host_lookup: Arc::new(SystemLookup),
            log_filter: "info".to_owned(),
            log_format: LogFormat::Text,
            metrics_token: None,
            shutdown_delay: Duration::ZERO,
            worker_threads: None,
            postgres_groups_at_once: crate::ingest::POSTGRES_GROUPS_AT_ONCE,
        }
    }
}

/// A setting that could not be used. Names the variable, or the file and key it came from,
/// so the fix is obvious.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The setting's environment variable (`HOOKLINE_CONFIG` for the settings file as a whole).
    pub variable: &'static str,
    pub problem: String,
    /// Where the value was read, when it was not the environment.
    pub in_file: Option<FilePlace>,
}

/// A place in the settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlace {
    /// The file as it was named (`--config` or `HOOKLINE_CONFIG`).
    pub path: String,
    /// The dotted key (`delivery.concurrency`); `None` for the file as a whole.
    pub key: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.in_file {
            None => write!(f, "{} is invalid: {}", self.variable, self.problem),
            Some(FilePlace {
                path,
                key: Some(key),
            }) => write!(
                f,
                "`{key}` in {path} is invalid: {} (or set {}, which wins over the file)",
                self.problem, self.variable
            ),
            Some(FilePlace { path, key: None }) => {
                write!(f, "the settings file {path} is invalid: {}", self.problem)
            }
        }
    }
}

/// Each setting's environment variable and its key in the settings file.
pub const SETTINGS: &[(&str, &str)] = &[
    ("HOOKLINE_BIND", "bind"),
    ("HOOKLINE_DATABASE_URL", "database_url"),
    ("HOOKLINE_PUBLIC_URL", "public_url"),
    ("HOOKLINE_WIDGET_DIR", "widget_dir"),
    ("HOOKLINE_WWW_DIR", "www_dir"),
    ("HOOKLINE_DEMO", "demo"),
    ("HOOKLINE_WEBHOOK_URL", "webhook.url"),
    ("HOOKLINE_WEBHOOK_SECRET", "webhook.secret"),
    ("HOOKLINE_WEBHOOK_EVENTS", "webhook.events"),
    ("HOOKLINE_DELIVERY_CONCURRENCY", "delivery.concurrency"),
    (
        "HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT",
        "delivery.concurrency_per_endpoint",
    ),
    (
        "HOOKLINE_DISABLE_AFTER_FAILURES",
        "delivery.disable_after_failures",
    ),
    ("HOOKLINE_DISABLE_AFTER", "delivery.disable_after"),
    ("HOOKLINE_ALLOW_NETWORKS", "delivery.allow_networks"),
    ("HOOKLINE_DELIVERY_LEASE", "delivery.lease"),
    ("HOOKLINE_ALLOW_HTTP_WEBHOOKS", "delivery.allow_http"),
    ("HOOKLINE_WEBHOOK_PROXY", "delivery.proxy"),
    ("HOOKLINE_WEBHOOK_SOURCE_ADDRESS", "delivery.source_address"),
    ("HOOKLINE_SECRET_KEY", "secrets.key"),
    ("HOOKLINE_SECRET_KEY_FILE", "secrets.key_file"),
    ("HOOKLINE_RATE_LIMIT_PER_IP", "limits.per_ip"),
    ("HOOKLINE_RATE_LIMIT_PER_CAMPAIGN", "limits.per_campaign"),
    ("HOOKLINE_RATE_LIMIT_PER_EMAIL", "limits.per_email"),
    ("HOOKLINE_TRUSTED_PROXIES", "limits.trusted_proxies"),
    ("HOOKLINE_OPERATOR_KEY", "operator_key"),
    ("RUST_LOG", "log.filter"),
    ("HOOKLINE_LOG_FORMAT", "log.format"),
    ("HOOKLINE_METRICS_TOKEN", "metrics.token"),
    ("HOOKLINE_SHUTDOWN_DELAY", "shutdown.delay"),
    ("HOOKLINE_WORKER_THREADS", "worker_threads"),
];

/// The variable naming the settings file.
pub const CONFIG_VARIABLE: &str = "HOOKLINE_CONFIG";

/// A parsed settings file: each value it sets, as the text its environment variable would
/// hold, so both are checked by the same code.
#[derive(Debug, Clone, Default)]
pub struct SettingsFile {
    path: String,
    /// Variable → value, for the keys the file sets.
    values: Vec<(&'static str, String)>,
}

impl SettingsFile {
    /// Parses `text`, the contents of the settings file `path` (named in errors only).
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let whole_file = |problem: String| ConfigError {
            variable: CONFIG_VARIABLE,
            problem,
            in_file: Some(FilePlace {
                path: path.to_owned(),
                key: None,
            }),
        };
        let table: toml::Table = toml::from_str(text).map_err(|error| {
            let at = error
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            whole_file(format!("{at}{}", error.message().trim_end()))
        })?;
        let mut values = Vec::new();
        let mut leaves = Vec::new();
        flatten("", &table, &mut leaves);
        for (key, value) in leaves {
            let Some(&(variable, _)) = SETTINGS.iter().find(|(_, known)| *known == key) else {
                let known: Vec<&str> = SETTINGS.iter().map(|(_, key)| *key).collect();
                return Err(whole_file(format!(
                    "unknown key `{key}`; the keys are {}",
                    known.join(", ")
                )));
            };
            let text = match value {
                toml::Value::String(text) => text.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(flag) => flag.to_string(),
                toml::Value::Array(items) => {
                    let mut texts = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            toml::Value::String(text) if !text.contains(',') => {
                                texts.push(text.as_str())
                            }
                            _ => {
                                return Err(whole_file(format!(
                                    "`{key}` holds an array of something other than strings; a list is an array of strings without commas"
                                )));
                            }
                        }
                    }
                    texts.join(",")
                }
                other => {
                    return Err(whole_file(format!(
                        "`{key}` must be a string, a number, true/false or an array of strings, not a {}",
                        other.type_str()
                    )));
                }
            };
            values.push((variable, text));
        }
        Ok(Self {
            path: path.to_owned(),
            values,
        })
    }

    fn value(&self, variable: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, value)| value.as_str())
    }
}

/// Every value below `table`, by dotted key; a table (section) is walked, anything else is a
/// value.
fn flatten<'t>(prefix: &str, table: &'t toml::Table, into: &mut Vec<(String, &'t toml::Value)>) {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(section) => flatten(&key, section, into),
            value => into.push((key, value)),
        }
    }
}

impl Config {
    /// Reads the settings from the process environment and the settings file: `config_file`
    /// (from `--config`) if given, else the one `HOOKLINE_CONFIG` names, if any.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let named = config_file
            .map(Path::to_path_buf)
            .or_else(|| nonempty(env(CONFIG_VARIABLE)).map(PathBuf::from));
        let file = match named {
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|error| ConfigError {
                    variable: CONFIG_VARIABLE,
                    problem: format!("cannot be read: {error}"),
                    in_file: Some(FilePlace {
                        path: shown.clone(),
                        key: None,
                    }),
                })?;
                Some(SettingsFile::parse(&shown, &text)?)
            }
            None => None,
        };
        Self::from_sources(file.as_ref(), env)
    }

    /// Reads the settings from the process environment only.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (variable name → value), so parsing is testable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_sources(None, lookup)
    }

    /// Reads the settings from `env` (variable name → value) over `file`: a variable set in
    /// `env` wins. An error about a value from the file names its key there.
    pub fn from_sources(
        file: Option<&SettingsFile>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let from_env = |name: &str| nonempty(env(name));
        let from_file = |name: &str| {
            file.and_then(|file| file.value(name).map(|value| value.trim().to_owned()))
        };
        Self::parse(|name| from_env(name).or_else(|| from_file(name))).map_err(|mut error| {
            if let Some(file) = file
                && from_env(error.variable).is_none()
                && file.value(error.variable).is_some()
            {
                error.in_file = Some(FilePlace {
                    path: file.path.clone(),
                    key: SETTINGS
                        .iter()
                        .find(|(variable, _)| *variable == error.variable)
                        .map(|(_, key)| (*key).to_owned()),
                });
            }
            error
        })
    }

    /// Parses every setting from `lookup` (variable name → value), defaults for the rest.
    fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| nonempty(lookup(name));
        let defaults = Self::default();
        let bind = match read("HOOKLINE_BIND") {
            Some(text) => SocketAddr::from_str(&text).map_err(|_| {
                invalid(
                    "HOOKLINE_BIND",
                    format!("expected an address like 127.0.0.1:8080, got {text:?}"),
                )
            })?,
            None => defaults.bind,
        };
        let database_url = match read("HOOKLINE_DATABASE_URL") {
            Some(url)
                if ["sqlite:", "postgres://", "postgresql://"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme)) =>
            {
                url
            }
            Some(url) => {
                return Err(invalid(
                    "HOOKLINE_DATABASE_URL",
                    format!(
                        "expected sqlite://FILE (like sqlite://hookline.db) or postgres://USER@HOST/DATABASE, got {url:?}"
                    ),
                ));
            }
            None => defaults.database_url,
        };
        let public_url = read("HOOKLINE_PUBLIC_URL")
            .map(|url| parse_http_url("HOOKLINE_PUBLIC_URL", &url))
            .transpose()?;
        let demo = match read("HOOKLINE_DEMO") {
            Some(text) => parse_flag("HOOKLINE_DEMO", &text)?,
            None => defaults.demo,
        };
        let secret = read("HOOKLINE_WEBHOOK_SECRET")
            .map(|text| {
                SigningSecret::parse(&text).map_err(|_| {
                    invalid(
                        "HOOKLINE_WEBHOOK_SECRET",
                        "expected whsec_ followed by base64 of 24 to 64 bytes",
                    )
                })
            })
            .transpose()?;
        let events = match read("HOOKLINE_WEBHOOK_EVENTS") {
            Some(text) => parse_events(&text)?,
            None => vec![EventType::EntryCreated],
        };
        let webhook = match read("HOOKLINE_WEBHOOK_URL") {
            Some(url) => Some(WebhookSetting {
                url: parse_http_url("HOOKLINE_WEBHOOK_URL", &url)?,
                secret,
                events,
            }),
            None if secret.is_some() => {
                return Err(invalid(
                    "HOOKLINE_WEBHOOK_SECRET",
                    "is set but the webhook URL (HOOKLINE_WEBHOOK_URL, `webhook.url`) is not",
                ));
            }
            None => None,
        };
        let allow_networks = match read("HOOKLINE_ALLOW_NETWORKS") {
            Some(text) => AllowList::parse(&text)
                .map_err(|error| invalid("HOOKLINE_ALLOW_NETWORKS", error.to_string()))?,
            None => defaults.allow_networks.clone(),
        };
        let positive = |variable: &'static str, default: u32| match read(variable) {
            Some(text) => match text.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(invalid(
                    variable,
                    format!("expected a whole number above 0, got {text:?}"),
                )),
            },
            None => Ok(default),
        };
        let rate = |variable: &'static str, default: Option<Rate>| match read(variable) {
            Some(text) => Rate::parse(&text).map_err(|problem| invalid(variable, problem)),
            None => Ok(default),
        };
        let limits = defaults.delivery_limits;
        let delivery_limits = DeliveryLimits {
            concurrency: positive("HOOKLINE_DELIVERY_CONCURRENCY", limits.concurrency)?,
            concurrency_per_endpoint: positive(
                "HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT",
                limits.concurrency_per_endpoint,
            )?,
            disable_after_failures: positive(
                "HOOKLINE_DISABLE_AFTER_FAILURES",
                limits.disable_after_failures,
            )?,
            disable_after: match read("HOOKLINE_DISABLE_AFTER") {
                Some(text) => parse_duration("HOOKLINE_DISABLE_AFTER", &text)?,
                None => limits.disable_after,
            },
            lease: match read("HOOKLINE_DELIVERY_LEASE") {
                Some(text) => parse_duration("HOOKLINE_DELIVERY_LEASE", &text)?,
                None => limits.lease,
            },
        };
        let log_filter = match read("RUST_LOG") {
            Some(filter) => {
                tracing_subscriber::EnvFilter::try_new(&filter).map_err(|error| {
                    invalid(
                        "RUST_LOG",
                        format!("{filter:?} is not a log filter like `info` or `warn,server=debug` ({error})"),
                    )
                })?;
                filter
            }
            None => defaults.log_filter.clone(),
        };
        let log_format = match read("HOOKLINE_LOG_FORMAT").map(|text| text.to_ascii_lowercase()) {
            Some(text) if text == "text" => LogFormat::Text,
            Some(text) if text == "json" => LogFormat::Json,
            Some(text) => {
                return Err(invalid(
                    "HOOKLINE_LOG_FORMAT",
                    format!("expected text or json, got {text:?}"),
                ));
            }
            None => defaults.log_format,
        };
        let metrics_token = read("HOOKLINE_METRICS_TOKEN")
            .map(|token| {
                MetricsToken::parse(&token).ok_or_else(|| {
                    invalid(
                        "HOOKLINE_METRICS_TOKEN",
                        "expected visible ASCII characters without spaces",
                    )
                })
            })
            .transpose()?;
        let shutdown_delay = match read("HOOKLINE_SHUTDOWN_DELAY") {
            Some(text) => parse_duration("HOOKLINE_SHUTDOWN_DELAY", &text)?,
            None => defaults.shutdown_delay,
        };
        let worker_threads = read("HOOKLINE_WORKER_THREADS")
            .map(|text| match text.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(invalid(
                    "HOOKLINE_WORKER_THREADS",
                    format!("expected a whole number above 0, got {text:?}"),
                )),
            })
            .transpose()?;
        let allow_http_webhooks = match read("HOOKLINE_ALLOW_HTTP_WEBHOOKS") {
            Some(text) => parse_flag("HOOKLINE_ALLOW_HTTP_WEBHOOKS", &text)?,
            None => demo,
        };
        let egress = Egress {
            proxy: read("HOOKLINE_WEBHOOK_PROXY")
                .map(|text| parse_proxy(&text))
                .transpose()?,
            source_address: read("HOOKLINE_WEBHOOK_SOURCE_ADDRESS")
                .map(|text| {
                    text.parse::<IpAddr>().map_err(|_| {
                        invalid(
                            "HOOKLINE_WEBHOOK_SOURCE_ADDRESS",
                            format!("expected an IP address like 203.0.113.7, got {text:?}"),
                        )
                    })
                })
                .transpose()?,
        };
        let secret_key = read("HOOKLINE_SECRET_KEY");
        if let Some(key) = &secret_key {
            crate::secrets::MasterKey::parse(key).map_err(|_| {
                invalid(
                    "HOOKLINE_SECRET_KEY",
                    "expected base64 of exactly 32 bytes (openssl rand -base64 32)",
                )
            })?;
        }
        Ok(Self {
            bind,
            database_url,
            public_url,
            allow_http_webhooks,
            egress,
            secret_key,
            secret_key_file: read("HOOKLINE_SECRET_KEY_FILE").map(PathBuf::from),
            widget_dir: read("HOOKLINE_WIDGET_DIR").map_or(defaults.widget_dir, PathBuf::from),
            www_dir: read("HOOKLINE_WWW_DIR").map_or(defaults.www_dir, PathBuf::from),
            demo,
            webhook,
            allow_networks,
            delivery_limits,
            rate_limits: RateLimitSettings {
                per_ip: rate("HOOKLINE_RATE_LIMIT_PER_IP", defaults.rate_limits.per_ip)?,
                per_campaign: rate(
                    "HOOKLINE_RATE_LIMIT_PER_CAMPAIGN",
                    defaults.rate_limits.per_campaign,
                )?,
                per_email: rate(
                    "HOOKLINE_RATE_LIMIT_PER_EMAIL",
                    defaults.rate_limits.per_email,
                )?,
            },
            trusted_proxies: match read("HOOKLINE_TRUSTED_PROXIES") {
                Some(text) => AllowList::parse(&text)
                    .map_err(|error| invalid("HOOKLINE_TRUSTED_PROXIES", error.to_string()))?,
                None => AllowList::default(),
            },
            operator_key: match read("HOOKLINE_OPERATOR_KEY") {
                Some(key) if key.len() < 24 => {
                    return Err(invalid(
                        "HOOKLINE_OPERATOR_KEY",
                        "must be at least 24 characters: it guards the creation of workspaces",
                    ));
                }
                key => key,
            },
            log_filter,
            log_format,
            metrics_token,
            shutdown_delay,
            worker_threads,
            ..defaults
        })
    }

    /// Threads the async runtime serves requests on: the setting, else
    /// [`default_worker_threads`].
    pub fn runtime_workers(&self) -> usize {
        self.worker_threads
            .unwrap_or_else(|| default_worker_threads(&self.database_url))
    }
}

/// The runtime's threads when `HOOKLINE_WORKER_THREADS` is unset: the cores, less one on
/// SQLite (at least one), whose entry writer runs on a thread of its own that every entry
/// waits for. With PostgreSQL the database does that work, in its own processes.
pub fn default_worker_threads(database_url: &str) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if crate::store::is_postgres_url(database_url) {
        cores
    } else {
        cores.saturating_sub(1).max(1)
    }
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
        in_file: None,
    }
}

/// `value` without surrounding blanks, `None` if nothing is left: an empty setting is unset.
fn nonempty(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Accepts `http://` and `https://` URLs with a host, and drops a trailing slash.
fn parse_http_url(variable: &'static str, text: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(text)
        .map_err(|error| invalid(variable, format!("{text:?} is not a URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            variable,
            format!("expected an http:// or https:// URL, got {text:?}"),
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// A proxy URL: `http://` or `https://`, a host, a port or the scheme's, nothing after.
fn parse_proxy(text: &str) -> Result<reqwest::Url, ConfigError> {
    let variable = "HOOKLINE_WEBHOOK_PROXY";
    let url = reqwest::Url::parse(text).map_err(|error| {
        invalid(
            variable,
            format!("expected a URL like http://proxy.example:3128 ({error})"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !matches!(url.path(), "" | "/")
        || url.query().is_some()
    {
        return Err(invalid(
            variable,
            "expected an http:// or https:// proxy URL with a host and nothing after the port, like http://proxy.example:3128",
        ));
    }
    Ok(url)
}

/// A whole number of seconds, minutes, hours or days: `90s`, `30m`, `36h`, `5d`.
fn parse_duration(variable: &'static str, text: &str) -> Result<Duration, ConfigError> {
    let problem = || {
        invalid(
            variable,
            format!("expected a number and a unit (s, m, h or d), like 5d, got {text:?}"),
        )
    };
    let split = text.len().saturating_sub(1);
    let (number, unit) = (
        text.get(..split).unwrap_or(""),
        text.get(split..).unwrap_or(""),
    );
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(problem()),
    };
    let number: u64 = number.trim().parse().map_err(|_| problem())?;
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(problem)
}

fn parse_flag(variable: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(
            variable,
            format!("expected true or false, got {text:?}"),
        )),
    }
}

fn parse_events(text: &str) -> Result<Vec<EventType>, ConfigError> {
    let mut events = Vec::new();
    for name in text
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let event = EventType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|event| event.as_str()).collect();
            invalid(
                "HOOKLINE_WEBHOOK_EVENTS",
                format!("unknown event type {name:?}; known: {}", known.join(", ")),
            )
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(invalid("HOOKLINE_WEBHOOK_EVENTS", "names no event type"));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let variables: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_lookup(|name| variables.get(name).cloned())
    }

    fn check_error(pairs: &[(&str, &str)], variable: &str) {
        let error = from(pairs).expect_err("the settings should be refused");
        assert_eq!(error.variable, variable, "{error}");
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = from(&[]).expect("defaults are valid");
        assert_eq!(config.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(config.database_url, "sqlite://hookline.db");
        assert!(config.demo && config.webhook.is_none() && config.public_url.is_none());
        assert!(config.allow_networks.is_empty());
        assert_eq!(config.delivery_limits, DeliveryLimits::default());
    }

    #[test]
    fn http_webhooks_follow_demo_unless_set_and_the_secret_key_is_checked() {
        assert!(from(&[]).expect("valid").allow_http_webhooks);
        assert!(
            !from(&[("HOOKLINE_DEMO", "false")])
                .expect("valid")
                .allow_http_webhooks
        );
        let config = from(&[
            ("HOOKLINE_DEMO", "false"),
            ("HOOKLINE_ALLOW_HTTP_WEBHOOKS", "true"),
            (
                "HOOKLINE_SECRET_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            ("HOOKLINE_SECRET_KEY_FILE", "/var/lib/hookline/key"),
        ])
        .expect("valid");
        assert!(config.allow_http_webhooks && config.secret_key.is_some());
        assert_eq!(
            config.secret_key_file,
            Some(PathBuf::from("/var/lib/hookline/key"))
        );
        check_error(
            &[("HOOKLINE_ALLOW_HTTP_WEBHOOKS", "maybe")],
            "HOOKLINE_ALLOW_HTTP_WEBHOOKS",
        );
        check_error(
            &[("HOOKLINE_SECRET_KEY", "c2hvcnQ=")],
            "HOOKLINE_SECRET_KEY",
        );
    }

    #[test]
    fn delivery_limits_are_read() {
        let config = from(&[
            ("HOOKLINE_DELIVERY_CONCURRENCY", "128"),
            ("HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT", "4"),
            ("HOOKLINE_DISABLE_AFTER_FAILURES", "10"),
            ("HOOKLINE_DISABLE_AFTER", "36h"),
            ("HOOKLINE_DELIVERY_LEASE", "30s"),
        ])
        .expect("valid settings");
        assert_eq!(
            config.delivery_limits,
            DeliveryLimits {
                concurrency: 128,
                concurrency_per_endpoint: 4,
                disable_after_failures: 10,
                disable_after: Duration::from_secs(36 * 3600),
                lease: Duration::from_secs(30),
            }
        );
        for (text, seconds) in [("90s", 90), ("30m", 1800), ("5d", 432_000), ("0s", 0)] {
            assert_eq!(
                parse_duration("X", text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn webhook_settings_are_read_together() {
        let config = from(&[
            ("HOOKLINE_WEBHOOK_URL", "https://example.com/hooks/"),
            (
                "HOOKLINE_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
            (
                "HOOKLINE_WEBHOOK_EVENTS",
                "entry.created, subscriber.created",
            ),
            ("HOOKLINE_DEMO", "false"),
        ])
        .expect("valid settings");
        let webhook = config.webhook.expect("an endpoint is configured");
        assert_eq!(webhook.url, "https://example.com/hooks");
        assert!(webhook.secret.is_some());
        assert_eq!(
            webhook.events,
            vec![EventType::EntryCreated, EventType::SubscriberCreated]
        );
        assert!(!config.demo);
    }

    #[test]
    fn allowed_networks_are_read() {
        let config = from(&[(
            "HOOKLINE_ALLOW_NETWORKS",
            "127.0.0.0/8, ::1/128,10.1.2.0/24",
        )])
        .expect("valid settings");
        assert_eq!(
            config.allow_networks.to_string(),
            "127.0.0.0/8,::1/128,10.1.2.0/24"
        );
    }

    #[test]
    fn bad_settings_name_their_variable() {
        check_error(
            &[("HOOKLINE_ALLOW_NETWORKS", "127.0.0.0/8,localhost")],
            "HOOKLINE_ALLOW_NETWORKS",
        );
        check_error(&[("HOOKLINE_BIND", "localhost")], "HOOKLINE_BIND");
        check_error(
            &[("HOOKLINE_DATABASE_URL", "mysql://x")],
            "HOOKLINE_DATABASE_URL",
        );
        check_error(
            &[("HOOKLINE_PUBLIC_URL", "example.com")],
            "HOOKLINE_PUBLIC_URL",
        );
        check_error(&[("HOOKLINE_DEMO", "maybe")], "HOOKLINE_DEMO");
        check_error(
            &[("HOOKLINE_DELIVERY_CONCURRENCY", "0")],
            "HOOKLINE_DELIVERY_CONCURRENCY",
        );
        check_error(
            &[("HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT", "many")],
            "HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT",
        );
        check_error(
            &[("HOOKLINE_DISABLE_AFTER_FAILURES", "-1")],
            "HOOKLINE_DISABLE_AFTER_FAILURES",
        );
        for text in ["5", "d", "5w", "x5d"] {
            check_error(
                &[("HOOKLINE_DISABLE_AFTER", text)],
                "HOOKLINE_DISABLE_AFTER",
            );
        }
        check_error(
            &[("HOOKLINE_WEBHOOK_URL", "ftp://example.com")],
            "HOOKLINE_WEBHOOK_URL",
        );
        check_error(
            &[
                ("HOOKLINE_WEBHOOK_URL", "https://e.com"),
                ("HOOKLINE_WEBHOOK_SECRET", "secret"),
            ],
            "HOOKLINE_WEBHOOK_SECRET",
        );
        check_error(
            &[(
                "HOOKLINE_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            )],
            "HOOKLINE_WEBHOOK_SECRET",
        );
        check_error(
            &[
                ("HOOKLINE_WEBHOOK_URL", "https://e.com"),
                ("HOOKLINE_WEBHOOK_EVENTS", "entry.made"),
            ],
            "HOOKLINE_WEBHOOK_EVENTS",
        );
        check_error(
            &[
                ("HOOKLINE_WEBHOOK_URL", "https://e.com"),
                ("HOOKLINE_WEBHOOK_EVENTS", " , "),
            ],
            "HOOKLINE_WEBHOOK_EVENTS",
        );
    }

    fn from_file(text: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let file = SettingsFile::parse("hookline.toml", text)?;
        let variables: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_sources(Some(&file), |name| variables.get(name).cloned())
    }

    /// A file setting every key, each to something other than its default.
    const FULL_FILE: &str = r#"
        bind = "0.0.0.0:9090"
        database_url = "postgres://hookline@db.internal/hookline"
        public_url = "https://hookline.example.com/"
        widget_dir = "/srv/widget"
        www_dir = "/srv/www"
        demo = false
        operator_key = "operator-key-from-the-file-0123456789"
        worker_threads = 3

        [webhook]
        url = "https://example.com/hooks"
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        events = ["entry.created", "subscriber.created"]

        [delivery]
        concurrency = 128
        concurrency_per_endpoint = 4
        disable_after_failures = 10
        disable_after = "36h"
        allow_networks = ["10.1.2.0/24", "::1/128"]
        lease = "90s"
        allow_http = true
        proxy = "http://proxy.example:3128"
        source_address = "192.0.2.10"

        [secrets]
        key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
        key_file = "/srv/hookline.key"

        [limits]
        per_ip = "30/m"
        per_campaign = "off"
        per_email = "5/h"
        trusted_proxies = ["10.0.0.0/8"]

        [log]
        filter = "warn,server=debug"
        format = "json"

        [metrics]
        token = "s3cret-token"

        [shutdown]
        delay = "10s"
    "#;

    #[test]
    fn every_setting_can_come_from_the_file() {
        let config = from_file(FULL_FILE, &[]).expect("valid settings");
        assert_eq!(config.bind, SocketAddr::from(([0, 0, 0, 0], 9090)));
        assert_eq!(
            config.database_url,
            "postgres://hookline@db.internal/hookline"
        );
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://hookline.example.com")
        );
        assert_eq!(config.widget_dir, PathBuf::from("/srv/widget"));
        assert_eq!(config.www_dir, PathBuf::from("/srv/www"));
        assert!(!config.demo);
        let webhook = config.webhook.expect("an endpoint is configured");
        assert_eq!(webhook.url, "https://example.com/hooks");
        assert!(webhook.secret.is_some());
        assert_eq!(
            webhook.events,
            vec![EventType::EntryCreated, EventType::SubscriberCreated]
        );
        assert_eq!(
            config.delivery_limits,
            DeliveryLimits {
                concurrency: 128,
                concurrency_per_endpoint: 4,
                disable_after_failures: 10,
                disable_after: Duration::from_secs(36 * 3600),
                lease: Duration::from_secs(90),
            }
        );
        assert!(config.allow_http_webhooks);
        assert_eq!(
            config.secret_key_file,
            Some(PathBuf::from("/srv/hookline.key"))
        );
        assert!(config.secret_key.is_some());
        assert_eq!(config.allow_networks.to_string(), "10.1.2.0/24,::1/128");
        assert_eq!(config.log_filter, "warn,server=debug");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(
            config.metrics_token.as_ref().map(MetricsToken::as_str),
            Some("s3cret-token")
        );
        assert_eq!(config.shutdown_delay, Duration::from_secs(10));
        assert_eq!(config.worker_threads, Some(3));
        assert_eq!(
            config
                .rate_limits
                .per_ip
                .map(|rate| rate.to_string())
                .as_deref(),
            Some("30/m")
        );
        assert_eq!(config.rate_limits.per_campaign, None);
        assert_eq!(
            config
                .rate_limits
                .per_email
                .map(|rate| rate.to_string())
                .as_deref(),
            Some("5/h")
        );
        assert_eq!(config.trusted_proxies.to_string(), "10.0.0.0/8");
        assert_eq!(
            config.operator_key.as_deref(),
            Some("operator-key-from-the-file-0123456789")
        );
        assert!(
            !format!("{:?}", config.metrics_token).contains("s3cret"),
            "the token is not printed"
        );
    }

    #[test]
    fn the_runtime_keeps_a_core_for_the_sqlite_writer_unless_told() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let sqlite = Config {
            database_url: "sqlite://hookline.db".to_owned(),
            ..Config::default()
        };
        assert_eq!(sqlite.runtime_workers(), cores.saturating_sub(1).max(1));
        let postgres = Config {
            database_url: "postgres://hookline@db.internal/hookline".to_owned(),
            ..Config::default()
        };
        assert_eq!(postgres.runtime_workers(), cores);
        let told = Config {
            worker_threads: Some(5),
            ..sqlite
        };
        assert_eq!(told.runtime_workers(), 5);
        let error = from_file("", &[("HOOKLINE_WORKER_THREADS", "0")]).expect_err("0 threads");
        assert_eq!(error.variable, "HOOKLINE_WORKER_THREADS");
    }

    #[test]
    fn the_file_sets_every_key_the_table_lists() {
        let file = SettingsFile::parse("hookline.toml", FULL_FILE).expect("valid file");
        for (variable, key) in SETTINGS {
            assert!(file.value(variable).is_some(), "FULL_FILE sets `{key}`");
        }
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let config = from_file(
            FULL_FILE,
            &[
                ("HOOKLINE_DELIVERY_CONCURRENCY", "7"),
                ("HOOKLINE_LOG_FORMAT", "text"),
                // Empty counts as unset: the file's value stays.
                ("HOOKLINE_BIND", " "),
            ],
        )
        .expect("valid settings");
        assert_eq!(config.delivery_limits.concurrency, 7);
        assert_eq!(config.delivery_limits.concurrency_per_endpoint, 4);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.bind, SocketAddr::from(([0, 0, 0, 0], 9090)));
        // A good variable covers a bad value in the file.
        let config = from_file(
            "[delivery]\nconcurrency = 0\n",
            &[("HOOKLINE_DELIVERY_CONCURRENCY", "3")],
        )
        .expect("the variable wins");
        assert_eq!(config.delivery_limits.concurrency, 3);
    }

    fn check_file_error(text: &str, expected: &str) {
        let error = from_file(text, &[]).expect_err("the file should be refused");
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn bad_files_are_refused_with_the_key_named() {
        check_file_error(
            "[delivery]\nconcurency = 64\n",
            &format!(
                "the settings file hookline.toml is invalid: unknown key `delivery.concurency`; the keys are {}",
                SETTINGS
                    .iter()
                    .map(|(_, key)| *key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        check_file_error(
            "[delivery]\nconcurrency = 0\n",
            "`delivery.concurrency` in hookline.toml is invalid: expected a whole number above 0, \
             got \"0\" (or set HOOKLINE_DELIVERY_CONCURRENCY, which wins over the file)",
        );
        check_file_error(
            "bind = 8080\n",
            "`bind` in hookline.toml is invalid: expected an address like 127.0.0.1:8080, \
             got \"8080\" (or set HOOKLINE_BIND, which wins over the file)",
        );
        check_file_error(
            "demo = [true]\n",
            "the settings file hookline.toml is invalid: `demo` holds an array of something other than strings; \
             a list is an array of strings without commas",
        );
        check_file_error(
            "[webhook]\nevents = \"entry.created\"\nurl = { a = 1 }\n",
            "the settings file hookline.toml is invalid: unknown key `webhook.url.a`; the keys are \
             bind, database_url, public_url, widget_dir, www_dir, demo, webhook.url, webhook.secret, \
             webhook.events, delivery.concurrency, delivery.concurrency_per_endpoint, \
             delivery.disable_after_failures, delivery.disable_after, delivery.allow_networks, \
             delivery.lease, delivery.allow_http, delivery.proxy, delivery.source_address, secrets.key, secrets.key_file, limits.per_ip, limits.per_campaign, limits.per_email, limits.trusted_proxies, \
             operator_key, log.filter, log.format, metrics.token, shutdown.delay, worker_threads",
        );
        let error = from_file("bind = \"127.0.0.1:8080\"\ndemo = \n", &[])
            .expect_err("a syntax error is refused");
        assert_eq!(error.variable, CONFIG_VARIABLE);
        assert!(
            error
                .to_string()
                .starts_with("the settings file hookline.toml is invalid: line 2, column "),
            "{error}"
        );
    }

    #[test]
    fn egress_settings_are_checked() {
        let config = from(&[
            (
                "HOOKLINE_WEBHOOK_PROXY",
                "http://joe:s3cret@proxy.example:3128",
            ),
            ("HOOKLINE_WEBHOOK_SOURCE_ADDRESS", "203.0.113.7"),
        ])
        .expect("valid settings");
        assert_eq!(
            config.egress.proxy.as_ref().map(reqwest::Url::as_str),
            Some("http://joe:s3cret@proxy.example:3128/")
        );
        assert_eq!(
            config.egress.source_address,
            Some("203.0.113.7".parse().expect("an address"))
        );
        let shown = format!("{:?}", config.egress);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(from(&[]).expect("defaults").egress, Egress::default());
        for bad in [
            "proxy.example:3128",
            "socks5://proxy.example:1080",
            "http://proxy.example:3128/path",
            "http://",
        ] {
            check_error(&[("HOOKLINE_WEBHOOK_PROXY", bad)], "HOOKLINE_WEBHOOK_PROXY");
        }
        check_error(
            &[("HOOKLINE_WEBHOOK_SOURCE_ADDRESS", "eth0")],
            "HOOKLINE_WEBHOOK_SOURCE_ADDRESS",
        );
    }

    #[test]
    fn new_settings_are_checked() {
        check_error(&[("HOOKLINE_LOG_FORMAT", "xml")], "HOOKLINE_LOG_FORMAT");
        check_error(&[("RUST_LOG", "info,[")], "RUST_LOG");
        check_error(
            &[("HOOKLINE_METRICS_TOKEN", "two words")],
            "HOOKLINE_METRICS_TOKEN",
        );
        check_error(
            &[("HOOKLINE_SHUTDOWN_DELAY", "soon")],
            "HOOKLINE_SHUTDOWN_DELAY",
        );
        let config = from(&[("HOOKLINE_LOG_FORMAT", "JSON"), ("RUST_LOG", "debug")])
            .expect("valid settings");
        assert_eq!(
            (config.log_format, config.log_filter.as_str()),
            (LogFormat::Json, "debug")
        );
    }

    /// The rows of the first Markdown table in `text` whose header starts `| variable |`.
    fn settings_table(text: &str) -> Vec<String> {
        text.lines()
            .map(|line| line.trim_start_matches("//!").trim())
            .skip_while(|line| !line.starts_with("| variable |"))
            .take_while(|line| line.starts_with('|'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_readme_documents_every_setting_as_this_module_does() {
        let here = settings_table(include_str!("config.rs"));
        let readme = settings_table(include_str!("../../README.md"));
        assert_eq!(
            readme, here,
            "README's Configuration table and config.rs's differ"
        );
        for (variable, key) in SETTINGS {
            let row = format!("| `{variable}` | `{key}` |");
            assert!(
                here.iter().any(|line| line.starts_with(&row)),
                "no row for {variable} / {key}"
            );
        }
        assert_eq!(
            here.len(),
            SETTINGS.len() + 3,
            "one row per setting, HOOKLINE_CONFIG and the header"
        );
    }
}
