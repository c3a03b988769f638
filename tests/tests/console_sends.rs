//! End-to-end: audiences, sends and answers in the admin console, in headless Chromium, as a
//! site owner uses them. A webhook's Audience is previewed on the campaign's entries (a
//! mistyped condition is marked on its own line first), the webhook is saved as a data
//! source; on its Sends tab a manual send goes to a real receiver, whose progress the page
//! shows until it completes; the History tab shows what the receiver said to each delivery.
//!
//! Screens are saved to `artifacts/screenshots/console-sends-*.png`. Waits are on page
//! conditions with a deadline.

mod common;

use common::console::{Person, spawn_console_server};
use serde_json::{Value, json};
use tests::{Browser, TestReceiver};

/// Posts an entry of the demo campaign from the page, as a widget would.
async fn enter(person: &Person, email: &str, details: Value) -> anyhow::Result<()> {
    let status = person
        .browser
        .eval_async(
            r#"const [email, details, done] = arguments;
               fetch("/api/v1/public/campaigns/demo/entries", {
                 method: "POST",
                 body: JSON.stringify({idempotency_key: "k-" + email, entry_method_id: 1, email,
                                       name: "Joe Bloggs", consent: true, details})
               }).then(response => done(response.status), () => done(0));"#,
            vec![json!(email), details],
        )
        .await?;
    anyhow::ensure!(
        status == json!(201),
        "the entry of {email} answered {status}"
    );
    Ok(())
}

#[tokio::test]
async fn a_site_owner_previews_an_audience_sends_entries_and_reads_the_answers()
-> anyhow::Result<()> {
    let receiver = TestReceiver::start().await;
    let server = spawn_console_server().await?;
    let base_url = server.base_url.clone();
    let person = Person {
        browser: Browser::start().await?,
        base_url,
    };
    person.open("/admin").await?;
    person.on_page("/admin/setup").await?;
    person.fill("#f-name", "Acme Coffee").await?;
    person.click("#setup button[type=submit]").await?;
    person
        .wait(
            "const key = document.querySelector('#new-key:not([hidden]) #new-key-value'); return key && key.textContent.startsWith('hlk_');",
            "the new workspace's key",
        )
        .await?;
    person.click("#new-key button[type=submit]").await?;
    person.on_page("/admin/campaigns").await?;
    for (email, country) in [
        ("ann@example.com", "AU"),
        ("bob@example.com", "FR"),
        ("cat@example.com", "AU"),
    ] {
        enter(&person, email, json!({"Country": country})).await?;
    }

    // A new webhook: a mistyped condition is marked on its line; then the preview counts.
    person.open("/admin/webhooks/new").await?;
    person.on_page("/admin/webhooks/new").await?;
    person.fill("#f-name", "Australian CRM").await?;
    person.fill("#f-url", &receiver.url()).await?;
    person
        .fill(
            "#f-audience-conditions",
            "entry.worth >= 1\nuser.details.Country = \"AU\"",
        )
        .await?;
    person.click("#audience-fields button[data-api]").await?;
    let error = person
        .wait(
            "const error = document.querySelector('[data-error-for=\"audience.conditions\"]:not([hidden])'); return error && error.textContent;",
            "the condition's error",
        )
        .await?;
    let error = error.as_str().unwrap_or_default();
    assert!(
        error.contains("Line 2, column 22: write `==` to compare"),
        "{error}"
    );
    person.shot("console-sends-audience-error").await?;
    person
        .fill(
            "#f-audience-conditions",
            "entry.worth >= 1\nuser.details.Country == \"AU\"",
        )
        .await?;
    person.click("#audience-fields button[data-api]").await?;
    let said = person
        .wait(
            "const said = document.querySelector('[data-audience-preview]:not([hidden])'); return said && said.textContent;",
            "the preview",
        )
        .await?;
    assert_eq!(said, "Would have sent 2 of the last 3 entries.");
    person.shot("console-sends-audience-preview").await?;
    person.click("#data-source-on").await?;
    person.fill("#f-data_source-fields", "promocode").await?;
    person.click("#webhook-form button[type=submit]").await?;
    person
        .wait(
            "const created = document.querySelector('#created:not([hidden])'); return created !== null;",
            "the webhook created",
        )
        .await?;
    person.click("#created-link").await?;
    person
        .wait(
            "return location.pathname.startsWith('/admin/webhooks/ep_') && document.readyState === 'complete';",
            "the webhook's page",
        )
        .await?;
    let answer_on = person
        .browser
        .eval(
            "return document.querySelector('#data-source-on').checked;",
            vec![],
        )
        .await?;
    assert_eq!(answer_on, json!(true), "saved as a data source");

    // Its Sends tab: every matching entry of the campaign, now.
    receiver.respond_with_json(201, &json!({"promocode": "CAT-1"}));
    receiver.respond_with_json(200, &json!({"promocode": "ANN-1"}));
    person.click("nav.tabs a[href$='/sends']").await?;
    person
        .wait(
            "return location.pathname.endsWith('/sends') && document.querySelector('#new-job');",
            "the Sends tab",
        )
        .await?;
    person.choose("#f-campaign", "demo").await?;
    person.choose("#f-kind", "manual").await?;
    person.click("#new-job button[type=submit]").await?;
    person
        .wait(
            "const job = document.querySelector('[data-job-status=\"completed\"]'); const sent = document.querySelector('[data-sent]'); return job && sent && sent.textContent === '2 sent';",
            "the send completed, 2 sent",
        )
        .await?;
    person
        .browser
        .eval(
            "document.querySelector('#jobs').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await?;
    person.shot("console-sends-completed").await?;
    let exported: Vec<String> = receiver
        .requests()
        .iter()
        .filter(|request| request.header("hookline-event") == Some("entry.exported"))
        .map(|request| {
            request.json()["user"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(exported.len(), 2);
    assert!(exported.iter().all(|email| email != "bob@example.com"));

    // The History tab: what the receiver said to each.
    person.click("a[href*='/history?job=']").await?;
    person
        .wait(
            "return document.querySelectorAll('[data-receiver-answer]').length === 2;",
            "the send's deliveries in the History",
        )
        .await?;
    let said = person
        .browser
        .eval(
            "return Array.from(document.querySelectorAll('[data-receiver-answer]')).map(el => el.getAttribute('data-receiver-answer')).sort();",
            vec![],
        )
        .await?;
    assert_eq!(said, json!(["existing", "new"]));
    person.shot("console-sends-history").await?;
    person.click("a[href^='/admin/deliveries/dlv_']").await?;
    let fields = person
        .wait(
            "const fields = document.querySelector('[data-answer-fields]'); return fields && fields.textContent;",
            "the answer's fields",
        )
        .await?;
    assert!(
        fields
            .as_str()
            .is_some_and(|text| text.contains("promocode = ")),
        "{fields}"
    );
    person.shot("console-sends-delivery").await?;
    person.browser.close().await?;
    Ok(())
}
