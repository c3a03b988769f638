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
use crate::api::{self, AppState, RouterParts};
use crate::clock;
use crate::config::Config;
use crate::delivery::{self, DeliveryWorker};
use crate::demo::DemoReceiver;
use crate::destination::{DestinationError, Destinations};
use crate::ingest::Ingest;
use crate::limits::RateLimits;
use crate::secrets::MasterKey;
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
    deliver_in_background: bool,
    shutdown: watch::Sender<bool>,
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
        let worker = DeliveryWorker::new(
            store.clone(),
            destinations,
            config.delivery_timeouts,
            config.delivery_limits,
            master_key,
            config.allow_http_webhooks,
        )?;
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let router = api::router(RouterParts {
            state: AppState {
                store: store.clone(),
                ingest: Ingest::new(
                    store.clone(),
                    Arc::clone(&deliveries_queued),
                    RateLimits::new(config.rate_limits),
                ),
                trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            },
            demo,
            shutdown: shutdown_receiver,
            widget_dir: &config.widget_dir,
            www_dir: &config.www_dir,
            admin: api::admin::AdminState {
                store: store.clone(),
                base_url: base_url.as_str().into(),
                operator_key: config.operator_key.as_deref().map(Into::into),
                delivery: worker.clone(),
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
            deliver_in_background: config.deliver_in_background,
            shutdown,
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

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then shuts down gracefully: stops accepting, lets open
    /// requests and in-flight webhook sends finish, and closes the database.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let workers = if self.deliver_in_background {
            delivery::spawn_background(
                self.worker.clone(),
                Arc::clone(&self.deliveries_queued),
                self.shutdown.subscribe(),
            )
        } else {
            Vec::new()
        };
        let shutdown = self.shutdown;
        let stopping = async move {
            stop.await;
            info!("shutting down");
            // Errs only when nobody listens any more, which is fine.
            let _ = shutdown.send(true);
        };
        // With the peer address, which the fraud filter uses as the client's IP.
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(stopping)
            .await;
        for worker in workers {
            if let Err(error) = worker.await {
                warn!(%error, "a delivery loop ended abnormally");
            }
        }
        self.store.close().await;
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
