//! End-to-end: a person who uses the keyboard alone enters through the widget in headless
//! Chromium. From a link of the host page, Tab reaches the widget's fields in reading order
//! (email, name, consent, the Enter button; never the honeypot), each focused field shows a
//! visible focus ring, the keys type, Space ticks the consent box, Enter on the button
//! submits, and the result is announced in a live region.

mod common;

use common::{RECORD_EVENTS, host_page, spawn_server, wait_for_events, wait_for_state};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::{Value, json};
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

/// Presses and releases each key in turn, as typing does, wherever the focus is.
async fn press(browser: &Browser, keys: &str) -> anyhow::Result<()> {
    let mut actions = KeyActions::new("keyboard".to_owned());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    browser.client().perform_actions(actions).await?;
    Ok(())
}

fn key(key: Key) -> String {
    char::from(key).to_string()
}

/// What has the focus: the element inside the widget (`name`, `type`, its outline) or, when
/// the focus is outside it, the page's element (`outside`).
async fn focused(browser: &Browser) -> anyhow::Result<Value> {
    browser
        .eval(
            r#"const host = document.querySelector(".hookline-campaign");
               if (document.activeElement !== host) {
                 return { outside: document.activeElement.id || document.activeElement.tagName };
               }
               const el = host.shadowRoot.activeElement;
               const style = getComputedStyle(el);
               return { name: el.name || el.textContent.trim(), type: el.type,
                        ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 };"#,
            vec![],
        )
        .await
}

#[tokio::test]
async fn a_person_enters_with_the_keyboard_alone() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<p><a id="before" href="/elsewhere">The rules</a></p>
                  <div class="hookline-campaign" data-campaign="demo"></div>"#;
    let site = HostSite::start([(
        "/page",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/page")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    // The person has read the page as far as the rules' link.
    browser
        .eval("document.getElementById('before').focus();", vec![])
        .await?;
    assert_eq!(focused(&browser).await?, json!({ "outside": "before" }));

    let tab = key(Key::Tab);
    press(&browser, &tab).await?;
    let email = focused(&browser).await?;
    assert_eq!(
        email["name"], "email",
        "Tab goes to the email first: {email}"
    );
    assert_eq!(email["ring"], true, "a visible focus ring: {email}");
    press(&browser, "ada@example.com").await?;

    press(&browser, &tab).await?;
    let name = focused(&browser).await?;
    assert_eq!(name["name"], "name", "then the name: {name}");
    assert_eq!(name["ring"], true, "{name}");
    press(&browser, "Ada Lovelace").await?;

    press(&browser, &tab).await?;
    let consent = focused(&browser).await?;
    assert_eq!(
        consent["name"], "consent",
        "then the consent box: {consent}"
    );
    assert_eq!(consent["ring"], true, "{consent}");
    press(&browser, &key(Key::Space)).await?;

    press(&browser, &tab).await?;
    let button = focused(&browser).await?;
    assert_eq!(
        button["type"], "submit",
        "then the Enter button, not the honeypot: {button}"
    );
    assert_eq!(button["ring"], true, "{button}");
    press(&browser, &key(Key::Enter)).await?;

    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    assert_eq!(entry[0]["detail"]["user"]["email"], "ada@example.com");
    assert_eq!(entry[0]["detail"]["user"]["name"], "Ada Lovelace");
    let announced = browser
        .eval(
            r#"const root = document.querySelector(".hookline-campaign").shadowRoot;
               const done = root.querySelector(".hl-done");
               const live = done && done.closest("[aria-live], [role=status]");
               return live ? done.textContent : null;"#,
            vec![],
        )
        .await?;
    assert!(
        announced
            .as_str()
            .is_some_and(|text| text.contains("You're in!")),
        "the result is in a live region: {announced}"
    );
    browser.screenshot("widget-keyboard-done").await?;
    Ok(())
}
