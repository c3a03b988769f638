//! End-to-end: every entry method, acted out in headless Chromium against the real server,
//! each with its own settings: the details form (email subscribe, with its unticked consent
//! box), mandatory methods first, a secret code the server refuses and then takes, a choice
//! that lands in the contestant's details, a visit and a social follow that count on the click
//! and open a new tab, an image address checked, and a share link: a friend who enters
//! through it (in a browser of their own, on the hosted page) credits the referrer.

mod common;

use anyhow::Context;
use common::{
    RECORD_EVENTS, add_campaign_configured, count_entries, enter_details, entry_method, host_page,
    spawn_server, wait_for_events, wait_for_state, wait_in_shadow,
};
use protocol::campaign::{CampaignType, EntryMethodType};
use serde_json::json;
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

/// The `data-state` of each listed method, by its type.
async fn states(browser: &Browser) -> anyhow::Result<serde_json::Value> {
    browser
        .eval(
            r#"const rows = document.querySelector(".hookline-campaign").shadowRoot.querySelectorAll(".hl-method");
               return Object.fromEntries(Array.from(rows).map(row => [row.dataset.type, row.dataset.state]));"#,
            vec![],
        )
        .await
}

/// Opens the panel of the method of type `kind` (unless open).
async fn open_panel(browser: &Browser, kind: &str) -> anyhow::Result<()> {
    let row = format!(".hl-method[data-type={kind}]");
    let head = browser
        .find_in_shadow(HOST, &format!("{row} button.hl-action"))
        .await?;
    if head.attr("aria-expanded").await?.as_deref() != Some("true") {
        head.click().await?;
    }
    wait_in_shadow(browser, HOST, &format!("{row} #hl-value"), None).await?;
    Ok(())
}

async fn submit(browser: &Browser, kind: &str) -> anyhow::Result<()> {
    browser
        .find_in_shadow(
            HOST,
            &format!(".hl-method[data-type={kind}] button[type=submit]"),
        )
        .await?
        .click()
        .await?;
    Ok(())
}

/// Opens the panel of the method of type `kind`, types `value` into it and submits it.
async fn answer(browser: &Browser, kind: &str, value: &str) -> anyhow::Result<()> {
    open_panel(browser, kind).await?;
    let input = browser
        .find_in_shadow(HOST, &format!(".hl-method[data-type={kind}] #hl-value"))
        .await?;
    input.clear().await?;
    if !value.is_empty() {
        input.send_keys(value).await?;
    }
    submit(browser, kind).await
}

/// `(value, verdict)` of the stored entries of method type `kind`, oldest first.
async fn stored_values(server: &common::Server, kind: &str) -> anyhow::Result<Vec<String>> {
    Ok(server::with_pool!(server.store.pool(), pool => {
        sqlx::query_scalar(
            "SELECT e.entry_value FROM entries e JOIN entry_methods m ON m.id = e.entry_method_id
             WHERE m.method_type = $1 ORDER BY e.id",
        )
        .bind(kind)
        .fetch_all(pool)
        .await
        .context("failed to read entries")?
    }))
}

