//! The server's settings, read from the environment.
//!
//! Owns every setting and its default. Nothing else in the server reads environment
//! variables. Must not open files or sockets: checking a setting is parsing it.
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `HOOKLINE_BIND` | `127.0.0.1:8080` | address and port to listen on (`0.0.0.0:8080` for all interfaces; port 0 picks a free one) |
//! | `HOOKLINE_DATABASE_URL` | `sqlite://hookline.db` | the database: `sqlite://FILE` (created if missing) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (several servers may share one) |
//! | `HOOKLINE_PUBLIC_URL` | `http://<bound address>` | the URL people and the demo webhook reach this server at, e.g. `https://hookline.example.com` |
//! | `HOOKLINE_WIDGET_DIR` | `target/widget-dist` | the widget bundle (`cargo xtask widget` builds it there) |
//! | `HOOKLINE_WWW_DIR` | `www` | the demo page and its assets |
//! | `HOOKLINE_DEMO` | `true` | `true`/`false`: serve the built-in demo webhook receiver and send the demo campaign's webhooks to it |
//! | `HOOKLINE_WEBHOOK_URL` | unset | one webhook endpoint to send events to (`http://` or `https://`) |
//! | `HOOKLINE_WEBHOOK_SECRET` | generated | its signing secret, `whsec_` + base64 of 24 to 64 bytes; if unset, one is generated, stored and logged once |
//! | `HOOKLINE_WEBHOOK_EVENTS` | `entry.created` | comma-separated event types that endpoint receives |
//! | `HOOKLINE_DELIVERY_CONCURRENCY` | `64` | most webhooks sent at once by the background delivery loop |
//! | `HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT` | `8` | most webhooks sent at once to one endpoint, so a slow endpoint cannot hold every sender |
//! | `HOOKLINE_DISABLE_AFTER_FAILURES` | `50` | an endpoint is disabled (reason `failing`, logged, stored in `endpoints`) after this many failed attempts in a row… |
//! | `HOOKLINE_DISABLE_AFTER` | `5d` | …when the first of them was at least this long ago (`s`, `m`, `h` or `d`, e.g. `36h`). A success starts the count again; a `410 Gone` answer disables the endpoint at once (reason `gone`) |
//! | `HOOKLINE_DELIVERY_LEASE` | `120s` | how long a claimed delivery is kept from other workers; after a crash, the claimed deliveries are sent again (same `webhook-id`) once it runs out |
//! | `HOOKLINE_RATE_LIMIT_PER_IP` | `60/m` | most entries from one client address (`N/s`, `N/m` or `N/h`, all of which may come at once; `off` for none). Refused entries get 429 `rate_limited` with `Retry-After` and store nothing. Each server process counts its own |
//! | `HOOKLINE_RATE_LIMIT_PER_CAMPAIGN` | `20000/s` | most entries into one campaign from everyone |
//! | `HOOKLINE_RATE_LIMIT_PER_EMAIL` | `20/m` | most entries by one email address in one campaign |
//! | `HOOKLINE_TRUSTED_PROXIES` | empty | comma-separated networks of the reverse proxies in front of Hookline, e.g. `10.0.0.0/8`; only from them is `X-Forwarded-For` believed for the client's address (the rightmost address in it that is not a trusted proxy). Empty: the connecting peer is the client |
//! | `HOOKLINE_OPERATOR_KEY` | unset | a secret of at least 24 characters; its holder may create more workspaces (`POST /api/v1/workspaces` with `Authorization: Bearer <key>`). The first workspace is made by first-run setup (`POST /api/v1/setup`) |
//! | `HOOKLINE_ALLOW_HTTP_WEBHOOKS` | the value of `HOOKLINE_DEMO` | `true`/`false`: workspace endpoints may use `http://` URLs (else `https://` is required when saving and at every send). Endpoints from the settings may always |
//! | `HOOKLINE_SECRET_KEY` | unset | base64 of 32 bytes (`openssl rand -base64 32`): the master key auth connector credentials are encrypted under. Several servers sharing one PostgreSQL must share it |
//! | `HOOKLINE_SECRET_KEY_FILE` | `<SQLite file>.key`, or `hookline.key` on PostgreSQL | where the master key is kept when `HOOKLINE_SECRET_KEY` is unset: read if it exists, else created with mode 0600 |
//! | `HOOKLINE_ALLOW_NETWORKS` | empty | comma-separated networks webhooks may reach although they are not public, e.g. `10.1.2.0/24,::1/128` (a bare address stands for itself). Webhooks are never sent to loopback, private, link-local, CGNAT, multicast or reserved addresses otherwise; `HOOKLINE_DEMO=true` adds loopback (`127.0.0.0/8,::1/128`) so the demo receiver on this server is reached |

use std::net::SocketAddr;
use std::path::PathBuf;
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
            secret_key: None,
            secret_key_file: None,
            delivery_timeouts: DeliveryTimeouts::default(),
            delivery_limits: DeliveryLimits::default(),
            operator_key: None,
            rate_limits: RateLimitSettings::default(),
            trusted_proxies: AllowList::default(),
            host_lookup: Arc::new(SystemLookup),
        }
    }
}

/// A setting that could not be used. Names the variable so the fix is obvious.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} is invalid: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (variable name → value), so parsing is testable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
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
                    "is set but HOOKLINE_WEBHOOK_URL is not",
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
        let allow_http_webhooks = match read("HOOKLINE_ALLOW_HTTP_WEBHOOKS") {
            Some(text) => parse_flag("HOOKLINE_ALLOW_HTTP_WEBHOOKS", &text)?,
            None => demo,
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
            ..defaults
        })
    }
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
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
}
