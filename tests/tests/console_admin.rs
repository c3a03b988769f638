//! End-to-end: the admin console in headless Chromium, used as a site owner would. First-run
//! setup, sign out and in, a campaign and a webhook to a real local receiver made entirely
//! through the console (a template mistake shown at its place first, an auth connector made
//! from the webhook form), Send test, the Example tab, an entry through the widget, seen in
//! Entries and in the History tab; then the receiver fails, the attempt shows failed, the
//! receiver is fixed, Retry is pressed and the delivery shows delivered. Rotating the
//! secret, deleting and restoring the webhook, and the screens at phone width follow.
//!
//! Every screen is saved to `artifacts/screenshots/console-*.png` and checked: a PNG of the
//! page's size, taken right after the test asserted what it shows. Waits are on page
//! conditions with a deadline; retries are driven by the Retry button, never by backoff.

mod common;

use anyhow::Context;
use common::console::{DEADLINE, Person, spawn_console_server};
use common::{enter_details, wait_for_state, wait_in_shadow};
use serde_json::json;
use tests::{Browser, TestReceiver};

/// The JSON of every request the receiver got with this `hookline-event`.
fn received(receiver: &TestReceiver, event: &str) -> Vec<tests::receiver::Recorded> {
    receiver
        .requests()
        .into_iter()
        .filter(|request| request.header("hookline-event") == Some(event))
        .collect()
}