#[tokio::test]
async fn each_entry_method_posts_its_own_value_and_a_friend_credits_the_share_link()
-> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<div class="hookline-campaign" data-campaign="multi"></div>"#;
    let site = HostSite::start([
        (
            "/all",
            Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
        ),
        (
            "/shop",
            Page::new("<!doctype html><title>Shop</title><p>The shop</p>"),
        ),
        (
            "/profile",
            Page::new("<!doctype html><title>Profile</title><p>@hookline</p>"),
        ),
    ])
    .await;
    use EntryMethodType::*;
    add_campaign_configured(
        &server.store,
        "multi",
        "Everything at once",
        CampaignType::Competition,
        json!({}),
        vec![
            entry_method(
                EmailSubscribe,
                "Subscribe to our newsletter",
                1,
                true,
                json!({}),
            ),
            entry_method(
                SecretCode,
                "Enter the secret code",
                2,
                true,
                json!({"code": "BEANS", "hint": "It is printed on the bag."}),
            ),
            entry_method(
                CustomQuestion,
                "Tell us how you take it",
                2,
                false,
                json!({"question": "How do you take your coffee?", "kind": "choice",
                       "choices": ["Black", "With milk"], "required": true}),
            ),
            entry_method(
                VisitUrl,
                "Visit our shop",
                2,
                false,
                json!({"url": site.url("/shop")}),
            ),
            entry_method(
                SocialFollow,
                "Follow us on Instagram",
                2,
                false,
                json!({"provider": "instagram", "profile_url": site.url("/profile"),
                       "handle": "hookline"}),
            ),
            entry_method(
                Upload,
                "Share a photo of your cup",
                2,
                false,
                json!({"accept": "image_url"}),
            ),
            entry_method(Referral, "Refer a friend", 3, false, json!({})),
        ],
    )
    .await?;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/all")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    let consent = browser
        .find_in_shadow(HOST, "input[name=consent]")
        .await?
        .prop("checked")
        .await?;
    assert_eq!(
        consent.as_deref(),
        Some("false"),
        "the consent box starts unticked"
    );
    enter_details(&browser, HOST, "joe@example.com", Some("Joe")).await?;
    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    assert_eq!(entry[0]["detail"]["entry"]["type"], "email_subscribe");

    // The mandatory secret code comes first; the others wait for it.
    let listed = browser
        .eval(
            r#"return Array.from(document.querySelector(".hookline-campaign").shadowRoot.querySelectorAll(".hl-method")).map(row => row.dataset.type);"#,
            vec![],
        )
        .await?;
    assert_eq!(
        listed,
        json!([
            "secret_code",
            "custom_question",
            "visit_url",
            "social_follow",
            "upload",
            "referral"
        ])
    );
    let now = states(&browser).await?;
    assert_eq!(now["secret_code"], "open", "{now}");
    assert_eq!(now["custom_question"], "locked", "{now}");
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-method[data-type=visit_url] .hl-state",
        Some("required actions first"),
    )
    .await?;

    // A secret code sent empty is refused in the form; a wrong one by the server, whose
    // words are shown beside the field; then the right one, in any case.
    answer(&browser, "secret_code", "").await?;
    let error = wait_in_shadow(&browser, HOST, ".hl-error[data-field=value]", None).await?;
    assert_eq!(error, "Please answer the question.");
    let role = browser
        .eval(r#"return document.querySelector(".hookline-campaign").shadowRoot.querySelector(".hl-error[data-field=value]").getAttribute("role");"#, vec![])
        .await?;
    assert_eq!(role, "alert");
    answer(&browser, "secret_code", "TEA").await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-error[data-field=value]",
        Some("That is not the secret code."),
    )
    .await?;
    let refused = wait_for_events(&browser, "error", None, 1).await?;
    assert_eq!(refused[0]["detail"]["code"], "wrong_secret_code");
    browser.screenshot("widget-methods-error").await?;
    answer(&browser, "secret_code", "beans").await?;
    let entry = wait_for_events(&browser, "entry", None, 2).await?;
    assert_eq!(entry[1]["detail"]["entry"]["type"], "secret_code");
    assert_eq!(stored_values(&server, "secret_code").await?, ["BEANS"]);
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-method[data-type=custom_question][data-state=open]",
        None,
    )
    .await?;

    // A choice: the answer is the entry's value and goes into the contestant's details.
    open_panel(&browser, "custom_question").await?;
    browser
        .find_in_shadow(
            HOST,
            ".hl-method[data-type=custom_question] select#hl-value",
        )
        .await?
        .select_by_value("With milk")
        .await?;
    submit(&browser, "custom_question").await?;
    let entry = wait_for_events(&browser, "entry", None, 3).await?;
    assert_eq!(entry[2]["detail"]["value"], "With milk");
    let details: String = server::with_pool!(server.store.pool(), pool => {
        sqlx::query_scalar("SELECT details FROM contestants WHERE email = 'joe@example.com'")
            .fetch_one(pool)
            .await?
    });
    let details: serde_json::Value = serde_json::from_str(&details)?;
    assert_eq!(details["How do you take your coffee?"], "With milk");

    // A visit and a follow count on the click; each opens a new tab.
    for (kind, n) in [("visit_url", 4), ("social_follow", 5)] {
        let link = browser
            .find_in_shadow(HOST, &format!(".hl-method[data-type={kind}] a.hl-action"))
            .await?;
        assert_eq!(link.attr("target").await?.as_deref(), Some("_blank"));
        link.click().await?;
        let entry = wait_for_events(&browser, "entry", None, n).await?;
        assert_eq!(entry[n - 1]["detail"]["entry"]["type"], kind);
    }
    assert_eq!(
        stored_values(&server, "visit_url").await?,
        [site.url("/shop")]
    );
    assert_eq!(
        stored_values(&server, "social_follow").await?,
        [site.url("/profile")]
    );
    assert_eq!(
        browser.client().windows().await?.len(),
        3,
        "two tabs opened"
    );

    // An upload takes an image address, checked before posting.
    answer(&browser, "upload", "my cup").await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-error[data-field=value]",
        Some("https://"),
    )
    .await?;
    answer(&browser, "upload", "https://cdn.example/cup.jpg").await?;
    let entry = wait_for_events(&browser, "entry", None, 6).await?;
    assert_eq!(entry[5]["detail"]["value"], "https://cdn.example/cup.jpg");

    let now = states(&browser).await?;
    for kind in [
        "secret_code",
        "custom_question",
        "visit_url",
        "social_follow",
        "upload",
    ] {
        assert_eq!(now[kind], "done", "{kind}: {now}");
    }
    let done = wait_in_shadow(&browser, HOST, ".hl-done", Some("11 entries")).await?;
    assert!(done.contains("You're in!"), "{done}");
    assert_eq!(
        count_entries(&server.store).await?,
        6,
        "one entry per action"
    );

    // The share link is the server's: the hosted page with the contestant's code.
    open_panel(&browser, "referral").await?;
    let link = browser
        .eval(
            r#"return document.querySelector(".hookline-campaign").shadowRoot.querySelector(".hl-method[data-type=referral] #hl-value").value;"#,
            vec![],
        )
        .await?;
    let link = link.as_str().context("a share link")?.to_owned();
    let prefix = format!("{}/c/multi?hl_ref=", server.base_url);
    assert!(link.starts_with(&prefix), "{link}");
    browser.screenshot("widget-methods-done").await?;

    // At 320 px wide nothing overflows sideways.
    browser.client().set_window_size(320, 900).await?;
    let overflow = browser
        .eval(
            r#"const card = document.querySelector(".hookline-campaign").shadowRoot.querySelector(".hl-card");
               return { page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
                        card: card.scrollWidth - card.clientWidth };"#,
            vec![],
        )
        .await?;
    assert!(
        overflow["page"].as_f64() <= overflow["viewport"].as_f64(),
        "{overflow}"
    );
    assert_eq!(overflow["card"], 0, "{overflow}");
    browser.screenshot("widget-methods-320px").await?;

    // A friend opens the link in their own browser and enters on the hosted page.
    let friend = Browser::start().await?;
    friend.goto(&link).await?;
    wait_for_state(&friend, HOST, "ready").await?;
    enter_details(&friend, HOST, "friend@example.com", Some("Ann Friend")).await?;
    wait_in_shadow(&friend, HOST, ".hl-done", Some("1 entry")).await?;
    friend.close().await?;

    // Joe, back on the site, sees the credit: the server is the truth for totals.
    browser.client().set_window_size(1280, 900).await?;
    browser.goto(&site.url("/all")).await?;
    wait_for_events(&browser, "login", None, 1).await?;
    wait_in_shadow(&browser, HOST, ".hl-done", Some("14 entries")).await?;
    open_panel(&browser, "referral").await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-method[data-type=referral] .hl-hint",
        Some("Friends who entered: 1"),
    )
    .await?;
    browser
        .screenshot("widget-methods-referral-credited")
        .await?;
    assert_eq!(
        stored_values(&server, "referral").await?,
        ["friend@example.com"]
    );
    browser.close().await?;
    Ok(())
}

