//! Builds the application: database, migrations, demo seed, endpoints from the settings,
//! router and delivery worker; then serves until told to stop.
//!
//! Must not contain business rules: it wires parts together and keeps the endpoints that the
//! settings describe in step with the database.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use protocol::campaign::{CampaignType, EntryMethodType};
use protocol::ids::CampaignKey;
use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::address::AllowList;
use crate::api::{self, AppState, OpsState, RouterParts};
use crate::clock;
use crate::config::Config;
use crate::delivery::{self, DeliveryWorker};
use crate::demo::DemoReceiver;
use crate::destination::{DestinationError, Destinations};
use crate::ingest::Ingest;
use crate::jobs::{self, JobRunner};
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::secrets::MasterKey;
use crate::social::Activity;
use crate::store::{EndpointRecord, ManagedEndpoint, NewCampaign, NewEntryMethod, Store};

/// `managed_by` of the endpoint from `HOOKLINE_WEBHOOK_URL`.
const SETTINGS_ENDPOINT: &str = "settings";
/// `managed_by` of the demo receiver's endpoint.
const DEMO_ENDPOINT: &str = "demo";
/// How long startup waits to resolve `HOOKLINE_WEBHOOK_URL`'s host before going on without.
const STARTUP_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// A built server, bound to its port, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    base_url: String,
    store: Store,
    worker: DeliveryWorker,
    deliveries_queued: Arc<Notify>,
    jobs: JobRunner,
    jobs_queued: Arc<Notify>,
    deliver_in_background: bool,
    metrics: Arc<Metrics>,
    activity: Activity,
    /// Ends serving: stop accepting, finish what is under way (the last phase of stopping).
    shutdown: watch::Sender<bool>,
    /// Starts stopping (see [`ShutdownHandle`]).
    shutdown_handle: ShutdownHandle,
    /// `HOOKLINE_SHUTDOWN_DELAY`.
    shutdown_delay: Duration,
}

/// Tells a running [`Application`] to stop, as SIGTERM or Ctrl-C does. The first call starts
/// draining: `/readyz` answers 503 from then on while the server goes on serving for
/// `HOOKLINE_SHUTDOWN_DELAY`, so a load balancer has time to notice. The second (or the end
/// of the delay) stops it: no new connections, the requests and webhook tries under way
/// finish and are recorded, and the database is closed.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    draining: Arc<watch::Sender<bool>>,
    stop_now: Arc<watch::Sender<bool>>,
    /// The application's own `shutdown`: true once it stops accepting.
    stopping: watch::Receiver<bool>,
}

impl ShutdownHandle {
    fn new(stopping: watch::Receiver<bool>) -> Self {
        Self {
            draining: Arc::new(watch::Sender::new(false)),
            stop_now: Arc::new(watch::Sender::new(false)),
            stopping,
        }
    }

    /// Waits until the server has been told to stop accepting connections (the delay is over),
    /// or has stopped.
    pub async fn stopping(&self) {
        let mut stopping = self.stopping.clone();
        // Errs once the application is gone, which is stopped too.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    /// Starts stopping; called again, ends the delay. Returns at once (`/readyz` already
    /// answers 503 when it does).
    pub fn shut_down(&self) {
        if !self.draining.send_replace(true) {
            return;
        }
        self.stop_now.send_replace(true);
    }
}

impl Application {
    /// Opens the database, seeds the demo campaign on first start, binds `config.bind`
    /// (port 0 picks a free port) and builds the router and the delivery worker.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url)
            .await
            .with_context(|| {
                format!(
                    "failed to open the database HOOKLINE_DATABASE_URL={}",
                    config.database_url
                )
            })?;
        let now = clock::now_millis();
        if store
            .insert_campaign_if_absent(&demo_campaign(), now)
            .await
            .context("failed to seed the demo campaign")?
        {
            info!("created the demo campaign (key `demo`)");
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("failed to listen on HOOKLINE_BIND={}", config.bind))?;
        let address = listener
            .local_addr()
            .context("failed to read the bound address")?;
        let base_url = config.public_url.clone().unwrap_or_else(|| url_of(address));

        let mut allowed = config.allow_networks.clone();
        if config.demo {
            allowed.extend(AllowList::loopback().networks().iter().copied());
            info!(
                "HOOKLINE_DEMO is on: webhooks may also go to loopback addresses (127.0.0.0/8, ::1), \
                 where the demo receiver is; set HOOKLINE_DEMO=false in production"
            );
        }
        let destinations = Destinations::new(Arc::clone(&config.host_lookup), allowed);

