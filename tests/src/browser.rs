//! A real headless Chromium, driven over WebDriver by `chromedriver`, for end-to-end tests.
//!
//! Each [`Browser`] gets its own chromedriver process on a free port and its own fresh
//! profile directory, so tests run side by side. Chromium is started with the flags this
//! machine needs (no sandbox as root, no background networking: the network is closed).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long chromedriver may take to start listening.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium session. Dropping it ends chromedriver (and with it Chromium).
#[derive(Debug)]
pub struct Browser {
    client: Client,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium (`HOOKLINE_CHROMIUM` and
    /// `HOOKLINE_CHROMEDRIVER` override the Debian paths).
    pub async fn start() -> anyhow::Result<Self> {
        let chromium =
            std::env::var("HOOKLINE_CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.into());
        let chromedriver =
            std::env::var("HOOKLINE_CHROMEDRIVER").unwrap_or_else(|_| DEFAULT_CHROMEDRIVER.into());
        for tool in [&chromium, &chromedriver] {
            if !Path::new(tool).is_file() {
                bail!(
                    "{tool} is missing: run `cargo xtask test`, which installs chromium and chromium-driver"
                );
            }
        }
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start {chromedriver}"))?;
        if let Err(error) = wait_until_started(&mut driver, DRIVER_START_TIMEOUT) {
            // The driver never came up: stop it before reporting. Its exit status is moot.
            let _ = driver.kill();
            return Err(error);
        }
        let profile = tempfile::tempdir().context("failed to make a Chromium profile directory")?;
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "timeouts": { "script": 20_000, "pageLoad": 30_000 },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("json! of an object is an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("failed to open a Chromium session through chromedriver")?;
        Ok(Self {
            client,
            chromedriver: driver,
            _profile: profile,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("failed to open {url}"))
    }

    /// Runs `script` in the page (as a function body; `arguments` holds `args`).
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.client
            .execute(script, args)
            .await
            .context("script failed in the page")
    }

    /// Runs an asynchronous script: it calls `arguments[arguments.length - 1](value)` when
    /// done. Used to wait for page events without polling from the test.
    pub async fn eval_async(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.client
            .execute_async(script, args)
            .await
            .context("async script failed or timed out in the page")
    }

    /// Runs a Chrome DevTools Protocol command (e.g. `Network.emulateNetworkConditions`)
    /// through chromedriver's `goog/cdp/execute` endpoint and returns its result.
    pub async fn cdp(&self, command: &str, params: Value) -> anyhow::Result<Value> {
        self.client
            .issue_cmd(DevToolsCommand {
                command: command.to_owned(),
                params,
            })
            .await
            .with_context(|| format!("the DevTools command {command} failed"))
    }

    /// Takes the page offline (`true`) or back online, as the DevTools network panel does:
    /// requests fail at once and `navigator.onLine` follows, with `offline`/`online` events.
    pub async fn set_offline(&self, offline: bool) -> anyhow::Result<()> {
        self.cdp("Network.enable", json!({})).await?;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await?;
        Ok(())
    }

    /// The element matching `selector` inside the open shadow root of the element matching
    /// `host_selector`.
    pub async fn find_in_shadow(
        &self,
        host_selector: &str,
        selector: &str,
    ) -> anyhow::Result<Element> {
        let host = self
            .client
            .find(Locator::Css(host_selector))
            .await
            .with_context(|| format!("no element matches {host_selector}"))?;
        let root = host
            .shadow_root()
            .await
            .with_context(|| format!("{host_selector} has no shadow root"))?;
        root.find(Locator::Css(selector))
            .await
            .with_context(|| format!("no {selector} in the shadow root of {host_selector}"))
    }

    /// Saves a PNG of the viewport to `artifacts/screenshots/{name}.png` at the workspace root
    /// and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("failed to take a screenshot")?;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts/screenshots");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png)
            .with_context(|| format!("failed to write {}", path.display()))?;
        Ok(path)
    }

    /// Ends the session cleanly.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.client
            .clone()
            .close()
            .await
            .context("failed to close the browser session")?;
        // The session is closed; the driver has nothing left to do. A failed kill means it
        // already exited.
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Best effort on the way out of a failed test: the driver may already be gone.
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// chromedriver's vendor command that forwards one DevTools Protocol command.
#[derive(Debug)]
struct DevToolsCommand {
    command: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits for chromedriver's "started successfully" line on its standard output, then keeps
/// draining that output in the background so the driver never blocks on a full pipe.
fn wait_until_started(driver: &mut Child, timeout: Duration) -> anyhow::Result<()> {
    let stdout = driver
        .stdout
        .take()
        .context("chromedriver's stdout is not piped")?;
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut announced = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !announced && line.contains("started successfully") {
                announced = true;
                // The receiver may have given up already; then nobody needs the news.
                let _ = started_tx.send(());
            }
        }
    });
    started_rx.recv_timeout(timeout).map_err(|_| {
        anyhow::anyhow!("chromedriver did not report a successful start within {timeout:?}")
    })
}