/// The smallest PNG: one transparent pixel.
const ONE_PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Chooses `path` in the open panel's file picker (as a person picking it in the dialog does,
/// through ChromeDriver) and submits the panel.
async fn pick_file(browser: &Browser, path: &std::path::Path) -> anyhow::Result<()> {
    let input = browser
        .find_in_shadow(HOST, ".hl-method[data-type=upload] input[type=file]")
        .await?;
    input
        .send_keys(path.to_str().context("a UTF-8 temporary path")?)
        .await?;
    submit(browser, "upload").await
}

#[tokio::test]
async fn a_picture_file_is_checked_uploaded_and_cited_by_its_entry() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<div class="hookline-campaign" data-campaign="photos"></div>"#;
    let site = HostSite::start([(
        "/photos",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    use EntryMethodType::*;
    add_campaign_configured(
        &server.store,
        "photos",
        "Show us your cup",
        CampaignType::Competition,
        json!({}),
        vec![
            entry_method(EmailSubscribe, "Subscribe", 1, true, json!({})),
            entry_method(
                Upload,
                "Upload a photo of your cup",
                3,
                false,
                json!({"accept": "file", "max_bytes": 2_000}),
            ),
        ],
    )
    .await?;
    let files = tempfile::tempdir()?;
    let picture = files.path().join("cup.png");
    std::fs::write(&picture, ONE_PIXEL_PNG)?;
    let text = files.path().join("notes.png");
    std::fs::write(&text, "not a picture at all")?;
    let large = files.path().join("large.png");
    let mut large_bytes = ONE_PIXEL_PNG.to_vec();
    large_bytes.resize(2_001, 0);
    std::fs::write(&large, large_bytes)?;

    let browser = Browser::start().await?;
    browser.goto(&site.url("/photos")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    enter_details(&browser, HOST, "joe@example.com", Some("Joe")).await?;
    wait_for_events(&browser, "entry", None, 1).await?;
    open_panel(&browser, "upload").await?;
    let picker = wait_in_shadow(
        &browser,
        HOST,
        ".hl-method[data-type=upload] label[for=hl-value]",
        Some("Your picture"),
    )
    .await?;
    assert_eq!(picker, "Your picture");

    // Nothing chosen: said at once, nothing sent.
    submit(&browser, "upload").await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-error[data-field=value]",
        Some("Please choose a picture"),
    )
    .await?;
    // Over the method's limit: refused before a byte is sent.
    pick_file(&browser, &large).await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-error[data-field=value]",
        Some("at most 1 KB"),
    )
    .await?;
    assert_eq!(count_uploads(&server).await?, 0, "nothing was sent");
    // Not a picture, whatever its name: the server says so, and the panel shows it.
    pick_file(&browser, &text).await?;
    wait_in_shadow(
        &browser,
        HOST,
        ".hl-error[data-field=value]",
        Some("Only pictures can be uploaded"),
    )
    .await?;
    browser.screenshot("widget-upload-refused").await?;
    let errors = wait_for_events(&browser, "error", None, 1).await?;
    assert_eq!(errors[0]["detail"]["code"], "unsupported_upload_type");
    assert_eq!(count_uploads(&server).await?, 0, "nothing was stored");

    pick_file(&browser, &picture).await?;
    let entries = wait_for_events(&browser, "entry", None, 2).await?;
    let value = entries[1]["detail"]["value"]
        .as_str()
        .context("the entry's value")?
        .to_owned();
    assert!(
        value.starts_with(&format!("{}/uploads/upl_", server.base_url)),
        "{value}"
    );
    assert_eq!(entries[1]["detail"]["entry"]["type"], "upload");
    assert_eq!(
        stored_values(&server, "upload").await?,
        std::slice::from_ref(&value)
    );
    assert_eq!(count_uploads(&server).await?, 1);
    let served = reqwest::get(&value).await?;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await?.as_ref(), ONE_PIXEL_PNG);
    let now = states(&browser).await?;
    assert_eq!(now["upload"], "done", "{now}");
    browser.screenshot("widget-upload-done").await?;
    assert_eq!(count_entries(&server.store).await?, 2);
    Ok(())
}

/// How many pictures the server keeps.
async fn count_uploads(server: &common::Server) -> anyhow::Result<i64> {
    Ok(server::with_pool!(server.store.pool(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads")
            .fetch_one(pool)
            .await
            .context("failed to count uploads")?
    }))
}