        match &config.webhook {
            Some(setting) => {
                check_webhook_url(&destinations, &setting.url).await?;
                let existing = store.managed_endpoint(SETTINGS_ENDPOINT).await?;
                let secret = match (&setting.secret, &existing) {
                    (Some(secret), _) => secret.to_whsec(),
                    (None, Some(existing)) => existing.secret.clone(),
                    (None, None) => {
                        let secret = new_signing_secret();
                        warn!(
                            secret = %secret,
                            "HOOKLINE_WEBHOOK_SECRET is not set: generated this signing secret for HOOKLINE_WEBHOOK_URL \
                             (stored; shown only now)"
                        );
                        secret
                    }
                };
                let endpoint = save_endpoint(
                    &store,
                    SETTINGS_ENDPOINT,
                    existing,
                    &setting.url,
                    &secret,
                    &setting.events,
                )
                .await?;
                info!(endpoint = %endpoint.public_id, url = %endpoint.url, "webhook endpoint from the settings is active");
            }
            None => {
                store
                    .disable_managed_endpoint(SETTINGS_ENDPOINT, now)
                    .await?
            }
        }

        let demo = if config.demo {
            let existing = store.managed_endpoint(DEMO_ENDPOINT).await?;
            let secret = existing
                .as_ref()
                .map_or_else(new_signing_secret, |endpoint| endpoint.secret.clone());
            let url = format!("{base_url}/demo/receiver");
            let endpoint = save_endpoint(
                &store,
                DEMO_ENDPOINT,
                existing,
                &url,
                &secret,
                &[EventType::EntryCreated],
            )
            .await?;
            let secret = SigningSecret::parse(&endpoint.secret)
                .context("the stored demo endpoint secret is invalid")?;
            Some(Arc::new(DemoReceiver::new(secret)))
        } else {
            store.disable_managed_endpoint(DEMO_ENDPOINT, now).await?;
            None
        };

        if !config.widget_dir.join(api::LOADER_FILE).is_file() {
            warn!(
                dir = %config.widget_dir.display(),
                "the widget bundle is missing: run `cargo xtask widget` (or set HOOKLINE_WIDGET_DIR)"
            );
        }

