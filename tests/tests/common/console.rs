//! The admin console's end-to-end tests' share: the real server for a site owner (SQLite, not
//! in demo mode, webhooks allowed to this machine over `http://`) and a person at the browser
//! who opens pages, waits for what they show (page conditions with a deadline, never sleeps),
//! clicks, types, chooses, and saves each screen after checking it.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::Locator;
use serde_json::{Value, json};
use server::address::AllowList;
use tests::Browser;

/// How long any one thing may take to appear.
pub const DEADLINE: Duration = Duration::from_secs(40);

/// The real server on SQLite with a fresh database, not in demo mode, letting webhooks reach
/// this machine over `http://` (the receiver is on 127.0.0.1).
pub async fn spawn_console_server() -> anyhow::Result<super::Server> {
    super::spawn_server_with(|config| {
        config.demo = false;
        config.allow_networks = AllowList::parse("127.0.0.0/8").expect("a valid network");
        config.allow_http_webhooks = true;
    })
    .await
}

/// A person at the browser.
pub struct Person {
    pub browser: Browser,
    pub base_url: String,
}

impl Person {
    pub async fn open(&self, path: &str) -> anyhow::Result<()> {
        self.browser.goto(&format!("{}{path}", self.base_url)).await
    }

    /// Waits until `condition` (a function body run in the page) returns something truthy,
    /// and returns it. The page checks every 50 ms; a navigation in between starts the
    /// check again on the new page.
    pub async fn wait(&self, condition: &str, what: &str) -> anyhow::Result<Value> {
        let script = format!(
            r#"const done = arguments[arguments.length - 1];
               const check = () => {{ try {{ return (function () {{ {condition} }})(); }} catch (e) {{ return null; }} }};
               const started = Date.now();
               const tick = () => {{
                 const value = check();
                 if (value) done(value);
                 else if (Date.now() - started > 4000) done(null);
                 else setTimeout(tick, 50);
               }};
               tick();"#
        );
        let deadline = Instant::now() + DEADLINE;
        let mut last_error = None;
        loop {
            match self.browser.eval_async(&script, vec![]).await {
                Ok(Value::Null | Value::Bool(false)) => {}
                Ok(value) => return Ok(value),
                // The page changed under the script (a navigation): check the new one.
                Err(error) => last_error = Some(error),
            }
            if Instant::now() > deadline {
                let page = self
                    .browser
                    .eval(
                        "return location.href + '\\n' + document.body.innerText.slice(0, 3000);",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                bail!(
                    "{what}: not seen within {DEADLINE:?} (last error: {last_error:?}); the page: {page}"
                );
            }
        }
    }

    /// Waits for `path` to be the page shown, loaded.
    pub async fn on_page(&self, path: &str) -> anyhow::Result<()> {
        let condition = format!(
            "return location.pathname + location.search === {} && document.readyState === 'complete';",
            json!(path)
        );
        self.wait(&condition, &format!("the page {path}")).await?;
        Ok(())
    }

    pub async fn find(&self, selector: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.browser
            .client()
            .find(Locator::Css(selector))
            .await
            .with_context(|| format!("no {selector} on the page"))
    }

    pub async fn click(&self, selector: &str) -> anyhow::Result<()> {
        self.find(selector)
            .await?
            .click()
            .await
            .with_context(|| format!("could not click {selector}"))
    }

    /// Empties a field and types `text` into it.
    pub async fn fill(&self, selector: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find(selector).await?;
        field.clear().await?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("could not type into {selector}"))
    }

    pub async fn choose(&self, selector: &str, value: &str) -> anyhow::Result<()> {
        self.find(selector)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("could not choose {value} in {selector}"))
    }

    pub async fn text(&self, selector: &str) -> anyhow::Result<String> {
        Ok(self.find(selector).await?.text().await?)
    }

    /// Scrolls the page until `selector` is at the top, as a person scrolls to what they
    /// read.
    pub async fn scroll_to(&self, selector: &str) -> anyhow::Result<()> {
        let found = self
            .browser
            .eval(
                "const el = document.querySelector(arguments[0]); if (!el) return false; el.scrollIntoView({block: 'start'}); return true;",
                vec![json!(selector)],
            )
            .await?;
        anyhow::ensure!(found == json!(true), "nothing to scroll to: {selector}");
        Ok(())
    }

    /// Answers "OK" to the page's confirmation question.
    pub async fn confirm(&self) -> anyhow::Result<()> {
        self.browser
            .client()
            .accept_alert()
            .await
            .context("no confirmation was asked")
    }

    /// Every visible form control has a label a screen reader reads, and the page has no
    /// horizontal scrolling (tables scroll inside their own box).
    pub async fn check_readable(&self, screen: &str) -> anyhow::Result<()> {
        let problems = self
            .browser
            .eval(
                r#"const unlabelled = Array.from(document.querySelectorAll("input, select, textarea"))
                     .filter(el => el.type !== "hidden" && el.offsetParent !== null)
                     .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
                     .map(el => el.outerHTML.slice(0, 120));
                   const overflow = document.documentElement.scrollWidth - window.innerWidth;
                   return { unlabelled, overflow };"#,
                vec![],
            )
            .await?;
        assert_eq!(
            problems["unlabelled"],
            json!([]),
            "{screen}: controls without a label"
        );
        assert!(
            problems["overflow"].as_i64().unwrap_or(0) <= 0,
            "{screen}: the page scrolls sideways by {} px",
            problems["overflow"]
        );
        Ok(())
    }

    /// Saves the screen as `artifacts/screenshots/{name}.png` and checks the file: a PNG of
    /// the viewport's size in device pixels.
    pub async fn shot(&self, name: &str) -> anyhow::Result<()> {
        self.check_readable(name).await?;
        let path = self.browser.screenshot(name).await?;
        let png = std::fs::read(&path).with_context(|| format!("{} is missing", path.display()))?;
        let (width, height) = png_size(&png).with_context(|| format!("{name}.png is not a PNG"))?;
        let viewport = self
            .browser
            .eval(
                "return [Math.round(innerWidth * devicePixelRatio), Math.round(innerHeight * devicePixelRatio)];",
                vec![],
            )
            .await?;
        assert_eq!(
            json!([width, height]),
            viewport,
            "{name}.png is the size of the page's viewport"
        );
        assert!(
            png.len() > 5_000,
            "{name}.png has content ({} bytes)",
            png.len()
        );
        Ok(())
    }
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if png.len() < 24 || png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        return None;
    }
    let number = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    Some((number(16), number(20)))
}