#[tokio::test]
async fn a_site_owner_sets_up_a_campaign_and_a_webhook_and_retries_a_failed_delivery()
-> anyhow::Result<()> {
    let receiver = TestReceiver::start().await;
    let server = spawn_console_server().await?;
    let base_url = server.base_url.clone();
    let person = Person {
        browser: Browser::start().await?,
        base_url,
    };

    // First run: the console offers setup, and shows the workspace's key once.
    person.open("/admin").await?;
    person.on_page("/admin/setup").await?;
    person.shot("console-setup").await?;
    person.fill("#f-name", "Acme Coffee").await?;
    person.click("#setup button[type=submit]").await?;
    let key = person
        .wait(
            "const key = document.querySelector('#new-key:not([hidden]) #new-key-value'); return key && key.textContent.startsWith('hlk_') && key.textContent;",
            "the new workspace's key",
        )
        .await?;
    let key = key.as_str().context("the key is text")?.to_owned();
    person.shot("console-setup-key").await?;
    person.click("#new-key button[type=submit]").await?;
    person.on_page("/admin/campaigns").await?;

    // Sign out, then in: a wrong key is refused beside the field, the right one works.
    person
        .click("form[action='/admin/sign-out'] button")
        .await?;
    person.on_page("/admin/sign-in").await?;
    person.fill("#key", "hlk_not-a-real-key").await?;
    person
        .click("form[action='/admin/sign-in'] button[type=submit]")
        .await?;
    person
        .wait(
            "const error = document.querySelector('#key-error'); return error && error.textContent.includes('not a valid API key');",
            "the wrong key's error",
        )
        .await?;
    person.shot("console-sign-in-error").await?;
    person.fill("#key", &key).await?;
    person
        .click("form[action='/admin/sign-in'] button[type=submit]")
        .await?;
    person.on_page("/admin/campaigns").await?;
    person
        .wait(
            "return document.querySelector('h1').textContent === 'Campaigns' && document.querySelector('a[href=\"/admin/campaigns/new\"]');",
            "the campaign list",
        )
        .await?;
    person.shot("console-campaigns").await?;

    // A campaign, made and set up in the console.
    person.click("a[href='/admin/campaigns/new']").await?;
    person.on_page("/admin/campaigns/new").await?;
    person.fill("#f-name", "Spring Giveaway").await?;
    person.fill("#f-key", "spring").await?;
    person
        .fill(
            "#f-consent_text",
            "I agree to receive emails from Acme Coffee.",
        )
        .await?;
    person.choose("#f-status", "running").await?;
    person.shot("console-campaign-new").await?;
    person.click("form[data-api] button[type=submit]").await?;
    person.on_page("/admin/campaigns/spring").await?;
    person.choose("#new-type", "email_subscribe").await?;
    person
        .fill("#new-action", "Subscribe to our newsletter")
        .await?;
    person.click("#new-mandatory").await?;
    person.click("#new-method button[type=submit]").await?;
    person
        .wait(
            "return document.querySelectorAll('details.method summary').length === 1 && document.querySelector('details.method summary').textContent.includes('Subscribe to our newsletter');",
            "the new entry method",
        )
        .await?;
    // The hold window and fraud level are set like any other setting.
    person.choose("#f-fraud_level", "lenient").await?;
    person.fill("#f-hold_window_seconds", "120").await?;
    person
        .click("#campaign-settings button[type=submit]")
        .await?;
    person
        .wait(
            "const ok = document.querySelector('#campaign-settings [data-form-ok]'); return ok && !ok.hidden;",
            "the saved settings",
        )
        .await?;
    // The live preview shows the real widget, ready.
    person.click("section.card details summary").await?;
    person
        .wait(
            "const frame = document.querySelector('iframe.preview'); const host = frame && frame.contentDocument && frame.contentDocument.querySelector('.hookline-campaign'); return host && host.getAttribute('data-hookline-state') === 'ready';",
            "the live preview's widget",
        )
        .await?;
    let snippet = person.text("#embed-snippet").await?;
    assert!(
        snippet.contains("data-campaign=\"spring\"") && snippet.contains("/widget/hookline.js"),
        "the embed snippet: {snippet}"
    );
    let hosted = person
        .find("#hosted-link")
        .await?
        .attr("href")
        .await?
        .context("the hosted page link")?;
    assert!(hosted.ends_with("/c/spring"), "{hosted}");
    person.scroll_to("body").await?;
    person.shot("console-campaign").await?;
    person.scroll_to("#embed-snippet").await?;
    person.shot("console-campaign-preview").await?;
    person.scroll_to("#campaign-settings").await?;
    person.shot("console-campaign-settings").await?;

    // A webhook to the receiver, entirely in the console.
    person.click("header nav a[href='/admin/webhooks']").await?;
    person.on_page("/admin/webhooks").await?;
    person.click("a[href='/admin/webhooks/new']").await?;
    person.on_page("/admin/webhooks/new").await?;
    person.fill("#f-name", "CRM contacts").await?;
    person
        .fill("#f-description", "New entrants go to the CRM.")
        .await?;
    person.click("#campaign-spring").await?;
    person
        .fill(
            "#f-url",
            &format!("{}?campaign={{{{campaign.key}}}}", receiver.url()),
        )
        .await?;
    person.fill("#f-headers", "X-Source: hookline").await?;
    person
        .fill(
            "#f-body_template",
            "{\"email\": \"{{user.email}}\",\n \"who\": \"{{user.emial}}\", \"entry\": {{entry.id}}}",
        )
        .await?;
    person.fill("#f-retry_schedule", "600, 3600").await?;
    person.fill("#f-max_attempts", "5").await?;
    // An auth connector, made from the form as seed 002 describes, and chosen at once.
    person
        .click("button[data-open-dialog='#new-connector']")
        .await?;
    person
        .wait(
            "return document.querySelector('#new-connector').open;",
            "the connector dialog",
        )
        .await?;
    person.fill("#d-name", "Receiver token").await?;
    person.choose("#d-type", "bearer").await?;
    person
        .wait(
            "return !document.querySelector('#d-token').closest('fieldset').disabled;",
            "the token field",
        )
        .await?;
    person.fill("#d-token", "s3cret-token").await?;
    person.shot("console-connector-dialog").await?;
    person.click("#new-connector button[type=submit]").await?;
    person
        .wait(
            "const select = document.querySelector('#f-auth_connector_id'); return !document.querySelector('#new-connector').open && select.value.startsWith('ac_') && select.value;",
            "the new connector chosen",
        )
        .await?;

    // The template mistake is shown beside the body, at its line and column, and nothing
    // typed is lost.
    person.click("#webhook-form button[type=submit]").await?;
    let error = person
        .wait(
            "const error = document.querySelector('[data-error-for=body_template]'); return error && !error.hidden && error.textContent;",
            "the body template's error",
        )
        .await?;
    let error = error.as_str().unwrap_or_default().to_owned();
    assert!(
        error.contains("Line 2") && error.contains("user.emial"),
        "the error names the place and the variable: {error}"
    );
    let place = person
        .browser
        .eval(
            r##"const field = document.activeElement;
               return { id: field.id, caret: field.selectionStart, line_one: field.value.indexOf("\n"),
                        excerpt: !!document.querySelector("[data-error-for=body_template] pre.caret"),
                        name: document.querySelector("#f-name").value, invalid: field.getAttribute("aria-invalid") };"##,
            vec![],
        )
        .await?;
    assert_eq!(place["id"], "f-body_template", "the body has the focus");
    assert!(
        place["caret"].as_i64() > place["line_one"].as_i64(),
        "the caret is on line 2: {place}"
    );
    assert_eq!(place["excerpt"], true, "the line is shown with a caret");
    assert_eq!(place["name"], "CRM contacts", "nothing typed is lost");
    assert_eq!(place["invalid"], "true");
    assert!(
        received(&receiver, "webhook.test").is_empty(),
        "nothing was saved or sent"
    );
    person.shot("console-webhook-error").await?;
    person
        .fill(
            "#f-body_template",
            "{\"email\": \"{{user.email}}\",\n \"who\": \"{{user.name}}\", \"entry\": {{entry.id}}, \"event\": \"{{event.type}}\"}",
        )
        .await?;
    person.click("#webhook-form button[type=submit]").await?;
    let secret = person
        .wait(
            "const secret = document.querySelector('#created:not([hidden]) #created-secret'); const test = document.querySelector('#save-outcome [data-succeeded=true]'); return secret && test && secret.textContent.startsWith('whsec_') && secret.textContent;",
            "the created webhook's secret and its test",
        )
        .await?;
    let first_secret = secret.as_str().unwrap_or_default().to_owned();
    let tested = received(&receiver, "webhook.test");
    let test = tested
        .first()
        .context("the test on save reached the receiver")?;
    assert_eq!(test.header("authorization"), Some("Bearer s3cret-token"));
    assert_eq!(test.header("x-source"), Some("hookline"));
    assert!(test.path.starts_with("/hooks?campaign="), "{}", test.path);
    assert!(
        person.text("#save-outcome").await?.contains("answered 204"),
        "the outcome shows the receiver's answer"
    );
    person.shot("console-webhook-created").await?;
    let webhook_path = person
        .find("#created-link")
        .await?
        .attr("href")
        .await?
        .context("the link to the new webhook")?;
    assert!(
        webhook_path.starts_with("/admin/webhooks/ep_"),
        "{webhook_path}"
    );
    person.click("#created-link").await?;
    person.on_page(&webhook_path).await?;
    let endpoint_id = webhook_path
        .trim_start_matches("/admin/webhooks/")
        .to_owned();
    let settings = person
        .browser
        .eval(
            r##"return { url: document.querySelector("#f-url").value, retry: document.querySelector("#f-retry_schedule").value,
                        connector: document.querySelector("#f-auth_connector_id").selectedOptions[0].textContent,
                        campaign: document.querySelector("#campaign-spring").checked,
                        events: Array.from(document.querySelectorAll("input[name=events]:checked")).map(e => e.value) };"##,
            vec![],
        )
        .await?;
    assert_eq!(settings["retry"], "600, 3600");
    assert_eq!(settings["campaign"], true);
    assert_eq!(settings["events"], json!(["entry.created"]));
    assert!(
        settings["connector"]
            .as_str()
            .is_some_and(|text| text.contains("Receiver token")),
        "{settings}"
    );
    person.shot("console-webhook-settings").await?;

    // Send test shows the response.
    person.click("#send-test button[type=submit]").await?;
    person
        .wait(
            "const outcome = document.querySelector('#test-outcome [data-succeeded=true]'); return outcome && outcome.textContent.includes('answered 204');",
            "the test's outcome",
        )
        .await?;
    assert_eq!(received(&receiver, "webhook.test").len(), 2);
    person.scroll_to("#send-test").await?;
    person.shot("console-webhook-send-test").await?;

    // Editing: a refused value is shown beside its field and nothing is saved; a good one
    // is saved, tested again, and kept.
    person.fill("#f-rate_limit_per_second", "0").await?;
    person
        .fill(
            "#f-description",
            "New entrants go to the CRM, ten a second at most.",
        )
        .await?;
    person.click("#webhook-form button[type=submit]").await?;
    person
        .wait(
            "const error = document.querySelector('[data-error-for=rate_limit_per_second]'); return error && !error.hidden && document.activeElement.id === 'f-rate_limit_per_second';",
            "the rate limit's error",
        )
        .await?;
    assert_eq!(
        received(&receiver, "webhook.test").len(),
        2,
        "nothing was saved"
    );
    person.fill("#f-rate_limit_per_second", "10").await?;
    person.click("#webhook-form button[type=submit]").await?;
    person
        .wait(
            "const ok = document.querySelector('#webhook-form [data-form-ok]'); return ok && !ok.hidden && document.querySelector('#save-outcome [data-succeeded=true]');",
            "the saved settings and their test",
        )
        .await?;
    assert_eq!(
        received(&receiver, "webhook.test").len(),
        3,
        "saving tests again"
    );
    person.open(&webhook_path).await?;
    let kept = person
        .wait(
            "const limit = document.querySelector('#f-rate_limit_per_second'); return limit && [limit.value, document.querySelector('#f-description').value, document.querySelector('#f-auth_connector_id').value.slice(0, 3)];",
            "the saved settings",
        )
        .await?;
    assert_eq!(
        kept,
        json!([
            "10",
            "New entrants go to the CRM, ten a second at most.",
            "ac_"
        ])
    );

    // The Example tab: the exact request, signed, the credentials redacted.
    person
        .click(&format!("nav.tabs a[href='{webhook_path}/example']"))
        .await?;
    let example = person
        .wait(
            "const request = document.querySelector('#example pre[data-request]'); return request && request.textContent;",
            "the example request",
        )
        .await?;
    let example = example.as_str().unwrap_or_default();
    assert!(
        example.starts_with(&format!("POST {}?campaign=", receiver.url())),
        "{example}"
    );
    for line in [
        "content-type: application/json",
        "hookline-event: entry.created",
        "authorization: [redacted]",
        "x-source: hookline",
        "webhook-signature: v1,",
        "\"event\": \"entry.created\"",
    ] {
        assert!(
            example.contains(line),
            "the example has {line:?}: {example}"
        );
    }
    person.shot("console-webhook-example").await?;

    // The connector is listed with its webhook; deleting it while used is refused, clearly.
    person.open("/admin/connectors").await?;
    person.on_page("/admin/connectors").await?;
    person
        .wait(
            "return document.querySelector('#connectors').textContent.includes('CRM contacts');",
            "the connector's webhook",
        )
        .await?;
    person
        .click("#connectors button[data-api^='DELETE']")
        .await?;
    person.confirm().await?;
    person
        .wait(
            "const error = document.querySelector('#connectors [data-form-error]'); return error && !error.hidden && error.textContent.includes('use this connector');",
            "the connector-in-use error",
        )
        .await?;
    assert!(
        !person.text("#connectors").await?.contains("s3cret-token"),
        "the token is never shown"
    );
    person.shot("console-connectors").await?;

    // An entry through the widget, on the campaign's hosted page.
    person.open("/c/spring").await?;
    let host = ".hookline-campaign";
    wait_for_state(&person.browser, host, "ready").await?;
    enter_details(
        &person.browser,
        host,
        "ada@example.com",
        Some("Ada Lovelace"),
    )
    .await?;
    wait_for_state(&person.browser, host, "done").await?;
    let delivered = receiver.wait_for(4, DEADLINE).await;
    let entry_webhook = delivered
        .iter()
        .find(|request| request.header("hookline-event") == Some("entry.created"))
        .context("entry.created reached the receiver")?;
    let body = entry_webhook.json();
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["who"], "Ada Lovelace");
    assert_eq!(body["event"], "entry.created");
    let entry_id = body["entry"].as_i64().context("the entry's id")?;
    person.shot("console-widget-entry").await?;

    // The console shows the entry and its contestant.
    person.open("/admin/entries").await?;
    person
        .wait(
            "const table = document.querySelector('#entries'); return table && table.textContent.includes('ada@example.com');",
            "the entry in Entries",
        )
        .await?;
    person.shot("console-entries").await?;
    person
        .click("#entries a[href^='/admin/contestants/']")
        .await?;
    person
        .wait(
            "return location.pathname.startsWith('/admin/contestants/') && document.querySelector('h1').textContent.includes('ada@example.com');",
            "the contestant",
        )
        .await?;
    person.shot("console-contestant").await?;

    // The History tab shows the delivery, delivered.
    person.open(&format!("{webhook_path}/history")).await?;
    person
        .wait(
            "const row = document.querySelector('#deliveries tbody tr'); return row && row.querySelector('[data-status=delivered]') && row.textContent.includes('entry.created');",
            "the delivered entry in the History tab",
        )
        .await?;
    person.shot("console-history-delivered").await?;

    // The receiver goes down; a second contestant's delivery fails, and the page shows it.
    receiver.fail_with(503);
    person.open("/c/spring").await?;
    wait_in_shadow(&person.browser, host, ".hl-who button.hl-link", None).await?;
    person
        .browser
        .find_in_shadow(host, ".hl-who button.hl-link")
        .await?
        .click()
        .await?;
    wait_in_shadow(&person.browser, host, "input[name=email]", None).await?;
    enter_details(
        &person.browser,
        host,
        "grace@example.com",
        Some("Grace Hopper"),
    )
    .await?;
    receiver.wait_for(5, DEADLINE).await;
    person.open(&format!("{webhook_path}/history")).await?;
    person
        .wait(
            "const rows = document.querySelectorAll('#deliveries tbody tr'); return rows.length === 2 && rows[0].querySelector('[data-status=pending]') && rows[0].querySelector('[data-last-status=\"503\"]') && rows[1].querySelector('[data-status=delivered]');",
            "the failed attempt in the History tab",
        )
        .await?;
    person.shot("console-history-failed").await?;
    person
        .click("#deliveries tbody tr:first-child a[href^='/admin/deliveries/']")
        .await?;
    person
        .wait(
            "const attempt = document.querySelector('li[data-attempt=\"1\"]'); return attempt && attempt.querySelector('[data-outcome=failure]') && attempt.textContent.includes('failing on purpose') && attempt.textContent.includes('grace@example.com');",
            "the failed attempt's request and response",
        )
        .await?;
    person.scroll_to("ol.attempts").await?;
    person.shot("console-delivery-failed").await?;

    // Fixed: the person presses Retry in the History tab and watches it go through.
    receiver.recover();
    person.open(&format!("{webhook_path}/history")).await?;
    person
        .wait("return document.querySelector('#deliveries tbody tr:first-child [data-status=pending]');", "the waiting delivery")
        .await?;
    person
        .click("#deliveries tbody tr:first-child button[data-api$='/retry']")
        .await?;
    person
        .wait(
            "const rows = document.querySelectorAll('#deliveries tbody tr'); return rows.length === 2 && rows[0].querySelector('[data-status=delivered]') && rows[0].querySelector('[data-last-status=\"204\"]') && rows[0].children[4].textContent.trim() === '2';",
            "the retried delivery, delivered",
        )
        .await?;
    let all = receiver.wait_for(6, DEADLINE).await;
    let retried: Vec<_> = all
        .iter()
        .filter(|request| request.header("hookline-event") == Some("entry.created"))
        .collect();
    assert_eq!(
        retried.len(),
        3,
        "the first entry, the failed try, the retry"
    );
    assert_eq!(
        retried[1].header("webhook-id"),
        retried[2].header("webhook-id"),
        "the retry is the same message"
    );
    assert_eq!(retried[2].json()["email"], "grace@example.com");
    person.shot("console-history-retried").await?;
    person
        .click("#deliveries tbody tr:first-child a[href^='/admin/deliveries/']")
        .await?;
    person
        .wait(
            "const first = document.querySelector('li[data-attempt=\"1\"] [data-outcome=failure]'); const second = document.querySelector('li[data-attempt=\"2\"] [data-outcome=success]'); return first && second && document.querySelector('h2 [data-status=delivered]');",
            "both attempts of the retried delivery",
        )
        .await?;
    person.scroll_to("ol.attempts").await?;
    person.shot("console-delivery-retried").await?;

    // The history's filters: by outcome and by entry.
    person
        .open(&format!(
            "{webhook_path}/history?outcome=delivered&entry={entry_id}"
        ))
        .await?;
    person
        .wait(
            &format!("const rows = document.querySelectorAll('#deliveries tbody tr'); return rows.length === 1 && rows[0].textContent.includes('#{entry_id}');"),
            "the entry's delivery alone",
        )
        .await?;
    person
        .open(&format!("{webhook_path}/history?outcome=failed"))
        .await?;
    person
        .wait("return !document.querySelector('#deliveries') && document.querySelector('#history').textContent.includes('No deliveries match');", "no failed deliveries")
        .await?;

    // The list: status and the recent success rate (2 of 3 tries succeeded).
    person.open("/admin/webhooks").await?;
    let rate = person
        .wait(
            &format!("const row = document.querySelector('tr[data-endpoint=\"{endpoint_id}\"]'); return row && row.querySelector('[data-status=active]') && row.querySelector('[data-success-rate]').textContent;"),
            "the webhook in the list",
        )
        .await?;
    let rate = rate.as_str().unwrap_or_default();
    assert!(rate.contains("67%") && rate.contains("3 tries"), "{rate}");
    person.shot("console-webhooks").await?;

    // Rotating the secret shows the new one once.
    person.open(&webhook_path).await?;
    person.click("#signing-secret button[type=submit]").await?;
    let rotated = person
        .wait(
            "const secret = document.querySelector('#rotated:not([hidden]) #rotated-secret'); return secret && secret.textContent.startsWith('whsec_') && secret.textContent;",
            "the new signing secret",
        )
        .await?;
    assert_ne!(
        rotated.as_str(),
        Some(first_secret.as_str()),
        "a new secret"
    );
    person.scroll_to("#signing-secret").await?;
    person.shot("console-webhook-rotated").await?;

    // Delete, see it among the deleted, restore.
    person
        .click("button[data-api^='DELETE /api/v1/endpoints/']")
        .await?;
    person.confirm().await?;
    person.on_page("/admin/webhooks?deleted=true").await?;
    person
        .wait(
            &format!("return document.querySelector('#deleted-webhooks tr[data-endpoint=\"{endpoint_id}\"]');"),
            "the deleted webhook",
        )
        .await?;
    person.shot("console-webhooks-deleted").await?;
    person
        .click(&format!(
            "tr[data-endpoint='{endpoint_id}'] button[data-api$='/restore']"
        ))
        .await?;
    person.on_page(&webhook_path).await?;
    person
        .wait(
            "return document.querySelector('h1 [data-status=active]');",
            "the restored webhook",
        )
        .await?;

    // A Reward campaign: its reward (a missing title shown beside the field) and coupon pool.
    person.open("/admin/campaigns/new").await?;
    person.on_page("/admin/campaigns/new").await?;
    person.fill("#f-name", "Coffee Club").await?;
    person.fill("#f-key", "club").await?;
    person.choose("#f-type", "Reward").await?;
    person.click("form[data-api] button[type=submit]").await?;
    person.on_page("/admin/campaigns/club").await?;
    person
        .wait("return !document.querySelector('#reward').hidden && !document.querySelector('#capture').offsetParent;", "the reward settings")
        .await?;
    person
        .choose("#f-settings-reward-unlock-rule", "actions")
        .await?;
    person.fill("#f-settings-reward-unlock-count", "2").await?;
    person
        .click("#campaign-settings button[type=submit]")
        .await?;
    person
        .wait(
            "const error = document.querySelector('[data-error-for=\"settings.reward.title\"]'); return error && !error.hidden && document.activeElement.id === 'f-settings-reward-title';",
            "the reward title's error",
        )
        .await?;
    person
        .fill("#f-settings-reward-title", "A free coffee")
        .await?;
    person
        .click("#campaign-settings button[type=submit]")
        .await?;
    person
        .wait(
            "const ok = document.querySelector('#campaign-settings [data-form-ok]'); return ok && !ok.hidden;",
            "the saved reward",
        )
        .await?;
    person.fill("#f-codes", "FREE-1\nFREE-2\nFREE-3").await?;
    person.click("#coupons button[type=submit]").await?;
    person
        .wait(
            "return document.querySelector('#coupons [data-available=\"3\"]');",
            "three coupons in the pool",
        )
        .await?;
    let reward = person
        .browser
        .eval(
            "return [document.querySelector('#f-settings-reward-title').value, document.querySelector('#f-settings-reward-unlock-rule').value, document.querySelector('#f-settings-reward-unlock-count').value];",
            vec![],
        )
        .await?;
    assert_eq!(
        reward,
        json!(["A free coffee", "actions", "2"]),
        "the reward was saved"
    );
    person.scroll_to("#reward").await?;
    person.shot("console-campaign-reward").await?;

    // At phone width the screens stay readable, without sideways scrolling.
    person.browser.client().set_window_size(390, 844).await?;
    person
        .wait("return window.innerWidth <= 420;", "the phone-sized window")
        .await?;
    person.open("/admin/webhooks").await?;
    person.on_page("/admin/webhooks").await?;
    person.scroll_to("#webhooks").await?;
    person.shot("console-webhooks-phone").await?;
    person.open(&webhook_path).await?;
    person.on_page(&webhook_path).await?;
    person.shot("console-webhook-settings-phone").await?;
    person.open(&format!("{webhook_path}/history")).await?;
    person
        .wait(
            "return document.querySelector('#deliveries');",
            "the history at phone width",
        )
        .await?;
    person.scroll_to("#deliveries").await?;
    person.shot("console-history-phone").await?;
    person.open("/admin/entries").await?;
    person
        .wait(
            "return document.querySelector('#entries');",
            "the entries at phone width",
        )
        .await?;
    person.scroll_to("#entries").await?;
    person.shot("console-entries-phone").await?;
    person.browser.close().await?;
    Ok(())
}