        let master_key = Arc::new(master_key(&config)?);
        let deliveries_queued = Arc::new(Notify::new());
        let activity = Activity::start(store.clone())
            .await
            .context("failed to start the social proof feed")?;
        let metrics = Arc::new(Metrics::new());
        let worker = DeliveryWorker::new(
            store.clone(),
            destinations,
            config.delivery_timeouts,
            config.delivery_limits,
            Arc::clone(&metrics),
            master_key,
            config.allow_http_webhooks,
            &config.egress,
        )?;
        let jobs_queued = Arc::new(Notify::new());
        let jobs = JobRunner::new(
            store.clone(),
            config.delivery_limits.lease,
            Arc::clone(&deliveries_queued),
        );
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let shutdown_handle = ShutdownHandle::new(shutdown.subscribe());
        let router = api::router(RouterParts {
            state: AppState {
                store: store.clone(),
                ingest: Ingest::new(
                    store.clone(),
                    config.postgres_groups_at_once,
                    Arc::clone(&deliveries_queued),
                    RateLimits::new(config.rate_limits),
                    activity.clone(),
                ),
                trusted_proxies: Arc::new(config.trusted_proxies.clone()),
                activity: activity.clone(),
                shutdown: shutdown_receiver.clone(),
                metrics: Arc::clone(&metrics),
                base_url: base_url.as_str().into(),
            },
            demo,
            shutdown: shutdown_receiver,
            ops: OpsState {
                store: store.clone(),
                metrics: Arc::clone(&metrics),
                metrics_token: config.metrics_token.clone(),
                draining: shutdown_handle.draining.subscribe(),
            },
            widget_dir: &config.widget_dir,
            www_dir: &config.www_dir,
            admin: api::admin::AdminState {
                store: store.clone(),
                base_url: base_url.as_str().into(),
                operator_key: config.operator_key.as_deref().map(Into::into),
                delivery: worker.clone(),
                deliveries_queued: Arc::clone(&deliveries_queued),
                jobs_queued: Arc::clone(&jobs_queued),
            },
            console: api::console::ConsoleState {
                store: store.clone(),
                base_url: base_url.as_str().into(),
            },
            inbound: api::InboundState {
                store: store.clone(),
                activity: activity.clone(),
                deliveries_queued: Arc::clone(&deliveries_queued),
            },
        });
        Ok(Self {
            listener,
            router,
            port: address.port(),
            base_url,
            store,
            worker,
            deliveries_queued,
            jobs,
            jobs_queued,
            deliver_in_background: config.deliver_in_background,
            metrics,
            activity,
            shutdown,
            shutdown_handle,
            shutdown_delay: config.shutdown_delay,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's URL without a trailing slash: `HOOKLINE_PUBLIC_URL`, or derived from the
    /// bound address.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// A handle on the delivery worker, for tests that drive it with their own clock.
    pub fn delivery_worker(&self) -> DeliveryWorker {
        self.worker.clone()
    }

    /// A handle on the job runner, for tests that drive it with their own clock.
    pub fn job_runner(&self) -> JobRunner {
        self.jobs.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The social proof feed (its open widget connections, for tests).
    pub fn activity(&self) -> Activity {
        self.activity.clone()
    }

    /// The server's metrics, as `/metrics` renders them.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// A handle that stops the server once it runs, as a signal does.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown_handle.clone()
    }

    /// Serves until Ctrl-C or SIGTERM (each one is a [`ShutdownHandle::shut_down`]).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.shutdown_handle();
        self.run_until(async move {
            loop {
                shutdown_signal().await;
                handle.shut_down();
            }
        })
        .await
    }

    /// Serves until `stop` completes or the [`ShutdownHandle`] is used, then shuts down
    /// gracefully: `/readyz` answers 503, and after `HOOKLINE_SHUTDOWN_DELAY` (or a second
    /// signal) the server stops accepting, lets open requests and in-flight webhook sends
    /// finish, records them, and closes the database.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let workers = if self.deliver_in_background {
            let mut workers = delivery::spawn_background(
                self.worker.clone(),
                Arc::clone(&self.deliveries_queued),
                self.shutdown.subscribe(),
            );
            workers.push(jobs::spawn_background(
                self.jobs.clone(),
                Arc::clone(&self.jobs_queued),
                self.shutdown.subscribe(),
            ));
            workers
        } else {
            Vec::new()
        };
        let handle = self.shutdown_handle.clone();
        let told_to_stop = tokio::spawn(async move {
            stop.await;
            handle.shut_down();
        });
        let (shutdown, delay) = (self.shutdown, self.shutdown_delay);
        let mut draining = self.shutdown_handle.draining.subscribe();
        let mut stop_now = self.shutdown_handle.stop_now.subscribe();
        let stopping = async move {
            // Errs only if the handle's sender were dropped, which `self` prevents; stop then.
            let _ = draining.wait_for(|draining| *draining).await;
            if delay.is_zero() {
                info!("shutting down: /readyz answers 503");
            } else {
                info!(
                    delay_s = delay.as_secs_f64(),
                    "shutting down: /readyz answers 503; still serving for HOOKLINE_SHUTDOWN_DELAY \
                     (a second signal stops at once)"
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop_now.wait_for(|stop_now| *stop_now) => {}
                }
            }
            info!("no longer accepting connections; finishing the requests and webhooks under way");
            shutdown.send_replace(true);
        };
        // With the peer address, which the fraud filter uses as the client's IP.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(stopping)
            .await;
        told_to_stop.abort();
        for worker in workers {
            if let Err(error) = worker.await {
                warn!(%error, "a delivery loop ended abnormally");
            }
        }
        self.store.close().await;
        info!("stopped");
        served.context("the HTTP server failed")
    }
}

/// Checks `HOOKLINE_WEBHOOK_URL` as an endpoint is checked when saved: a refused address
/// (literal, or among what its host resolves to now) stops startup; a host that cannot be
/// resolved now is only warned about, since every send resolves and checks it again.
async fn check_webhook_url(destinations: &Destinations, url: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url)
        .with_context(|| format!("HOOKLINE_WEBHOOK_URL={url} is not a URL"))?;
    match tokio::time::timeout(STARTUP_LOOKUP_TIMEOUT, destinations.check_url(&parsed)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error @ DestinationError::Blocked { .. })) => Err(anyhow::anyhow!(
            "HOOKLINE_WEBHOOK_URL={url} is {error}; add its network to HOOKLINE_ALLOW_NETWORKS to allow it"
        )),
        Ok(Err(error)) => {
            warn!(%error, url, "HOOKLINE_WEBHOOK_URL cannot be checked now; each delivery checks it again");
            Ok(())
        }
        Err(_) => {
            warn!(
                url,
                "HOOKLINE_WEBHOOK_URL's host did not resolve in time; each delivery checks it again"
            );
            Ok(())
        }
    }
}

/// Creates or updates a managed endpoint, keeping its public id.
async fn save_endpoint(
    store: &Store,
    managed_by: &str,
    existing: Option<EndpointRecord>,
    url: &str,
    secret: &str,
    events: &[EventType],
) -> anyhow::Result<EndpointRecord> {
    if let Some(endpoint) = &existing
        && let Some(reason) = endpoint.disabled_reason
    {
        warn!(
            endpoint = %endpoint.public_id, url = %endpoint.url, reason = reason.as_str(),
            disabled_at = endpoint.disabled_at,
            "delivery had disabled the {managed_by} webhook endpoint; the settings enable it again"
        );
    }
    let public_id = existing.map_or_else(new_endpoint_id, |endpoint| endpoint.public_id);
    let endpoint = ManagedEndpoint {
        managed_by,
        public_id: &public_id,
        url,
        secret,
        events,
        now: clock::now_millis(),
    };
    store
        .save_managed_endpoint(&endpoint)
        .await
        .with_context(|| format!("failed to save the {managed_by} webhook endpoint"))
}

/// The master key connector credentials are encrypted under: `HOOKLINE_SECRET_KEY`, else the
/// key file (`HOOKLINE_SECRET_KEY_FILE`, or beside the SQLite database, or `hookline.key` in
/// the working directory on PostgreSQL), created with mode 0600 on first start.
fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(key) = &config.secret_key {
        return MasterKey::parse(key).context("HOOKLINE_SECRET_KEY is not base64 of 32 bytes");
    }
    let path = match &config.secret_key_file {
        Some(path) => path.clone(),
        None => match config.database_url.strip_prefix("sqlite:") {
            Some(rest) => {
                let file = rest.trim_start_matches("//");
                let file = file.split('?').next().unwrap_or(file);
                PathBuf::from(format!("{file}.key"))
            }
            None => {
                warn!(
                    "HOOKLINE_SECRET_KEY is not set: keeping the master key in ./hookline.key; \
                     every server sharing this PostgreSQL database needs the same key"
                );
                PathBuf::from("hookline.key")
            }
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::parse(&text)
            .with_context(|| format!("the key file {} is not base64 of 32 bytes", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate().context("failed to make a master key")?;
            write_key_file(&path, key.to_base64().as_str())
                .with_context(|| format!("failed to create the key file {}", path.display()))?;
            info!(path = %path.display(), "created the master key file for auth connector credentials");
            Ok(key)
        }
        Err(error) => {
            Err(error).with_context(|| format!("failed to read the key file {}", path.display()))
        }
    }
}

/// Writes a new key file readable by its owner only; never replaces one.
fn write_key_file(path: &Path, key: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(key.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// `http://` and the bound address, with a loopback address in place of "all interfaces".
fn url_of(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

use crate::endpoints::{new_endpoint_id, new_signing_secret};

/// The campaign every fresh database starts with, which the demo page embeds.
fn demo_campaign() -> NewCampaign {
    let mut campaign = NewCampaign::new(
        CampaignKey::parse("demo").expect("`demo` is a valid campaign key"),
        "Hookline Demo Giveaway",
        CampaignType::Competition,
    );
    campaign.description = "Enter your email for a chance to win a year of coffee.".to_owned();
    campaign.consent_text =
        "I agree to receive emails from the Hookline Demo and accept the terms.".to_owned();
    let mut subscribe = NewEntryMethod::new(
        EntryMethodType::EmailSubscribe,
        "Subscribe to our newsletter",
    );
    subscribe.mandatory = true;
    campaign.entry_methods = vec![subscribe];
    // The demo page shows social proof: entries, and conversions once a stream is made.
    campaign.settings = serde_json::json!({"social_proof": {"enabled": true}});
    campaign
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
